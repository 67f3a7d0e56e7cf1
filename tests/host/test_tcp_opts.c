// Host tests of RFC 7323 (net/tcp_options.c) over the fake wire: window
// scale negotiation with both and with one side offering it, scaled
// windows carrying more than 64 KB, the TS.Recent echo rules, PAWS, RTT
// samples from TSecr, and the one-step parse of the Appendix A layout.
// Some tests use a forged peer: segments written by the test
// (tw_forge_raw) from a port nobody listens on, whose answers the filter
// drops (they stay in wire_log, where the test reads them).
#include "tests/host/tcp_wire.h"
#include "net/tcp_sack.h"

// Every test here has RFC 7323 on.
#define BEGIN_RFC7323() \
	BEGIN();        \
	tw_rfc7323(true)

static bool has(const struct wire_seg *ws, uint32 tof)
{
	return (ws->ws_opt.to_flags & tof) != 0;
}

// ---- the forged peer ---------------------------------------------------------------

static uint16 fp_port;   // the forged peer's port: what goes there is dropped

static enum wire_verdict drop_to_peer(const struct wire_seg *ws)
{
	return ws->ws_dport == fp_port ? WIRE_DROP : WIRE_PASS;
}

// The last segment our stack sent to the forged peer.
static const struct wire_seg *to_peer(void)
{
	for (int i = wire_nlog - 1; i >= 0; i--)
		if (wire_log[i].ws_dport == fp_port)
			return &wire_log[i];
	CHECK(!"nothing sent to the forged peer");
	return NULL;
}

static int opt_ts(uint8 *o, uint32 val, uint32 ecr)
{
	o[0] = TCPOPT_NOP, o[1] = TCPOPT_NOP, o[2] = TCPOPT_TIMESTAMP, o[3] = TCPOLEN_TIMESTAMP;
	o[4] = val >> 24, o[5] = val >> 16, o[6] = val >> 8, o[7] = val;
	o[8] = ecr >> 24, o[9] = ecr >> 16, o[10] = ecr >> 8, o[11] = ecr;
	return TCPOLEN_TSTAMP_APPA;
}

struct fpeer {
	uint16 lport;        // our listener
	uint32 seq;          // the peer's next sequence number
	uint32 ack;          // what it acknowledges (our next)
	struct socket *so;   // our accepted socket
};

// A segment from the forged peer with timestamps (val, ecr) and len data
// bytes at seq (window 1000, scaled by whatever the SYNs agreed).
static void fp_send(struct fpeer *p, uint32 seq, int len, uint32 val, uint32 ecr)
{
	uint8 o[12];
	tw_forge_raw(fp_port, p->lport, seq, p->ack, TH_ACK, 1000, o, opt_ts(o, val, ecr), len);
	wire_settle();
}

// Connect the forged peer to a new listener on lport: its SYN carries
// MSS 1460, timestamps (TSval 1000) and, if wscale >= 0, window scale.
static void fp_open(struct fpeer *p, uint16 lport, int wscale, int rcvbuf)
{
	uint8 o[24];
	fp_port = (uint16)(lport + 1000);
	wire_filter = drop_to_peer;
	struct socket *l = tw_listen(lport, 5);
	if (rcvbuf)
		tw_setopt(l, SOL_SOCKET, SO_RCVBUF, rcvbuf);
	int n = 0;
	o[n++] = TCPOPT_MSS, o[n++] = 4, o[n++] = 1460 >> 8, o[n++] = 1460 & 0xff;
	n += opt_ts(o + n, 1000, 0);
	if (wscale >= 0)
		o[n++] = TCPOPT_NOP, o[n++] = TCPOPT_WSCALE, o[n++] = 3, o[n++] = (uint8)wscale;
	p->lport = lport;
	p->seq = 70000;
	tw_forge_raw(fp_port, lport, p->seq, 0, TH_SYN, 65535, o, n, 0);
	wire_settle();
	const struct wire_seg *sa = to_peer();
	CHECK(sa->ws_flags == (TH_SYN | TH_ACK) && sa->ws_ack == p->seq + 1);
	// RFC 7323 3.2: the SYN,ACK echoes the SYN's TSval.
	CHECK(has(sa, TOF_TS) && sa->ws_opt.to_tsecr == 1000);
	p->seq++;
	p->ack = sa->ws_seq + 1;
	fp_send(p, p->seq, 0, 1001, sa->ws_opt.to_tsval);
	CHECK(soaccept(l, true, &p->so) == 0);
	CHECK(tw_state(p->so) == TCPS_ESTABLISHED);
	soclose(l);
}

// Close the forged connection: our side aborts (a RST the filter drops).
static void fp_close(struct fpeer *p)
{
	struct linger lg = { 1, 0 };
	struct sockopt sopt = { SOL_SOCKET, SO_LINGER, false, &lg, sizeof(lg) };
	CHECK(sosetopt(p->so, &sopt) == 0);
	soclose(p->so);
	wire_settle();
}

// ---- window scale ------------------------------------------------------------------

// RFC 7323 2.2, 2.3: both SYNs carry a shift chosen from SO_RCVBUF (the
// smallest that fits the buffer in 16 bits), SYN windows are not
// scaled, every later window is; the receiver takes far more than 64 KB
// in flight without reading.
static void tcp_wscale_negotiated_both_sides(void)
{
	enum { N = 600000 };
	static uint8 out[N], in[N];
	BEGIN_RFC7323();
	struct socket *l = tw_listen(5300, 5), *s;
	tw_setopt(l, SOL_SOCKET, SO_RCVBUF, 1 << 20);   // 65535 << 5 >= 1 MB: shift 5
	struct socket *c = tw_socket();
	tw_setopt(c, SOL_SOCKET, SO_RCVBUF, 200000);    // 65535 << 2 >= 200000: shift 2
	tw_setopt(c, SOL_SOCKET, SO_SNDBUF, N);
	tw_connect_so(c, 5300);
	wire_settle();
	CHECK(soaccept(l, true, &s) == 0);
	soclose(l);
	const struct wire_seg *syn = &wire_log[0], *sa = &wire_log[1], *ack = &wire_log[2];
	CHECK(syn->ws_flags == TH_SYN && has(syn, TOF_WSCALE) && syn->ws_opt.to_wscale == 2);
	CHECK(has(syn, TOF_TS) && syn->ws_opt.to_tsecr == 0 && syn->ws_mss == 1460);
	CHECK(sa->ws_flags == (TH_SYN | TH_ACK) && has(sa, TOF_WSCALE) && sa->ws_opt.to_wscale == 5);
	CHECK(has(sa, TOF_TS) && sa->ws_opt.to_tsecr == syn->ws_opt.to_tsval);
	CHECK(syn->ws_win == 65535 && sa->ws_win == 65535);   // SYN windows: not scaled
	CHECK(ack->ws_win == 200000 >> 2);                   // the first scaled window
	struct tcpcb *ct = tw_tp(c), *st = tw_tp(s);
	CHECK(ct->rcv_scale == 2 && ct->snd_scale == 5 && st->rcv_scale == 5 && st->snd_scale == 2);
	CHECK(st->snd_wnd == 200000);
	tw_pattern(out, N, 0);
	CHECK(tw_send(c, out, N) == N);
	wire_run(1000);
	// Nobody read: all of it sits in the server's buffer (> 9 x 64 KB),
	// and the last window the server sent reads back as the space left.
	CHECK(s->so_rcv.sb_cc == N);
	const struct wire_seg *last = NULL;
	for (int i = 0; i < wire_nlog; i++)
		if (wire_log[i].ws_sport == 5300)
			last = &wire_log[i];
	CHECK(last != NULL && ((uint32)last->ws_win << 5) == ct->snd_wnd);
	CHECK(ct->snd_wnd <= (1u << 20) - N && ct->snd_wnd + 32 > (1u << 20) - N);
	CHECK(tw_recv(s, in, N, MSG_WAITALL) == N && memcmp(in, out, N) == 0);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// RFC 7323 2.2: "both sides MUST send Window Scale options in their
// <SYN> segments to enable window scaling in either direction". A SYN
// without one gets a SYN,ACK without one; a SYN,ACK without one turns
// scaling off at the side that offered it.
static void tcp_wscale_one_side_only(void)
{
	BEGIN_RFC7323();
	struct fpeer p;
	fp_open(&p, 5301, -1, 1 << 20);   // the peer's SYN has no window scale
	const struct wire_seg *sa = &wire_log[1];
	CHECK(sa->ws_flags == (TH_SYN | TH_ACK) && !has(sa, TOF_WSCALE) && has(sa, TOF_TS));
	struct tcpcb *tp = tw_tp(p.so);
	CHECK(tp->rcv_scale == 0 && tp->snd_scale == 0);
	fp_send(&p, p.seq, 100, 1002, 0);   // a segment: its (delayed) ACK shows our window
	wire_run(500);
	CHECK(to_peer()->ws_ack == p.seq + 100 && to_peer()->ws_win == 65535);
	CHECK(tp->snd_wnd == 1000);   // the peer's window, unscaled
	fp_close(&p);
	wire_filter = NULL;

	// We offer it, the listener does not (its knob is off when our SYN arrives).
	struct socket *l = tw_listen(5302, 5), *s;
	struct socket *c = tw_connect(5302, 0);
	CHECK(host_sysctl_write("net.inet.tcp.wscale", 0) == 0);
	int first = wire_nlog;
	wire_settle();
	CHECK(soaccept(l, true, &s) == 0);
	soclose(l);
	const struct wire_seg *syn = &wire_log[first], *sa2 = syn + 1, *ack = syn + 2;
	CHECK(syn->ws_flags == TH_SYN && has(syn, TOF_WSCALE));      // our SYN offered it
	CHECK(sa2->ws_flags == (TH_SYN | TH_ACK) && !has(sa2, TOF_WSCALE));   // the answer did not
	CHECK(tw_tp(c)->rcv_scale == 0 && tw_tp(c)->snd_scale == 0);
	CHECK(ack->ws_flags == TH_ACK && ack->ws_win == 65535);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// ---- timestamps --------------------------------------------------------------------

// RFC 7323 4.3: TS.Recent takes a segment's TSval only if the segment
// covers Last.ACK.sent. Two segments under one delayed ACK: the ACK
// echoes the first (case A). A segment after a hole does not move
// TS.Recent; the one that fills the hole does (case C). Every segment
// we send carries timestamps (3.2).
static void tcp_ts_echo_rules(void)
{
	BEGIN_RFC7323();
	struct fpeer p;
	fp_open(&p, 5303, 7, 0);
	struct tcpcb *tp = tw_tp(p.so);
	CHECK(tp->snd_scale == 7 && tp->ts_recent == 1001);
	uint32 x = p.seq;
	fp_send(&p, x, 100, 2000, 0);
	fp_send(&p, x + 100, 100, 3000, 0);   // the second segment: ACK now
	const struct wire_seg *a = to_peer();
	CHECK(a->ws_ack == x + 200 && has(a, TOF_TS) && a->ws_opt.to_tsecr == 2000);
	CHECK(tp->snd_wnd == 1000 << 7);
	fp_send(&p, x + 300, 100, 4000, 0);   // after a hole of 100: a duplicate ACK
	a = to_peer();
	CHECK(a->ws_ack == x + 200 && a->ws_opt.to_tsecr == 2000);
	fp_send(&p, x + 200, 100, 5000, 0);   // fills the hole
	a = to_peer();
	CHECK(a->ws_ack == x + 400 && a->ws_opt.to_tsecr == 5000);
	for (int i = 0; i < wire_nlog; i++)
		CHECK(wire_log[i].ws_sport != 5303 || has(&wire_log[i], TOF_TS));
	fp_close(&p);
	clean(s0, m0);
}

// RFC 7323 5.3 R1: a segment whose TSval is older than TS.Recent is
// dropped (and answered by an ACK), even with in-window data: an old
// duplicate from a previous wrap of the sequence space. 3.2: a segment
// without timestamps is dropped. 5.5: after 24 days of idleness the old
// TS.Recent no longer counts.
static void tcp_paws_drops_old_duplicate(void)
{
	BEGIN_RFC7323();
	struct fpeer p;
	fp_open(&p, 5304, 7, 0);
	struct tcpcb *tp = tw_tp(p.so);
	uint32 x = p.seq;
	fp_send(&p, x, 100, 5000, 0);
	CHECK(tp->rcv_nxt == x + 100 && tp->ts_recent == 5000);
	int n = wire_nlog;
	fp_send(&p, x + 100, 100, 4000, 0);   // new data, old timestamp
	CHECK(tp->rcv_nxt == x + 100 && tcpstat.tcps_pawsdrop == 1);
	CHECK(wire_nlog > n && to_peer()->ws_ack == x + 100 && to_peer()->ws_opt.to_tsecr == 5000);
	fp_send(&p, x, 100, 100, 0);          // an old duplicate
	CHECK(tcpstat.tcps_pawsdrop == 2 && tp->ts_recent == 5000);
	uint8 none[4] = { 0 };
	tw_forge_raw(fp_port, p.lport, x + 100, p.ack, TH_ACK, 1000, none, 0, 100);
	wire_settle();                        // no timestamps at all
	CHECK(tp->rcv_nxt == x + 100 && tcpstat.tcps_tsmissing == 1);
	host_clock_advance(25ull * 24 * 3600 * 1000);
	fp_send(&p, x + 100, 100, 4000, 0);   // 25 days later: taken
	CHECK(tp->rcv_nxt == x + 200 && tp->ts_recent == 4000 && tcpstat.tcps_pawsdrop == 2);
	char buf[200];
	CHECK(tw_recv(p.so, buf, sizeof(buf), 0) == 200);
	fp_close(&p);
	clean(s0, m0);
}

// RFC 7323 4.1: RTT = now - TSecr on an ACK of new data, fed to the RFC
// 6298 estimator -- also for a retransmitted segment, which Karn's rule
// would not time.
static void tcp_ts_rtt_from_tsecr(void)
{
	BEGIN_RFC7323();
	struct fpeer p;
	fp_open(&p, 5305, 7, 0);
	struct tcpcb *tp = tw_tp(p.so);
	// Forget the handshake's sample (1 ms: the fake wire has no delay),
	// so the figures below are RFC 6298's first-sample case (2.2).
	tp->t_srtt = tp->t_rttvar = 0;
	tp->t_rto = 1000;
	uint64 samples = tcpstat.tcps_rttupdated, ts0 = tcpstat.tcps_tsrtt;
	char data[100] = { 0 };
	CHECK(tw_send(p.so, data, 100) == 100);
	wire_settle();
	const struct wire_seg *d = to_peer();
	CHECK(d->ws_len == 100 && has(d, TOF_TS));
	uint32 t1 = d->ws_opt.to_tsval;
	wire_run(300);
	p.ack += 100;
	fp_send(&p, p.seq, 0, 2000, t1);
	CHECK(tcpstat.tcps_tsrtt == ts0 + 1 && tcpstat.tcps_rttupdated == samples + 1);
	CHECK((tp->t_srtt >> 3) == 300);
	// The next segment is lost; the retransmission is timed by its echo.
	CHECK(tw_send(p.so, data, 100) == 100);
	wire_settle();
	uint32 seq = to_peer()->ws_seq;
	int sent = 0;
	for (int i = 0; i < 100 && sent < 2; i++) {
		wire_run(10);
		sent = 0;
		for (int j = 0; j < wire_nlog; j++)
			sent += wire_log[j].ws_dport == fp_port && wire_log[j].ws_seq == seq &&
				wire_log[j].ws_len == 100;
	}
	CHECK(sent == 2 && tcpstat.tcps_rexmttimeo == 1);
	uint32 t3 = to_peer()->ws_opt.to_tsval;
	wire_run(40);
	p.ack += 100;
	fp_send(&p, p.seq, 0, 3000, t3);
	CHECK(tcpstat.tcps_tsrtt == ts0 + 2);
	// SRTT <- 7/8 300 + 1/8 40 (RFC 6298 2.3), the clock's 1 ms apart.
	CHECK((tp->t_srtt >> 3) >= 266 && (tp->t_srtt >> 3) <= 268);
	fp_close(&p);
	clean(s0, m0);
}

// Receive autotuning (net/tcp_rcvbuf.c) over a path of 10 ms each way,
// the sender's buffer kept full: a reader that drains its socket gets a
// larger buffer; a socket nobody reads keeps the one it had (I3), even
// when the sender fills its whole window in one round trip.
static void tcp_rcvbuf_autotune_needs_a_reader(void)
{
	BEGIN_RFC7323();
	static uint8 buf[32 * 1024];
	for (int reads = 1; reads >= 0; reads--) {
		struct socket *cli, *srv;
		tw_pair((uint16)(5310 + reads), &cli, &srv);
		wire_delay_ms = 10;   // after the handshake: tw_pair runs no clock
		// A sender that fills the whole window in one round trip, as a
		// hostile one may (no slow start to hold it back).
		tw_tp(cli)->snd_cwnd = 1u << 24;
		uint32 hiwat0 = srv->so_rcv.sb_hiwat;
		uint64 grow0 = tcpstat.tcps_rcvbufgrow;
		for (int i = 0; i < 300; i++) {
			while (tw_send(cli, buf, sizeof(buf)) > 0)
				;
			wire_run(5);
			while (reads && tw_recv(srv, buf, sizeof(buf), 0) > 0)
				;
		}
		if (reads)
			CHECK(srv->so_rcv.sb_hiwat > hiwat0 && tcpstat.tcps_rcvbufgrow > grow0);
		else
			CHECK(srv->so_rcv.sb_hiwat == hiwat0 && tcpstat.tcps_rcvbufgrow == grow0);
		wire_delay_ms = 0;
		soclose(cli);
		soclose(srv);
		wire_run(100);
	}
	clean(s0, m0);
}

// Drop the first transmission of every 25th data segment of f_port
// (from the 4th): a hole in nearly every window (a retransmission has
// a sequence number not above the last one dropped, and passes).
static uint16 lf_port;
static tcp_seq lf_base, lf_last;
static bool lf_any;

static enum wire_verdict lossy_filter(const struct wire_seg *ws)
{
	if (ws->ws_sport != lf_port || ws->ws_len == 0)
		return WIRE_PASS;
	uint32 k = (ws->ws_seq - lf_base) / ws->ws_len;
	if (k % 25 != 3 || (lf_any && !SEQ_GT(ws->ws_seq, lf_last)))
		return WIRE_PASS;
	lf_last = ws->ws_seq;
	lf_any = true;
	return WIRE_DROP;
}

// Autotuning counts the bytes a filled hole delivers (tcp_reass), not
// only those that arrive in order: with a loss in nearly every window,
// most of each round's data reaches the reader through the reassembly
// queue, and a buffer sized by the in-order segments alone would never
// grow -- a lossy path would keep the smallest window exactly where
// recovery needs room for the data queued behind a hole.
static void tcp_rcvbuf_autotune_counts_reassembled_data(void)
{
	BEGIN_RFC7323();
	static uint8 buf[32 * 1024];
	struct socket *cli, *srv;
	tw_pair(5315, &cli, &srv);
	wire_delay_ms = 10;   // after the handshake: tw_pair runs no clock
	lf_port = port_of(cli);
	lf_base = tw_tp(cli)->snd_nxt;
	lf_any = false;
	wire_filter = lossy_filter;
	uint32 hiwat0 = srv->so_rcv.sb_hiwat;
	for (int i = 0; i < 300; i++) {
		tw_tp(cli)->snd_cwnd = 1u << 24;   // keep the window full despite the losses
		while (tw_send(cli, buf, sizeof(buf)) > 0)
			;
		wire_run(5);
		while (tw_recv(srv, buf, sizeof(buf), 0) > 0)
			;
	}
	CHECK(tcpstat.tcps_rcvoopack > 100);
	CHECK(srv->so_rcv.sb_hiwat > hiwat0 && tcpstat.tcps_rcvbufgrow > 0);
	wire_filter = NULL;
	wire_delay_ms = 0;
	soclose(cli);
	soclose(srv);
	wire_run(100);
	clean(s0, m0);
}

// tcp_output decides with tcp_optlen's length and writes the options
// only for a segment that goes (tcp_output_complete): the two must
// agree for every segment kind -- a plain ACK, a SYN, a RST, and ACKs
// that carry SACK blocks (a hole at the receiver) or a D-SACK block.
static void optlen_agrees(struct tcpcb *tp)
{
	static const uint8 kinds[] = { TH_ACK, TH_ACK | TH_FIN, TH_SYN, TH_SYN | TH_ACK,
				       TH_RST | TH_ACK };
	uint8 opt[TCP_MAXOLEN];
	for (int i = 0; i < (int)(sizeof(kinds) / sizeof(kinds[0])); i++)
		CHECK(tcp_optlen(tp, kinds[i]) == tcp_addoptions(tp, kinds[i], opt, TCP_MAXOLEN));
}

static void optlen_case(uint16 port, bool ts)
{
	BEGIN();
	tw_rfc7323(ts);
	struct socket *c, *s;
	tw_pair(port, &c, &s);
	struct tcpcb *tp = tw_tp(s);
	CHECK(tp->t_flags & TF_SACK_PERMIT);
	optlen_agrees(tp);
	CHECK(tcp_optlen(tp, TH_ACK) == (ts ? TCPOLEN_TSTAMP_APPA : 0));
	// A hole: the receiver owes SACK blocks.
	static const int lost[] = { 2 };
	uint32 M = tw_tp(c)->t_maxseg - (uint32)tcp_optlen_fixed(tw_tp(c));
	wire_drop_segments(c, lost, 1, M);
	send_pattern(c, 4 * M);
	wire_settle();
	CHECK(tp->t_reass.tr_head != NULL);
	optlen_agrees(tp);
	CHECK(tcp_optlen(tp, TH_ACK) == (ts ? TCPOLEN_TSTAMP_APPA : 0) + 4 + 8);
	wire_filter = NULL;
	recv_check(s, 4 * M);
	// A duplicate: the next ACK carries a D-SACK block (RFC 2883).
	tcp_sack_dsack(tp, tp->rcv_nxt - 100, 100);
	optlen_agrees(tp);
	CHECK(tcp_optlen(tp, TH_ACK) == (ts ? TCPOLEN_TSTAMP_APPA : 0) + 4 + 8);
	soclose(c);
	soclose(s);
	wire_run(100);
	clean(s0, m0);
}

static void tcp_optlen_agrees_with_addoptions(void)
{
	optlen_case(5316, true);
}

static void tcp_optlen_agrees_with_addoptions_no_ts(void)
{
	optlen_case(5317, false);
}

// ---- parsing -------------------------------------------------------------------------

// The Appendix A layout (NOP NOP TS) is read in one step; what it gives
// must be what the general loop gives for the same option in another
// layout (TS NOP NOP), whatever the struct held before, and anything
// else of 12 bytes (a TS option whose length byte is wrong) still goes
// through the loop's checks.
static void tcp_dooptions_appendix_a_layout_same_as_loop(void)
{
	const uint8 appa[12] = { TCPOPT_NOP, TCPOPT_NOP, TCPOPT_TIMESTAMP, TCPOLEN_TIMESTAMP,
				 0x01, 0x02, 0x03, 0x04, 0xfe, 0xdc, 0xba, 0x98 };
	const uint8 tail[12] = { TCPOPT_TIMESTAMP, TCPOLEN_TIMESTAMP,
				 0x01, 0x02, 0x03, 0x04, 0xfe, 0xdc, 0xba, 0x98,
				 TCPOPT_NOP, TCPOPT_NOP };
	uint8 badlen[12];
	memcpy(badlen, appa, sizeof(badlen));
	badlen[3] = TCPOLEN_TIMESTAMP - 1;
	struct tcpopt a, b, c;
	memset(&a, 0xaa, sizeof(a));
	memset(&b, 0x55, sizeof(b));
	memset(&c, 0xaa, sizeof(c));
	tcp_dooptions(&a, appa, sizeof(appa), false);
	tcp_dooptions(&b, tail, sizeof(tail), false);
	CHECK(a.to_flags == TOF_TS);
	CHECK(a.to_tsval == 0x01020304u && a.to_tsecr == 0xfedcba98u);
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	tcp_dooptions(&b, appa, sizeof(appa), true);   // a SYN's timestamps too
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	tcp_dooptions(&c, badlen, sizeof(badlen), false);
	CHECK(c.to_flags == 0 && c.to_tsval == 0 && c.to_tsecr == 0 && c.to_nsacks == 0);
}

const struct host_test tcp_opts_tests[] = {
	{ tcp_dooptions_appendix_a_layout_same_as_loop,
	  "tcp_dooptions_appendix_a_layout_same_as_loop" },
	{ tcp_optlen_agrees_with_addoptions, "tcp_optlen_agrees_with_addoptions" },
	{ tcp_optlen_agrees_with_addoptions_no_ts, "tcp_optlen_agrees_with_addoptions_no_ts" },
	{ tcp_wscale_negotiated_both_sides, "tcp_wscale_negotiated_both_sides" },
	{ tcp_wscale_one_side_only, "tcp_wscale_one_side_only" },
	{ tcp_ts_echo_rules, "tcp_ts_echo_rules" },
	{ tcp_paws_drops_old_duplicate, "tcp_paws_drops_old_duplicate" },
	{ tcp_ts_rtt_from_tsecr, "tcp_ts_rtt_from_tsecr" },
	{ tcp_rcvbuf_autotune_needs_a_reader, "tcp_rcvbuf_autotune_needs_a_reader" },
	{ tcp_rcvbuf_autotune_counts_reassembled_data, "tcp_rcvbuf_autotune_counts_reassembled_data" },
	{ NULL, NULL },
};
