// Host tests of receive coalescing (net/tcp_lro.c) with a forged peer:
// segments written here, from a port nobody listens on (what our stack
// answers there is dropped and read from wire_log), so that each header
// field, option, TSval, checksum and IP header can be chosen. A change
// of header, options or IP header does not merge; PAWS and TS.Recent
// are as one by one; a held run meets a RST, a user's abort and the
// switch turned off in the middle of its batch. Real connections:
// test_tcp_lro.c.
#include "tests/host/tcp_lro_test.h"

struct lpeer {
	uint16 port;         // the peer's port: what goes there is dropped
	uint16 lport;        // our listener
	tcp_seq seq0;        // the peer's first data sequence number
	tcp_seq ack;         // what it acknowledges (our next)
	bool ts;             // timestamps negotiated
	struct socket *so;   // our accepted socket
};

static uint16 lp_port;
static const uint8 none[4];   // no options

static enum wire_verdict lp_drop(const struct wire_seg *ws)
{
	return ws->ws_dport == lp_port ? WIRE_DROP : WIRE_PASS;
}

static int lp_tsopt(uint8 *o, uint32 val, uint32 ecr)
{
	o[0] = TCPOPT_NOP, o[1] = TCPOPT_NOP, o[2] = TCPOPT_TIMESTAMP, o[3] = TCPOLEN_TIMESTAMP;
	o[4] = val >> 24, o[5] = val >> 16, o[6] = val >> 8, o[7] = val;
	o[8] = ecr >> 24, o[9] = ecr >> 16, o[10] = ecr >> 8, o[11] = ecr;
	return TCPOLEN_TSTAMP_APPA;
}

// The TCP part of a segment of the peer: len bytes of the pattern at
// stream offset off, with the options o (olen bytes), checksum broken if
// badsum.
static struct mbuf *lp_tcp(const struct lpeer *p, uint32 off, int len, uint8 flags, uint16 win,
			   tcp_seq ack, const uint8 *o, int olen, bool badsum)
{
	static uint8 data[2 * MSS];
	uint32 lo = IPV4(127, 0, 0, 1);
	int hlen = TCP_HDR_LEN + olen;
	CHECK(len <= (int)sizeof(data) && olen % 4 == 0 && olen <= TCP_MAXOLEN);
	struct mbuf *m = m_getspace(hlen + len, 64);
	CHECK(m != NULL);
	uint8 t[TCP_HDR_LEN + TCP_MAXOLEN];
	memset(t, 0, sizeof(t));
	tcp_seq seq = p->seq0 + off;
	t[0] = p->port >> 8, t[1] = p->port & 0xff, t[2] = p->lport >> 8, t[3] = p->lport & 0xff;
	t[4] = seq >> 24, t[5] = seq >> 16, t[6] = seq >> 8, t[7] = seq;
	t[8] = ack >> 24, t[9] = ack >> 16, t[10] = ack >> 8, t[11] = ack;
	t[12] = (uint8)((hlen / 4) << 4);
	t[13] = flags;
	t[14] = win >> 8, t[15] = win & 0xff;
	memcpy(t + TCP_HDR_LEN, o, olen);
	CHECK(m_copyback(m, 0, hlen, t) == 0);
	tw_pattern(data, len, off);
	CHECK(m_copyback(m, hlen, len, data) == 0);
	uint16 sum = tcp_cksum(m, 0, hlen + len, lo, lo);
	if (badsum)
		sum ^= 0x0101;
	CHECK(m_copyback(m, 16, 2, &sum) == 0);
	return m;
}

// lp_tcp's segment, through ip_output: it waits on the wire for the next
// burst.
static void lp_seg(const struct lpeer *p, uint32 off, int len, uint8 flags, uint16 win,
		   tcp_seq ack, const uint8 *o, int olen, bool badsum)
{
	uint32 lo = IPV4(127, 0, 0, 1);
	struct mbuf *m = lp_tcp(p, off, len, flags, win, ack, o, olen, badsum);
	CHECK(ip_output(m, lo, lo, IPPROTO_TCP, 0, 0) == 0);
}

// The IP header fields a test sets itself (ip_output writes TOS 0 and
// no options): optlen bytes of NOP options (a multiple of 4).
struct lp_iphdr {
	uint8 tos, ttl;
	uint16 off;    // flags (IP_DF)
	int optlen;
};

// The packet of TCP part t under the IP header h, as lo0 received it.
static struct mbuf *lp_ip(struct mbuf *t, const struct lp_iphdr *h)
{
	int hlen = IP_HDR_LEN + h->optlen;
	CHECK(h->optlen % 4 == 0 && m_leadingspace(t) >= hlen);
	M_PREPEND(t, hlen);
	struct ip *ip = mtod(t, struct ip *);
	memset(ip, 1, hlen);   // 1: IP option NOP (RFC 791 3.1)
	ip->ip_vhl = IPVERSION << 4 | hlen >> 2;
	ip->ip_tos = h->tos;
	ip->ip_len = hton16(t->m_pkthdr.ph_len);
	ip->ip_id = 0;
	ip->ip_off = hton16(h->off);
	ip->ip_ttl = h->ttl;
	ip->ip_p = IPPROTO_TCP;
	ip->ip_sum = 0;
	ip->ip_src = ip->ip_dst = hton32(IPV4(127, 0, 0, 1));
	ip->ip_sum = in_cksum_buf(ip, hlen);
	t->m_pkthdr.ph_rcvif = if_byname("lo0");
	t->m_pkthdr.ph_flags = PH_LOOP;
	return t;
}

// A plain data segment of the peer (ACK, window 1000, no TCP options)
// under the IP header h, on the wire for the next burst.
static void lp_seg_ip(const struct lpeer *p, uint32 off, int len, const struct lp_iphdr *h)
{
	struct ifnet *lo0 = if_byname("lo0");
	struct mbuf *m = lp_ip(lp_tcp(p, off, len, TH_ACK, 1000, p->ack, none, 0, false), h);
	CHECK(lo0->if_output(lo0, m, IPV4(127, 0, 0, 1)) == 0);
}

// Connect the peer to a new listener on lport (its SYN: MSS 1460, and
// timestamps with TSval 1000 if ts).
static void lp_open(struct lpeer *p, uint16 lport, bool ts)
{
	uint8 o[16];
	int n = 0;
	lp_port = p->port = (uint16)(lport + 1000);
	p->lport = lport;
	p->ts = ts;
	wire_filter = lp_drop;
	struct socket *l = tw_listen(lport, 5);
	o[n++] = TCPOPT_MSS, o[n++] = 4, o[n++] = MSS >> 8, o[n++] = MSS & 0xff;
	if (ts)
		n += lp_tsopt(o + n, 1000, 0);
	p->seq0 = 90000;
	wire_log_clear();
	tw_forge_raw(p->port, lport, p->seq0 - 1, 0, TH_SYN, 65535, o, n, 0);
	wire_settle();
	CHECK(wire_nlog >= 1);
	const struct wire_seg *sa = &wire_log[wire_nlog - 1];
	CHECK(sa->ws_flags == (TH_SYN | TH_ACK) && sa->ws_ack == p->seq0);
	p->ack = sa->ws_seq + 1;
	n = ts ? lp_tsopt(o, 1001, sa->ws_opt.to_tsval) : 0;
	tw_forge_raw(p->port, lport, p->seq0, p->ack, TH_ACK, 65535, o, n, 0);
	wire_settle();
	CHECK(soaccept(l, true, &p->so) == 0);
	CHECK(tw_state(p->so) == TCPS_ESTABLISHED);
	soclose(l);
}

// Our side aborts (its RST is dropped).
static void lp_close(struct lpeer *p)
{
	struct linger lg = { 1, 0 };
	struct sockopt sopt = { SOL_SOCKET, SO_LINGER, false, &lg, sizeof(lg) };
	CHECK(sosetopt(p->so, &sopt) == 0);
	soclose(p->so);
	wire_settle();
}

// A change of window, of ACK field or of options ends a run; PSH does
// not. Nine in-order segments: [A1 A2] window 1000, [B1 B2] window
// 2000, [C1 C2] an older ACK field, D1 with a timestamp option (not
// negotiated: ignored by TCP), [E1 E2+PSH]: four merged pairs and one
// alone, every byte in order.
static void tcp_lro_header_change_not_merged(void)
{
	BEGIN();
	struct lpeer p;
	lp_open(&p, 5410, false);
	struct lro_counts b;
	lro_snap(&b);
	uint8 o[12];
	int olen = lp_tsopt(o, 5, 6);
	uint32 off = 0;
	for (int i = 0; i < 9; i++, off += 1000) {
		uint16 win = i < 2 ? 1000 : 2000;
		tcp_seq ack = (i == 4 || i == 5) ? p.ack - 1 : p.ack;
		uint8 flags = TH_ACK | (i == 8 ? TH_PUSH : 0);
		lp_seg(&p, off, 1000, flags, win, ack, o, i == 6 ? olen : 0, false);
	}
	CHECK(wire_burst() == 9);
	struct lro_counts d = lro_delta(&b);
	CHECK(d.held == 9 && d.merged == 4 && d.mergedsegs == 8 && d.flushes == 5);
	CHECK(d.rcvpack == 9 && d.rcvbyte == 9000 && d.rcvoopack == 0);
	lro_recv(p.so, 9000, 0);
	lp_close(&p);
	clean(s0, m0);
}

// A segment with a bad checksum is dropped (counted) before LRO sees
// it: A1 A2 merge, the bad one is gone, A4 A5 after the hole are out of
// order and go one by one to the reassembly queue; the good copy of the
// bad one fills the hole and every byte arrives in order.
static void tcp_lro_bad_checksum_not_merged(void)
{
	BEGIN();
	struct lpeer p;
	lp_open(&p, 5411, false);
	struct lro_counts b;
	lro_snap(&b);
	for (int i = 0; i < 5; i++)
		lp_seg(&p, (uint32)i * 1000, 1000, TH_ACK, 1000, p.ack, none, 0, i == 2);
	CHECK(wire_burst() == 5);
	struct lro_counts d = lro_delta(&b);
	CHECK(d.rcvbadsum == 1 && d.held == 4 && d.merged == 1 && d.mergedsegs == 2);
	CHECK(d.unmerged == 2 && d.rcvoopack == 2);
	CHECK(tw_tp(p.so)->rcv_nxt == p.seq0 + 2000);
	wire_settle();   // our duplicate ACKs go (and are dropped)
	lp_seg(&p, 2000, 1000, TH_ACK, 1000, p.ack, none, 0, false);
	CHECK(wire_burst() == 1);
	lro_recv(p.so, 5000, 0);
	lp_close(&p);
	clean(s0, m0);
}

// Timestamps: a run with rising TSvals and one TSecr merges, and
// TS.Recent takes the first TSval, as one by one (RFC 7323 4.3: only the
// segment at Last.ACK.sent updates it). A TSval older than the one
// before it ends the run, and PAWS drops that segment as one by one.
static void tcp_lro_timestamps_paws_kept(void)
{
	BEGIN();
	tw_rfc7323(true);
	struct lpeer p;
	lp_open(&p, 5412, true);
	CHECK((tw_tp(p.so)->t_flags & TF_BOTH_TSTMP) == TF_BOTH_TSTMP);
	struct lro_counts b;
	lro_snap(&b);
	uint8 o[12];
	for (int i = 0; i < 4; i++) {
		lp_tsopt(o, 2000 + (uint32)i, 7);
		lp_seg(&p, (uint32)i * 1000, 1000, TH_ACK, 1000, p.ack, o, 12, false);
	}
	CHECK(wire_burst() == 4);
	struct lro_counts d = lro_delta(&b);
	CHECK(d.merged == 1 && d.mergedsegs == 4 && d.rcvpack == 4);
	CHECK(tw_tp(p.so)->ts_recent == 2000);
	wire_settle();   // our ACK leaves: Last.ACK.sent = 4000
	lro_snap(&b);
	lp_tsopt(o, 3000, 7);
	lp_seg(&p, 4000, 1000, TH_ACK, 1000, p.ack, o, 12, false);
	lp_tsopt(o, 2999, 7);   // older: PAWS
	lp_seg(&p, 5000, 1000, TH_ACK, 1000, p.ack, o, 12, false);
	CHECK(wire_burst() == 2);
	d = lro_delta(&b);
	CHECK(d.merged == 0 && d.pawsdrop == 1 && d.rcvpack == 1);
	CHECK(tw_tp(p.so)->ts_recent == 3000);
	lro_recv(p.so, 5000, 0);
	lp_close(&p);
	clean(s0, m0);
}

// PAWS (RFC 7323 5.3) compares each TSval with TS.Recent, modulo 2^32
// within half the space, so "each TSval not older than the one before"
// does not make the last one not older than the first. TSvals 2000 (it
// starts at Last.ACK.sent: TS.Recent takes it), 2000 + 2^31 - 1 (newer),
// 1998 (newer than the one before, older than TS.Recent): one by one
// PAWS drops the third, so it must not ride in a run with the others.
static void tcp_lro_paws_tsval_wrap_not_merged(void)
{
	BEGIN();
	tw_rfc7323(true);
	struct lpeer p;
	lp_open(&p, 5413, true);
	struct lro_counts b;
	lro_snap(&b);
	static const uint32 tsval[] = { 2000, 2000 + 0x7fffffffu, 1998 };
	uint8 o[12];
	for (int i = 0; i < 3; i++) {
		lp_tsopt(o, tsval[i], 7);
		lp_seg(&p, (uint32)i * 1000, 1000, TH_ACK, 1000, p.ack, o, 12, false);
	}
	CHECK(wire_burst() == 3);
	struct lro_counts d = lro_delta(&b);
	CHECK(d.pawsdrop == 1 && d.rcvpack == 2 && d.rcvbyte == 2000);
	CHECK(tw_tp(p.so)->rcv_nxt == p.seq0 + 2000 && tw_tp(p.so)->ts_recent == 2000);
	lro_recv(p.so, 2000, 0);
	lp_close(&p);
	clean(s0, m0);
}

// The same when the run's first segment leaves TS.Recent as it is: it
// starts after Last.ACK.sent (the ACK for the segment before it is still
// delayed), so one by one every part is compared with the TS.Recent of
// before the run. TS.Recent 2000; a run of TSvals 2000 + 2^31 - 2^16
// (newer than 2000) and 2000 + 2^31 (newer than the one before it,
// older than 2000): PAWS drops the second.
static void tcp_lro_paws_checks_each_part(void)
{
	BEGIN();
	tw_rfc7323(true);
	struct lpeer p;
	lp_open(&p, 5414, true);
	uint8 o[12];
	lp_tsopt(o, 2000, 7);
	lp_seg(&p, 0, 1000, TH_ACK, 1000, p.ack, o, 12, false);
	CHECK(wire_burst() == 1);
	struct tcpcb *tp = tw_tp(p.so);
	CHECK(tp->ts_recent == 2000 && tp->last_ack_sent == p.seq0);   // the ACK waits
	struct lro_counts b;
	lro_snap(&b);
	static const uint32 tsval[] = { 2000 + 0x7fff0000u, 2000 + 0x80000000u };
	for (int i = 0; i < 2; i++) {
		lp_tsopt(o, tsval[i], 7);
		lp_seg(&p, 1000 + (uint32)i * 1000, 1000, TH_ACK, 1000, p.ack, o, 12, false);
	}
	CHECK(wire_burst() == 2);
	struct lro_counts d = lro_delta(&b);
	CHECK(d.pawsdrop == 1 && d.rcvpack == 1 && d.rcvbyte == 1000);
	CHECK(tp->rcv_nxt == p.seq0 + 2000 && tp->ts_recent == 2000);
	lro_recv(p.so, 2000, 0);
	lp_close(&p);
	clean(s0, m0);
}

// The IP header of a run is one: a change of TOS (its ECN field, RFC
// 3168 5: a CE mark must reach TCP in the segment that had it), of TTL
// or of DF ends a run, as in Linux's GRO; a header with options is never
// held. Eleven in-order segments: [A1 A2] plain, [B1 B2] TOS ECT(0),
// [C1 C2] TTL 63, [D1 D2] DF, E1 with 4 bytes of IP options, [F1 F2]
// plain again: five merged pairs, E1 alone, every byte in order.
static void tcp_lro_ip_header_change_not_merged(void)
{
	BEGIN();
	struct lpeer p;
	lp_open(&p, 5418, false);
	struct lro_counts b;
	lro_snap(&b);
	static const struct lp_iphdr h[11] = {
		{ 0, 64, 0, 0 },     { 0, 64, 0, 0 },     { 2, 64, 0, 0 },     { 2, 64, 0, 0 },
		{ 0, 63, 0, 0 },     { 0, 63, 0, 0 },     { 0, 64, IP_DF, 0 }, { 0, 64, IP_DF, 0 },
		{ 0, 64, 0, 4 },     { 0, 64, 0, 0 },     { 0, 64, 0, 0 },
	};
	for (int i = 0; i < 11; i++)
		lp_seg_ip(&p, (uint32)i * 1000, 1000, &h[i]);
	CHECK(wire_burst() == 11);
	struct lro_counts d = lro_delta(&b);
	CHECK(d.held == 10 && d.merged == 5 && d.mergedsegs == 10 && d.flushes == 5);
	CHECK(d.rcvpack == 11 && d.rcvbyte == 11000 && d.rcvoopack == 0);
	lro_recv(p.so, 11000, 0);
	lp_close(&p);
	clean(s0, m0);
}

// A segment that came in IP fragments reaches TCP reassembled (ip_reass
// puts the IP header in an mbuf of its own) and is never held: the run
// before it goes first. [A1 A2] 1000 bytes each, F 1480 bytes (1520 on
// lo0's MTU of 1500: two fragments), [B1 B2]: two merged pairs, F alone
// in between, every byte in order.
static void tcp_lro_reassembled_not_held(void)
{
	BEGIN();
	struct lpeer p;
	lp_open(&p, 5420, false);
	struct lro_counts b;
	lro_snap(&b);
	uint64 reass0 = ipstat.ips_reassembled;
	static const int len[] = { 1000, 1000, 1480, 1000, 1000 };
	uint32 off = 0;
	for (int i = 0; i < 5; off += (uint32)len[i++])
		lp_seg(&p, off, len[i], TH_ACK, 1000, p.ack, none, 0, false);
	CHECK(wire_burst() == 6);   // the fragments count one each
	CHECK(ipstat.ips_reassembled == reass0 + 1);
	struct lro_counts d = lro_delta(&b);
	CHECK(d.held == 4 && d.merged == 2 && d.mergedsegs == 4 && d.flushes == 2);
	CHECK(d.rcvpack == 5 && d.rcvbyte == off);
	lro_recv(p.so, off, 0);
	lp_close(&p);
	clean(s0, m0);
}

// A RST in the batch after a held run of its connection: the run is
// handed on first (I3), merged, and its bytes reach the socket; then
// the RST resets the connection. Nothing held is left behind.
static void tcp_lro_rst_after_run(void)
{
	BEGIN();
	struct lpeer p;
	lp_open(&p, 5415, false);
	struct lro_counts b;
	lro_snap(&b);
	uint64 rst0 = tcpstat.tcps_rstrcvd;
	for (int i = 0; i < 4; i++)
		lp_seg(&p, (uint32)i * 1000, 1000, TH_ACK, 1000, p.ack, none, 0, false);
	lp_seg(&p, 4000, 0, TH_RST, 0, 0, none, 0, false);
	CHECK(wire_burst() == 5);
	struct lro_counts d = lro_delta(&b);
	CHECK(d.held == 4 && d.merged == 1 && d.mergedsegs == 4 && d.rcvpack == 4);
	CHECK(tcpstat.tcps_rstrcvd == rst0 + 1);
	soclose(p.so);
	clean(s0, m0);
}

// ---- requests a netisr runs in the middle of a batch -------------------------------

// A message that runs fn(arg) on a netisr between the packets queued
// before it and those queued after it, in one batch -- where a socket
// request or a sysctl lands between two segments.
struct lp_midmsg {
	struct lwkt_msg mm_msg;   // first: the handler gets this
	void (*mm_fn)(void *);
	void *mm_arg;
};

static void lp_midmsg_run(struct lwkt_msg *msg)
{
	struct lp_midmsg *mm = (struct lp_midmsg *)msg;
	mm->mm_fn(mm->mm_arg);
	lwkt_replymsg(msg, 0);
}

static void lp_queue_msg(const struct lpeer *p, struct lp_midmsg *mm, void (*fn)(void *),
			 void *arg)
{
	lwkt_initmsg(&mm->mm_msg, NULL, lp_midmsg_run, 0);
	mm->mm_fn = fn;
	mm->mm_arg = arg;
	lwkt_sendmsg(netisr_cpuport(tw_tp(p->so)->t_cpu), &mm->mm_msg);
}

// Queue the peer's in-order segments [from, to) of 1000 bytes on its
// connection's netisr directly (the batch is made here, not by the wire).
static void lp_queue(const struct lpeer *p, int from, int to)
{
	static const struct lp_iphdr h = { 0, 64, 0, 0 };
	for (int i = from; i < to; i++) {
		struct mbuf *t = lp_tcp(p, (uint32)i * 1000, 1000, TH_ACK, 1000, p->ack, none, 0,
					false);
		CHECK(netisr_dispatch_proto(NETISR_IP, lp_ip(t, &h)) == 0);
	}
}

static void lp_lro_off(void *arg)
{
	(void)arg;
	CHECK(host_sysctl_write("net.inet.tcp.lro", 0) == 0);
}

// net.inet.tcp.lro turned off while a run is held (between two segments
// of one batch): the run goes first, merged, then the rest one by one;
// every byte in order.
static void tcp_lro_switched_off_mid_batch(void)
{
	BEGIN();
	struct lpeer p;
	lp_open(&p, 5416, false);
	struct lro_counts b;
	lro_snap(&b);
	struct lp_midmsg mm;
	lp_queue(&p, 0, 3);
	lp_queue_msg(&p, &mm, lp_lro_off, NULL);
	lp_queue(&p, 3, 6);
	wire_netisrs();
	struct lro_counts d = lro_delta(&b);
	CHECK(d.held == 3 && d.merged == 1 && d.mergedsegs == 3 && d.flushes == 1);
	CHECK(d.rcvpack == 6 && d.rcvbyte == 6000 && d.rcvoopack == 0);
	lro_recv(p.so, 6000, 0);
	lp_close(&p);
	clean(s0, m0);
}

static void lp_abort(void *arg)
{
	soclose(arg);   // SO_LINGER 0: the tcpcb goes now
}

// The user aborts the connection while a run of it is held (the close
// lands between two segments of one batch): the tcpcb is gone when the
// run is handed on, so each held segment is answered as one for no
// connection (a RST, dropped here), nothing touches the freed tcpcb
// (the sanitizer build would see it), no mbuf is left behind.
static void tcp_lro_conn_closed_while_held(void)
{
	BEGIN();
	struct lpeer p;
	lp_open(&p, 5419, false);
	struct linger lg = { 1, 0 };
	struct sockopt sopt = { SOL_SOCKET, SO_LINGER, false, &lg, sizeof(lg) };
	CHECK(sosetopt(p.so, &sopt) == 0);
	struct lro_counts b;
	lro_snap(&b);
	uint64 nopcb0 = tcpstat.tcps_drop_nopcb;
	struct lp_midmsg mm;
	lp_queue(&p, 0, 3);
	lp_queue_msg(&p, &mm, lp_abort, p.so);
	lp_queue(&p, 3, 6);
	wire_netisrs();
	struct lro_counts d = lro_delta(&b);
	CHECK(d.held == 6 && d.merged == 0 && d.unmerged == 6 && d.rcvpack == 0);
	CHECK(tcpstat.tcps_drop_nopcb == nopcb0 + 6);
	wire_settle();
	clean(s0, m0);
}

const struct host_test tcp_lro_peer_tests[] = {
	{ tcp_lro_header_change_not_merged, "tcp_lro_header_change_not_merged" },
	{ tcp_lro_bad_checksum_not_merged, "tcp_lro_bad_checksum_not_merged" },
	{ tcp_lro_timestamps_paws_kept, "tcp_lro_timestamps_paws_kept" },
	{ tcp_lro_paws_tsval_wrap_not_merged, "tcp_lro_paws_tsval_wrap_not_merged" },
	{ tcp_lro_paws_checks_each_part, "tcp_lro_paws_checks_each_part" },
	{ tcp_lro_ip_header_change_not_merged, "tcp_lro_ip_header_change_not_merged" },
	{ tcp_lro_reassembled_not_held, "tcp_lro_reassembled_not_held" },
	{ tcp_lro_rst_after_run, "tcp_lro_rst_after_run" },
	{ tcp_lro_switched_off_mid_batch, "tcp_lro_switched_off_mid_batch" },
	{ tcp_lro_conn_closed_while_held, "tcp_lro_conn_closed_while_held" },
	{ NULL, NULL },
};
