// Host tests of SACK (net/tcp_sack.c): SACK-permitted negotiation, the
// receiver's blocks (RFC 2018 4), the sender's scoreboard (RFC 6675 4:
// Update, IsLost, SetPipe, NextSeg) and its recovery over the fake wire
// (tcp_wire.h) with a 20 ms one-way delay, so that round trips take
// virtual time: three holes in one window are repaired in one RTT with
// SACK and in three without (NewReno, RFC 6582). Deterministic.
#include "tests/host/tcp_wire.h"
#include "net/tcp_sack.h"

#define MSS 1460
#define DELAY 20          // ms one way: RTT 40 ms

// ---- a filter: drop the data segments at chosen sequence numbers, once -----------

// The data in a full segment of so: the MSS less the options every
// segment carries (timestamps).
static uint32 seglen(struct socket *so)
{
	return tw_tp(so)->t_maxseg - (uint32)tcp_optlen_fixed(tw_tp(so));
}

// Drop data segments k (1-based) of the stream from so, once each.
static void drop_segments(struct socket *so, const int *k, int n)
{
	wire_drop_segments(so, k, n, seglen(so));
}

// ---- negotiation -------------------------------------------------------------------

static bool syn_offers_sack(int i)
{
	return (wire_log[i].ws_flags & TH_SYN) && (wire_log[i].ws_opt.to_flags & TOF_SACKPERM);
}

// RFC 2018 2: both SYNs carry SACK-permitted (net.inet.tcp.sack=1, the
// default) and SACK is on at both ends; with the sysctl at 0 neither
// SYN carries it; a peer whose SYN lacks it gets a SYN,ACK without it.
static void tcp_sack_negotiation(void)
{
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	struct socket *c, *s;
	tw_pair(5300, &c, &s);
	CHECK(syn_offers_sack(0) && syn_offers_sack(1));
	CHECK(tw_tp(c)->t_flags & TF_SACK_PERMIT);
	CHECK(tw_tp(s)->t_flags & TF_SACK_PERMIT);
	const char *list = tw_pcblist();   // the <opts> column says so
	CHECK(strstr(list, " ESTABLISHED ") != NULL && strstr(list, " sack\n") != NULL);
	soclose(c);
	soclose(s);
	wire_run(1000);
	// Off: no option, NewReno.
	CHECK(host_sysctl_write("net.inet.tcp.sack", 0) == 0);
	wire_log_clear();
	tw_pair(5301, &c, &s);
	CHECK(!syn_offers_sack(0) && !syn_offers_sack(1));
	CHECK(!(tw_tp(c)->t_flags & (TF_SACK_PERMIT | TF_REQ_SACK)));
	CHECK(!(tw_tp(s)->t_flags & (TF_SACK_PERMIT | TF_REQ_SACK)));
	soclose(c);
	soclose(s);
	wire_run(1000);
	// On, but the peer's SYN does not offer it: the SYN,ACK does not either.
	CHECK(host_sysctl_write("net.inet.tcp.sack", 1) == 0);
	struct socket *l = tw_listen(5302, 5);
	wire_log_clear();
	tw_forge_syn(40000, 5302, 1000, 1460);
	wire_settle();
	CHECK(wire_nlog >= 2 && wire_log[1].ws_flags == (TH_SYN | TH_ACK));
	CHECK(!syn_offers_sack(1));
	// And a SYN with it (MSS, NOP, NOP, SACK-permitted) gets it back.
	static const uint8 opts[8] = { TCPOPT_MSS, 4, 1460 >> 8, 1460 & 0xff,
				       TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK_PERMITTED, 2 };
	wire_log_clear();
	tw_forge_raw(40001, 5302, 5000, 0, TH_SYN, 16384, opts, 8, 0);
	wire_settle();
	CHECK(wire_nlog >= 2 && syn_offers_sack(1) && wire_log[1].ws_dport == 40001);
	soclose(l);
	wire_settle();
	clean(s0, m0);
}

// ---- the receiver's blocks ------------------------------------------------------------

// The blocks of logged segment i as "start-end" offsets from base.
static int blocks_of(int i, uint32 base, uint32 out[4][2])
{
	const struct tcpopt *to = &wire_log[i].ws_opt;
	if (!(to->to_flags & TOF_SACK))
		return 0;
	for (int k = 0; k < to->to_nsacks; k++) {
		out[k][0] = to->to_sacks[k][0] - base;
		out[k][1] = to->to_sacks[k][1] - base;
	}
	return to->to_nsacks;
}

// RFC 2018 4 on the wire: segments 2, 4, 6 and 8 of ten are lost; each
// ACK's first block holds the segment that triggered it, then the most
// recent other blocks, at most 4 -- 3 beside RFC 7323 timestamps (ts); a
// segment that joins a block grows that block, which is reported first.
static void recv_block_order(uint16 port, bool ts)
{
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	tw_rfc7323(ts);
	struct socket *c, *s;
	tw_pair(port, &c, &s);
	CHECK(((tw_tp(s)->t_flags & TF_BOTH_TSTMP) == TF_BOTH_TSTMP) == ts);
	int maxb = ts ? 3 : 4;
	uint32 base = tw_tp(c)->snd_nxt, M = seglen(c);
	static const int lost[] = { 2, 4, 6, 8 };
	drop_segments(c, lost, 4);
	wire_log_clear();
	send_pattern(c, 10 * M);
	wire_settle();
	// The server's ACKs of segments 3, 5, 7, 9, 10, in order, and the
	// blocks each should carry (starts; segment 10 grows 9's block).
	int acks[8], na = 0;
	for (int i = 0; i < wire_nlog && na < 8; i++)
		if (wire_log[i].ws_sport == port_of(s) && wire_log[i].ws_len == 0)
			acks[na++] = i;
	CHECK(na >= 5);
	static const uint32 want[5][4] = { { 2 }, { 4, 2 }, { 6, 4, 2 }, { 8, 6, 4, 2 },
					   { 8, 6, 4, 2 } };
	for (int k = 0; k < 5; k++) {
		uint32 b[4][2];
		int n = blocks_of(acks[k], base, b);
		CHECK(n == MIN(MIN(k + 1, 4), maxb));
		for (int j = 0; j < n; j++)
			CHECK(b[j][0] == want[k][j] * M);
		CHECK(b[0][1] == (k == 4 ? 10 : want[k][0] + 1) * M);
		CHECK(wire_log[acks[k]].ws_ack == base + M);   // all duplicates of 1
		CHECK(((wire_log[acks[k]].ws_opt.to_flags & TOF_TS) != 0) == ts);
	}
	CHECK(tcpstat.tcps_sack_sndblocks >= (uint64)(ts ? 1 + 2 + 3 + 3 + 3 : 1 + 2 + 3 + 4 + 4));
	recv_check(s, 10 * M);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

static void tcp_sack_recv_block_order(void)
{
	recv_block_order(5310, false);
}

static void tcp_sack_recv_block_order_timestamps(void)
{
	recv_block_order(5311, true);
}

// Queue [off, off + len) of the receive space at tp as an out-of-order
// segment, as tcp_input_text does.
static void rcv_piece(struct tcpcb *tp, tcp_seq base, uint32 off, uint32 len)
{
	struct mbuf *m = m_getspace(len, 0);
	uint8 d[2000];
	tw_pattern(d, len, off);
	CHECK(m_copyback(m, 0, (int)len, d) == 0);
	CHECK(tcp_reass(tp, base + off, len, m, false) == 0);
	tcp_sack_rcvd(tp, base + off);
}

// The option tcp_sack_addopt builds with room bytes, as offsets.
static int rcv_option(struct tcpcb *tp, tcp_seq base, int room, uint32 out[4][2])
{
	uint8 p[40];
	int len = tcp_sack_addopt(tp, p, room);
	if (len == 0)
		return 0;
	CHECK(p[0] == TCPOPT_NOP && p[1] == TCPOPT_NOP && p[2] == TCPOPT_SACK);
	CHECK(len == p[3] + 2 && (p[3] - 2) % 8 == 0 && len <= room);
	struct tcpopt to;
	tcp_dooptions(&to, p, len, false);
	CHECK(to.to_flags & TOF_SACK);
	for (int k = 0; k < to.to_nsacks; k++) {
		out[k][0] = to.to_sacks[k][0] - base;
		out[k][1] = to.to_sacks[k][1] - base;
	}
	return to.to_nsacks;
}

// The receiver's choice of blocks, directly on a tcpcb: five blocks
// queued, the four most recent reported, newest first; with 28 bytes
// (beside a timestamps option) three; an older block comes back once a
// newer one is gone into the in-order data; nothing without SACK.
static void tcp_sack_recv_blocks_most_recent(void)
{
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	struct socket *so = tw_socket();
	struct tcpcb *tp = tw_tp(so);
	tcp_seq base = 0xfffff000u;   // across the wrap
	tp->rcv_nxt = base;
	tp->t_flags |= TF_SACK_PERMIT;
	uint32 b[4][2];
	CHECK(rcv_option(tp, base, 40, b) == 0);   // nothing queued
	// Blocks at 100, 300, 500, 700, 900 (100 bytes each), queued in the
	// order 500, 100, 900, 300, 700.
	static const uint32 order[] = { 500, 100, 900, 300, 700 };
	for (int i = 0; i < 5; i++)
		rcv_piece(tp, base, order[i], 100);
	CHECK(rcv_option(tp, base, 40, b) == 4);
	CHECK(b[0][0] == 700 && b[1][0] == 300 && b[2][0] == 900 && b[3][0] == 100);
	CHECK(b[0][1] == 800);
	CHECK(rcv_option(tp, base, 40 - 12, b) == 3);   // beside timestamps
	CHECK(b[0][0] == 700 && b[2][0] == 900);
	CHECK(rcv_option(tp, base, 11, b) == 0);        // no room for one
	// A piece joining 300's block: that block first, grown.
	rcv_piece(tp, base, 400, 100);
	CHECK(rcv_option(tp, base, 40, b) == 4);
	CHECK(b[0][0] == 300 && b[0][1] == 600 && b[1][0] == 700 && b[2][0] == 900 &&
	      b[3][0] == 100);
	// The hole at 0 filled: 0..200 goes in order; 100's block leaves.
	struct mbuf *m = m_getspace(100, 0);
	uint8 d[100];
	tw_pattern(d, 100, 0);
	CHECK(m_copyback(m, 0, 100, d) == 0);
	tp->rcv_nxt += 100;
	tcp_deliver(tp, m, 1);
	CHECK(tcp_reass_pull(tp) == 0 && tp->rcv_nxt == base + 200);
	CHECK(rcv_option(tp, base, 40, b) == 3);
	CHECK(b[0][0] == 300 && b[1][0] == 700 && b[2][0] == 900);
	tp->t_flags &= ~TF_SACK_PERMIT;
	CHECK(rcv_option(tp, base, 40, b) == 0);
	soclose(so);
	clean(s0, m0);
}

// ---- the scoreboard --------------------------------------------------------------------

static struct tcpcb *board_tp(struct socket **sop, tcp_seq una, uint32 nseg)
{
	*sop = tw_socket();
	struct tcpcb *tp = tw_tp(*sop);
	tp->t_flags |= TF_SACK_PERMIT;
	tp->t_maxseg = 100;
	tp->snd_una = tp->snd_nxt = una;
	tp->snd_max = una + 100 * nseg;
	tp->snd_wnd = 65535;
	return tp;
}

// SACK the blocks (offsets from snd_una) with ACK snd_una + ack.
static uint32 sack(struct tcpcb *tp, uint32 ack, int n, const uint32 (*blk)[2])
{
	struct tcpopt to;
	memset(&to, 0, sizeof(to));
	to.to_flags = TOF_SACK;
	to.to_nsacks = (uint8)n;
	for (int i = 0; i < n; i++) {
		to.to_sacks[i][0] = tp->snd_una + blk[i][0];
		to.to_sacks[i][1] = tp->snd_una + blk[i][1];
	}
	return tcp_sack_update(tp, &to, tp->snd_una + ack);
}

static bool board_is(struct tcpcb *tp, tcp_seq una, int n, const uint32 (*want)[2])
{
	struct tcp_sackboard *sb = tp->t_sack;
	if (sb == NULL || sb->sb_n != n)
		return false;
	for (int i = 0; i < n; i++)
		if (sb->sb_blk[i].sb_start != una + want[i][0] ||
		    sb->sb_blk[i].sb_end != una + want[i][1])
			return false;
	return true;
}

// RFC 6675 4 Update(): blocks out of order, overlapping, adjacent,
// beyond snd_max, at or below the ACK, empty; the board stays sorted,
// disjoint and merged; the cumulative ACK trims it.
static void tcp_sack_board_update_edges(void)
{
	wire_setup();
	struct socket *so;
	tcp_seq una = 0xfffffe00u;   // the board crosses the wrap
	struct tcpcb *tp = board_tp(&so, una, 10);   // 1000 bytes sent
	CHECK(tp->t_sack == NULL);
	static const uint32 ooo[][2] = { { 500, 600 }, { 200, 300 } };
	CHECK(sack(tp, 0, 2, ooo) == 200);
	static const uint32 w1[][2] = { { 200, 300 }, { 500, 600 } };
	CHECK(board_is(tp, una, 2, w1));
	static const uint32 over[][2] = { { 250, 550 } };   // overlaps both
	CHECK(sack(tp, 0, 1, over) == 200);
	static const uint32 w2[][2] = { { 200, 600 } };
	CHECK(board_is(tp, una, 1, w2));
	CHECK(sack(tp, 0, 1, over) == 0);   // nothing new: not a duplicate ACK
	static const uint32 adj[][2] = { { 600, 700 }, { 800, 900 } };
	CHECK(sack(tp, 0, 2, adj) == 200);
	static const uint32 w3[][2] = { { 200, 700 }, { 800, 900 } };
	CHECK(board_is(tp, una, 2, w3));
	uint64 bad = tcpstat.tcps_sack_rcvbad;
	static const uint32 junk[][2] = { { 900, 1100 },   // beyond snd_max
					  { 0, 100 },      // starts at the ACK
					  { 300, 300 },    // empty
					  { 400, 350 } };  // reversed
	CHECK(sack(tp, 0, 4, junk) == 0);
	static const uint32 below[][2] = { { 0xffffff00u, 50 } };   // below snd_una
	CHECK(sack(tp, 0, 1, below) == 0);
	CHECK(tcpstat.tcps_sack_rcvbad == bad + 5);
	CHECK(board_is(tp, una, 2, w3));
	// The ACK moves into the first range (a receiver acking part of it)...
	CHECK(sack(tp, 300, 0, NULL) == 0);
	static const uint32 w4[][2] = { { 300, 700 }, { 800, 900 } };
	CHECK(board_is(tp, una, 2, w4));
	// ... and past it; a block at the new ACK is refused.
	tp->snd_una += 750;
	static const uint32 at[][2] = { { 0, 50 } };
	CHECK(sack(tp, 0, 1, at) == 0);
	static const uint32 w5[][2] = { { 50, 150 } };
	CHECK(board_is(tp, tp->snd_una, 1, w5));
	tp->snd_una += 150;
	CHECK(sack(tp, 0, 0, NULL) == 0 && tp->t_sack->sb_n == 0);
	soclose(so);
}

// A full board drops a block that needs a new range (counted), still
// merges ones that touch what it has.
static void tcp_sack_board_full(void)
{
	wire_setup();
	struct socket *so;
	struct tcpcb *tp = board_tp(&so, 1000, 200);
	for (uint32 i = 0; i < TCP_SACK_MAXBLKS; i++) {
		uint32 blk[1][2] = { { 100 + 200 * i, 150 + 200 * i } };
		CHECK(sack(tp, 0, 1, (const uint32 (*)[2])blk) == 50);
	}
	CHECK(tp->t_sack->sb_n == TCP_SACK_MAXBLKS && tcpstat.tcps_sack_sboverflow == 0);
	static const uint32 more[][2] = { { 50, 60 } };
	CHECK(sack(tp, 0, 1, more) == 0 && tcpstat.tcps_sack_sboverflow == 1);
	static const uint32 join[][2] = { { 150, 300 } };   // joins ranges 0 and 1
	CHECK(sack(tp, 0, 1, join) == 150 && tp->t_sack->sb_n == TCP_SACK_MAXBLKS - 1);
	soclose(so);
}

// IsLost (DupThresh ranges or more than 2 SMSS SACKed above), SetPipe
// and NextSeg's four rules on a board of ten 100-byte segments.
static void tcp_sack_board_islost_pipe_nextseg(void)
{
	wire_setup();
	struct socket *so;
	struct tcpcb *tp = board_tp(&so, 5000, 10);
	tcp_seq u = tp->snd_una, seq;
	uint32 len;
	// Segments 3 and 5 SACKed (offsets 200-300, 400-500): two ranges,
	// 200 bytes above segment 0: not lost.
	static const uint32 a[][2] = { { 200, 300 }, { 400, 500 } };
	sack(tp, 0, 2, a);
	CHECK(!tcp_sack_islost(tp, u) && !tcp_sack_islost(tp, u + 300));
	CHECK(tcp_sack_pipe(tp) == 800);   // everything unSACKed is in flight
	// A third range: the holes below the lowest of the three are lost.
	static const uint32 b[][2] = { { 700, 800 } };
	sack(tp, 0, 1, b);
	CHECK(tcp_sack_islost(tp, u) && tcp_sack_islost(tp, u + 199));
	CHECK(!tcp_sack_islost(tp, u + 200));   // SACKed: not lost
	CHECK(!tcp_sack_islost(tp, u + 300));   // two ranges above
	CHECK(tcp_sack_pipe(tp) == 700 - 200);  // 0-200 lost; 300-400, 500-700, 800-1000 not
	// More than 2 SMSS SACKed above (one long range) is lost too.
	static const uint32 c[][2] = { { 500, 700 } };   // 400-800 now one range
	sack(tp, 0, 1, c);
	CHECK(tcp_sack_islost(tp, u + 300));   // 100 + 400 bytes above
	// NextSeg outside recovery (HighRxt = snd_una): rule 1, the lowest lost hole.
	tp->t_sack->sb_highrxt = u;
	CHECK(tcp_sack_nextseg(tp, &seq, &len) == 1 && seq == u && len == 100);
	// Retransmitted up to 200: the next lost hole, 300-400.
	tp->t_flags |= TF_SACKRECOVERY | TF_INRECOVERY;
	tp->t_sack->sb_highrxt = u + 200;
	CHECK(tcp_sack_nextseg(tp, &seq, &len) == 1 && seq == u + 300 && len == 100);
	// pipe: lost holes 0-200 (retransmitted: 200) and 300-400 (0); not
	// lost 800-1000 (200).
	CHECK(tcp_sack_pipe(tp) == 200 + 0 + 200);
	// All lost holes retransmitted: rule 2 sends new data if there is some.
	// No unsent data (rule 2), no hole below the highest SACK above
	// HighRxt (rule 3): the rescue, the last segment (rule 4).
	tp->t_sack->sb_highrxt = u + 400;
	CHECK(tcp_sack_nextseg(tp, &seq, &len) == 4 && seq == u + 900 && len == 100);
	// (Not if the tail was retransmitted in this recovery already.)
	tp->t_sack->sb_highrxt = u + 1000;
	CHECK(tcp_sack_nextseg(tp, &seq, &len) == 0);
	tp->t_sack->sb_highrxt = u + 400;
	tp->t_sack->sb_rescue_set = true;
	tp->t_sack->sb_rescuerxt = u + 1000;   // rescued already: none left
	CHECK(tcp_sack_nextseg(tp, &seq, &len) == 0);
	// Rule 3: a hole below the highest SACK that is not lost.
	static const uint32 d[][2] = { { 900, 950 } };   // 800-900 now below a SACK
	sack(tp, 0, 1, d);
	CHECK(tcp_sack_nextseg(tp, &seq, &len) == 3 && seq == u + 800 && len == 100);
	tp->t_flags &= ~(TF_SACKRECOVERY | TF_INRECOVERY);
	soclose(so);
}

// RFC 6675 5.1: a timeout forgets the board; later ACKs fill it again.
static void tcp_sack_board_rto_clears(void)
{
	wire_setup();
	struct socket *so;
	struct tcpcb *tp = board_tp(&so, 1, 10);
	static const uint32 a[][2] = { { 200, 300 }, { 400, 500 }, { 600, 700 } };
	sack(tp, 0, 3, a);
	CHECK(tcp_sack_islost(tp, tp->snd_una));
	tp->t_flags |= TF_SACKRECOVERY | TF_INRECOVERY;
	tcp_cc_rto(tp);
	tcp_sack_rto(tp);
	CHECK(tp->t_sack->sb_n == 0 && !(tp->t_flags & (TF_SACKRECOVERY | TF_INRECOVERY)));
	CHECK(!tcp_sack_islost(tp, tp->snd_una) && tcp_sack_pipe(tp) == 1000);
	CHECK(tp->snd_recover == tp->snd_max);
	sack(tp, 0, 1, a);
	CHECK(tp->t_sack->sb_n == 1);
	soclose(so);
}

// ---- recovery over a wire with delay ---------------------------------------------------

struct recovery_run {
	uint64 t_rexmit[8];      // when each retransmission left
	uint64 t_exit;           // the ACK of everything reached the sender
	int rexmits;
};

// Ten segments, the ones in lost[] dropped once; returns the times.
static struct recovery_run recovery_run(uint16 port, const int *lost, int nlost)
{
	struct recovery_run r;
	struct socket *c, *s;
	memset(&r, 0, sizeof(r));
	// RFC 6675 alone: no tail loss probe (the handshake's 0 ms RTT
	// sample would make its PTO fire before the first ACK; test_tcp_tlp.c).
	CHECK(host_sysctl_write("net.inet.tcp.tlp", 0) == 0);
	tw_pair(port, &c, &s);
	wire_delay_ms = DELAY;   // (after the handshake: tw_pair runs no clock)
	struct tcpcb *tp = tw_tp(c);
	tcp_seq hi = tp->snd_nxt, end = tp->snd_nxt + 10 * MSS;
	drop_segments(c, lost, nlost);
	wire_log_clear();
	send_pattern(c, 10 * MSS);
	wire_run(2000);
	for (int i = 0; i < wire_nlog; i++) {
		struct wire_seg *w = &wire_log[i];
		if (w->ws_sport == port_of(c) && w->ws_len > 0) {
			if (SEQ_LT(w->ws_seq, hi) && r.rexmits < 8)   // logged on arrival
				r.t_rexmit[r.rexmits++] = w->ws_time - DELAY;
			hi = SEQ_MAX(hi, w->ws_seq + w->ws_len);
		}
		if (w->ws_sport == port_of(s) && w->ws_ack == end && r.t_exit == 0)
			r.t_exit = w->ws_time;
	}
	CHECK(tp->snd_una == end && !(tp->t_flags & TF_INRECOVERY));
	recv_check(s, 10 * MSS);
	soclose(c);
	soclose(s);
	return r;
}

static const int three_holes[] = { 2, 5, 8 };

// RFC 6675: three segments of one window lost; the SACKs of the
// duplicate ACKs show all three holes, so all three retransmissions go
// at once: recovery ends one RTT after the first.
static void tcp_sack_three_holes_one_rtt(void)
{
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	struct recovery_run r = recovery_run(5320, three_holes, 3);
	CHECK(r.rexmits == 3);
	CHECK(r.t_rexmit[2] == r.t_rexmit[0]);             // all three at once
	CHECK(r.t_exit - r.t_rexmit[0] == 2 * DELAY);      // one RTT
	CHECK(tcpstat.tcps_sack_recovery == 1 && tcpstat.tcps_newreno_partial == 0);
	CHECK(tcpstat.tcps_rexmttimeo == 0 && tcpstat.tcps_sndrexmitpack == 3);
	CHECK(tcpstat.tcps_sack_rexmitbyte == 3 * MSS);
	// Segments 2 and 5 were marked lost (three ranges above 2, 2 SMSS +
	// above 5); 8 had only 9-10 above it and went by NextSeg rule 3.
	CHECK(tcpstat.tcps_sack_lostbyte == 2 * MSS);
	CHECK(tcpstat.tcps_sack_rcvblocks > 0 && tcpstat.tcps_sack_sndblocks > 0);
	clean(s0, m0);
}

// The same losses without SACK (net.inet.tcp.sack=0): NewReno learns of
// one hole per partial ACK: three RTTs.
static void tcp_newreno_three_holes_three_rtts(void)
{
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	CHECK(host_sysctl_write("net.inet.tcp.sack", 0) == 0);
	struct recovery_run r = recovery_run(5321, three_holes, 3);
	CHECK(r.rexmits == 3);
	CHECK(r.t_rexmit[1] - r.t_rexmit[0] == 2 * DELAY);     // one per partial ACK
	CHECK(r.t_rexmit[2] - r.t_rexmit[1] == 2 * DELAY);
	CHECK(r.t_exit - r.t_rexmit[0] == 3 * 2 * DELAY);      // three RTTs
	CHECK(tcpstat.tcps_sack_recovery == 0 && tcpstat.tcps_newreno_partial == 2);
	CHECK(tcpstat.tcps_rexmttimeo == 0 && tcpstat.tcps_sack_rcvblocks == 0);
	clean(s0, m0);
}

// RFC 6675 NextSeg rule (4): segments 2 and 10 (the last) lost. Nothing
// is SACKed above 10, so it is never "lost"; after the partial ACK of
// segment 2's retransmission the rescue retransmission sends it, one
// RTT after the first, not after a timeout.
static void tcp_sack_rescue_tail_loss(void)
{
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	static const int lost[] = { 2, 10 };
	struct recovery_run r = recovery_run(5322, lost, 2);
	CHECK(r.rexmits == 2);
	CHECK(tcpstat.tcps_sack_rescue == 1 && tcpstat.tcps_rexmttimeo == 0);
	CHECK(r.t_rexmit[1] - r.t_rexmit[0] == 2 * DELAY);
	CHECK(r.t_exit != 0);
	clean(s0, m0);
}

// The rescue with timestamps: segments 2, 9 and 10 lost; the rescue is
// one full segment (1448 bytes) that ends at the highest unSACKed octet,
// segment 10. Measured as t_maxseg (1460) back from it, it covered the
// end of 9 and all of 10 but the last 12 bytes, which then waited for
// the timeout (and went as a 12-byte segment).
static void tcp_sack_rescue_tail_timestamps(void)
{
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	CHECK(host_sysctl_write("net.inet.tcp.tlp", 0) == 0);
	tw_rfc7323(true);
	struct socket *c, *s;
	tw_pair(5326, &c, &s);
	wire_delay_ms = DELAY;
	struct tcpcb *tp = tw_tp(c);
	uint32 full = seglen(c);
	CHECK(full == 1448);
	tcp_seq hi = tp->snd_nxt, end = tp->snd_nxt + 10 * full;
	static const int lost[] = { 2, 9, 10 };
	drop_segments(c, lost, 3);
	wire_log_clear();
	send_pattern(c, 10 * full);
	wire_run(2000);
	int rescue = 0;
	for (int i = 0; i < wire_nlog; i++) {
		struct wire_seg *w = &wire_log[i];
		if (w->ws_sport != port_of(c) || w->ws_len == 0)
			continue;
		if (SEQ_LT(w->ws_seq, hi) && SEQ_GT(w->ws_seq, hi - 9 * full))   // a resend above segment 2
			rescue += (w->ws_seq == end - full && w->ws_len == full);
		hi = SEQ_MAX(hi, w->ws_seq + w->ws_len);
	}
	CHECK(tcpstat.tcps_sack_rescue == 1 && rescue == 1);
	CHECK(tcpstat.tcps_rexmttimeo == 0);
	CHECK(tp->snd_una == end && !(tp->t_flags & TF_INRECOVERY));
	recv_check(s, 10 * full);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// RFC 6675 5.1: segments 2 and 4 lost, then lost again when resent in
// recovery; the timeout empties the board and resends 2; the ACK of 2-3
// SACKs 5-10 again, so the resend goes on with 4 and steps over 5-10
// (tcp_sack_skip). Without SACK the same losses cost go-back-N resends
// of data the receiver had.
static int rto_resends_above(bool sack_on, uint16 port)
{
	struct socket *c, *s;
	CHECK(host_sysctl_write("net.inet.tcp.sack", sack_on) == 0);
	CHECK(host_sysctl_write("net.inet.tcp.tlp", 0) == 0);   // the timeout is the subject
	tw_pair(port, &c, &s);
	struct tcpcb *tp = tw_tp(c);
	tcp_seq seg5 = tp->snd_nxt + 4 * MSS, end = tp->snd_nxt + 10 * MSS;
	static const int lost[] = { 2, 2, 4, 4 };
	drop_segments(c, lost, 4);
	wire_log_clear();
	send_pattern(c, 10 * MSS);
	wire_run(3000);
	CHECK(tcpstat.tcps_rexmttimeo >= 1 && tp->snd_una == end);
	// Data segments at or above segment 5 sent after the first timeout.
	uint64 t_rto = 0;
	int n = 0;
	tcp_seq hi = tp->snd_una - 10 * MSS;
	for (int i = 0; i < wire_nlog; i++) {
		struct wire_seg *w = &wire_log[i];
		if (w->ws_sport != port_of(c) || w->ws_len == 0)
			continue;
		if (t_rto == 0 && SEQ_LT(w->ws_seq, hi) && w->ws_time >= 200)
			t_rto = w->ws_time;   // the first resend the timer made
		if (t_rto != 0 && SEQ_GEQ(w->ws_seq, seg5))
			n++;
		hi = SEQ_MAX(hi, w->ws_seq + w->ws_len);
	}
	CHECK(t_rto != 0);
	recv_check(s, 10 * MSS);
	soclose(c);
	soclose(s);
	return n;
}

static void tcp_sack_rto_resend_skips_sacked(void)
{
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	CHECK(rto_resends_above(true, 5330) == 0);
	CHECK(tcpstat.tcps_sack_recovery == 1);
	clean(s0, m0);
}

static void tcp_newreno_rto_resends_what_arrived(void)
{
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	CHECK(rto_resends_above(false, 5331) > 0);
	clean(s0, m0);
}

const struct host_test tcp_sack_tests[] = {
	{ tcp_sack_negotiation, "tcp_sack_negotiation" },
	{ tcp_sack_recv_block_order, "tcp_sack_recv_block_order" },
	{ tcp_sack_recv_block_order_timestamps, "tcp_sack_recv_block_order_timestamps" },
	{ tcp_sack_recv_blocks_most_recent, "tcp_sack_recv_blocks_most_recent" },
	{ tcp_sack_board_update_edges, "tcp_sack_board_update_edges" },
	{ tcp_sack_board_full, "tcp_sack_board_full" },
	{ tcp_sack_board_islost_pipe_nextseg, "tcp_sack_board_islost_pipe_nextseg" },
	{ tcp_sack_board_rto_clears, "tcp_sack_board_rto_clears" },
	{ tcp_sack_three_holes_one_rtt, "tcp_sack_three_holes_one_rtt" },
	{ tcp_newreno_three_holes_three_rtts, "tcp_newreno_three_holes_three_rtts" },
	{ tcp_sack_rescue_tail_loss, "tcp_sack_rescue_tail_loss" },
	{ tcp_sack_rescue_tail_timestamps, "tcp_sack_rescue_tail_timestamps" },
	{ tcp_sack_rto_resend_skips_sacked, "tcp_sack_rto_resend_skips_sacked" },
	{ tcp_newreno_rto_resends_what_arrived, "tcp_newreno_rto_resends_what_arrived" },
	{ NULL, NULL },
};
