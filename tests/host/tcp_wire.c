// The fake wire of tcp_wire.h.
#include <stdlib.h>
#include "tests/host/tcp_wire.h"
#include "net/if.h"
#include "net/icmp.h"
#include "net/tcp_syncache.h"

enum wire_verdict (*wire_filter)(const struct wire_seg *ws);
struct wire_seg wire_log[WIRE_LOGMAX];
int wire_nlog;

uint64 wire_delay_ms;

static struct ifnet wlo;
static struct mbuf *wire_head, *wire_tail, *wire_held;
static int wire_nseen;
// When each packet on the wire may be delivered, in FIFO order with them
// (the delay is the same for all, so the order holds).
#define WIRE_DUEMAX 8192
static uint64 wire_due[WIRE_DUEMAX];
static int wire_duehead, wire_duetail;
static FILE *wire_pcap;   // WIRE_PCAP (tcp_wire.h)

static void pcap32(uint32 v)
{
	fwrite(&v, 4, 1, wire_pcap);   // host order: the magic tells readers which
}

// The pcap file header: version 2.4, snaplen 65535, LINKTYPE_RAW (101).
static void wire_pcap_open(void)
{
	const char *path = getenv("WIRE_PCAP");
	if (path == NULL || (wire_pcap = fopen(path, "wb")) == NULL)
		return;
	pcap32(0xa1b2c3d4);
	pcap32(2 | 4u << 16);   // major 2, minor 4 (two 16-bit fields)
	pcap32(0);
	pcap32(0);
	pcap32(65535);
	pcap32(101);
}

static void wire_pcap_write(struct mbuf *m)
{
	static uint8 buf[65536];
	int len = m->m_pkthdr.ph_len;
	uint64 ms = net_now_ms();
	if (wire_pcap == NULL || len > (int)sizeof(buf) || m_copydata(m, 0, len, buf) < 0)
		return;
	pcap32((uint32)(ms / 1000));
	pcap32((uint32)(ms % 1000) * 1000);
	pcap32((uint32)len);
	pcap32((uint32)len);
	fwrite(buf, 1, len, wire_pcap);
}

static int wire_output(struct ifnet *ifp, struct mbuf *m, uint32 nexthop)
{
	(void)nexthop;
	m->m_pkthdr.ph_rcvif = ifp;
	m->m_pkthdr.ph_flags = PH_LOOP;
	m->m_nextpkt = NULL;
	wire_pcap_write(m);
	wire_due[wire_duetail++ % WIRE_DUEMAX] = net_now_ms() + wire_delay_ms;
	CHECK(wire_duetail - wire_duehead <= WIRE_DUEMAX);
	if (wire_tail)
		wire_tail->m_nextpkt = m;
	else
		wire_head = m;
	wire_tail = m;
	return 0;
}

static void wire_start(struct ifqueue *ifq, void *softc)
{
	(void)ifq;
	(void)softc;
}

void wire_setup(void)
{
	host_set_ncpu(2);
	CHECK(mbuf_init() == 0);
	CHECK(ip_init() == 0);
	CHECK(icmp_init() == 0);
	CHECK(netisr_init_ports() == 0);
	for (int c = 0; c < net_ncpu(); c++)
		lwkt_port_setowner(netisr_cpuport(c));
	CHECK(netisr_register(NETISR_IP, ip_input) == 0);
	strcpy(wlo.if_name, "lo0");
	wlo.if_mtu = 1500;
	wlo.if_flags = IFF_LOOPBACK;
	wlo.if_output = wire_output;
	wlo.if_softc = &wlo;
	CHECK(ifq_init(&wlo.if_snd, "lo0", 64, wire_start, &wlo) == 0);
	CHECK(if_attach(&wlo) == 0);
	CHECK(if_setaddr(&wlo, IPV4(127, 0, 0, 1), IPV4(255, 0, 0, 0)) == 0);
	CHECK(if_up(&wlo) == 0);
	CHECK(tcp_init() == 0);
	tw_rfc7323(false);
	wire_filter = NULL;
	wire_nlog = 0;
	wire_delay_ms = 0;
	wire_pcap_open();
}

void tw_rfc7323(bool on)
{
	CHECK(host_sysctl_write("net.inet.tcp.wscale", on) == 0);
	CHECK(host_sysctl_write("net.inet.tcp.timestamps", on) == 0);
}

// Parse the TCP segment in IP packet m for the filter.
static bool wire_parse(struct mbuf *m, struct wire_seg *ws)
{
	uint8 h[60 + 60];
	int len = m->m_pkthdr.ph_len;
	if (m_copydata(m, 0, MIN(len, (int)sizeof(h)), h) < 0 || h[9] != IPPROTO_TCP)
		return false;
	int hl = (h[0] & 0xf) * 4;
	uint8 *t = h + hl;
	int off = (t[12] >> 4) * 4;
	memset(ws, 0, sizeof(*ws));
	ws->ws_sport = (uint16)(t[0] << 8 | t[1]);
	ws->ws_dport = (uint16)(t[2] << 8 | t[3]);
	ws->ws_seq = (uint32)t[4] << 24 | t[5] << 16 | t[6] << 8 | t[7];
	ws->ws_ack = (uint32)t[8] << 24 | t[9] << 16 | t[10] << 8 | t[11];
	ws->ws_flags = t[13];
	ws->ws_win = (uint16)(t[14] << 8 | t[15]);
	ws->ws_len = (uint32)(len - hl - off);
	if (off >= 24 && t[20] == TCPOPT_MSS) {
		ws->ws_has_mss = true;
		ws->ws_mss = (uint16)(t[22] << 8 | t[23]);
	}
	if (off > 20 && hl + off <= (int)sizeof(h))
		tcp_dooptions(&ws->ws_opt, t + 20, off - 20, (t[13] & TH_SYN) != 0);
	ws->ws_n = wire_nseen++;
	ws->ws_time = net_now_ms();
	return true;
}

// Run every netisr's queue until all are empty.
static bool wire_poll_all(void)
{
	bool any = false;
	for (int round = 0; round < 1000; round++) {
		int n = 0;
		for (int c = 0; c < net_ncpu(); c++) {
			host_set_cpuid(c);
			n += netisr_poll(c);
		}
		host_set_cpuid(0);
		if (n == 0)
			return any;
		any = true;
	}
	CHECK(!"netisrs never settle");
	return any;
}

// Deliver one packet (after the filter). Returns true if one was taken.
static bool wire_step(void)
{
	struct mbuf *m = wire_head;
	if (m == NULL || wire_due[wire_duehead % WIRE_DUEMAX] > net_now_ms())
		return false;
	wire_duehead++;
	wire_head = m->m_nextpkt;
	if (wire_head == NULL)
		wire_tail = NULL;
	m->m_nextpkt = NULL;
	struct wire_seg ws;
	enum wire_verdict v = WIRE_PASS;
	if (wire_parse(m, &ws)) {
		if (wire_filter)
			v = wire_filter(&ws);
		if (wire_nlog < WIRE_LOGMAX)
			wire_log[wire_nlog++] = ws;
	}
	if (v == WIRE_DROP) {
		m_freem(m);
		return true;
	}
	if (v == WIRE_HOLD && wire_held == NULL) {
		wire_held = m;
		return true;
	}
	CHECK(netisr_dispatch_proto(NETISR_IP, m) == 0);
	if (wire_held != NULL) {   // the held one goes after this one
		struct mbuf *h = wire_held;
		wire_held = NULL;
		CHECK(netisr_dispatch_proto(NETISR_IP, h) == 0);
	}
	return true;
}

void wire_netisrs(void)
{
	wire_poll_all();
}

int wire_burst(void)
{
	struct mbuf *rest = wire_head;   // only what is on the wire now
	struct mbuf *last = wire_tail;
	int n = 0;
	if (rest == NULL)
		return 0;
	wire_head = wire_tail = NULL;
	while (rest != NULL) {           // wire_step takes from wire_head
		struct mbuf *next = rest == last ? NULL : rest->m_nextpkt;
		rest->m_nextpkt = NULL;
		wire_head = wire_tail = rest;
		wire_step();
		n++;
		rest = next;
	}
	wire_poll_all();
	return n;
}

void wire_log_clear(void)
{
	wire_nlog = 0;
}

void wire_settle(void)
{
	for (int i = 0; i < 100000; i++) {
		bool moved = wire_step();
		bool ran = wire_poll_all();
		if (!moved && !ran) {
			if (wire_held != NULL) {   // nothing followed: release it
				struct mbuf *h = wire_held;
				wire_held = NULL;
				CHECK(netisr_dispatch_proto(NETISR_IP, h) == 0);
				continue;
			}
			return;
		}
	}
	for (int i = wire_nlog > 12 ? wire_nlog - 12 : 0; i < wire_nlog; i++)
		fprintf(stderr, "wire: %u->%u seq %u ack %u flags %#x len %u win %u\n",
			wire_log[i].ws_sport, wire_log[i].ws_dport, wire_log[i].ws_seq,
			wire_log[i].ws_ack, wire_log[i].ws_flags, wire_log[i].ws_len,
			wire_log[i].ws_win);
	fprintf(stderr, "badseq %lu toomuch %lu dupack %lu winup %lu sndacks %lu rstchal %lu badsyn %lu noack %lu\n",
		(unsigned long)tcpstat.tcps_drop_badseq, (unsigned long)tcpstat.tcps_rcvacktoomuch,
		(unsigned long)tcpstat.tcps_rcvdupack, (unsigned long)tcpstat.tcps_sndwinup,
		(unsigned long)tcpstat.tcps_sndacks, (unsigned long)tcpstat.tcps_rstchallenge,
		(unsigned long)tcpstat.tcps_drop_badsyn, (unsigned long)tcpstat.tcps_drop_noack);
	CHECK(!"wire never settles");
}

uint64 wire_run(uint64 ms)
{
	uint64 start = net_now_ms(), end = start + ms;
	for (;;) {
		wire_settle();
		if (host_callout_run() > 0)
			continue;
		uint64 next = host_callout_next();
		uint64 now = net_now_ms();
		if (wire_head != NULL) {   // a packet still on its way
			uint64 due = wire_due[wire_duehead % WIRE_DUEMAX];
			if (next == 0 || due < next)
				next = due;
		}
		if (next == 0 || next > end) {
			if (end > now)
				host_clock_advance(end - now);
			wire_settle();
			host_callout_run();
			wire_settle();
			return net_now_ms() - start;
		}
		if (next > now)
			host_clock_advance(next - now);
	}
}

// ---- sockets ---------------------------------------------------------------------

struct socket *tw_socket(void)
{
	struct socket *so;
	CHECK(socreate(SOCK_STREAM, IPPROTO_TCP, &so) == 0);
	return so;
}

static struct sockaddr_in tw_sin(uint16 port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = hton16(port),
				   .sin_addr.s_addr = hton32(IPV4(127, 0, 0, 1)) };
	return sin;
}

struct socket *tw_listen(uint16 port, int backlog)
{
	struct socket *so = tw_socket();
	struct sockaddr_in sin = tw_sin(port);
	sin.sin_addr.s_addr = 0;
	CHECK(sobind(so, &sin) == 0);
	CHECK(solisten(so, backlog) == 0);
	return so;
}

struct socket *tw_connect(uint16 port, uint16 lport)
{
	struct socket *so = tw_socket();
	if (lport != 0) {
		struct sockaddr_in l = tw_sin(lport);
		CHECK(sobind(so, &l) == 0);
	}
	return tw_connect_so(so, port);
}

struct socket *tw_connect_so(struct socket *so, uint16 port)
{
	struct sockaddr_in sin = tw_sin(port);
	int err = soconnect(so, &sin, true);
	CHECK(err == -EINPROGRESS || err == 0);
	return so;
}

void tw_pair(uint16 port, struct socket **cli, struct socket **srv)
{
	struct socket *l = tw_listen(port, 5);
	*cli = tw_connect(port, 0);
	wire_settle();
	CHECK(soaccept(l, true, srv) == 0);
	CHECK(tw_state(*cli) == TCPS_ESTABLISHED);
	CHECK(tw_state(*srv) == TCPS_ESTABLISHED);
	soclose(l);
	wire_settle();
}

long tw_send(struct socket *so, const void *buf, size_t n)
{
	struct uio uio = { (uint64)(unsigned long)buf, n, false };
	return sosend(so, &uio, NULL, MSG_DONTWAIT, true);
}

long tw_recv(struct socket *so, void *buf, size_t n, int flags)
{
	struct uio uio = { (uint64)(unsigned long)buf, n, false };
	return soreceive(so, &uio, NULL, flags | MSG_DONTWAIT, true);
}

struct tcpcb *tw_tp(struct socket *so)
{
	return sototcpcb(so);
}

enum tcp_state tw_state(struct socket *so)
{
	struct tcpcb *tp = sototcpcb(so);
	return tp ? tp->t_state : TCPS_CLOSED;
}

void tw_pattern(uint8 *buf, size_t n, size_t off)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8)((off + i) * 7 + ((off + i) >> 8));
}

void tw_forge(uint16 sport, uint16 dport, uint32 seq, uint32 ack, uint8 flags)
{
	uint32 lo = IPV4(127, 0, 0, 1);
	CHECK(tcp_respond(lo, sport, lo, dport, seq, ack, flags, 1000) == 0);
}

void tw_setopt(struct socket *so, int level, int name, int v)
{
	struct sockopt sopt = { level, name, false, &v, sizeof(v) };
	CHECK(sosetopt(so, &sopt) == 0);
}

int tw_count(uint16 sport, uint8 flags, bool data)
{
	int n = 0;
	for (int i = 0; i < wire_nlog; i++) {
		struct wire_seg *w = &wire_log[i];
		if (w->ws_sport == sport && (flags == 0 || (w->ws_flags & flags)) &&
		    (w->ws_len > 0) == data)
			n++;
	}
	return n;
}

void tw_forge_syn(uint16 sport, uint16 dport, uint32 seq, uint16 mss)
{
	uint32 lo = IPV4(127, 0, 0, 1);
	int hlen = mss ? 24 : 20;
	struct mbuf *m = m_getspace(hlen, 64);
	CHECK(m != NULL);
	uint8 *t = mtod(m, uint8 *);
	memset(t, 0, hlen);
	t[0] = sport >> 8, t[1] = sport & 0xff, t[2] = dport >> 8, t[3] = dport & 0xff;
	t[4] = seq >> 24, t[5] = seq >> 16, t[6] = seq >> 8, t[7] = seq;
	t[12] = (uint8)((hlen / 4) << 4);
	t[13] = TH_SYN;
	t[14] = 0x40;   // window 16384
	if (mss) {
		t[20] = TCPOPT_MSS, t[21] = 4, t[22] = mss >> 8, t[23] = mss & 0xff;
	}
	uint16 sum = tcp_cksum(m, 0, hlen, lo, lo);
	memcpy(t + 16, &sum, 2);
	CHECK(ip_output(m, lo, lo, IPPROTO_TCP, 0, 0) == 0);
}

void tw_forge_raw(uint16 sport, uint16 dport, uint32 seq, uint32 ack, uint8 flags,
		  uint16 win, const uint8 *opts, int optlen, int datalen)
{
	uint32 lo = IPV4(127, 0, 0, 1);
	int hlen = 20 + optlen, len = hlen + datalen;
	struct mbuf *m = m_getspace(len, 64);
	CHECK(m != NULL && optlen % 4 == 0 && optlen <= 40);
	uint8 t[60];
	memset(t, 0, sizeof(t));
	t[0] = sport >> 8, t[1] = sport & 0xff, t[2] = dport >> 8, t[3] = dport & 0xff;
	t[4] = seq >> 24, t[5] = seq >> 16, t[6] = seq >> 8, t[7] = seq;
	t[8] = ack >> 24, t[9] = ack >> 16, t[10] = ack >> 8, t[11] = ack;
	t[12] = (uint8)((hlen / 4) << 4);
	t[13] = flags;
	t[14] = win >> 8, t[15] = win & 0xff;
	memcpy(t + 20, opts, optlen);
	CHECK(m_copyback(m, 0, hlen, t) == 0);
	for (int i = hlen; i < len; i++) {
		uint8 b = (uint8)i;
		CHECK(m_copyback(m, i, 1, &b) == 0);
	}
	uint16 sum = tcp_cksum(m, 0, len, lo, lo);
	CHECK(m_copyback(m, 16, 2, &sum) == 0);
	CHECK(ip_output(m, lo, lo, IPPROTO_TCP, 0, 0) == 0);
}

void clean(int s0, uint64 m0)
{
	wire_filter = NULL;
	wire_run(2 * 60000 + 1000);
	CHECK(tcpstat.tcps_pcbs == 0);
	CHECK(syncache_stat.scs_count == 0);   // every half-open entry expired
	CHECK(so_count() == s0);
	CHECK(mbstat.mbs_inuse == m0);
}

uint16 port_of(struct socket *so)
{
	return tw_tp(so)->t_inp->inp_lport;
}

static char tw_pcblist_buf[8192];

static int tw_pcblist_emit(void *ctx, const char *str, size_t n)
{
	size_t have = strlen(tw_pcblist_buf);
	(void)ctx;
	CHECK(have + n < sizeof(tw_pcblist_buf));
	memcpy(tw_pcblist_buf + have, str, n);
	tw_pcblist_buf[have + n] = 0;
	return 0;
}

const char *tw_pcblist(void)
{
	tw_pcblist_buf[0] = 0;
	CHECK(tcp_pcblist(tw_pcblist_emit, NULL) == 0);
	return tw_pcblist_buf;
}

void send_pattern(struct socket *so, size_t n)
{
	static uint8 out[1 << 17];
	CHECK(n <= sizeof(out));
	tw_pattern(out, n, 0);
	CHECK(tw_send(so, out, n) == (long)n);
}

void recv_check(struct socket *so, size_t n)
{
	static uint8 in[1 << 17], want[1 << 17];
	size_t got = 0;
	CHECK(n <= sizeof(in));
	for (int i = 0; i < 100000 && got < n; i++) {
		long k = tw_recv(so, in + got, n - got, 0);
		CHECK(k > 0 || k == -EAGAIN);
		if (k > 0)
			got += k;
		else
			wire_run(10);
	}
	CHECK(got == n);
	tw_pattern(want, n, 0);
	CHECK(memcmp(in, want, n) == 0);
}

// ---- wire_drop_segments: chosen data segments lost once ---------------------

static uint16 drop_port;
static uint32 drop_seq[8];
static int drop_nseq;

static enum wire_verdict wire_drop_once(const struct wire_seg *ws)
{
	if (ws->ws_sport != drop_port || ws->ws_len == 0)
		return WIRE_PASS;
	for (int i = 0; i < drop_nseq; i++) {
		if (ws->ws_seq == drop_seq[i]) {
			drop_seq[i] = drop_seq[--drop_nseq];
			return WIRE_DROP;
		}
	}
	return WIRE_PASS;
}

void wire_drop_segments(struct socket *so, const int *k, int n, uint32 seglen)
{
	CHECK(n <= 8);
	drop_port = port_of(so);
	drop_nseq = 0;
	for (int i = 0; i < n; i++)
		drop_seq[drop_nseq++] = tw_tp(so)->snd_nxt + (uint32)(k[i] - 1) * seglen;
	wire_filter = wire_drop_once;
}
