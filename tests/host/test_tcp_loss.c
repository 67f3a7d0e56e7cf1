// Host tests of TCP loss recovery over the fake wire (tcp_wire.h): the
// RFC 6298 retransmission timer with backoff and Karn's rule, giving up
// with ETIMEDOUT, RFC 5681 fast retransmit, RFC 6582 NewReno partial
// ACKs, reassembly of reordered segments, and zero-window persist
// probes. Losses are chosen by a filter on the wire: deterministic.
#include "tests/host/tcp_wire.h"

// ---- a filter: drop chosen data segments of one port -----------------------------

static uint16 f_port;
static int f_budget;                 // drop this many more data segments
static uint32 f_seq[4];              // or exactly these sequence numbers, once
static int f_nseq;

static enum wire_verdict drop_filter(const struct wire_seg *ws)
{
	if (ws->ws_sport != f_port || ws->ws_len == 0)
		return WIRE_PASS;
	for (int i = 0; i < f_nseq; i++) {
		if (ws->ws_seq == f_seq[i]) {
			f_seq[i] = f_seq[--f_nseq];   // once each
			return WIRE_DROP;
		}
	}
	if (f_budget > 0) {
		f_budget--;
		return WIRE_DROP;
	}
	return WIRE_PASS;
}

static void drop_setup(uint16 port, int budget)
{
	f_port = port;
	f_budget = budget;
	f_nseq = 0;
	wire_filter = drop_filter;
}

// ---- tests --------------------------------------------------------------------------

// RFC 6298: the RTO doubles on each timeout (5.5) and resets with new
// data acked; Karn (3): the ACK of a retransmitted segment is no sample.
static void tcp_rto_backoff_karn(void)
{
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	struct socket *c, *s;
	// The RTO alone: no tail loss probe first (test_tcp_tlp.c).
	CHECK(host_sysctl_write("net.inet.tcp.tlp", 0) == 0);
	tw_pair(5100, &c, &s);
	struct tcpcb *tp = tw_tp(c);
	CHECK(tp->t_rto == 200);   // a 0 ms RTT sample: the 200 ms floor
	uint64 samples = tcpstat.tcps_rttupdated;
	drop_setup(port_of(c), 3);
	wire_log_clear();
	send_pattern(c, 5);
	wire_run(5000);
	uint64 t[8];
	int n = 0;
	for (int i = 0; i < wire_nlog && n < 8; i++)
		if (wire_log[i].ws_sport == port_of(c) && wire_log[i].ws_len > 0)
			t[n++] = wire_log[i].ws_time;
	CHECK(n == 4);   // the original and three retransmissions
	CHECK(t[1] - t[0] == 200 && t[2] - t[1] == 400 && t[3] - t[2] == 800);
	CHECK(tcpstat.tcps_rexmttimeo == 3);
	CHECK(tcpstat.tcps_rttupdated == samples);   // Karn
	CHECK(tp->t_rxtshift == 0 && tp->t_rto == 200);
	recv_check(s, 5);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// RFC 5681 3.1: after a timeout "cwnd MUST be set to no more than ...
// 1 full-sized segment". With timestamps a full segment carries 1448
// bytes (t_maxseg 1460 less 12 of options): a loss window of t_maxseg
// bytes sent a second segment of 12 bytes behind the retransmission
// (seen at 2% loss after every timeout). Every data segment here is full.
static void tcp_rto_one_full_segment_timestamps(void)
{
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	CHECK(host_sysctl_write("net.inet.tcp.tlp", 0) == 0);   // the RTO alone
	tw_rfc7323(true);
	struct socket *c, *s;
	tw_pair(5104, &c, &s);
	struct tcpcb *tp = tw_tp(c);
	CHECK((tp->t_flags & TF_BOTH_TSTMP) == TF_BOTH_TSTMP);
	uint32 full = tp->t_maxseg - (uint32)tcp_optlen_fixed(tp);
	CHECK(full == 1448);
	drop_setup(port_of(c), 4);   // the whole first window is lost
	wire_log_clear();
	send_pattern(c, 4 * full);
	wire_run(3000);
	CHECK(tcpstat.tcps_rexmttimeo == 1);
	int n = 0, runts = 0;
	for (int i = 0; i < wire_nlog; i++) {
		struct wire_seg *w = &wire_log[i];
		if (w->ws_sport != port_of(c) || w->ws_len == 0)
			continue;
		n++;
		if (w->ws_len != full)
			runts++;
	}
	CHECK(n == 8 && runts == 0);   // four lost, four resent, each one segment
	CHECK(tp->snd_una == tp->snd_max);
	recv_check(s, 4 * full);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// After rexmt_max retransmissions the connection is dropped: ETIMEDOUT
// for the user, a RST for the peer.
static void tcp_rexmt_limit_etimedout(void)
{
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	CHECK(host_sysctl_write("net.inet.tcp.rexmt_max", 3) == 0);
	CHECK(host_sysctl_write("net.inet.tcp.tlp", 0) == 0);   // the RTO alone
	struct socket *c, *s;
	tw_pair(5101, &c, &s);
	drop_setup(port_of(c), 1000);
	send_pattern(c, 100);
	wire_run(200 + 400 + 800 + 1600 + 100);
	CHECK(tw_state(c) == TCPS_CLOSED);
	CHECK(so_takeerror(c) == -ETIMEDOUT);
	CHECK(tcpstat.tcps_timeoutdrop == 1);
	CHECK(tw_state(s) == TCPS_CLOSED);   // the RST got through
	CHECK(so_takeerror(s) == -ECONNRESET);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// RFC 5681 3.2: one lost segment of ten; three duplicate ACKs make the
// sender resend it at once, with no timeout; ssthresh = FlightSize / 2.
// (Without SACK, as the tcp lab grades tcp_cc_dupack: with it, RFC 6675
// recovery does this, test_tcp_sack.c.)
static void tcp_fast_retransmit_3dupacks(void)
{
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	CHECK(host_sysctl_write("net.inet.tcp.sack", 0) == 0);
	struct socket *c, *s;
	tw_pair(5102, &c, &s);
	struct tcpcb *tp = tw_tp(c);
	CHECK(tp->snd_cwnd == 10 * 1460);   // RFC 6928
	drop_setup(port_of(c), 0);
	f_seq[f_nseq++] = tp->snd_nxt + 1460;   // the second segment
	send_pattern(c, 10 * 1460);
	wire_settle();   // no time passes
	CHECK(tcpstat.tcps_fastrexmt == 1);
	CHECK(tcpstat.tcps_rexmttimeo == 0);
	CHECK(tcpstat.tcps_sndrexmitpack == 1);
	CHECK(tp->snd_ssthresh == 9 * 1460 / 2);   // FlightSize after segment 1's ACK
	CHECK(!(tp->t_flags & TF_INRECOVERY));   // the full ACK ended it
	CHECK(tp->snd_una == tp->snd_max);
	recv_check(s, 10 * 1460);
	CHECK(tcpstat.tcps_rcvoopack >= 3);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// RFC 6582: two losses in one window. The partial ACK after the first
// retransmission makes the sender resend the second hole at once.
// (Without SACK: with it, both holes go at once, test_tcp_sack.c.)
static void tcp_newreno_partial_ack(void)
{
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	CHECK(host_sysctl_write("net.inet.tcp.sack", 0) == 0);
	struct socket *c, *s;
	tw_pair(5103, &c, &s);
	struct tcpcb *tp = tw_tp(c);
	drop_setup(port_of(c), 0);
	f_seq[f_nseq++] = tp->snd_nxt + 1460;       // segment 2
	f_seq[f_nseq++] = tp->snd_nxt + 4 * 1460;   // segment 5
	send_pattern(c, 10 * 1460);
	wire_settle();
	CHECK(tcpstat.tcps_fastrexmt == 1);
	CHECK(tcpstat.tcps_newreno_partial == 1);
	CHECK(tcpstat.tcps_rexmttimeo == 0);
	CHECK(tcpstat.tcps_sndrexmitpack == 2);
	CHECK(tp->snd_una == tp->snd_max && !(tp->t_flags & TF_INRECOVERY));
	recv_check(s, 10 * 1460);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// ---- reordering ------------------------------------------------------------------------

static int r_n;
static enum wire_verdict swap_filter(const struct wire_seg *ws)
{
	if (ws->ws_sport != f_port || ws->ws_len == 0)
		return WIRE_PASS;
	return (r_n++ % 3) == 0 ? WIRE_HOLD : WIRE_PASS;   // every third is late
}

// Out-of-order segments are kept and merged: the reader gets the bytes
// in order, and nothing had to be retransmitted.
static void tcp_reass_fills_hole(void)
{
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	struct socket *c, *s;
	tw_pair(5104, &c, &s);
	f_port = port_of(c);
	r_n = 0;
	wire_filter = swap_filter;
	send_pattern(c, 10 * 1460);
	wire_settle();
	CHECK(tcpstat.tcps_rcvoopack >= 3);
	CHECK(tcpstat.tcps_sndrexmitpack == 0);
	CHECK(tw_tp(s)->t_reass.tr_nseg == 0 && tw_tp(s)->t_reass.tr_bytes == 0);
	recv_check(s, 10 * 1460);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// tcp_reass directly, on an unconnected tcpcb: overlapping and duplicate
// pieces are trimmed, kept sorted and disjoint, and delivered once.
static void tcp_reass_overlap(void)
{
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	struct socket *s = tw_socket();
	struct tcpcb *tp = tw_tp(s);
	tcp_seq base = 0xfffffff0u;   // across the wrap
	tp->rcv_nxt = base;
	uint8 data[400];
	tw_pattern(data, sizeof(data), 0);
	struct { int off, len; } piece[] = { { 100, 100 }, { 150, 100 }, { 300, 50 },
					     { 120, 10 }, { 250, 60 }, { 340, 60 } };
	for (int i = 0; i < 6; i++) {
		struct mbuf *m = m_getspace(piece[i].len, 0);
		CHECK(m_copyback(m, 0, piece[i].len, data + piece[i].off) == 0);
		CHECK(tcp_reass(tp, base + piece[i].off, piece[i].len, m, i == 5) == 0);
	}
	tcp_seq a, b;
	struct tcp_reass_ent *e = tcp_reass_first(tp, &a, &b);
	CHECK(e != NULL && a == base + 100 && tp->t_reass.tr_bytes == 300);
	// Ranges are sorted and disjoint (a SACK scoreboard can walk them).
	tcp_seq last = a;
	int n = 0;
	for (; e != NULL; e = tcp_reass_next(e, &a, &b), n++) {
		CHECK(SEQ_GEQ(a, last) && SEQ_LT(a, b));
		last = b;
	}
	CHECK(n == tp->t_reass.tr_nseg && last == base + 400);
	struct mbuf *m = m_getspace(100, 0);
	CHECK(m_copyback(m, 0, 100, data) == 0);
	tp->rcv_nxt += 100;
	tcp_deliver(tp, m, 1);
	CHECK(tcp_reass_pull(tp) == TH_FIN);   // the FIN after byte 400 is in order now
	CHECK(tp->rcv_nxt == base + 400 && tp->t_reass.tr_nseg == 0);
	uint8 in[400];
	CHECK(s->so_rcv.sb_cc == 400);   // (never connected: read(2) says ENOTCONN)
	CHECK(m_copydata(s->so_rcv.sb_mb, 0, 400, in) == 0 && memcmp(in, data, 400) == 0);
	soclose(s);
	clean(s0, m0);
}

// Segments behind a hole that continue one another are kept as one
// entry per contiguous block (appended to its chain, and two entries
// that come to touch become one), so the walks of the queue -- insertion
// and the SACK blocks of every ACK -- cost the holes, not the segments.
// The bytes still come out in order, once each.
static void tcp_reass_one_entry_per_block(void)
{
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	struct socket *s = tw_socket();
	struct tcpcb *tp = tw_tp(s);
	tcp_seq base = 0xfffffc00u;   // across the wrap
	tp->rcv_nxt = base;
	enum { SEG = 100, NSEG = 13 };
	uint8 data[SEG * NSEG];
	tw_pattern(data, sizeof(data), 0);
	// Segment 0 is lost; 1..9 arrive in order, then 12, 11, 10.
	int order[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 11, 10 };
	for (int i = 0; i < 12; i++) {
		int k = order[i];
		struct mbuf *m = m_getspace(SEG, 0);
		CHECK(m_copyback(m, 0, SEG, data + k * SEG) == 0);
		CHECK(tcp_reass(tp, base + k * SEG, SEG, m, false) == 0);
		if (i == 8)   // 1..9: one block
			CHECK(tp->t_reass.tr_nseg == 1 && tp->t_reass.tr_bytes == 9 * SEG);
		if (i == 10)  // 1..9 and 11..12
			CHECK(tp->t_reass.tr_nseg == 2);
	}
	tcp_seq a, b;
	CHECK(tp->t_reass.tr_nseg == 1 && tp->t_reass.tr_bytes == 12 * SEG);
	CHECK(tcp_reass_first(tp, &a, &b) != NULL && a == base + SEG && b == base + NSEG * SEG);
	CHECK(tcpstat.tcps_rcvoopack == 12);   // still counted per segment
	// The hole fills: everything goes to the socket, in order.
	struct mbuf *m = m_getspace(SEG, 0);
	CHECK(m_copyback(m, 0, SEG, data) == 0);
	CHECK(tcp_reass(tp, base, SEG, m, false) == 0);
	CHECK(tp->rcv_nxt == base + NSEG * SEG && tp->t_reass.tr_nseg == 0 &&
	      tp->t_reass.tr_bytes == 0);
	uint8 in[SEG * NSEG];
	CHECK(s->so_rcv.sb_cc == sizeof(in));
	CHECK(m_copydata(s->so_rcv.sb_mb, 0, sizeof(in), in) == 0 && memcmp(in, data, sizeof(in)) == 0);
	soclose(s);
	clean(s0, m0);
}

// The last entry (tcp_reass_last, I5) as a walk finds it.
static bool reass_tail_ok(struct tcpcb *tp)
{
	tcp_seq s, e, ls = 0, le = 0, ts, te;
	struct tcp_reass_ent *last = NULL;
	for (struct tcp_reass_ent *r = tcp_reass_first(tp, &s, &e); r != NULL; r = tcp_reass_next(r, &s, &e)) {
		last = r;
		ls = s;
		le = e;
	}
	struct tcp_reass_ent *t = tcp_reass_last(tp, &ts, &te);
	return t == last && (t == NULL || (ts == ls && te == le));
}

// The queue's last entry stays right through every change of the list:
// a new entry above, one covered and replaced by a wider segment, an
// append to it, a merge below it, a FIN, and delivery of everything.
static void tcp_reass_tail_kept(void)
{
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	struct socket *s = tw_socket();
	struct tcpcb *tp = tw_tp(s);
	tcp_seq base = 0xffffff00u;   // across the wrap
	tp->rcv_nxt = base;
	enum { SEG = 100 };
	struct { int off, len; bool fin; int nseg; } step[] = {
		{ 5, 1, false, 1 },    // [5,6)
		{ 7, 1, false, 2 },    // [5,6) [7,8)
		{ 6, 3, false, 1 },    // covers [7,8), continues [5,6): [5,9)
		{ 9, 1, false, 1 },    // the tail append: [5,10)
		{ 12, 2, false, 2 },   // [5,10) [12,14)
		{ 11, 4, false, 2 },   // covers [12,14) above the hole at 10: [5,10) [11,15)
		{ 10, 1, false, 1 },   // the hole: [5,15)
		{ 15, 1, true, 1 },    // with a FIN: [5,16) FIN
		{ 2, 1, false, 2 },    // [2,3) [5,16) FIN
	};
	for (unsigned i = 0; i < sizeof(step) / sizeof(step[0]); i++) {
		struct mbuf *m = m_getspace((uint32)(step[i].len * SEG), 0);
		CHECK(m != NULL);
		m->m_len = step[i].len * SEG;
		CHECK(tcp_reass(tp, base + (uint32)(step[i].off * SEG), (uint32)(step[i].len * SEG), m,
				step[i].fin) == 0);
		CHECK(tp->t_reass.tr_nseg == step[i].nseg);
		CHECK(reass_tail_ok(tp));
	}
	tcp_seq a, b;
	CHECK(tcp_reass_last(tp, &a, &b) != NULL && a == base + 5 * SEG && b == base + 16 * SEG);
	// Everything below: delivered, the FIN with it, the queue empty.
	struct mbuf *m = m_getspace(5 * SEG, 0);
	m->m_len = 5 * SEG;
	m_adj(m, 0);
	CHECK(tcp_reass(tp, base, 2 * SEG, m, false) == 0);   // [0,2): [0,3) goes
	CHECK(reass_tail_ok(tp) && tp->rcv_nxt == base + 3 * SEG);
	m = m_getspace(2 * SEG, 0);
	m->m_len = 2 * SEG;
	CHECK(tcp_reass(tp, base + 3 * SEG, 2 * SEG, m, false) == TH_FIN);
	CHECK(tp->rcv_nxt == base + 16 * SEG && tp->t_reass.tr_nseg == 0 && reass_tail_ok(tp));
	CHECK(tcp_reass_last(tp, &a, &b) == NULL);
	soclose(s);
	clean(s0, m0);
}

// RFC 9293 3.8.6.1: the receiver's window closes; the sender probes it
// with backoff and resumes when the reader frees space (the window
// update goes out from the read path, PRU_RCVD).
static void tcp_zero_window_persist(void)
{
	enum { N = 20000 };
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	struct socket *l = tw_listen(5106, 5);
	tw_setopt(l, SOL_SOCKET, SO_RCVBUF, 4096);
	struct socket *c = tw_connect(5106, 0), *s;
	wire_settle();
	CHECK(soaccept(l, true, &s) == 0);
	soclose(l);
	send_pattern(c, N);
	// Two full segments, then (sender SWS) the last 1176 bytes of the
	// window only when the persist timer forces them (200 ms).
	wire_run(100);
	struct tcpcb *tp = tw_tp(c);
	CHECK(tp->snd_wnd == 4096 - 2 * 1460 && s->so_rcv.sb_cc == 2 * 1460);
	wire_run(200);
	CHECK(tp->snd_wnd == 0);
	CHECK(s->so_rcv.sb_cc == 4096);
	wire_log_clear();
	wire_run(4000);
	// Probes of one byte, at growing intervals.
	uint64 t[16];
	int n = 0;
	for (int i = 0; i < wire_nlog && n < 16; i++)
		if (wire_log[i].ws_sport == port_of(c) && wire_log[i].ws_len == 1)
			t[n++] = wire_log[i].ws_time;
	CHECK(n >= 3);
	CHECK(t[2] - t[1] > t[1] - t[0]);
	CHECK(tcpstat.tcps_persisttimeo >= 3 && tcpstat.tcps_sndprobe >= 3);
	CHECK(tcpstat.tcps_rexmttimeo == 0);
	CHECK(tw_state(c) == TCPS_ESTABLISHED);
	recv_check(s, N);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}


static enum wire_verdict drop_syn(const struct wire_seg *ws)
{
	return (ws->ws_flags & TH_SYN) ? WIRE_DROP : WIRE_PASS;
}

// A SYN nobody answers is retransmitted with backoff (1, 2, 4 s ...),
// then connect fails with ETIMEDOUT.
static void tcp_syn_rexmt_etimedout(void)
{
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	CHECK(host_sysctl_write("net.inet.tcp.syn_rexmt_max", 2) == 0);
	wire_filter = drop_syn;
	struct socket *c = tw_connect(5107, 0);
	wire_run(1000 + 2000 + 4000 + 100);
	CHECK(tw_state(c) == TCPS_CLOSED && so_takeerror(c) == -ETIMEDOUT);
	CHECK(wire_nlog == 3);   // the SYN and two retransmissions
	CHECK(wire_log[1].ws_time - wire_log[0].ws_time == 1000);
	CHECK(wire_log[2].ws_time - wire_log[1].ws_time == 2000);
	CHECK(tcpstat.tcps_timeoutdrop == 1 && tcpstat.tcps_conndrops == 1);
	soclose(c);
	clean(s0, m0);
}

static int fin_drops;
static enum wire_verdict drop_fin_once(const struct wire_seg *ws)
{
	if ((ws->ws_flags & TH_FIN) && fin_drops == 0) {
		fin_drops++;
		return WIRE_DROP;
	}
	return WIRE_PASS;
}

// A lost FIN is retransmitted by the retransmission timer; the close
// completes.
static void tcp_fin_retransmitted(void)
{
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	struct socket *c, *s;
	tw_pair(5108, &c, &s);
	fin_drops = 0;
	wire_filter = drop_fin_once;
	CHECK(soshutdown(c, SHUT_WR) == 0);
	wire_settle();
	CHECK(tw_state(c) == TCPS_FIN_WAIT_1 && tw_state(s) == TCPS_ESTABLISHED);
	wire_run(300);
	CHECK(tw_state(c) == TCPS_FIN_WAIT_2 && tw_state(s) == TCPS_CLOSE_WAIT);
	CHECK(fin_drops == 1 && tcpstat.tcps_rexmttimeo == 1);
	soclose(s);
	soclose(c);
	clean(s0, m0);
}

const struct host_test tcp_loss_tests[] = {
	{ tcp_rto_backoff_karn, "tcp_rto_backoff_karn" },
	{ tcp_rexmt_limit_etimedout, "tcp_rexmt_limit_etimedout" },
	{ tcp_rto_one_full_segment_timestamps, "tcp_rto_one_full_segment_timestamps" },
	{ tcp_fast_retransmit_3dupacks, "tcp_fast_retransmit_3dupacks" },
	{ tcp_newreno_partial_ack, "tcp_newreno_partial_ack" },
	{ tcp_reass_fills_hole, "tcp_reass_fills_hole" },
	{ tcp_reass_overlap, "tcp_reass_overlap" },
	{ tcp_reass_one_entry_per_block, "tcp_reass_one_entry_per_block" },
	{ tcp_reass_tail_kept, "tcp_reass_tail_kept" },
	{ tcp_zero_window_persist, "tcp_zero_window_persist" },
	{ tcp_syn_rexmt_etimedout, "tcp_syn_rexmt_etimedout" },
	{ tcp_fin_retransmitted, "tcp_fin_retransmitted" },
	{ NULL, NULL },
};
