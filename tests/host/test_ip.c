// Host tests of net/ip.c, net/ip_reass.c, net/icmp.c, net/in_cksum.c
// through the fake interface fx0: a valid echo request is answered; bad
// version, IHL, lengths and checksums are counted and dropped; padding is
// trimmed; fragments are reassembled in and out of order and with
// overlaps; reassembly times out (virtual clock) and is bounded; large
// packets are fragmented on output; unknown protocols get an ICMP error.
#include "tests/host/net_fake.h"

static uint16 be16at(const uint8 *p) { return (uint16)(p[0] << 8 | p[1]); }

// The IP packet inside captured frame i (checks its header checksum).
static const uint8 *cap_ip(int i, int *len)
{
	CHECK(i < ncap && be16at(cap[i] + 12) == ETHERTYPE_IP);
	const uint8 *ip = cap[i] + ETHER_HDR_LEN;
	CHECK(in_cksum_buf(ip, (ip[0] & 0xf) * 4) == 0);
	*len = cap_len[i] - ETHER_HDR_LEN;
	return ip;
}

// Frame i is the echo reply to an echo of plen bytes with (id, seq).
static void check_echo_reply(int i, uint16 id, uint16 seq, int plen)
{
	int len;
	const uint8 *ip = cap_ip(i, &len);
	CHECK(len == IP_HDR_LEN + ICMP_MINLEN + plen);
	CHECK(ip[9] == IPPROTO_ICMP);
	const uint8 *ic = ip + IP_HDR_LEN;
	CHECK(ic[0] == ICMP_ECHOREPLY && ic[1] == 0);
	CHECK(be16at(ic + 4) == id && be16at(ic + 6) == seq);
	CHECK(in_cksum_buf(ic, ICMP_MINLEN + plen) == 0);
	for (int k = 0; k < plen; k++)
		CHECK(ic[ICMP_MINLEN + k] == (uint8)(k * 7 + seq));
	uint8 src[4] = { 10, 0, 2, 15 }, dst[4] = { 10, 0, 2, 2 };
	CHECK(memcmp(ip + 12, src, 4) == 0 && memcmp(ip + 16, dst, 4) == 0);
}

static void send_echo(uint16 seq, int plen)
{
	uint8 icmp[2000], pkt[2100];
	int n = fx_echo(icmp, 7, seq, plen);
	n = fx_ip(pkt, IPPROTO_ICMP, GW_ADDR, FX_ADDR, 100 + seq, 0, icmp, n);
	fx_inject(ETHERTYPE_IP, pkt, n);
}

static void in_cksum_matches_rfc1071_example(void)
{
	// RFC 1071 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2; checksum 220d.
	uint8 b[8] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	uint16 c = in_cksum_buf(b, 8);
	CHECK(((uint8 *)&c)[0] == 0x22 && ((uint8 *)&c)[1] == 0x0d);
	// Over a chain split at an odd offset: the same result.
	struct mbuf *m = m_gethdr();
	CHECK(m_copyback(m, 0, 3, b) == 0);
	struct mbuf *n = m_get();
	memcpy(n->m_data, b + 3, 5);
	n->m_len = 5;
	m->m_next = n;
	CHECK(in_cksum(m, 0, 8) == c);
	m_freem(m);
}

static void ip_echo_request_gets_reply_with_same_id_seq_data(void)
{
	fx_setup();
	fx_learn_gw();
	send_echo(1, 56);
	CHECK(ncap == 1);
	check_echo_reply(0, 7, 1, 56);
	CHECK(sysctl_get("net.inet.icmp.echo_replies_sent") == 1);
	CHECK(sysctl_get("net.inet.ip.delivered") == 1);
}

static void ip_padding_is_trimmed(void)
{
	fx_setup();
	fx_learn_gw();
	uint8 icmp[64], pkt[128];
	int n = fx_echo(icmp, 7, 3, 4);
	n = fx_ip(pkt, IPPROTO_ICMP, GW_ADDR, FX_ADDR, 1, 0, icmp, n);
	memset(pkt + n, 0xee, 46 - n);   // Ethernet minimum: 46 bytes of payload
	fx_inject(ETHERTYPE_IP, pkt, 46);
	CHECK(ncap == 1);
	check_echo_reply(0, 7, 3, 4);
}

// Inject pkt (n bytes) and check that counter went up by one and nothing
// was delivered or sent.
static void expect_dropped(const uint8 *pkt, int n, const char *counter)
{
	int64 before = sysctl_get(counter);
	fx_inject(ETHERTYPE_IP, pkt, n);
	CHECK(sysctl_get(counter) == before + 1);
	CHECK(sysctl_get("net.inet.ip.delivered") == 0);
	CHECK(ncap == 0);
}

static void ip_malformed_headers_are_counted_and_dropped(void)
{
	fx_setup();
	fx_learn_gw();
	uint8 icmp[64], pkt[128], bad[128];
	int n = fx_echo(icmp, 7, 1, 8);
	n = fx_ip(pkt, IPPROTO_ICMP, GW_ADDR, FX_ADDR, 1, 0, icmp, n);

	memcpy(bad, pkt, n);
	bad[0] = 0x65;                                  // version 6
	expect_dropped(bad, n, "net.inet.ip.badvers");
	memcpy(bad, pkt, n);
	bad[0] = 0x44;                                  // IHL 4 < 5
	expect_dropped(bad, n, "net.inet.ip.badhlen");
	memcpy(bad, pkt, n);
	bad[0] = 0x4f;                                  // IHL 15: 60 > 36 bytes
	expect_dropped(bad, n, "net.inet.ip.badhlen");
	memcpy(bad, pkt, n);
	bad[10] ^= 0x55;                                // header checksum
	expect_dropped(bad, n, "net.inet.ip.badsum");
	expect_dropped(pkt, 12, "net.inet.ip.tooshort");   // not even a header
	expect_dropped(pkt, 0, "net.inet.ip.tooshort");
	// Total length larger than what arrived, and smaller than the header.
	fx_ip(bad, IPPROTO_ICMP, GW_ADDR, FX_ADDR, 1, 0, icmp, n - IP_HDR_LEN);
	bad[2] = 0, bad[3] = 200;
	bad[10] = bad[11] = 0;
	uint16 s = in_cksum_buf(bad, IP_HDR_LEN);
	memcpy(bad + 10, &s, 2);
	expect_dropped(bad, n, "net.inet.ip.badlen");
	bad[3] = 16;
	bad[10] = bad[11] = 0;
	s = in_cksum_buf(bad, IP_HDR_LEN);
	memcpy(bad + 10, &s, 2);
	expect_dropped(bad, n, "net.inet.ip.badlen");
	// Not for us: we do not forward.
	n = fx_ip(bad, IPPROTO_ICMP, GW_ADDR, IPV4(10, 0, 2, 99), 1, 0, icmp, n - IP_HDR_LEN);
	expect_dropped(bad, n, "net.inet.ip.notforus");
	// Bad ICMP checksum: delivered to ICMP, counted there.
	icmp[2] ^= 1;
	n = fx_ip(bad, IPPROTO_ICMP, GW_ADDR, FX_ADDR, 1, 0, icmp, n - IP_HDR_LEN);
	fx_inject(ETHERTYPE_IP, bad, n);
	CHECK(sysctl_get("net.inet.icmp.badsum") == 1 && ncap == 0);
}

static void ip_options_are_skipped(void)
{
	fx_setup();
	fx_learn_gw();
	uint8 icmp[64], pkt[128];
	int n = fx_echo(icmp, 7, 2, 8);
	// A 24-byte header with one NOP option word.
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x46;
	pkt[3] = 24 + n;
	pkt[8] = 64, pkt[9] = IPPROTO_ICMP;
	pkt[12] = 10, pkt[14] = 2, pkt[15] = 2;            // 10.0.2.2
	pkt[16] = 10, pkt[18] = 2, pkt[19] = 15;           // 10.0.2.15
	memset(pkt + 20, 1, 4);
	uint16 s = in_cksum_buf(pkt, 24);
	memcpy(pkt + 10, &s, 2);
	memcpy(pkt + 24, icmp, n);
	fx_inject(ETHERTYPE_IP, pkt, 24 + n);
	CHECK(ncap == 1);
	check_echo_reply(0, 7, 2, 8);
}

// The echo request of seq with plen bytes, cut into fragments [offs[i],
// offs[i+1]) of the IP payload, injected in the order given by order[].
static void send_fragments(uint16 seq, int plen, const int *offs, int nfrag,
			   const int *order, int norder)
{
	uint8 icmp[2000], pkt[2100];
	int total = fx_echo(icmp, 7, seq, plen);
	for (int k = 0; k < norder; k++) {
		int i = order[k];
		int from = offs[i], to = i + 1 < nfrag ? offs[i + 1] : total;
		uint16 off = (from >> 3) | (i + 1 < nfrag ? IP_MF : 0);
		int n = fx_ip(pkt, IPPROTO_ICMP, GW_ADDR, FX_ADDR, 500 + seq, off,
			      icmp + from, to - from);
		fx_inject(ETHERTYPE_IP, pkt, n);
	}
}

static void ip_fragments_in_order_are_reassembled(void)
{
	fx_setup();
	fx_learn_gw();
	int offs[] = { 0, 400, 800 }, order[] = { 0, 1, 2 };
	send_fragments(1, 1000, offs, 3, order, 3);
	CHECK(sysctl_get("net.inet.ip.fragments") == 3);
	CHECK(sysctl_get("net.inet.ip.reassembled") == 1);
	CHECK(ncap == 1);
	check_echo_reply(0, 7, 1, 1000);
}

static void ip_fragments_out_of_order_are_reassembled(void)
{
	fx_setup();
	fx_learn_gw();
	int offs[] = { 0, 256, 512, 768 }, order[] = { 3, 1, 0, 2 };
	send_fragments(2, 900, offs, 4, order, 4);
	CHECK(sysctl_get("net.inet.ip.reassembled") == 1);
	CHECK(ncap == 1);
	check_echo_reply(0, 7, 2, 900);
}

static void ip_overlapping_and_duplicate_fragments_are_reassembled(void)
{
	fx_setup();
	fx_learn_gw();
	uint8 icmp[2000], pkt[2100];
	int total = fx_echo(icmp, 7, 3, 600);   // 608 bytes of IP payload
	// [0,304) MF, [200,504) MF (overlaps both neighbours), [296,608) last,
	// [0,304) again (duplicate), sent in an order that forces trimming.
	struct { int from, to; } f[] = { { 296, 608 }, { 0, 304 }, { 0, 304 }, { 200, 504 } };
	for (int i = 0; i < 4; i++) {
		uint16 off = (f[i].from >> 3) | (f[i].to < total ? IP_MF : 0);
		int n = fx_ip(pkt, IPPROTO_ICMP, GW_ADDR, FX_ADDR, 77, off,
			      icmp + f[i].from, f[i].to - f[i].from);
		fx_inject(ETHERTYPE_IP, pkt, n);
	}
	CHECK(sysctl_get("net.inet.ip.reassembled") == 1);
	CHECK(ncap == 1);
	check_echo_reply(0, 7, 3, 600);
	// A fragment covering a queued one completely replaces it.
	fx_clear();
	total = fx_echo(icmp, 7, 4, 600);
	struct { int from, to; } g[] = { { 8, 16 }, { 0, 304 }, { 304, 608 } };
	for (int i = 0; i < 3; i++) {
		uint16 off = (g[i].from >> 3) | (g[i].to < total ? IP_MF : 0);
		int n = fx_ip(pkt, IPPROTO_ICMP, GW_ADDR, FX_ADDR, 78, off,
			      icmp + g[i].from, g[i].to - g[i].from);
		fx_inject(ETHERTYPE_IP, pkt, n);
	}
	CHECK(ncap == 1);
	check_echo_reply(0, 7, 4, 600);
}

static void ip_bad_fragments_are_dropped(void)
{
	fx_setup();
	fx_learn_gw();
	uint8 data[100] = { 0 }, pkt[200];
	// Not a multiple of 8 with MF set.
	int n = fx_ip(pkt, IPPROTO_ICMP, GW_ADDR, FX_ADDR, 9, IP_MF, data, 13);
	fx_inject(ETHERTYPE_IP, pkt, n);
	// Past 65535 bytes.
	n = fx_ip(pkt, IPPROTO_ICMP, GW_ADDR, FX_ADDR, 9, IP_OFFMASK, data, 64);
	fx_inject(ETHERTYPE_IP, pkt, n);
	CHECK(sysctl_get("net.inet.ip.fragdropped") == 2);
	CHECK(sysctl_get("net.inet.ip.delivered") == 0 && ncap == 0);
}

static void ip_reassembly_times_out(void)
{
	fx_setup();
	fx_learn_gw();
	int offs[] = { 0, 400, 800 }, order[] = { 0, 2 };
	send_fragments(5, 1000, offs, 3, order, 2);   // the middle one never comes
	host_clock_advance(IP_REASS_TIMEOUT_MS - 1);
	ip_reass_tick();
	CHECK(sysctl_get("net.inet.ip.fragtimeout") == 0);
	host_clock_advance(1);
	ip_reass_tick();
	CHECK(sysctl_get("net.inet.ip.fragtimeout") == 1);
	CHECK(sysctl_get("net.inet.ip.fragdropped") == 2);
	int late[] = { 1 };
	send_fragments(5, 1000, offs, 3, late, 1);    // starts a new queue
	CHECK(sysctl_get("net.inet.ip.reassembled") == 0 && ncap == 0);
}

static void ip_reassembly_table_is_bounded(void)
{
	fx_setup();
	fx_learn_gw();
	int offs[] = { 0, 400 }, first[] = { 0 };
	for (int i = 0; i < IP_REASS_MAXQ + 4; i++) {
		send_fragments(10 + i, 700, offs, 2, first, 1);
		host_clock_advance(1);
	}
	CHECK(sysctl_get("net.inet.ip.fragdropped") == 4);   // the 4 oldest
	int last[] = { 1 };
	send_fragments(10 + IP_REASS_MAXQ + 3, 700, offs, 2, last, 1);   // newest completes
	CHECK(sysctl_get("net.inet.ip.reassembled") == 1);
	send_fragments(10, 700, offs, 2, last, 1);                        // oldest is gone
	CHECK(sysctl_get("net.inet.ip.reassembled") == 1);
}

// A never-completed fragment flood (8 data bytes each, MF set, offsets
// never 0): 4 datagrams x 1000 fragments. Reassembly holds at most
// IP_REASS_MAXFRAGS per datagram and IP_REASS_MAXMEM of storage, gives
// each overlong datagram up (fragtoomany), and all goes when they expire.
static void ip_fragment_flood_storage_is_bounded(void)
{
	fx_setup();
	fx_learn_gw();
	int64 mb0 = sysctl_get("net.mbuf.inuse");
	uint8 data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, pkt[64];
	int64 most_mbufs = 0, most_frags = 0, most_mem = 0;
	for (int i = 0; i < 4000; i++) {
		uint16 off = IP_MF | (uint16)(1 + i / 4);
		int n = fx_ip(pkt, IPPROTO_UDP, GW_ADDR, FX_ADDR, 900 + i % 4, off, data, 8);
		fx_inject(ETHERTYPE_IP, pkt, n);
		most_mbufs = MAX(most_mbufs, sysctl_get("net.mbuf.inuse") - mb0);
		most_frags = MAX(most_frags, sysctl_get("net.inet.ip.reass_frags"));
		most_mem = MAX(most_mem, sysctl_get("net.inet.ip.reass_mem"));
	}
	CHECK(most_frags <= 4 * IP_REASS_MAXFRAGS && most_mem <= IP_REASS_MAXMEM);
	CHECK(most_mbufs <= 4 * IP_REASS_MAXFRAGS);   // each 8-byte fragment: one mbuf
	CHECK(most_mem >= most_frags * MSIZE);        // storage, not 8 bytes each
	CHECK(sysctl_get("net.inet.ip.fragtoomany") >= 4 * (1000 / (IP_REASS_MAXFRAGS + 1)));
	CHECK(sysctl_get("net.inet.ip.reassembled") == 0 && ncap == 0);
	host_clock_advance(IP_REASS_TIMEOUT_MS);
	ip_reass_tick();
	CHECK(sysctl_get("net.inet.ip.reass_frags") == 0 && sysctl_get("net.inet.ip.reass_mem") == 0);
	CHECK(sysctl_get("net.mbuf.inuse") == mb0);
}

// Large fragments of many datagrams: the storage cap and the total
// fragment cap hold; a whole 65,000-byte datagram in 45 fragments (what a
// 1500-byte MTU needs) still reassembles after the flood.
static void ip_reassembly_storage_and_total_caps_hold(void)
{
	fx_setup();
	fx_learn_gw();
	static uint8 big[65000], pkt[1600];
	for (int d = 0; d < 40; d++)
		for (int k = 0; k < 40; k++) {   // 40 x 1480 bytes, never the last
			int n = fx_ip(pkt, IPPROTO_UDP, GW_ADDR, FX_ADDR, 2000 + d,
				      IP_MF | (uint16)(k * 185), big, 1480);
			fx_inject(ETHERTYPE_IP, pkt, n);
			CHECK(sysctl_get("net.inet.ip.reass_mem") <= IP_REASS_MAXMEM);
			CHECK(sysctl_get("net.inet.ip.reass_frags") <= IP_REASS_MAXFRAGS_TOTAL);
		}
	CHECK(sysctl_get("net.inet.ip.reass_mem") > IP_REASS_MAXMEM / 2);   // it was full
	// An echo of 65000 - 8 bytes, cut in 1480-byte pieces (the last shorter).
	int total = fx_echo(big, 7, 9, 65000 - ICMP_MINLEN), nfrag = 0;
	for (int from = 0; from < total; from += 1480, nfrag++) {
		int len = MIN(1480, total - from);
		uint16 off = (uint16)(from >> 3) | (from + len < total ? IP_MF : 0);
		int n = fx_ip(pkt, IPPROTO_ICMP, GW_ADDR, FX_ADDR, 3000, off, big + from, len);
		fx_inject(ETHERTYPE_IP, pkt, n);
	}
	CHECK(nfrag == 44 && sysctl_get("net.inet.ip.reassembled") == 1);
}

static void ip_output_fragments_packets_larger_than_mtu(void)
{
	fx_setup();
	fx_learn_gw();
	CHECK(icmp_echo(GW_ADDR, 1, 1, 3000) == 0);
	CHECK(ncap == 3);   // 1480 + 1480 + 48 bytes of the 3008-byte payload
	int sum = 0;
	for (int i = 0; i < ncap; i++) {
		int len;
		const uint8 *ip = cap_ip(i, &len);
		CHECK(len <= 1500 && be16at(ip + 2) == len);
		int off = be16at(ip + 6);
		CHECK(((off & IP_OFFMASK) << 3) == sum);
		CHECK(!!(off & IP_MF) == (i < ncap - 1));
		sum += len - IP_HDR_LEN;
	}
	CHECK(sum == ICMP_MINLEN + 3000);
	CHECK(sysctl_get("net.inet.ip.ofragments") == 3);
}

static void ip_unknown_protocol_gets_protocol_unreachable(void)
{
	fx_setup();
	fx_learn_gw();
	uint8 data[32] = { 1, 2, 3 }, pkt[100];
	int n = fx_ip(pkt, 99, GW_ADDR, FX_ADDR, 1, 0, data, sizeof(data));
	fx_inject(ETHERTYPE_IP, pkt, n);
	CHECK(sysctl_get("net.inet.ip.noproto") == 1);
	CHECK(ncap == 1);
	int len;
	const uint8 *ip = cap_ip(0, &len);
	CHECK(len == IP_HDR_LEN + ICMP_MINLEN + IP_HDR_LEN + 8);   // RFC 792 quote
	const uint8 *ic = ip + IP_HDR_LEN;
	CHECK(ic[0] == ICMP_UNREACH && ic[1] == ICMP_UNREACH_PROTOCOL);
	CHECK(in_cksum_buf(ic, len - IP_HDR_LEN) == 0);
	CHECK(memcmp(ic + ICMP_MINLEN, pkt, IP_HDR_LEN + 8) == 0);
	// Rate limit: at most errppslimit per second.
	CHECK(host_sysctl_write("net.inet.icmp.errppslimit", 2) == 0);
	for (int i = 0; i < 5; i++)
		fx_inject(ETHERTYPE_IP, pkt, n);
	CHECK(sysctl_get("net.inet.icmp.errors_sent") == 2);
	CHECK(sysctl_get("net.inet.icmp.errors_ratelimited") == 4);
}

// RFC 1122 3.2.1.3, 3.2.2: a packet whose source is a broadcast (limited,
// or the subnet broadcast of fx0) or a multicast address is dropped and
// counted; it draws neither a reply nor an ICMP error.
static void ip_broadcast_source_is_dropped_without_reply(void)
{
	fx_setup();
	fx_learn_gw();
	uint32 bad[] = { IPV4(10, 0, 2, 255), INADDR_BROADCAST, IPV4(224, 0, 0, 1) };
	uint8 icmp[64], pkt[128], udp[12] = { 0x10, 0x00, 0x17, 0x6f, 0, 12, 0, 0, 1, 2, 3, 4 };
	for (int i = 0; i < 3; i++) {
		int n = fx_echo(icmp, 7, 1, 16);
		n = fx_ip(pkt, IPPROTO_ICMP, bad[i], FX_ADDR, 1, 0, icmp, n);
		fx_inject(ETHERTYPE_IP, pkt, n);   // echo request
		n = fx_ip(pkt, IPPROTO_UDP, bad[i], FX_ADDR, 2, 0, udp, sizeof(udp));
		fx_inject(ETHERTYPE_IP, pkt, n);   // UDP to closed port 5999
		n = fx_ip(pkt, 99, bad[i], FX_ADDR, 3, 0, udp, sizeof(udp));
		fx_inject(ETHERTYPE_IP, pkt, n);   // unknown protocol
	}
	CHECK(ncap == 0);
	CHECK(sysctl_get("net.inet.ip.bcastsrc") == 9);
	CHECK(sysctl_get("net.inet.ip.delivered") == 0);
	CHECK(sysctl_get("net.inet.icmp.echo_replies_sent") == 0);
	// A unicast neighbour still gets its reply and its error.
	send_echo(1, 16);
	int n = fx_ip(pkt, 99, GW_ADDR, FX_ADDR, 4, 0, udp, sizeof(udp));
	fx_inject(ETHERTYPE_IP, pkt, n);
	CHECK(ncap == 2 && sysctl_get("net.inet.ip.bcastsrc") == 9);
	// icmp_error itself refuses such a source, whoever calls it.
	struct mbuf *m = m_gethdr();
	n = fx_ip(pkt, IPPROTO_UDP, IPV4(10, 0, 2, 255), FX_ADDR, 5, 0, udp, sizeof(udp));
	CHECK(m_copyback(m, 0, n, pkt) == 0);
	icmp_error(m, IP_HDR_LEN, ICMP_UNREACH, ICMP_UNREACH_PORT);
	CHECK(ncap == 2);
}

const struct host_test ip_tests[] = {
	{ ip_broadcast_source_is_dropped_without_reply,
	  "ip_broadcast_source_is_dropped_without_reply" },
	{ in_cksum_matches_rfc1071_example, "in_cksum_matches_rfc1071_example" },
	{ ip_echo_request_gets_reply_with_same_id_seq_data, "ip_echo_request_gets_reply_with_same_id_seq_data" },
	{ ip_padding_is_trimmed, "ip_padding_is_trimmed" },
	{ ip_malformed_headers_are_counted_and_dropped, "ip_malformed_headers_are_counted_and_dropped" },
	{ ip_options_are_skipped, "ip_options_are_skipped" },
	{ ip_fragments_in_order_are_reassembled, "ip_fragments_in_order_are_reassembled" },
	{ ip_fragments_out_of_order_are_reassembled, "ip_fragments_out_of_order_are_reassembled" },
	{ ip_overlapping_and_duplicate_fragments_are_reassembled, "ip_overlapping_and_duplicate_fragments_are_reassembled" },
	{ ip_bad_fragments_are_dropped, "ip_bad_fragments_are_dropped" },
	{ ip_reassembly_times_out, "ip_reassembly_times_out" },
	{ ip_reassembly_table_is_bounded, "ip_reassembly_table_is_bounded" },
	{ ip_fragment_flood_storage_is_bounded, "ip_fragment_flood_storage_is_bounded" },
	{ ip_reassembly_storage_and_total_caps_hold, "ip_reassembly_storage_and_total_caps_hold" },
	{ ip_output_fragments_packets_larger_than_mtu, "ip_output_fragments_packets_larger_than_mtu" },
	{ ip_unknown_protocol_gets_protocol_unreachable, "ip_unknown_protocol_gets_protocol_unreachable" },
	{ NULL, NULL },
};
