// Host tests of TCP (net/tcp_*.c) over the fake wire (tcp_wire.h): two
// endpoints on 127.0.0.1, every segment visible to a filter that can
// drop or reorder it, virtual time. Each test is named after the
// behaviour it checks, and ends by checking that every tcpcb, socket and
// mbuf is gone again.
#include "tests/host/tcp_wire.h"
#include "net/tcp_syncache.h"

// Nothing left behind: tcpcbs, sockets, mbufs.
static void tw_check_clean(int sockets0, uint64 mbufs0)
{
	wire_run(2 * 60000 + 1000);   // past any TIME_WAIT
	CHECK(tcpstat.tcps_pcbs == 0);
	CHECK(so_count() == sockets0);
	CHECK(mbstat.mbs_inuse == mbufs0);
}

static void tcp_three_way_handshake(void)
{
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	struct socket *l = tw_listen(5000, 5);
	struct socket *c = tw_connect(5000, 0);
	CHECK(tw_state(c) == TCPS_SYN_SENT || wire_nlog == 0);
	wire_settle();
	// SYN, SYN+ACK, ACK -- and nothing else.
	CHECK(wire_nlog == 3);
	CHECK(wire_log[0].ws_flags == TH_SYN && wire_log[0].ws_dport == 5000);
	CHECK(wire_log[0].ws_has_mss && wire_log[0].ws_mss == 1460);
	CHECK(wire_log[1].ws_flags == (TH_SYN | TH_ACK));
	CHECK(wire_log[1].ws_ack == wire_log[0].ws_seq + 1);
	CHECK(wire_log[1].ws_has_mss && wire_log[1].ws_mss == 1460);
	CHECK(wire_log[2].ws_flags == TH_ACK);
	CHECK(wire_log[2].ws_seq == wire_log[0].ws_seq + 1);
	CHECK(wire_log[2].ws_ack == wire_log[1].ws_seq + 1);
	CHECK(tw_state(c) == TCPS_ESTABLISHED);
	CHECK(__atomic_load_n(&c->so_state, __ATOMIC_RELAXED) & SS_ISCONNECTED);
	struct socket *s;
	CHECK(soaccept(l, true, &s) == 0);
	CHECK(tw_state(s) == TCPS_ESTABLISHED);
	CHECK(soaccept(l, true, &s) == -EAGAIN || s != NULL);
	// Each connection is owned by the netisr of its 4-tuple.
	struct inpcb *ci = tw_tp(c)->t_inp;
	CHECK(tw_tp(c)->t_cpu == tcp_tuplecpu(ci->inp_laddr, ci->inp_lport, ci->inp_faddr,
					      ci->inp_fport));
	CHECK(tw_tp(s)->t_cpu == tw_tp(c)->t_cpu);
	CHECK(tw_tp(c)->t_maxseg == 1460);
	struct sockaddr_in sin;
	CHECK(sogetpeername(s, &sin) == 0 && ntoh16(sin.sin_port) == ci->inp_lport);
	soclose(c);
	soclose(s);
	soclose(l);
	tw_check_clean(s0, m0);
}

// Data both ways, in 1460-byte segments, intact.
static void tcp_data_both_ways(void)
{
	enum { N = 50000 };
	static uint8 out[N], in[N];
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	struct socket *c, *s;
	tw_pair(5001, &c, &s);
	for (int dir = 0; dir < 2; dir++) {
		struct socket *tx = dir ? s : c, *rx = dir ? c : s;
		tw_pattern(out, N, dir * 1000);
		size_t sent = 0, got = 0;
		while (got < N) {
			if (sent < N) {
				long k = tw_send(tx, out + sent, N - sent);
				CHECK(k > 0 || k == -EAGAIN);
				if (k > 0)
					sent += k;
			}
			wire_run(10);
			long k = tw_recv(rx, in + got, N - got, 0);
			CHECK(k > 0 || k == -EAGAIN);
			if (k > 0)
				got += k;
		}
		CHECK(memcmp(in, out, N) == 0);
	}
	for (int i = 0; i < wire_nlog; i++)
		CHECK(wire_log[i].ws_len <= 1460);
	soclose(c);
	soclose(s);
	tw_check_clean(s0, m0);
}

// Active close: FIN_WAIT_1 -> FIN_WAIT_2 -> TIME_WAIT (2 MSL) -> gone;
// passive: CLOSE_WAIT -> LAST_ACK -> CLOSED. Reader sees EOF.
static void tcp_fin_close(void)
{
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	CHECK(host_sysctl_write("net.inet.tcp.msl_ms", 1000) == 0);
	struct socket *c, *s;
	tw_pair(5002, &c, &s);
	struct tcpcb *ctp = tw_tp(c);
	CHECK(soshutdown(c, SHUT_WR) == 0);
	CHECK(ctp->t_state == TCPS_FIN_WAIT_1);
	wire_settle();
	CHECK(ctp->t_state == TCPS_FIN_WAIT_2);
	CHECK(tw_state(s) == TCPS_CLOSE_WAIT);
	char b[8];
	CHECK(tw_recv(s, b, sizeof(b), 0) == 0);   // EOF
	soclose(s);
	wire_settle();
	CHECK(wire_log[wire_nlog - 2].ws_flags & TH_FIN);
	CHECK(ctp->t_state == TCPS_TIME_WAIT);
	CHECK(tw_recv(c, b, sizeof(b), 0) == 0);
	soclose(c);
	wire_run(1500);
	CHECK(tcpstat.tcps_pcbs == 1);   // TIME_WAIT lasts 2 MSL
	wire_run(600);
	CHECK(tcpstat.tcps_pcbs == 0);
	tw_check_clean(s0, m0);
}

// A SYN to a port nobody listens on is answered by RST; connect fails
// with ECONNREFUSED.
static void tcp_rst_for_closed_port(void)
{
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	struct socket *c = tw_connect(5999, 0);
	wire_settle();
	CHECK(wire_nlog == 2);
	CHECK(wire_log[1].ws_flags == (TH_RST | TH_ACK));
	CHECK(wire_log[1].ws_ack == wire_log[0].ws_seq + 1);
	CHECK(tw_state(c) == TCPS_CLOSED);
	CHECK(so_takeerror(c) == -ECONNREFUSED);
	soclose(c);
	tw_check_clean(s0, m0);
}

// Half-close: after shutdown(SHUT_WR) the closing side keeps reading
// what the other side still sends.
static void tcp_half_close(void)
{
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	struct socket *c, *s;
	tw_pair(5003, &c, &s);
	CHECK(soshutdown(c, SHUT_WR) == 0);
	wire_settle();
	char buf[100];
	CHECK(tw_recv(s, buf, sizeof(buf), 0) == 0);   // EOF at the server
	CHECK(tw_send(s, "still talking", 13) == 13);
	wire_run(300);
	CHECK(tw_recv(c, buf, sizeof(buf), 0) == 13 && memcmp(buf, "still talking", 13) == 0);
	CHECK(tw_send(c, "x", 1) == -EPIPE);
	soclose(s);
	wire_settle();
	CHECK(tw_recv(c, buf, sizeof(buf), 0) == 0);
	soclose(c);
	tw_check_clean(s0, m0);
}

// listen(backlog 2) with the syncache: three handshakes complete on the
// clients' side, two connections wait for accept, the third ACK is
// dropped (the syncache keeps its entry); once accept makes room, the
// SYN,ACK retransmission draws a new ACK and the third gets in. A SYN
// that arrives while the accept queue is full is not even answered.
static void tcp_listen_backlog(void)
{
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	struct socket *l = tw_listen(5004, 2);
	struct socket *c[4];
	for (int i = 0; i < 3; i++)
		c[i] = tw_connect(5004, 0);
	wire_settle();
	for (int i = 0; i < 3; i++)
		CHECK(tw_state(c[i]) == TCPS_ESTABLISHED);
	CHECK(tcpstat.tcps_listendrop == 1 && syncache_stat.scs_listendrop == 1);
	CHECK(syncache_stat.scs_count == 1);
	c[3] = tw_connect(5004, 0);   // the queue is full: no SYN,ACK
	wire_settle();
	CHECK(tw_state(c[3]) == TCPS_SYN_SENT && tcpstat.tcps_listendrop == 2);
	struct socket *a[4];
	CHECK(soaccept(l, true, &a[0]) == 0);
	CHECK(soaccept(l, true, &a[1]) == 0);
	CHECK(soaccept(l, true, &a[2]) == -EAGAIN);
	wire_run(1500);   // SYN,ACK retransmission (1 s) and SYN retransmission (1 s)
	CHECK(soaccept(l, true, &a[2]) == 0);
	CHECK(soaccept(l, true, &a[3]) == 0);
	CHECK(tw_state(c[3]) == TCPS_ESTABLISHED);
	CHECK(syncache_stat.scs_count == 0 && syncache_stat.scs_completed == 4);
	for (int i = 0; i < 4; i++) {
		soclose(c[i]);
		soclose(a[i]);
	}
	soclose(l);
	tw_check_clean(s0, m0);
}

// Closing a listener aborts the connections nobody accepted (RST).
static void tcp_listener_close_aborts_queue(void)
{
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	struct socket *l = tw_listen(5005, 5);
	struct socket *c = tw_connect(5005, 0);
	wire_settle();
	CHECK(tw_state(c) == TCPS_ESTABLISHED);
	soclose(l);
	wire_settle();
	CHECK(tw_state(c) == TCPS_CLOSED);
	CHECK(so_takeerror(c) == -ECONNRESET);
	soclose(c);
	tw_check_clean(s0, m0);
}

const struct host_test tcp_tests[] = {
	{ tcp_three_way_handshake, "tcp_three_way_handshake" },
	{ tcp_data_both_ways, "tcp_data_both_ways" },
	{ tcp_fin_close, "tcp_fin_close" },
	{ tcp_rst_for_closed_port, "tcp_rst_for_closed_port" },
	{ tcp_half_close, "tcp_half_close" },
	{ tcp_listen_backlog, "tcp_listen_backlog" },
	{ tcp_listener_close_aborts_queue, "tcp_listener_close_aborts_queue" },
	{ NULL, NULL },
};
