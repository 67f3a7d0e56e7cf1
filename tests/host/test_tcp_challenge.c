// Host tests of RFC 5961 (net/tcp_challenge.c) over the fake wire: a
// SYN on an established connection, ACKs outside [SND.UNA - MAX.SND.WND,
// SND.NXT] carrying data, and the two rate limits. (The in-window RST
// is tcp_rst_in_window in test_tcp_state.c.)
#include "tests/host/tcp_wire.h"

static const uint8 nopt[4];   // no options (tw_forge_raw copies 0 bytes)

// The last segment sport sent must be a pure challenge ACK of tp:
// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
static void check_challenge(uint16 sport, struct tcpcb *tp)
{
	struct wire_seg *w = NULL;
	for (int i = wire_nlog - 1; i >= 0 && w == NULL; i--)
		if (wire_log[i].ws_sport == sport)
			w = &wire_log[i];
	CHECK(w != NULL && w->ws_flags == TH_ACK && w->ws_len == 0);
	CHECK(w->ws_seq == tp->snd_nxt && w->ws_ack == tp->rcv_nxt);
}

// RFC 5961 4.2: a SYN on a synchronized connection, in the window or
// not, draws a challenge ACK and changes nothing; the real peer's
// answer (nothing: it is alive) leaves the connection up.
static void tcp_challenge_syn(void)
{
	BEGIN();
	struct socket *c, *s;
	tw_pair(5301, &c, &s);
	struct tcpcb *stp = tw_tp(s);
	uint16 cp = port_of(c), sp = port_of(s);
	int acks = tw_count(sp, TH_ACK, false);
	tw_forge_syn(cp, sp, stp->rcv_nxt + 10, 1460);   // in the window
	wire_settle();
	CHECK(tw_state(s) == TCPS_ESTABLISHED && tw_state(c) == TCPS_ESTABLISHED);
	CHECK(tcpstat.tcps_synchallenge == 1 && tcpstat.tcps_challenge_sent == 1);
	CHECK(tw_count(sp, TH_ACK, false) == acks + 1);
	check_challenge(sp, stp);
	wire_run(1000);   // past the per-connection limit
	tw_forge_syn(cp, sp, stp->rcv_nxt + 0x40000000, 0);   // far outside
	wire_settle();
	CHECK(tw_state(s) == TCPS_ESTABLISHED);
	CHECK(tcpstat.tcps_synchallenge == 2 && tcpstat.tcps_challenge_sent == 2);
	check_challenge(sp, stp);
	CHECK(tw_send(c, "ok", 2) == 2);   // and it still works
	wire_run(300);
	char b[4];
	CHECK(tw_recv(s, b, sizeof(b), 0) == 2 && memcmp(b, "ok", 2) == 0);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// RFC 5961 5.2: data whose ACK lies below SND.UNA - MAX.SND.WND is not
// delivered (a challenge ACK goes back); an old ACK inside that range is
// fine and its data is delivered.
static void tcp_challenge_ack_old(void)
{
	BEGIN();
	struct socket *c, *s;
	tw_pair(5302, &c, &s);
	struct tcpcb *stp = tw_tp(s);
	uint16 cp = port_of(c), sp = port_of(s);
	CHECK(stp->t_maxsndwnd > 0);
	tcp_seq bad = stp->snd_una - stp->t_maxsndwnd - 1;
	tw_forge_raw(cp, sp, stp->rcv_nxt, bad, TH_ACK, 1000, nopt, 0, 10);
	wire_settle();
	char b[32];
	CHECK(tw_recv(s, b, sizeof(b), 0) == -EAGAIN);
	CHECK(tcpstat.tcps_rcvackold == 1 && tcpstat.tcps_challenge_sent == 1);
	check_challenge(sp, stp);
	tcp_seq old = stp->snd_una - stp->t_maxsndwnd;   // the edge: acceptable
	tw_forge_raw(cp, sp, stp->rcv_nxt, old, TH_ACK, 1000, nopt, 0, 10);
	wire_run(300);
	CHECK(tw_recv(s, b, sizeof(b), 0) == 10);
	CHECK(tcpstat.tcps_rcvackold == 1);
	CHECK(tw_state(s) == TCPS_ESTABLISHED);
	// The client never sent those 10 bytes: its stream and ours now
	// disagree; end with a RST rather than a FIN exchange.
	struct linger lg = { 1, 0 };
	struct sockopt sopt = { SOL_SOCKET, SO_LINGER, false, &lg, sizeof(lg) };
	CHECK(sosetopt(s, &sopt) == 0);
	soclose(s);
	wire_settle();
	CHECK(tw_state(c) == TCPS_CLOSED);
	soclose(c);
	clean(s0, m0);
}

// RFC 9293 3.10.7.4 (and RFC 5961 5.2): an ACK of data never sent
// (SEG.ACK > SND.NXT): ACK and drop, the data is not delivered.
static void tcp_challenge_ack_future(void)
{
	BEGIN();
	struct socket *c, *s;
	tw_pair(5303, &c, &s);
	struct tcpcb *stp = tw_tp(s);
	uint16 cp = port_of(c), sp = port_of(s);
	tw_forge_raw(cp, sp, stp->rcv_nxt, stp->snd_max + 1000, TH_ACK, 1000, nopt, 0, 10);
	wire_settle();
	char b[32];
	CHECK(tw_recv(s, b, sizeof(b), 0) == -EAGAIN);
	CHECK(tcpstat.tcps_rcvacktoomuch == 1 && tcpstat.tcps_challenge_sent == 1);
	check_challenge(sp, stp);
	CHECK(tw_state(s) == TCPS_ESTABLISHED);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// The limits: per connection, one challenge per invalid_ratelimit_ms;
// globally, a random budget in [limit/2, 3 limit/2) per second. Every
// challenge is counted as sent or limited.
static void tcp_challenge_limit(void)
{
	BEGIN();
	struct socket *c, *s;
	tw_pair(5304, &c, &s);
	struct tcpcb *stp = tw_tp(s);
	uint16 cp = port_of(c), sp = port_of(s);
	// Per connection (default 500 ms): two RSTs at once draw one ACK.
	tw_forge(cp, sp, stp->rcv_nxt + 5, 0, TH_RST);
	tw_forge(cp, sp, stp->rcv_nxt + 6, 0, TH_RST);
	wire_settle();
	CHECK(tcpstat.tcps_challenge_sent == 1 && tcpstat.tcps_challenge_limited == 1);
	// Global: limit 4 -> a budget of 2..5 per second.
	CHECK(host_sysctl_write("net.inet.tcp.challenge_ack_limit", 0) == -EINVAL);
	CHECK(host_sysctl_write("net.inet.tcp.challenge_ack_limit", 4) == 0);
	CHECK(host_sysctl_write("net.inet.tcp.invalid_ratelimit_ms", 0) == 0);
	wire_run(1000 - net_now_ms() % 1000);   // the start of a second
	int acks = tw_count(sp, TH_ACK, false);
	uint64 sent0 = tcpstat.tcps_challenge_sent, lim0 = tcpstat.tcps_challenge_limited;
	for (int i = 0; i < 20; i++) {
		tw_forge(cp, sp, stp->rcv_nxt + 10 + i, 0, TH_RST);
		wire_settle();
	}
	uint64 sent = tcpstat.tcps_challenge_sent - sent0;
	uint64 lim = tcpstat.tcps_challenge_limited - lim0;
	printf("challenge budget this second: %lu of limit 4\n", (unsigned long)sent);
	CHECK(sent >= 2 && sent <= 5 && sent + lim == 20);
	CHECK(tw_count(sp, TH_ACK, false) == acks + (int)sent);
	CHECK(tcpstat.tcps_rstchallenge == 22 && tw_state(s) == TCPS_ESTABLISHED);
	wire_run(1000);   // a new second, a new budget
	tw_forge(cp, sp, stp->rcv_nxt + 50, 0, TH_RST);
	wire_settle();
	CHECK(tcpstat.tcps_challenge_sent == 1 + sent + 1);
	// The smallest limit still allows one a second ([1/2, 3/2) is not 0).
	CHECK(host_sysctl_write("net.inet.tcp.challenge_ack_limit", 1) == 0);
	wire_run(1000 - net_now_ms() % 1000);
	sent0 = tcpstat.tcps_challenge_sent;
	for (int i = 0; i < 3; i++) {
		tw_forge(cp, sp, stp->rcv_nxt + 60 + i, 0, TH_RST);
		wire_settle();
	}
	CHECK(tcpstat.tcps_challenge_sent - sent0 == 1);
	CHECK(host_sysctl_write("net.inet.tcp.challenge_ack_limit", 1000) == 0);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

const struct host_test tcp_challenge_tests[] = {
	{ tcp_challenge_syn, "tcp_challenge_syn" },
	{ tcp_challenge_ack_old, "tcp_challenge_ack_old" },
	{ tcp_challenge_ack_future, "tcp_challenge_ack_future" },
	{ tcp_challenge_limit, "tcp_challenge_limit" },
	{ NULL, NULL },
};
