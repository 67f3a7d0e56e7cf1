// Host tests of TCP's connection states and timers over the fake wire
// (tcp_wire.h): TIME_WAIT reuse, RST acceptance (RFC 9293 3.10.7.4 with
// RFC 5961 challenge ACKs), simultaneous open and close, delayed ACK,
// Nagle and TCP_NODELAY, keepalive (and the window its probe carries),
// SO_LINGER 0, close with unread data, and poll readiness on EOF and reset.
#include "tests/host/tcp_wire.h"
#include "net/tcp_syncache.h"
#include "kernel/poll.h"

// RFC 9293 3.6.1: a SYN for a 4-tuple in TIME_WAIT, with a sequence
// number beyond the old connection, reopens it.
static void tcp_time_wait_reuse(void)
{
	BEGIN();
	struct socket *l = tw_listen(5200, 5), *s, *c = tw_connect(5200, 6200);
	wire_settle();
	CHECK(soaccept(l, true, &s) == 0);
	soclose(s);        // the server closes first: it will hold TIME_WAIT
	wire_settle();
	soclose(c);
	wire_settle();
	CHECK(tcpstat.tcps_pcbs == 2);   // the listener and the TIME_WAIT
	wire_run(1000);                  // the clock moves: a larger ISN
	c = tw_connect(5200, 6200);
	wire_settle();
	CHECK(tcpstat.tcps_twreuse == 1);
	CHECK(tw_state(c) == TCPS_ESTABLISHED);
	CHECK(soaccept(l, true, &s) == 0 && tw_state(s) == TCPS_ESTABLISHED);
	soclose(c);
	soclose(s);
	soclose(l);
	clean(s0, m0);
}

// RST acceptance: outside the window ignored; inside but not at RCV.NXT
// answered by a challenge ACK; exactly at RCV.NXT it resets.
static void tcp_rst_in_window(void)
{
	BEGIN();
	struct socket *c, *s;
	tw_pair(5201, &c, &s);
	struct tcpcb *stp = tw_tp(s);
	uint16 cp = port_of(c), sp = port_of(s);
	tw_forge(cp, sp, stp->rcv_nxt + 100000, 0, TH_RST);
	wire_settle();
	CHECK(tw_state(s) == TCPS_ESTABLISHED && tcpstat.tcps_rstignored == 1);
	int acks = tw_count(sp, TH_ACK, false);
	tw_forge(cp, sp, stp->rcv_nxt + 10, 0, TH_RST);
	wire_settle();
	CHECK(tw_state(s) == TCPS_ESTABLISHED && tcpstat.tcps_rstchallenge == 1);
	CHECK(tw_count(sp, TH_ACK, false) == acks + 1);
	CHECK(sopoll(s, POLLIN | POLLOUT) == POLLOUT);
	tw_forge(cp, sp, stp->rcv_nxt, 0, TH_RST);
	wire_settle();
	CHECK(tw_state(s) == TCPS_CLOSED && tcpstat.tcps_rstrcvd == 1);
	int rev = sopoll(s, POLLIN | POLLOUT);
	CHECK((rev & POLLERR) && (rev & POLLHUP) && (rev & POLLIN));
	char b[4];
	CHECK(tw_recv(s, b, sizeof(b), 0) == -ECONNRESET);
	CHECK(tw_send(s, "x", 1) == -EPIPE);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// Simultaneous open (RFC 9293 3.5, Figure 8): both send SYN, both go
// through SYN_RECEIVED to ESTABLISHED; no RST, no listener.
static void tcp_simultaneous_open(void)
{
	BEGIN();
	struct socket *a = tw_connect(6202, 6201), *b = tw_connect(6201, 6202);
	wire_netisrs();   // both SYNs on the wire before either arrives
	wire_settle();
	CHECK(tw_state(a) == TCPS_ESTABLISHED && tw_state(b) == TCPS_ESTABLISHED);
	CHECK(tw_count(6201, TH_SYN, false) == 2 && tw_count(6202, TH_SYN, false) == 2);
	CHECK(tw_count(6201, TH_RST, false) == 0 && tw_count(6202, TH_RST, false) == 0);
	CHECK(wire_log[0].ws_flags == TH_SYN && wire_log[1].ws_flags == TH_SYN);
	CHECK(tw_send(a, "ping", 4) == 4);
	wire_run(300);
	char buf[8];
	CHECK(tw_recv(b, buf, sizeof(buf), 0) == 4 && memcmp(buf, "ping", 4) == 0);
	soclose(a);
	soclose(b);
	clean(s0, m0);
}

// Simultaneous close (RFC 9293 Figure 13): both FIN_WAIT_1 -> CLOSING ->
// TIME_WAIT.
static void tcp_simultaneous_close(void)
{
	BEGIN();
	struct socket *c, *s;
	tw_pair(5203, &c, &s);
	CHECK(soshutdown(c, SHUT_WR) == 0 && soshutdown(s, SHUT_WR) == 0);
	CHECK(tw_state(c) == TCPS_FIN_WAIT_1 && tw_state(s) == TCPS_FIN_WAIT_1);
	struct tcpcb *ctp = tw_tp(c), *stp = tw_tp(s);
	wire_settle();
	CHECK(ctp->t_state == TCPS_TIME_WAIT && stp->t_state == TCPS_TIME_WAIT);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// RFC 1122 4.2.3.2: one segment's ACK waits for the delayed-ACK timer;
// a second full segment gets its ACK at once, one ACK for both.
static void tcp_delayed_ack(void)
{
	BEGIN();
	struct socket *c, *s;
	tw_pair(5204, &c, &s);
	uint16 sp = port_of(s);
	int acks = tw_count(sp, TH_ACK, false);
	CHECK(tw_send(c, "hello", 5) == 5);
	wire_settle();
	CHECK(tw_count(sp, TH_ACK, false) == acks);
	uint64 t0 = net_now_ms();
	wire_run(500);
	CHECK(tw_count(sp, TH_ACK, false) == acks + 1 && tcpstat.tcps_delack == 1);
	CHECK(wire_log[wire_nlog - 1].ws_time - t0 == (uint64)tcp_delack_ms);
	CHECK(tcp_delack_ms <= 200);
	static uint8 big[2 * 1460];
	CHECK(tw_send(c, big, sizeof(big)) == (long)sizeof(big));
	wire_settle();   // no time passes
	CHECK(tw_count(sp, TH_ACK, false) == acks + 2);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// Nagle (RFC 896, RFC 1122 4.2.3.4): small writes wait while data is
// unacknowledged and leave together; TCP_NODELAY sends each at once.
static void tcp_nagle(void)
{
	BEGIN();
	struct socket *c, *s;
	tw_pair(5205, &c, &s);
	uint16 cp = port_of(c);
	CHECK(tw_send(c, "a", 1) == 1);
	CHECK(tw_send(c, "b", 1) == 1);
	CHECK(tw_send(c, "c", 1) == 1);
	wire_settle();
	CHECK(tw_count(cp, 0, true) == 1);   // "a" alone; "bc" held
	wire_run(500);                       // the delayed ACK releases them
	CHECK(tw_count(cp, 0, true) == 2);
	CHECK(wire_log[wire_nlog - 2].ws_len == 2 || wire_log[wire_nlog - 1].ws_len == 2);
	tw_setopt(c, IPPROTO_TCP, TCP_NODELAY, 1);
	CHECK(tw_send(c, "d", 1) == 1);
	CHECK(tw_send(c, "e", 1) == 1);
	wire_settle();
	CHECK(tw_count(cp, 0, true) == 4);
	char buf[8];
	CHECK(tw_recv(s, buf, sizeof(buf), 0) == 5 && memcmp(buf, "abcde", 5) == 0);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

static uint16 k_port;
static enum wire_verdict drop_from_port(const struct wire_seg *ws)
{
	return ws->ws_sport == k_port ? WIRE_DROP : WIRE_PASS;
}

// Keepalive (RFC 1122 4.2.3.6): an idle connection whose peer vanished
// is probed keepcnt times and dropped with ETIMEDOUT.
static void tcp_keepalive_drop(void)
{
	BEGIN();
	CHECK(host_sysctl_write("net.inet.tcp.keepidle_ms", 1000) == 0);
	CHECK(host_sysctl_write("net.inet.tcp.keepintvl_ms", 500) == 0);
	CHECK(host_sysctl_write("net.inet.tcp.keepcnt", 3) == 0);
	struct socket *c, *s;
	tw_pair(5206, &c, &s);
	tw_setopt(c, SOL_SOCKET, SO_KEEPALIVE, 1);
	wire_run(2000);   // the peer answers: nothing happens
	CHECK(tw_state(c) == TCPS_ESTABLISHED && tcpstat.tcps_keepprobe >= 1);
	uint64 probes = tcpstat.tcps_keepprobe;
	k_port = port_of(s);
	wire_filter = drop_from_port;   // the peer vanishes
	wire_run(1000 + 3 * 500 + 100);
	CHECK(tw_state(c) == TCPS_CLOSED);
	CHECK(so_takeerror(c) == -ETIMEDOUT);
	CHECK(tcpstat.tcps_keepprobe - probes == 3 && tcpstat.tcps_keepdrops == 1);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// SO_LINGER with a zero time: close sends a RST, the peer sees ECONNRESET.
static void tcp_linger_zero_rst(void)
{
	BEGIN();
	struct socket *c, *s;
	tw_pair(5207, &c, &s);
	struct linger lg = { 1, 0 };
	struct sockopt sopt = { SOL_SOCKET, SO_LINGER, false, &lg, sizeof(lg) };
	CHECK(sosetopt(c, &sopt) == 0);
	uint16 cp = port_of(c);
	soclose(c);
	wire_settle();
	CHECK(tw_count(cp, TH_RST, false) == 1 && tw_count(cp, TH_FIN, false) == 0);
	CHECK(tw_state(s) == TCPS_CLOSED && so_takeerror(s) == -ECONNRESET);
	soclose(s);
	clean(s0, m0);
}

// RFC 1122 4.2.2.13: closing with received data unread sends a RST.
static void tcp_close_unread_rst(void)
{
	BEGIN();
	struct socket *c, *s;
	tw_pair(5208, &c, &s);
	CHECK(tw_send(c, "unread", 6) == 6);
	wire_run(300);
	uint16 sp = port_of(s);
	soclose(s);
	wire_settle();
	CHECK(tw_count(sp, TH_RST, false) == 1);
	CHECK(tw_state(c) == TCPS_CLOSED && so_takeerror(c) == -ECONNRESET);
	soclose(c);
	clean(s0, m0);
}

// EOF: POLLIN, read 0; the reader's side still writable (half-close).
static void tcp_poll_eof(void)
{
	BEGIN();
	struct socket *c, *s;
	tw_pair(5209, &c, &s);
	CHECK(sopoll(s, POLLIN | POLLOUT) == POLLOUT);
	CHECK(soshutdown(c, SHUT_WR) == 0);
	wire_settle();
	CHECK(sopoll(s, POLLIN | POLLOUT) == (POLLIN | POLLOUT));
	char b[2];
	CHECK(tw_recv(s, b, 1, 0) == 0);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// The pcblist sysctl: one line per pcb in the documented format.
static void tcp_pcblist_format(void)
{
	BEGIN();
	struct socket *c, *s;
	struct socket *l = tw_listen(5210, 5);
	c = tw_connect(5210, 6210);
	wire_settle();
	CHECK(soaccept(l, true, &s) == 0);
	const char *buf = tw_pcblist();
	CHECK(strstr(buf, "0.0.0.0:5210 0.0.0.0:0 LISTEN 0 0 ") != NULL);
	CHECK(strstr(buf, "127.0.0.1:6210 127.0.0.1:5210 ESTABLISHED 0 0 14600 ") != NULL);
	CHECK(strstr(buf, "127.0.0.1:5210 127.0.0.1:6210 ESTABLISHED 0 0 14600 ") != NULL);
	int lines = 0;
	for (const char *p = buf; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	CHECK(lines == 3);
	soclose(c);
	soclose(s);
	soclose(l);
	clean(s0, m0);
}


// RFC 9293 3.7.1: our SYN carries the MSS of the interface (MTU 1500:
// 1460); a peer's MSS option is honoured; without one, 536.
static void tcp_mss_option(void)
{
	BEGIN();
	struct socket *l = tw_listen(5211, 5);
	static const uint16 offer[2] = { 0, 1000 };
	for (int i = 0; i < 2; i++) {
		wire_log_clear();
		uint16 peer = (uint16)(6211 + i);
		tw_forge_syn(peer, 5211, 1000, offer[i]);
		wire_settle();
		// our SYN,ACK offers 1460 (answered by a RST from nobody at 6211+i)
		CHECK(wire_nlog >= 2 && wire_log[1].ws_flags == (TH_SYN | TH_ACK));
		CHECK(wire_log[1].ws_has_mss && wire_log[1].ws_mss == 1460);
	}
	// No child exists before the third ACK: the RSTs end the syncache entries.
	CHECK(syncache_stat.scs_reset == 2 && syncache_stat.scs_count == 0);
	// A real peer with a small MSS: the child sends segments of that size.
	tw_setopt(l, SOL_SOCKET, SO_RCVBUF, 65535);
	struct socket *c = tw_connect(5211, 0), *s;
	wire_settle();
	CHECK(soaccept(l, true, &s) == 0);
	tw_tp(s)->t_maxseg = 536;   // as if the peer's SYN had said 536
	static uint8 big[3000];
	CHECK(tw_send(s, big, sizeof(big)) == (long)sizeof(big));
	wire_run(500);
	CHECK(tw_count(port_of(s), 0, true) == 6);   // 5 x 536 + 320
	for (int i = 0; i < wire_nlog; i++)
		CHECK(wire_log[i].ws_len <= 536);
	soclose(c);
	soclose(s);
	soclose(l);
	clean(s0, m0);
}

// RFC 6528: ISN = M + F(4-tuple, key); M counts 4 us ticks.
static void tcp_isn_rfc6528(void)
{
	BEGIN();
	uint32 lo = IPV4(127, 0, 0, 1);
	tcp_seq a = tcp_new_isn(lo, 1000, lo, 2000);
	tcp_seq b = tcp_new_isn(lo, 1001, lo, 2000);
	host_clock_advance(1000);
	tcp_seq a2 = tcp_new_isn(lo, 1000, lo, 2000);
	CHECK(a2 - a == 250000);           // one second of 4 us ticks
	CHECK(a != b && (uint32)(a - b) > 65536 && (uint32)(b - a) > 65536);
	CHECK(tcp_new_isn(lo, 1000, lo, 2000) == a2);   // a function of the tuple
	clean(s0, m0);
}

// Silly-window avoidance. Receiver (RFC 1122 4.2.3.3): from a full
// buffer, reading a little does not move the window's right edge;
// reading half does, at once. Sender (4.2.3.4): no small segment into a
// small window while data is queued.
static void tcp_sws_receiver(void)
{
	BEGIN();
	struct socket *l = tw_listen(5212, 5);
	tw_setopt(l, SOL_SOCKET, SO_RCVBUF, 8192);
	struct socket *c = tw_connect(5212, 0), *s;
	wire_settle();
	CHECK(soaccept(l, true, &s) == 0);
	soclose(l);
	static uint8 big[20000], in[8192];
	CHECK(tw_send(c, big, sizeof(big)) == (long)sizeof(big));
	wire_run(100);
	// Five full segments fit. The 892 bytes left stay offered (a window
	// is never shrunk), but the sender does not fill them with a small
	// segment (sender SWS: less than half the largest window seen).
	CHECK(s->so_rcv.sb_cc == 5 * 1460 && tw_tp(c)->snd_wnd == 892);
	CHECK(tw_count(port_of(c), 0, true) == 5);
	uint64 upd = tcpstat.tcps_sndwinup;
	CHECK(tw_recv(s, in, 500, 0) == 500);
	wire_settle();
	CHECK(tcpstat.tcps_sndwinup == upd && tw_tp(c)->snd_wnd == 892);
	CHECK(tw_recv(s, in, 4000, 0) == 4000);
	wire_settle();
	CHECK(tcpstat.tcps_sndwinup == upd + 1);
	CHECK(tcpstat.tcps_persisttimeo == 0);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}


static uint32 rng_state = 12345;
static uint32 rnd(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return rng_state >> 8;
}

// 20,000 seeded random segments -- flags, numbers near and far from the
// real ones, windows, options with lying lengths, data -- at a listener
// and at both ends of a connection: nothing crashes or leaks (ASan), and
// afterwards everything closes and is freed.
static void tcp_input_survives_garbage(void)
{
	BEGIN();
	struct socket *l = tw_listen(5213, 4);
	struct socket *c, *s;
	c = tw_connect(5213, 6213);
	wire_settle();
	CHECK(soaccept(l, true, &s) == 0);
	uint16 ports[3] = { 5213, 6213, 6214 };
	for (int i = 0; i < 20000; i++) {
		struct tcpcb *tp = tw_tp(s);
		uint32 base = tp ? tp->rcv_nxt : 0, abase = tp ? tp->snd_una : 0;
		uint8 opts[40];
		int optlen = 4 * (int)(rnd() % 11);
		for (int k = 0; k < optlen; k++)
			opts[k] = (uint8)(rnd() % 4 == 0 ? rnd() % 9 : rnd());
		uint32 r = rnd();
		uint32 seq = (r & 1) ? base + rnd() % 70000 - 5000 : rnd();
		uint32 ack = (r & 2) ? abase + rnd() % 3000 - 1000 : rnd();
		tw_forge_raw(ports[rnd() % 3] == 5213 ? 6213 : 6214, ports[rnd() % 2], seq, ack,
			     (uint8)rnd(), (uint16)rnd(), opts, optlen, (int)(rnd() % 1500));
		if (i % 16 == 0)
			wire_run(rnd() % 50);
	}
	wire_settle();
	soclose(c);
	if (tw_state(s) != TCPS_CLOSED)
		soclose(s);
	else
		soclose(s);
	for (int i = 0; i < 4; i++) {   // children the garbage made (SYNs) get aborted
		struct socket *x;
		if (soaccept(l, true, &x) == 0)
			soclose(x);
	}
	soclose(l);
	// Orphans still retransmitting a FIN nobody acknowledges give up
	// after the retransmission limit (about 6 minutes).
	wire_run(7 * 60000);
	clean(s0, m0);
}


// MSG_PEEK leaves the data; SO_RCVLOWAT holds poll and read back until
// that many bytes are there.
static void tcp_peek_and_rcvlowat(void)
{
	BEGIN();
	struct socket *c, *s;
	tw_pair(5214, &c, &s);
	char buf[200];
	CHECK(tw_send(c, "0123456789", 10) == 10);
	wire_run(300);
	CHECK(tw_recv(s, buf, 4, MSG_PEEK) == 4 && memcmp(buf, "0123", 4) == 0);
	CHECK(s->so_rcv.sb_cc == 10);
	CHECK(tw_recv(s, buf, sizeof(buf), 0) == 10 && memcmp(buf, "0123456789", 10) == 0);
	tw_setopt(s, SOL_SOCKET, SO_RCVLOWAT, 100);
	static char fifty[110];
	CHECK(tw_send(c, fifty, 50) == 50);
	wire_run(300);
	CHECK(s->so_rcv.sb_cc == 50);
	CHECK(!(sopoll(s, POLLIN) & POLLIN));
	CHECK(tw_recv(s, buf, sizeof(buf), 0) == -EAGAIN);
	CHECK(tw_send(c, fifty, 60) == 60);
	wire_run(300);
	CHECK(sopoll(s, POLLIN) & POLLIN);
	CHECK(tw_recv(s, buf, sizeof(buf), 0) == 110);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// RFC 5681 3.1: slow start grows cwnd by one MSS per ACK (at most the
// bytes it acks); above ssthresh, congestion avoidance by about one MSS
// per window.
static void tcp_cwnd_slow_start_then_avoidance(void)
{
	BEGIN();
	struct socket *c, *s;
	tw_pair(5215, &c, &s);
	struct tcpcb *tp = tw_tp(c);
	static uint8 big[60000], in[65536];
	uint32 cw0 = tp->snd_cwnd;
	CHECK(tw_send(c, big, 30000) == 30000);
	wire_run(300);
	CHECK(tw_recv(s, in, sizeof(in), 0) == 30000);
	// Slow start: + min(N, SMSS) per ACK; an ACK every second segment:
	// about 10 ACKs for 30000 bytes.
	CHECK(tp->snd_cwnd >= cw0 + 9 * 1460 && tp->snd_cwnd <= cw0 + 30000);
	tp->snd_ssthresh = 2 * 1460;          // as if a loss had happened
	tp->snd_cwnd = 4 * 1460;
	uint32 cw1 = tp->snd_cwnd;
	for (int i = 0; i < 4; i++) {         // four windows of data, one MSS each
		CHECK(tw_send(c, big, 4 * 1460) == 4 * 1460);
		wire_run(300);
		CHECK(tw_recv(s, in, sizeof(in), 0) > 0);
	}
	CHECK(tp->snd_cwnd > cw1 && tp->snd_cwnd <= cw1 + 4 * 1460);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// A keepalive probe advertises the window as every other segment does:
// never less than what was last advertised (RFC 9293 3.8.6.2.2: the
// window must not shrink). Here the reader stops reading with less than
// one segment of room left: receiver SWS avoidance then offers 0 to new
// segments, but the edge already advertised (rcv_adv) stays, and so must
// the probe's window.
static void tcp_keepalive_probe_keeps_the_window(void)
{
	BEGIN();
	tcp_keepidle_ms = 1000, tcp_keepintvl_ms = 500, tcp_keepcnt = 3;
	struct socket *c, *s;
	tw_pair(5334, &c, &s);
	struct tcpcb *stp = tw_tp(s);
	tw_setopt(s, SOL_SOCKET, SO_KEEPALIVE, 1);
	uint32 room = 1000;   // below one segment and a quarter of the buffer
	static uint8 buf[256 * 1024];
	long fill = (long)stp->t_socket->so_rcv.sb_hiwat - room;
	CHECK(fill > 0 && fill <= (long)sizeof(buf));
	CHECK(tw_send(c, buf, fill) == fill);
	wire_run(500);   // all in, nothing read
	CHECK(stp->t_socket->so_rcv.sb_cc == (uint32)fill);
	uint32 adv = stp->rcv_adv - stp->rcv_nxt;
	CHECK(adv >= room >> stp->rcv_scale << stp->rcv_scale && adv > 0);
	CHECK(tcp_rcvwin(stp) == 0);   // SWS avoidance: no new room offered
	wire_log_clear();
	uint64 probes = tcpstat.tcps_keepprobe;
	wire_run(1500);   // idle: s probes c
	CHECK(tcpstat.tcps_keepprobe > probes);
	int seen = 0;
	for (int i = 0; i < wire_nlog; i++) {
		struct wire_seg *w = &wire_log[i];
		if (w->ws_sport != port_of(s) || w->ws_seq != stp->snd_una - 1)
			continue;   // not a probe of s
		seen++;
		CHECK((uint32)w->ws_win << stp->rcv_scale == adv >> stp->rcv_scale << stp->rcv_scale);
	}
	CHECK(seen >= 1 && stp->rcv_adv - stp->rcv_nxt == adv);
	soclose(c);
	soclose(s);
	wire_settle();
	clean(s0, m0);
}

const struct host_test tcp_state_tests[] = {
	{ tcp_time_wait_reuse, "tcp_time_wait_reuse" },
	{ tcp_rst_in_window, "tcp_rst_in_window" },
	{ tcp_simultaneous_open, "tcp_simultaneous_open" },
	{ tcp_simultaneous_close, "tcp_simultaneous_close" },
	{ tcp_delayed_ack, "tcp_delayed_ack" },
	{ tcp_nagle, "tcp_nagle" },
	{ tcp_keepalive_drop, "tcp_keepalive_drop" },
	{ tcp_keepalive_probe_keeps_the_window, "tcp_keepalive_probe_keeps_the_window" },
	{ tcp_linger_zero_rst, "tcp_linger_zero_rst" },
	{ tcp_close_unread_rst, "tcp_close_unread_rst" },
	{ tcp_poll_eof, "tcp_poll_eof" },
	{ tcp_pcblist_format, "tcp_pcblist_format" },
	{ tcp_mss_option, "tcp_mss_option" },
	{ tcp_isn_rfc6528, "tcp_isn_rfc6528" },
	{ tcp_sws_receiver, "tcp_sws_receiver" },
	{ tcp_input_survives_garbage, "tcp_input_survives_garbage" },
	{ tcp_peek_and_rcvlowat, "tcp_peek_and_rcvlowat" },
	{ tcp_cwnd_slow_start_then_avoidance, "tcp_cwnd_slow_start_then_avoidance" },
	{ NULL, NULL },
};
