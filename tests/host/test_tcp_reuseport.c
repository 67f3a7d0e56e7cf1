// Host tests of SO_REUSEPORT for TCP listeners (net/in_localgroup.c,
// net/tcp_usrreq.c): listeners that share one port share its SYNs, each
// SYN going to the member that hash-threshold on its 4-tuple's flow hash
// picks; the switch off gives every connection to one listener; closing a
// member resets what was queued on it (the clients learn it) and leaves
// the other members' queues alone. Over the fake wire (tcp_wire.h).
#include "tests/host/tcp_wire.h"
#include "net/tcp_syncache.h"

#define RP_PORT 5100
#define RP_CONNS 200

static struct socket *rp_listen(uint16 port)
{
	struct socket *so = tw_socket();
	tw_setopt(so, SOL_SOCKET, SO_REUSEPORT, 1);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = hton16(port) };
	CHECK(sobind(so, &sin) == 0);
	CHECK(solisten(so, SOMAXCONN) == 0);
	return so;
}

// The member hash-threshold picks for a client port (listener i joined i-th).
static int rp_expected(uint16 cport, uint16 port, int n)
{
	uint32 lo = IPV4(127, 0, 0, 1);
	return (int)in_localgroup_pick(netisr_hash_ipv4(lo, lo, IPPROTO_TCP, cport, port),
				       (uint32)n);
}

// Accept everything queued on l into acc[*na...]; checks each one went
// to the listener its hash picks (want = index of l, or -1: do not check).
static int rp_drain_port(struct socket *l, struct socket **acc, int *na, int want, int n,
			 uint16 port)
{
	int got = 0;
	struct socket *s;
	while (soaccept(l, true, &s) == 0) {
		struct sockaddr_in sin;
		CHECK(sogetpeername(s, &sin) == 0);
		if (want >= 0)
			CHECK(rp_expected(ntoh16(sin.sin_port), port, n) == want);
		acc[(*na)++] = s;
		got++;
	}
	return got;
}

static int rp_drain(struct socket *l, struct socket **acc, int *na, int want, int n)
{
	return rp_drain_port(l, acc, na, want, n, RP_PORT);
}

static void rp_close_all(struct socket **v, int n)
{
	for (int i = 0; i < n; i++)
		if (v[i] != NULL)
			soclose(v[i]);
}

static void rp_clean(int s0, uint64 m0)
{
	wire_run(2 * 60000 + 1000);   // past any TIME_WAIT
	CHECK(tcpstat.tcps_pcbs == 0);
	CHECK(so_count() == s0);
	CHECK(mbstat.mbs_inuse == m0);
}

// 4 listeners, 200 connections from distinct ports: every one lands on
// the member its hash picks, and every member gets a fair share.
static void tcp_reuseport_listeners_share(void)
{
	static struct socket *c[RP_CONNS], *acc[RP_CONNS];
	wire_setup();
	int s0 = so_count(), na = 0;
	uint64 m0 = mbstat.mbs_inuse;
	struct socket *l[4];
	for (int i = 0; i < 4; i++)
		l[i] = rp_listen(RP_PORT);
	for (int i = 0; i < RP_CONNS; i++) {
		c[i] = tw_connect(RP_PORT, (uint16)(30000 + i));
		if (i % 32 == 31)
			wire_settle();   // fewer SYNs in flight than any backlog
	}
	wire_settle();
	int got[4];
	for (int i = 0; i < 4; i++) {
		got[i] = rp_drain(l[i], acc, &na, i, 4);
		printf("listener %d: %d of %d\n", i, got[i], RP_CONNS);
		CHECK(got[i] > RP_CONNS / 4 / 2 && got[i] < RP_CONNS / 4 * 2);
	}
	CHECK(na == RP_CONNS);
	rp_close_all(c, RP_CONNS);
	rp_close_all(acc, na);
	rp_close_all(l, 4);
	rp_clean(s0, m0);
}

// net.inet.tcp.reuseport_ext=0: the naive rule, the last listener to bind
// gets every connection; flipping it back spreads again at once.
static void tcp_reuseport_ext_off_one_listener(void)
{
	static struct socket *c[2 * 64], *acc[2 * 64];
	wire_setup();
	int s0 = so_count(), na = 0;
	uint64 m0 = mbstat.mbs_inuse;
	struct socket *l[3];
	for (int i = 0; i < 3; i++)
		l[i] = rp_listen(RP_PORT + 1);
	CHECK(host_sysctl_write("net.inet.tcp.reuseport_ext", 0) == 0);
	for (int i = 0; i < 64; i++)
		c[i] = tw_connect(RP_PORT + 1, (uint16)(31000 + i));
	wire_settle();
	CHECK(rp_drain(l[0], acc, &na, -1, 3) == 0);
	CHECK(rp_drain(l[1], acc, &na, -1, 3) == 0);
	CHECK(rp_drain(l[2], acc, &na, -1, 3) == 64);
	CHECK(host_sysctl_write("net.inet.tcp.reuseport_ext", 1) == 0);
	for (int i = 64; i < 128; i++)
		c[i] = tw_connect(RP_PORT + 1, (uint16)(31000 + i));
	wire_settle();
	for (int i = 0; i < 3; i++)
		CHECK(rp_drain(l[i], acc, &na, -1, 3) > 0);
	CHECK(na == 128);
	rp_close_all(c, 128);
	rp_close_all(acc, na);
	rp_close_all(l, 3);
	rp_clean(s0, m0);
}

// Closing one member with connections queued on it: each of them is
// reset (the client sees ECONNRESET, no connection is left half-open),
// the other member's queue is untouched, and new SYNs all go to it.
static void tcp_reuseport_close_resets_its_queue(void)
{
	static struct socket *c[80], *acc[80];
	wire_setup();
	int s0 = so_count(), na = 0;
	uint64 m0 = mbstat.mbs_inuse;
	struct socket *l[2] = { rp_listen(RP_PORT + 2), rp_listen(RP_PORT + 2) };
	int mine[40];
	for (int i = 0; i < 40; i++) {
		c[i] = tw_connect(RP_PORT + 2, (uint16)(32000 + i));
		mine[i] = rp_expected((uint16)(32000 + i), RP_PORT + 2, 2);
	}
	wire_settle();
	for (int i = 0; i < 40; i++)
		CHECK(tw_state(c[i]) == TCPS_ESTABLISHED);
	soclose(l[0]);
	l[0] = NULL;
	wire_settle();
	int reset = 0;
	for (int i = 0; i < 40; i++) {
		if (mine[i] == 0) {
			CHECK(tw_state(c[i]) == TCPS_CLOSED);
			CHECK(so_takeerror(c[i]) == -ECONNRESET);
			reset++;
		} else {
			CHECK(tw_state(c[i]) == TCPS_ESTABLISHED);
		}
	}
	CHECK(reset > 0 && reset < 40);
	CHECK(rp_drain(l[1], acc, &na, -1, 2) == 40 - reset);
	for (int i = 40; i < 80; i++)
		c[i] = tw_connect(RP_PORT + 2, (uint16)(32000 + i));
	wire_settle();
	CHECK(rp_drain(l[1], acc, &na, -1, 1) == 40);
	for (int i = 40; i < 80; i++)
		CHECK(tw_state(c[i]) == TCPS_ESTABLISHED);
	rp_close_all(c, 80);
	rp_close_all(acc, na);
	rp_close_all(l, 2);
	rp_clean(s0, m0);
}

// The third ACK of a handshake whose SYN picked member 0 arrives after
// member 0 closed: the syncache resets it (the SYN's listener is gone,
// as for the connections queued on it) rather than hand the connection
// to member 1, which the client's SYN did not pick.
static uint16 rp_lost_ack_port;
static enum wire_verdict rp_drop_third_ack(const struct wire_seg *ws)
{
	return ws->ws_sport == rp_lost_ack_port && ws->ws_flags == TH_ACK && ws->ws_len == 0
		? WIRE_DROP : WIRE_PASS;
}

static void tcp_reuseport_close_resets_its_handshakes(void)
{
	static struct socket *acc[4];
	wire_setup();
	int s0 = so_count(), na = 0;
	uint64 m0 = mbstat.mbs_inuse;
	uint16 port = RP_PORT + 3, cport = 33000;
	struct socket *l[2] = { rp_listen(port), rp_listen(port) };
	while (rp_expected(cport, port, 2) != 0)
		cport++;
	rp_lost_ack_port = cport;
	wire_filter = rp_drop_third_ack;
	struct socket *c = tw_connect(port, cport);
	wire_settle();
	wire_filter = NULL;
	CHECK(tw_state(c) == TCPS_ESTABLISHED);   // the server end: in the syncache
	uint64 gone0 = syncache_stat.scs_listenergone;
	soclose(l[0]);
	l[0] = NULL;
	CHECK(tw_send(c, "x", 1) == 1);           // its ACK completes the handshake
	wire_settle();
	CHECK(syncache_stat.scs_listenergone == gone0 + 1);
	CHECK(tw_state(c) == TCPS_CLOSED);
	CHECK(so_takeerror(c) == -ECONNRESET);
	CHECK(rp_drain_port(l[1], acc, &na, -1, 1, port) == 0);
	soclose(c);
	rp_close_all(l, 2);
	rp_clean(s0, m0);
}

const struct host_test tcp_reuseport_tests[] = {
	{ tcp_reuseport_listeners_share, "tcp_reuseport_listeners_share" },
	{ tcp_reuseport_ext_off_one_listener, "tcp_reuseport_ext_off_one_listener" },
	{ tcp_reuseport_close_resets_its_queue, "tcp_reuseport_close_resets_its_queue" },
	{ tcp_reuseport_close_resets_its_handshakes, "tcp_reuseport_close_resets_its_handshakes" },
	{ NULL, NULL },
};
