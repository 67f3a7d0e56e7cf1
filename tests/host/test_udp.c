// Host tests of UDP input and output (net/udp.c) on the fake interface
// fx0: valid datagrams reach the bound socket (fast demux and the naive
// path), zero checksum means "none", malformed ones (bad checksum, bad
// length, short header) are dropped and counted, a datagram for a port
// nobody has gets ICMP port unreachable (a broadcast does not), a
// broadcast reaches every matching socket, and output checksums verify.
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include "tests/host/net_fake.h"
#include "net/socket.h"
#include "net/in_pcb.h"
#include "net/pcq.h"

static uint32 pcq_count_of(struct socket *so)
{
	return pcq_count(((struct inpcb *)so->so_pcb)->inp_pcq);
}

// RFC 768 checksum over pseudo-header + UDP bytes, written independently
// of net/udp.c: 0 when the stored checksum is right.
static uint16 ref_cksum(uint32 src, uint32 dst, const uint8 *u, int len)
{
	uint32 sum = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
		     IPPROTO_UDP + len;
	for (int i = 0; i + 1 < len; i += 2)
		sum += (uint32)u[i] << 8 | u[i + 1];
	if (len & 1)
		sum += (uint32)u[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16)~sum;   // host order
}

// A UDP datagram from GW:sport to dst:dport with plen pattern bytes into
// buf (IP header first). ulen_delta skews the length field; sum: 1 =
// correct checksum, 0 = none, -1 = wrong. Returns the IP length.
static int mk_udp(uint8 *buf, uint32 dst, uint16 sport, uint16 dport, int plen,
		  int ulen_delta, int sum)
{
	uint8 u[2000];
	int ulen = 8 + plen;
	u[0] = sport >> 8, u[1] = sport & 0xff, u[2] = dport >> 8, u[3] = dport & 0xff;
	u[4] = (ulen + ulen_delta) >> 8, u[5] = (ulen + ulen_delta) & 0xff;
	u[6] = u[7] = 0;
	for (int i = 0; i < plen; i++)
		u[8 + i] = (uint8)(i * 3 + plen);
	if (sum != 0) {
		uint16 c = ref_cksum(GW_ADDR, dst, u, ulen);
		if (c == 0)
			c = 0xffff;
		if (sum < 0)
			c ^= 0x5a5a;
		u[6] = c >> 8, u[7] = c & 0xff;
	}
	return fx_ip(buf, IPPROTO_UDP, GW_ADDR, dst, 77, 0, u, ulen);
}

static void inject_udp(uint32 dst, uint16 sport, uint16 dport, int plen, int delta, int sum)
{
	uint8 pkt[2100];
	fx_inject(ETHERTYPE_IP, pkt, mk_udp(pkt, dst, sport, dport, plen, delta, sum));
}

static void setup(void)
{
	fx_setup();
	CHECK(udp_init() == 0);
	fx_learn_gw();
	fx_clear();
}

static struct socket *bound(uint16 port, uint32 opts)
{
	const struct protosw *pr = pffindproto(SOCK_DGRAM, IPPROTO_UDP);
	struct socket *so = so_alloc(pr);
	CHECK(so != NULL && pr->pr_usrreqs->pru_attach(so, IPPROTO_UDP) == 0);
	so->so_options = opts;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = hton16(port) };
	CHECK(pr->pr_usrreqs->pru_bind(so, &sin) == 0);
	return so;
}

static void udp_close(struct socket *so)
{
	CHECK(so->so_proto->pr_usrreqs->pru_detach(so) == 0);
	sorele(so);
}

// Read one datagram without blocking: its length (or -EAGAIN), sender.
static long rd(struct socket *so, uint8 *buf, struct sockaddr_in *from)
{
	struct uio uio = { (uint64)(unsigned long)buf, 2000, false };
	return soreceive(so, &uio, from, 0, true);
}

static void check_payload(const uint8 *b, int plen)
{
	for (int i = 0; i < plen; i++)
		CHECK(b[i] == (uint8)(i * 3 + plen));
}

static void test_udp_valid_datagram_reaches_socket(void)
{
	setup();
	struct socket *so = bound(5000, 0);
	uint8 buf[2000];
	struct sockaddr_in from;
	inject_udp(FX_ADDR, 4321, 5000, 100, 0, 1);
	inject_udp(FX_ADDR, 4322, 5000, 0, 0, 1);     // empty datagram
	inject_udp(FX_ADDR, 4323, 5000, 1000, 0, 0);  // checksum 0: none
	CHECK(sysctl_get("net.inet.udp.fastpath") == 3);
	CHECK(rd(so, buf, &from) == 100);
	check_payload(buf, 100);
	CHECK(from.sin_port == hton16(4321) && from.sin_addr.s_addr == hton32(GW_ADDR));
	CHECK(rd(so, buf, &from) == 0 && from.sin_port == hton16(4322));
	CHECK(rd(so, buf, &from) == 1000);
	check_payload(buf, 1000);
	CHECK(rd(so, buf, &from) == -EAGAIN);
	CHECK(sysctl_get("net.inet.udp.delivered") == 3 && ncap == 0);
	udp_close(so);
}

static void test_udp_fast_demux_off_uses_the_socket_buffer(void)
{
	setup();
	struct socket *so = bound(5000, 0);
	uint8 buf[2000];
	CHECK(host_sysctl_write("net.inet.udp.fast_demux", 0) == 0);
	inject_udp(FX_ADDR, 1, 5000, 10, 0, 1);
	CHECK(so->so_rcv.sb_nrecords == 1 && sysctl_get("net.inet.udp.fastpath") == 0);
	CHECK(host_sysctl_write("net.inet.udp.fast_demux", 1) == 0);
	inject_udp(FX_ADDR, 2, 5000, 20, 0, 1);
	CHECK(so->so_rcv.sb_nrecords == 1 && pcq_count_of(so) == 1);
	CHECK(rd(so, buf, NULL) == 10 && rd(so, buf, NULL) == 20);
	udp_close(so);
}

static void test_udp_bad_checksum_is_dropped(void)
{
	setup();
	struct socket *so = bound(5000, 0);
	uint8 buf[2000];
	inject_udp(FX_ADDR, 1, 5000, 50, 0, -1);
	CHECK(sysctl_get("net.inet.udp.badsum") == 1);
	CHECK(rd(so, buf, NULL) == -EAGAIN && ncap == 0);
	udp_close(so);
}

static void test_udp_bad_length_is_dropped(void)
{
	setup();
	struct socket *so = bound(5000, 0);
	uint8 buf[2000], pkt[100];
	inject_udp(FX_ADDR, 1, 5000, 50, +1, 0);    // longer than IP carried
	inject_udp(FX_ADDR, 1, 5000, 50, -51, 0);   // shorter than a header
	CHECK(sysctl_get("net.inet.udp.badlen") == 2);
	fx_inject(ETHERTYPE_IP, pkt, fx_ip(pkt, IPPROTO_UDP, GW_ADDR, FX_ADDR, 1, 0, "abcd", 4));
	CHECK(sysctl_get("net.inet.udp.hdrops") == 1);
	CHECK(rd(so, buf, NULL) == -EAGAIN);
	inject_udp(FX_ADDR, 1, 5000, 50, -10, 0);   // shorter than IP: trimmed
	CHECK(rd(so, buf, NULL) == 40);
	CHECK(ncap == 0);
	udp_close(so);
}

static void test_udp_no_port_sends_icmp_port_unreachable(void)
{
	setup();
	inject_udp(FX_ADDR, 4321, 5999, 30, 0, 1);
	CHECK(sysctl_get("net.inet.udp.noport") == 1);
	CHECK(ncap == 1);
	const uint8 *ip = cap[0] + ETHER_HDR_LEN, *ic = ip + 20;
	CHECK(ip[9] == IPPROTO_ICMP);
	CHECK(ic[0] == ICMP_UNREACH && ic[1] == ICMP_UNREACH_PORT);
	CHECK(memcmp(ip + 16, (uint8[]){ 10, 0, 2, 2 }, 4) == 0);   // to the sender
	CHECK(ic[8 + 9] == IPPROTO_UDP);   // quotes our datagram's IP header
	CHECK(ic[8 + 20 + 2] == (5999 >> 8) && ic[8 + 20 + 3] == (5999 & 0xff));
	inject_udp(IPV4(10, 0, 2, 255), 4321, 5999, 30, 0, 1);   // broadcast: no error
	CHECK(sysctl_get("net.inet.udp.noportbcast") == 1 && ncap == 1);
}

static void test_udp_broadcast_reaches_every_matching_socket(void)
{
	setup();
	struct socket *a = bound(6000, SO_OPT_REUSEPORT), *b = bound(6000, SO_OPT_REUSEPORT);
	struct socket *c = bound(6001, 0);
	uint8 buf[2000];
	inject_udp(IPV4(10, 0, 2, 255), 1, 6000, 10, 0, 1);
	inject_udp(INADDR_BROADCAST, 1, 6000, 11, 0, 1);
	CHECK(rd(a, buf, NULL) == 10 && rd(a, buf, NULL) == 11);
	CHECK(rd(b, buf, NULL) == 10 && rd(b, buf, NULL) == 11);
	CHECK(rd(c, buf, NULL) == -EAGAIN);
	inject_udp(FX_ADDR, 1, 6000, 12, 0, 1);   // unicast: one of the group
	CHECK((rd(a, buf, NULL) == 12) + (rd(b, buf, NULL) == 12) == 1);
	udp_close(a);
	udp_close(b);
	udp_close(c);
}

static void test_udp_output_checksum_verifies(void)
{
	setup();
	struct socket *so = bound(5000, 0);
	const struct pr_usrreqs *u = so->so_proto->pr_usrreqs;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = hton16(53) };
	to.sin_addr.s_addr = hton32(GW_ADDR);
	for (int len = 0; len < 40; len += 13) {
		struct mbuf *m = m_getspace(len, 64);
		CHECK(m != NULL && m_copyback(m, 0, len, "0123456789012345678901234567890123456789") == 0);
		CHECK(u->pru_send(so, m, &to) == 0);
	}
	CHECK(ncap == 4);
	for (int i = 0; i < ncap; i++) {
		const uint8 *ip = cap[i] + ETHER_HDR_LEN, *uh = ip + 20;
		int ulen = uh[4] << 8 | uh[5];
		CHECK(ulen == 8 + 13 * i && uh[0] == 5000 >> 8 && uh[3] == 53);
		CHECK(ref_cksum(FX_ADDR, GW_ADDR, uh, ulen) == 0);
	}
	// Broadcast needs SO_BROADCAST; a connected socket refuses sendto.
	to.sin_addr.s_addr = hton32(INADDR_BROADCAST);
	CHECK(u->pru_send(so, m_getspace(1, 64), &to) == -EACCES);
	so->so_options |= SO_OPT_BROADCAST;
	CHECK(u->pru_send(so, m_getspace(1, 64), &to) == 0);
	to.sin_addr.s_addr = hton32(GW_ADDR);
	CHECK(u->pru_connect(so, &to) == 0);
	CHECK(u->pru_send(so, m_getspace(1, 64), &to) == -EISCONN);
	CHECK(u->pru_send(so, m_getspace(1, 64), NULL) == 0);
	udp_close(so);
}

static void test_udp_close_with_queued_datagrams_frees_them(void)
{
	setup();
	int64 before = sysctl_get("net.mbuf.inuse");
	struct socket *so = bound(5000, 0);
	for (int i = 0; i < 20; i++)
		inject_udp(FX_ADDR, 1, 5000, 500, 0, 1);
	CHECK(sysctl_get("net.mbuf.inuse") > before);
	udp_close(so);
	CHECK(sysctl_get("net.mbuf.inuse") == before);
}

static void test_udp_full_pcq_drops_and_counts(void)
{
	setup();
	CHECK(host_sysctl_write("net.inet.udp.pcq_maxlen", 4) == 0);
	struct socket *so = bound(5000, 0);
	uint8 buf[2000];
	for (int i = 0; i < 6; i++)
		inject_udp(FX_ADDR, 1, 5000, 10 + i, 0, 1);
	CHECK(sysctl_get("net.inet.udp.pcqfull") == 2);
	for (int i = 0; i < 4; i++)
		CHECK(rd(so, buf, NULL) == 10 + i);
	CHECK(rd(so, buf, NULL) == -EAGAIN);
	udp_close(so);
}

static int detach_done;   // [a]

static void *detacher(void *arg)
{
	udp_close(arg);
	__atomic_store_n(&detach_done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

// I3 of net/udp.c: a netisr delivers outside the table lock with the
// socket's receive side pinned; detach, once the pcb is off the table,
// waits for the pin before it frees the PCQ and the socket. Here the test
// plays the netisr between its lookup and the end of its delivery.
static void test_udp_detach_waits_for_a_pinned_producer(void)
{
	setup();
	struct socket *so = bound(5000, 0);
	sbpin(&so->so_rcv);   // as udp_input does under the table lock
	detach_done = 0;
	pthread_t th;
	pthread_create(&th, NULL, detacher, so);
	for (int i = 0; i < 50 && !__atomic_load_n(&detach_done, __ATOMIC_SEQ_CST); i++)
		usleep(2000);
	CHECK(__atomic_load_n(&detach_done, __ATOMIC_SEQ_CST) == 0);   // still waiting
	// The pcb is off the table already: a new datagram finds no socket.
	inject_udp(FX_ADDR, 1, 5000, 10, 0, 1);
	CHECK(sysctl_get("net.inet.udp.noport") == 1);
	CHECK(so->so_rcv.sb_pcq != NULL);   // not freed under the producer
	sbunpin(&so->so_rcv);
	pthread_join(th, NULL);
	CHECK(detach_done == 1);
}

// A datagram the fast demux drops (its socket's PCQ is full) costs one
// allocation less than one it delivers: the drop is decided before the
// record's address mbuf is made, so a flood into a full socket does not
// allocate and free an mbuf per datagram.
static void test_udp_full_pcq_drop_allocates_no_record(void)
{
	setup();
	CHECK(host_sysctl_write("net.inet.udp.pcq_maxlen", 4) == 0);
	struct socket *so = bound(5000, 0);
	uint64 m0 = host_mallocs;
	inject_udp(FX_ADDR, 1, 5000, 10, 0, 1);   // delivered
	uint64 delivered = host_mallocs - m0;
	for (int i = 0; i < 3; i++)
		inject_udp(FX_ADDR, 1, 5000, 10, 0, 1);
	CHECK(sysctl_get("net.inet.udp.pcqfull") == 0);
	uint64 m1 = host_mallocs;
	inject_udp(FX_ADDR, 1, 5000, 10, 0, 1);   // PCQ full: dropped
	CHECK(sysctl_get("net.inet.udp.pcqfull") == 1);
	CHECK(host_mallocs - m1 == delivered - 1);
	udp_close(so);
}

// Every value net.inet.udp.pcq_maxlen accepts gives a working socket: the
// largest queue (more than one page of slots) is allocated and holds that
// many datagrams; one more is refused by the knob.
static void test_udp_largest_pcq_maxlen_works(void)
{
	setup();
	CHECK(host_sysctl_write("net.inet.udp.pcq_maxlen", PCQ_MAXITEMS + 1) == -EINVAL);
	CHECK(host_sysctl_write("net.inet.udp.pcq_maxlen", 0) == -EINVAL);
	CHECK(host_sysctl_write("net.inet.udp.pcq_maxlen", PCQ_MAXITEMS) == 0);
	struct socket *so = bound(5000, 0);
	sbreserve(&so->so_rcv, SB_MAX);   // room for 600 records (sockbuf.c I5)
	for (int i = 0; i < 600; i++)   // past the first chunk of 512 slots
		inject_udp(FX_ADDR, 1, 5000, 10, 0, 1);
	CHECK(pcq_count_of(so) == 600);
	CHECK(sysctl_get("net.inet.udp.pcqfull") == 0);
	uint8 buf[2000];
	for (int i = 0; i < 600; i++)
		CHECK(rd(so, buf, NULL) == 10);
	CHECK(rd(so, buf, NULL) == -EAGAIN);
	udp_close(so);
}

// The storage (sockbuf.c I1) an unread socket holds now: so_rcv plus
// what sits on its PCQ (counted independently of sockbuf.c's charge:
// walk the records).
static uint32 held_storage(struct socket *so, uint32 *bytes)
{
	struct sockbuf *sb = &so->so_rcv;
	uint32 sz = sb->sb_mbcnt, cc = sb->sb_cc;
	struct mbuf *recs[PCQ_MAXITEMS];
	int n = 0;
	struct mbuf *rec;
	net_lock_acquire(&sb->sb_lock);   // we are the PCQ's consumer
	while ((rec = pcq_get(sb->sb_pcq)) != NULL)
		recs[n++] = rec;
	for (int i = 0; i < n; i++) {
		for (struct mbuf *m = recs[i]; m; m = m->m_next) {
			sz += m_storage(m);
			cc += m == recs[i] ? 0 : m->m_len;
		}
		CHECK(pcq_put(sb->sb_pcq, recs[i]));   // back, in order
	}
	net_lock_release(&sb->sb_lock);
	*bytes = cc;
	return sz;
}

// A flood of datagrams to a socket nobody reads: with the fast demux on
// or off, what the socket holds stays within SO_RCVBUF (data bytes) and
// sb_mbmax (storage), the rest is dropped and counted in fullsock, and
// what was kept is read back intact; then close frees everything.
static void check_unread_socket_bounded(int fast, int plen, int count)
{
	uint8 buf[2000];
	CHECK(host_sysctl_write("net.inet.udp.fast_demux", fast) == 0);
	int64 mb0 = sysctl_get("net.mbuf.inuse"), full0 = sysctl_get("net.inet.udp.fullsock");
	int64 pcqfull0 = sysctl_get("net.inet.udp.pcqfull");
	struct socket *so = bound(5000, 0);
	for (int i = 0; i < count; i++)
		inject_udp(FX_ADDR, 1, 5000, plen, 0, 1);
	uint32 bytes, sz = held_storage(so, &bytes);
	if (bytes > so->so_rcv.sb_hiwat || sz > so->so_rcv.sb_mbmax)
		fprintf(stderr, "fast %d plen %d: %u bytes (hiwat %u), %u storage (mbmax %u)\n",
			fast, plen, bytes, so->so_rcv.sb_hiwat, sz, so->so_rcv.sb_mbmax);
	CHECK(bytes <= so->so_rcv.sb_hiwat && sz <= so->so_rcv.sb_mbmax);
	int64 dropped = sysctl_get("net.inet.udp.fullsock") - full0;
	CHECK(sysctl_get("net.inet.udp.pcqfull") == pcqfull0);   // the limit came first
	CHECK(dropped > 0);
	int got = 0;
	while (rd(so, buf, NULL) == plen)
		got++;
	CHECK(got + dropped == count && (uint32)got * plen == bytes);
	CHECK(rd(so, buf, NULL) == -EAGAIN);
	// Read out: the socket takes a full load again.
	inject_udp(FX_ADDR, 1, 5000, plen, 0, 1);
	CHECK(rd(so, buf, NULL) == plen);
	udp_close(so);
	CHECK(sysctl_get("net.mbuf.inuse") == mb0);
}

static void test_udp_unread_socket_memory_is_bounded(void)
{
	setup();
	CHECK(host_sysctl_write("net.inet.udp.pcq_maxlen", PCQ_MAXITEMS) == 0);
	check_unread_socket_bounded(1, 1400, 200);   // bytes bound first
	check_unread_socket_bounded(0, 1400, 200);
	check_unread_socket_bounded(1, 0, 2000);     // storage bound first
	check_unread_socket_bounded(0, 0, 2000);
	check_unread_socket_bounded(1, 1, 2000);
}

const struct host_test udp_tests[] = {
	{ test_udp_unread_socket_memory_is_bounded, "udp_unread_socket_memory_is_bounded" },
	{ test_udp_valid_datagram_reaches_socket, "udp_valid_datagram_reaches_socket" },
	{ test_udp_fast_demux_off_uses_the_socket_buffer, "udp_fast_demux_off_uses_the_socket_buffer" },
	{ test_udp_bad_checksum_is_dropped, "udp_bad_checksum_is_dropped" },
	{ test_udp_bad_length_is_dropped, "udp_bad_length_is_dropped" },
	{ test_udp_no_port_sends_icmp_port_unreachable, "udp_no_port_sends_icmp_port_unreachable" },
	{ test_udp_broadcast_reaches_every_matching_socket, "udp_broadcast_reaches_every_matching_socket" },
	{ test_udp_output_checksum_verifies, "udp_output_checksum_verifies" },
	{ test_udp_close_with_queued_datagrams_frees_them, "udp_close_with_queued_datagrams_frees_them" },
	{ test_udp_full_pcq_drops_and_counts, "udp_full_pcq_drops_and_counts" },
	{ test_udp_full_pcq_drop_allocates_no_record, "udp_full_pcq_drop_allocates_no_record" },
	{ test_udp_detach_waits_for_a_pinned_producer, "udp_detach_waits_for_a_pinned_producer" },
	{ test_udp_largest_pcq_maxlen_works, "udp_largest_pcq_maxlen_works" },
	{ NULL, NULL },
};
