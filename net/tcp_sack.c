// TCP selective acknowledgment: the receiver's SACK blocks (RFC 2018) and
// the sender's scoreboard with conservative SACK-based loss recovery
// (RFC 6675).
//
// Problem: a cumulative ACK only says "everything below X arrived". When
// several segments of one window are lost, NewReno (net/tcp_cc.c) learns
// of one hole per round trip: each partial ACK reveals the next. Three
// holes cost three RTTs, and a hole at the tail of the window, with no
// duplicate ACKs behind it, costs a timeout.
//
// Idea: the receiver reports up to four ranges it holds above the
// cumulative ACK (SACK blocks, built from the reassembly queue); the
// sender keeps them in a scoreboard, a sorted array of SACKed ranges of
// its send space. From it RFC 6675 derives everything: IsLost (a hole
// with DupThresh SACKed ranges, or more than (DupThresh-1)*SMSS SACKed
// bytes, above it is lost), pipe (the bytes believed in the network:
// unSACKed and not lost, plus what was retransmitted) and NextSeg (which
// range to send next: a lost hole, new data, any hole below the highest
// SACK, and once per recovery a "rescue" of the highest unSACKed
// segment). In recovery, each ACK lets the sender send while
// cwnd - pipe >= SMSS: all holes of a window are repaired in one RTT.
//
// The scoreboard holds ranges, not holes; a hole is the gap between two
// ranges (or snd_una and the first, or the last and snd_max). Because
// IsLost only grows as sequence numbers fall, the lost holes are all
// those below one point, "lostend" (sack_lostend): one pass from the top.
//
// Invariants:
//   I1 sb_blk[0..sb_n) is sorted, disjoint, never adjacent (merged), and
//      lies in (snd_una, snd_max]: no range starts at snd_una (the
//      receiver would have ACKed it), so the first hole is never empty.
//   I2 TF_SACKRECOVERY implies TF_INRECOVERY and tcp_sack_on; then
//      snd_una <= sb_highrxt and snd_recover is RFC 6675's RecoveryPoint
//      (as a pointer one past the octet: "ACK > RecoveryPoint" is
//      ack >= snd_recover).
//   I3 In SACK recovery data leaves only through tcp_sack_send
//      (tcp_output sends no data then: tcp_output_len), so pipe counts
//      every byte sent.
//   I4 The receiver's history t_sackhist holds at most TCP_SACK_HIST
//      sequence numbers, newest first, none inside the same block as a
//      newer one when it was added.
//
// Locking: [o] only: the scoreboard, the history and the recovery state
// belong to the tcpcb's owning netisr. Races: none (single owner); the
// pcblist sysctl reads only t_flags ([r] for it: a stale "sack" flag).
//
// Life of a loss (sender): ACK with SACK blocks -> tcp_input_ack ->
// tcp_sack_update (trim at the ACK, merge the blocks, count lost bytes)
// -> tcp_sack_dupack (DupAcks, IsLost(snd_una)) -> tcp_sack_enter (cwnd =
// ssthresh = FlightSize/2, retransmit snd_una) -> tcp_sack_send (NextSeg
// while cwnd - pipe >= SMSS) -> tcp_output_at -> ip_output. Later ACKs:
// tcp_input_newack / tcp_input_ack -> tcp_sack_recovery_ack -> (A) end
// at the recovery point or (C) tcp_sack_send. Timeout: tcp_timer_rexmt ->
// tcp_sack_rto.
// Life of a block (receiver): tcp_input_text -> tcp_reass -> tcp_sack_rcvd
// (history) -> tcp_output -> tcp_addoptions -> tcp_sack_addopt. A
// duplicate segment: tcp_input_sync (unacceptable, old data) or
// tcp_input_trim -> tcp_sack_dsack -> the next ACK's first block is a
// D-SACK (RFC 2883), cleared by tcp_sack_acked when an ACK leaves.
// Limited transmit (RFC 6675 5 (3)): tcp_sack_dupack below DupThresh ->
// tcp_sack_limited -> tcp_output_at (new data while cwnd - pipe >= SMSS).
//
// Testing: make hosttest: tests/host/test_tcp_sack.c (tcp_sack_three_holes
// _one_rtt vs tcp_newreno_three_holes_three_rtts over a wire with 20 ms
// each way, tcp_sack_rescue_tail_loss, tcp_sack_rto_resend_skips_sacked,
// tcp_sack_board_*, tcp_sack_recv_block_order[_timestamps],
// tcp_sack_negotiation); against Linux: test_tcp.py's relay case loss5.
// netstat -s: sack_recovery, sack_rcvblocks, sack_sndblocks,
// sack_rexmitbyte, sack_lostbyte. make bench --only sack.
// gdb: break tcp_sack_enter, tcp_sack_send; print *tp->t_sack.
//
// References: RFC 2018 (2 SACK-permitted, 3 the option, 4 receiver
// behaviour, 5 sender behaviour); RFC 2883 4 (D-SACK); RFC 6675 (2
// definitions, 4 the routines Update/IsLost/SetPipe/NextSeg, 5 the
// algorithm, 5 (3) limited transmit, 5.1 timeouts);
// RFC 5681 3.2 (FlightSize/2); McKusick et al., FreeBSD design, 14.
#include "net/tcp_sack.h"
#include "net/socket.h"

int tcp_do_sack = 1;
NET_SYSCTL_INT_RANGE(tcp_do_sack, "net.inet.tcp.sack", SYSCTL_RW, &tcp_do_sack, 0, 1,
		     "offer SACK-permitted and use RFC 6675 recovery (0: NewReno only)");

// ---- negotiation (the rest: tcp_options_syn, net/tcp_options.c) ---------------------

bool tcp_sack_on(struct tcpcb *tp)
{
	return (tp->t_flags & TF_SACK_PERMIT) && tp->t_sack != NULL;
}

// ---- receiver: blocks from the reassembly queue ---------------------------------

// The next block of the reassembly queue: the entries from *ep that
// touch each other, as [*s, *e). *ep moves past them. false at the end.
static bool sack_rcvblock(struct tcp_reass_ent **ep, tcp_seq *s, tcp_seq *e,
			  tcp_seq *ns, tcp_seq *ne)
{
	// (*ns, *ne) is the range of *ep, kept by the caller between calls.
	while (*ep != NULL && *ns == *ne)   // FIN-only entries hold no data
		*ep = tcp_reass_next(*ep, ns, ne);
	if (*ep == NULL)
		return false;
	*s = *ns;
	*e = *ne;
	while ((*ep = tcp_reass_next(*ep, ns, ne)) != NULL && *ns == *e)
		*e = *ne;
	return true;
}

// The block holding seq, into *b. false if seq is in none.
static bool sack_rcvfind(struct tcpcb *tp, tcp_seq seq, struct tcp_sackblk *b)
{
	tcp_seq ns, ne;
	struct tcp_reass_ent *e = tcp_reass_first(tp, &ns, &ne);
	while (sack_rcvblock(&e, &b->sb_start, &b->sb_end, &ns, &ne)) {
		if (seq_in(seq, b->sb_start, b->sb_end))
			return true;
		if (SEQ_LT(seq, b->sb_start))
			return false;
	}
	return false;
}

// Is seq in the highest block, where the newest remembered segment is
// too? Then the history reports the same blocks in the same order with
// it as with seq (blocks only grow or merge), and stays as it is: the
// usual segment behind a hole extends that block, found without a walk.
static bool sack_rcvsame(struct tcpcb *tp, tcp_seq seq)
{
	tcp_seq s, e;
	return tp->t_nsackhist > 0 && tcp_reass_last(tp, &s, &e) != NULL && seq_in(seq, s, e) &&
	       seq_in(tp->t_sackhist[0], s, e);
}

void tcp_sack_rcvd(struct tcpcb *tp, tcp_seq seq)
{
	struct tcp_sackblk b;
	if (!(tp->t_flags & TF_SACK_PERMIT) || sack_rcvsame(tp, seq))
		return;
	bool in = sack_rcvfind(tp, seq, &b);
	tcp_seq old[TCP_SACK_HIST];
	int n = tp->t_nsackhist, k = 0;
	memcpy(old, tp->t_sackhist, sizeof(old));
	tp->t_sackhist[k++] = seq;
	// I4: keep the older entries that are still queued and in another block.
	for (int i = 0; i < n && k < TCP_SACK_HIST; i++) {
		if (SEQ_LT(old[i], tp->rcv_nxt) || (in && seq_in(old[i], b.sb_start, b.sb_end)))
			continue;
		tp->t_sackhist[k++] = old[i];
	}
	tp->t_nsackhist = (uint8)k;
}

static bool sack_have(const struct tcp_sackblk *blk, int n, const struct tcp_sackblk *b)
{
	for (int i = 0; i < n; i++)
		if (blk[i].sb_start == b->sb_start)
			return true;
	return false;
}

static void put32(uint8 *p, uint32 v)
{
	p[0] = (uint8)(v >> 24), p[1] = (uint8)(v >> 16), p[2] = (uint8)(v >> 8), p[3] = (uint8)v;
}

void tcp_sack_dsack(struct tcpcb *tp, tcp_seq seq, uint32 len)
{
	if (!(tp->t_flags & TF_SACK_PERMIT) || len == 0)
		return;
	tp->t_dsack[0] = seq;
	tp->t_dsack[1] = seq + len;
	tp->t_dsack_on = true;
}

void tcp_sack_acked(struct tcpcb *tp)
{
	tp->t_dsack_on = false;
}

int tcp_sack_addopt(struct tcpcb *tp, uint8 *p, int room)
{
	struct tcp_sackblk blk[4], b;
	int max = (room - 4) / 8, n = 0;
	bool dsack = tp->t_dsack_on && (tp->t_flags & TF_SACK_PERMIT);
	if (!(tp->t_flags & TF_SACK_PERMIT) || (tp->t_reass.tr_head == NULL && !dsack) || max <= 0)
		return 0;
	if (max > 4)
		max = 4;
	// RFC 2883 4: "If the D-SACK block reports a duplicate contiguous
	// sequence from the receiver's data stream, the first SACK block
	// MUST specify the contiguous sequence of duplicate data" -- below
	// the cumulative ACK, which tells the sender it is one.
	if (dsack) {
		blk[n].sb_start = tp->t_dsack[0];
		blk[n++].sb_end = tp->t_dsack[1];
	}
	// RFC 2018 4: "The first SACK block ... MUST specify the contiguous
	// block of data containing the segment which triggered this ACK";
	// then "the most recently reported SACK blocks" -- the history.
	for (int i = 0; i < tp->t_nsackhist && n < max; i++)
		if (sack_rcvfind(tp, tp->t_sackhist[i], &b) && !sack_have(blk, n, &b))
			blk[n++] = b;
	// "as many distinct SACK blocks as possible": the rest, lowest first.
	tcp_seq ns, ne;
	struct tcp_reass_ent *e = tcp_reass_first(tp, &ns, &ne);
	while (n < max && sack_rcvblock(&e, &b.sb_start, &b.sb_end, &ns, &ne))
		if (!sack_have(blk, n, &b))
			blk[n++] = b;
	if (n == 0)
		return 0;
	// RFC 2018 3: kind 5, length 2 + 8n; two NOPs align the blocks.
	p[0] = TCPOPT_NOP, p[1] = TCPOPT_NOP, p[2] = TCPOPT_SACK, p[3] = (uint8)(2 + 8 * n);
	for (int i = 0; i < n; i++) {
		put32(p + 4 + 8 * i, blk[i].sb_start);
		put32(p + 8 + 8 * i, blk[i].sb_end);
	}
	return 4 + 8 * n;
}

// ---- sender: the scoreboard ---------------------------------------------------------

static struct tcp_sackboard *sack_board(struct tcpcb *tp)
{
	if (tp->t_sack == NULL && (tp->t_sack = net_malloc(sizeof(*tp->t_sack))) != NULL) {
		memset(tp->t_sack, 0, sizeof(*tp->t_sack));
		tp->t_sack->sb_lostcount = tp->snd_una;
	}
	return tp->t_sack;
}

void tcp_sack_free(struct tcpcb *tp)
{
	net_free(tp->t_sack);
	tp->t_sack = NULL;
}

// Forget what the cumulative ACK covers (I1).
static void sack_trim(struct tcp_sackboard *sb, tcp_seq ack)
{
	int k = 0;
	while (k < sb->sb_n && SEQ_LEQ(sb->sb_blk[k].sb_end, ack))
		k++;
	memmove(&sb->sb_blk[0], &sb->sb_blk[k], (sb->sb_n - k) * sizeof(sb->sb_blk[0]));
	sb->sb_n -= k;
	if (sb->sb_n > 0 && SEQ_LT(sb->sb_blk[0].sb_start, ack))
		sb->sb_blk[0].sb_start = ack;   // (a receiver acking part of a block)
}

static uint32 overlap(tcp_seq a, tcp_seq b, tcp_seq c, tcp_seq d)
{
	tcp_seq lo = SEQ_MAX(a, c), hi = SEQ_MIN(b, d);
	return SEQ_LT(lo, hi) ? hi - lo : 0;
}

// Merge [s, e) into the board (I1). Returns the bytes that were not
// SACKed before. A block that needs a new range when all are in use is
// dropped (counted): less information only makes the sender more
// conservative.
static uint32 sack_insert(struct tcp_sackboard *sb, tcp_seq s, tcp_seq e)
{
	struct tcp_sackblk *blk = sb->sb_blk;
	int i = 0, j;
	while (i < sb->sb_n && SEQ_LT(blk[i].sb_end, s))
		i++;
	uint32 had = 0;
	tcp_seq ns = s, ne = e;
	for (j = i; j < sb->sb_n && SEQ_LEQ(blk[j].sb_start, e); j++) {
		had += overlap(s, e, blk[j].sb_start, blk[j].sb_end);
		ns = SEQ_MIN(ns, blk[j].sb_start);
		ne = SEQ_MAX(ne, blk[j].sb_end);
	}
	if (j == i) {   // touches nothing: a new range at i
		if (sb->sb_n == TCP_SACK_MAXBLKS) {
			TCPSTAT_INC(tcps_sack_sboverflow);
			return 0;
		}
		memmove(&blk[i + 1], &blk[i], (sb->sb_n - i) * sizeof(blk[0]));
		sb->sb_n++;
	} else {        // ranges i..j-1 become one
		memmove(&blk[i + 1], &blk[j], (sb->sb_n - j) * sizeof(blk[0]));
		sb->sb_n -= j - i - 1;
	}
	blk[i].sb_start = ns;
	blk[i].sb_end = ne;
	return (e - s) - had;
}

// RFC 6675 4 IsLost for every hole at once: the unSACKed octets below the
// returned point are lost, those above it are not. Walking down from the
// highest range, the hole below range k has the ranges k.. above it.
static tcp_seq sack_lostend(struct tcpcb *tp)
{
	struct tcp_sackboard *sb = tp->t_sack;
	uint32 bytes = 0, limit = (TCP_SACK_DUPTHRESH - 1) * tp->t_maxseg;
	for (int k = sb->sb_n - 1, cnt = 1; k >= 0; k--, cnt++) {
		bytes += sb->sb_blk[k].sb_end - sb->sb_blk[k].sb_start;
		// "DupThresh discontiguous SACKed sequences" (ranges) "or more
		// than (DupThresh - 1) * SMSS bytes ... have been SACKed".
		if (cnt >= TCP_SACK_DUPTHRESH || bytes > limit)
			return sb->sb_blk[k].sb_start;
	}
	return tp->snd_una;
}

// Unsacked bytes in [from, to).
static uint32 sack_unsacked(struct tcpcb *tp, tcp_seq from, tcp_seq to)
{
	struct tcp_sackboard *sb = tp->t_sack;
	uint32 n = SEQ_LT(from, to) ? to - from : 0;
	for (int k = 0; k < sb->sb_n; k++)
		n -= overlap(from, to, sb->sb_blk[k].sb_start, sb->sb_blk[k].sb_end);
	return n;
}

// Count the bytes that became lost (netstat -s sack_lostbyte), once each.
static void sack_count_lost(struct tcpcb *tp)
{
	struct tcp_sackboard *sb = tp->t_sack;
	tcp_seq from = SEQ_MAX(sb->sb_lostcount, tp->snd_una), lost = sack_lostend(tp);
	if (SEQ_GT(lost, from)) {
		TCPSTAT_ADD(tcps_sack_lostbyte, sack_unsacked(tp, from, lost));
		sb->sb_lostcount = lost;
	}
}

static uint32 sack_update_board(struct tcpcb *tp, const struct tcpopt *to, tcp_seq ack);

// SACKed bytes on the board.
static uint32 sack_total(const struct tcp_sackboard *sb)
{
	uint32 n = 0;
	for (int k = 0; sb != NULL && k < sb->sb_n; k++)
		n += sb->sb_blk[k].sb_end - sb->sb_blk[k].sb_start;
	return n;
}

uint32 tcp_sack_update(struct tcpcb *tp, const struct tcpopt *to, tcp_seq ack)
{
	if (!(tp->t_flags & TF_SACK_PERMIT))
		return 0;
	uint32 before = sack_total(tp->t_sack);
	uint32 added = sack_update_board(tp, to, ack);
	if (tp->t_sack != NULL) {
		// RFC 6937 2: "DeliveredData = change_in(snd.una) +
		// change_in(SACKd)" (the ACK moves SACKed bytes below snd_una:
		// they count once, when SACKed). snd_una has not moved yet.
		int64 d = (int64)sack_total(tp->t_sack) - before;
		if (SEQ_GT(ack, tp->snd_una))
			d += ack - tp->snd_una;
		tp->t_sack->sb_delivered = d > 0 ? (uint32)d : 0;
	}
	return added;
}

// tcp_sack_update's RFC 6675 Update(): trim at the ACK, merge the blocks.
static uint32 sack_update_board(struct tcpcb *tp, const struct tcpopt *to, tcp_seq ack)
{
	tcp_seq lo = SEQ_MAX(ack, tp->snd_una);
	if (tp->t_sack != NULL)
		sack_trim(tp->t_sack, lo);
	if (!(to->to_flags & TOF_SACK))
		return 0;
	uint32 added = 0;
	for (int i = 0; i < to->to_nsacks; i++) {
		tcp_seq s = to->to_sacks[i][0], e = to->to_sacks[i][1];
		// RFC 2018 5 / RFC 6675 4 Update(): only blocks of data we sent
		// and the ACK has not covered (a D-SACK block below the ACK, a
		// forged or stale one, is ignored).
		if (!SEQ_LT(s, e) || !SEQ_GT(s, lo) || SEQ_GT(e, tp->snd_max)) {
			TCPSTAT_INC(tcps_sack_rcvbad);
			continue;
		}
		TCPSTAT_INC(tcps_sack_rcvblocks);
		if (sack_board(tp) == NULL) {
			TCPSTAT_INC(tcps_drop_nomem);   // NewReno goes on without it
			return 0;
		}
		added += sack_insert(tp->t_sack, s, e);
	}
	if (tp->t_sack != NULL)
		sack_count_lost(tp);
	return added;
}

bool tcp_sack_islost(struct tcpcb *tp, tcp_seq seq)
{
	struct tcp_sackboard *sb = tp->t_sack;
	if (sb == NULL)
		return false;
	for (int k = 0; k < sb->sb_n; k++)
		if (seq_in(seq, sb->sb_blk[k].sb_start, sb->sb_blk[k].sb_end))
			return false;   // it arrived
	return SEQ_LT(seq, sack_lostend(tp));
}

// The k-th hole [*hs, *he): below range k (k == sb_n: above the last,
// up to snd_max). Empty if *hs == *he.
static void sack_hole(struct tcpcb *tp, int k, tcp_seq *hs, tcp_seq *he)
{
	struct tcp_sackboard *sb = tp->t_sack;
	*hs = k == 0 ? tp->snd_una : sb->sb_blk[k - 1].sb_end;
	*he = k == sb->sb_n ? tp->snd_max : sb->sb_blk[k].sb_start;
}

uint32 tcp_sack_pipe(struct tcpcb *tp)
{
	struct tcp_sackboard *sb = tp->t_sack;
	if (sb == NULL)
		return tp->snd_max - tp->snd_una;
	tcp_seq lost = sack_lostend(tp), hs, he;
	tcp_seq rxt = (tp->t_flags & TF_SACKRECOVERY) ? sb->sb_highrxt : tp->snd_una;
	uint32 pipe = 0;
	// RFC 6675 4 SetPipe(): for each unSACKed octet, "(a) If IsLost (S1)
	// returns false: Pipe is incremented by 1 octet. (b) If S1 <=
	// HighRxt: Pipe is incremented by 1 octet." Whole holes at a time: a
	// hole lies entirely below lostend or entirely above it.
	for (int k = 0; k <= sb->sb_n; k++) {
		sack_hole(tp, k, &hs, &he);
		if (!SEQ_LT(hs, he))
			continue;
		if (SEQ_GEQ(hs, lost))
			pipe += he - hs;
		pipe += overlap(hs, he, tp->snd_una, rxt);
	}
	return pipe;
}

// The first unSACKed range at or above from: [*hs, *he). false if none.
static bool sack_hole_from(struct tcpcb *tp, tcp_seq from, tcp_seq *hs, tcp_seq *he)
{
	for (int k = 0; k <= tp->t_sack->sb_n; k++) {
		sack_hole(tp, k, hs, he);
		if (SEQ_LT(*hs, from))
			*hs = from;
		if (SEQ_LT(*hs, *he))
			return true;
	}
	return false;
}

// RFC 6675 4 NextSeg() rule (4): the segment ending at the highest
// unSACKed octet. false if nothing is outstanding -- or (our reading) if
// that octet was retransmitted in this recovery already (below HighRxt):
// the rescue exists for a tail loss no SACK can reveal, not to repeat a
// retransmission still in flight.
static bool sack_rescue_range(struct tcpcb *tp, tcp_seq *seq, uint32 *len)
{
	struct tcp_sackboard *sb = tp->t_sack;
	tcp_seq hs, he;
	sack_hole(tp, sb->sb_n, &hs, &he);      // above the highest range
	if (!SEQ_LT(hs, he) && sb->sb_n > 0)    // empty: the one below it
		sack_hole(tp, sb->sb_n - 1, &hs, &he);
	hs = SEQ_MAX(hs, sb->sb_highrxt);
	if (!SEQ_LT(hs, he))
		return false;
	*len = MIN(he - hs, tcp_smss(tp));   // one segment that ends at he
	*seq = he - *len;
	return true;
}

int tcp_sack_nextseg(struct tcpcb *tp, tcp_seq *seq, uint32 *len)
{
	struct tcp_sackboard *sb = tp->t_sack;
	uint32 mss = tp->t_maxseg;
	tcp_seq hs, he;
	tcp_seq highsack = sb->sb_n > 0 ? sb->sb_blk[sb->sb_n - 1].sb_end : tp->snd_una;
	bool hole = sack_hole_from(tp, SEQ_MAX(sb->sb_highrxt, tp->snd_una), &hs, &he) &&
		    SEQ_LT(hs, highsack);
	// (1) the smallest unSACKed S2 > HighRxt, below the highest SACKed
	// octet, with IsLost(S2): one segment of it (never into SACKed data).
	if (hole && SEQ_LT(hs, sack_lostend(tp))) {
		*seq = hs, *len = MIN(he - hs, mss);
		return 1;
	}
	// (2) "available unsent data and the receiver's advertised window allows".
	uint32 sbcc = __atomic_load_n(&tp->t_socket->so_snd.sb_cc, __ATOMIC_RELAXED);
	tcp_seq dend = tp->snd_una + sbcc, wend = tp->snd_una + tp->snd_wnd;
	if (SEQ_LT(tp->snd_max, dend) && SEQ_LT(tp->snd_max, wend)) {
		*seq = tp->snd_max;
		*len = MIN(mss, SEQ_MIN(dend, wend) - tp->snd_max);
		return 2;
	}
	// (3) any unSACKed S3 > HighRxt below the highest SACKed octet.
	if (hole) {
		*seq = hs, *len = MIN(he - hs, mss);
		return 3;
	}
	// (4) the rescue: once per recovery (RescueRxt is set on entry, 4.3,
	// so only after the first retransmission has been acknowledged).
	if (!sb->sb_rescue_set || SEQ_GT(tp->snd_una, sb->sb_rescuerxt))
		return sack_rescue_range(tp, seq, len) ? 4 : 0;
	return 0;
}

// ---- sender: recovery -----------------------------------------------------------------

// RFC 6675 5 (C): send while cwnd - pipe >= SMSS, what NextSeg says.
// With PRR (net/tcp_prr.c) pipe may grow to pipe + sndcnt instead.
static void tcp_sack_send(struct tcpcb *tp)
{
	struct tcp_sackboard *sb = tp->t_sack;
	uint32 pipe = tcp_sack_pipe(tp), mss = tp->t_maxseg;
	uint32 wnd = tcp_prr_window(tp, pipe);
	for (int i = 0; i < 4096 && wnd >= pipe + mss; i++) {   // (C.5)
		tcp_seq seq;
		uint32 len;
		int rule = tcp_sack_nextseg(tp, &seq, &len);   // (C.1)
		if (rule == 0)
			break;
		int sent = tcp_output_at(tp, seq, len);
		if (sent <= 0)
			break;
		if (rule == 4) {
			// "RescueRxt set to RecoveryPoint. HighRxt MUST NOT be updated."
			sb->sb_rescuerxt = tp->snd_recover;
			sb->sb_rescue_set = true;
			TCPSTAT_INC(tcps_sack_rescue);
		} else if (rule != 2) {
			sb->sb_highrxt = seq + (uint32)sent;   // (C.2)
		}
		if (rule != 2)
			TCPSTAT_ADD(tcps_sack_rexmitbyte, (uint32)sent);
		pipe += (uint32)sent;                      // (C.4)
		tcp_prr_sent(tp, (uint32)sent);
	}
}

// RFC 6675 5 step (4): fast retransmit and enter loss recovery.
// delivered: DeliveredData of the ACK that triggers it (0: a timer).
static void tcp_sack_enter(struct tcpcb *tp, uint32 delivered)
{
	struct tcp_sackboard *sb = tp->t_sack;
	tcp_seq hs, he;
	TCPSTAT_INC(tcps_sack_recovery);
	tcp_cc_recovery_start(tp);     // (4.1) RecoveryPoint = HighData; (4.2) ssthresh
	tp->snd_cwnd = tp->snd_ssthresh;   // (4.2) "ssthresh = cwnd = (FlightSize / 2)"
	tp->t_flags |= TF_SACKRECOVERY;
	tcp_prr_start(tp, delivered);   // RFC 6937 (net/tcp_prr.c)
	// (4.3) "Retransmit the first data segment presumed dropped": the
	// one at snd_una (never SACKed, I1), up to the first SACKed range.
	sack_hole(tp, 0, &hs, &he);
	sb->sb_highrxt = tp->snd_una;
	tcp_timer_set(tp, TCPT_REXMT, 0);   // restarted by the send (RFC 6298 5.3)
	int sent = tcp_output_at(tp, hs, MIN(he - hs, tp->t_maxseg));
	if (sent > 0) {
		sb->sb_highrxt = hs + (uint32)sent;
		TCPSTAT_ADD(tcps_sack_rexmitbyte, (uint32)sent);
		tcp_prr_sent(tp, (uint32)sent);
	}
	tcp_rexmt_arm(tp);
	// "set both HighRxt and RescueRxt to the highest sequence number in
	// the retransmitted segment".
	sb->sb_rescuerxt = sb->sb_highrxt;
	sb->sb_rescue_set = true;
	tcp_sack_send(tp);   // (4.4) SetPipe, (4.5) step (C)
	tcp_tlp_recovery_arm(tp);   // watch the retransmission (net/tcp_tlp.c)
}

// RFC 6675 5 step (3), limited transmit: "If (cwnd - pipe) >= 1 SMSS,
// there exists previously unsent data, and the receiver's advertised
// window allows, transmit up to 1 SMSS of data starting with the octet
// HighData+1", again while it holds. SACKed segments leave pipe, so
// each ACK that SACKs one lets one new segment go: with a small cwnd,
// these are what bring DupThresh SACKed segments above a hole.
static void tcp_sack_limited(struct tcpcb *tp)
{
	uint32 pipe = tcp_sack_pipe(tp), mss = tp->t_maxseg;
	for (int i = 0; i < 64 && tp->snd_cwnd >= pipe + mss; i++) {
		uint32 sbcc = __atomic_load_n(&tp->t_socket->so_snd.sb_cc, __ATOMIC_RELAXED);
		tcp_seq dend = tp->snd_una + sbcc, wend = tp->snd_una + tp->snd_wnd;
		if (!SEQ_LT(tp->snd_max, dend) || !SEQ_LT(tp->snd_max, wend))
			return;
		int sent = tcp_output_at(tp, tp->snd_max, MIN(mss, SEQ_MIN(dend, wend) - tp->snd_max));
		if (sent <= 0)
			return;
		TCPSTAT_INC(tcps_sack_limited);
		pipe += (uint32)sent;
	}
}

// RFC 6675 5.1: after a timeout "a new recovery phase ... MUST NOT be
// initiated until HighACK is greater than or equal to the new value of
// RecoveryPoint".
static bool tcp_sack_may_enter(struct tcpcb *tp)
{
	return !SEQ_LT(tp->snd_una, tp->snd_recover);
}

void tcp_sack_dupack(struct tcpcb *tp)
{
	tp->t_dupacks++;
	if (!tcp_sack_may_enter(tp))
		return;
	// Step (1): DupAcks >= DupThresh; step (2): IsLost(HighACK + 1);
	// or a tail loss probe was SACKed above the hole (net/tcp_tlp.c).
	if (tp->t_dupacks >= TCP_SACK_DUPTHRESH || tcp_sack_islost(tp, tp->snd_una) ||
	    tcp_tlp_marks_lost(tp))
		tcp_sack_enter(tp, tp->t_sack->sb_delivered);
	else
		tcp_sack_limited(tp);   // step (3)
}

bool tcp_sack_enter_lost(struct tcpcb *tp)
{
	if (!tcp_sack_on(tp) || (tp->t_flags & TF_INRECOVERY) || tp->t_sack->sb_n == 0 ||
	    !tcp_sack_may_enter(tp))
		return false;
	tcp_sack_enter(tp, 0);
	return true;
}

void tcp_sack_recovery_ack(struct tcpcb *tp)
{
	if (SEQ_GEQ(tp->snd_una, tp->snd_recover)) {
		// (A) "An incoming cumulative ACK for a sequence number greater
		// than RecoveryPoint signals the end of loss recovery". cwnd
		// stays at ssthresh (set on entry, never inflated).
		tp->t_flags &= ~(TF_INRECOVERY | TF_SACKRECOVERY);
		tp->t_dupacks = 0;
		tcp_prr_end(tp);
		return;
	}
	tcp_prr_ack(tp);
	tcp_sack_send(tp);   // (B) was tcp_sack_update; (C)
}

void tcp_sack_rto(struct tcpcb *tp)
{
	// RFC 6675 5.1: expunge the SACK information "since the timeout might
	// indicate that the data receiver has reneged"; recovery ends (the
	// caller, tcp_cc_rto, set RecoveryPoint = HighData).
	tp->t_flags &= ~TF_SACKRECOVERY;
	tcp_prr_end(tp);
	if (tp->t_sack != NULL) {
		tp->t_sack->sb_n = 0;
		tp->t_sack->sb_lostcount = tp->snd_max;
	}
}

uint32 tcp_sack_skip(struct tcpcb *tp)
{
	struct tcp_sackboard *sb = tp->t_sack;
	if (sb == NULL || !(tp->t_flags & TF_SACK_PERMIT))
		return TCP_SACK_NOLIMIT;
	// RFC 6675 5.1: after a timeout, "a TCP sender SHOULD use this SACK
	// information when determining what data should be sent": go-back-N
	// steps over what the receiver holds.
	for (int k = 0; k < sb->sb_n; k++) {
		if (seq_in(tp->snd_nxt, sb->sb_blk[k].sb_start, sb->sb_blk[k].sb_end))
			tp->snd_nxt = sb->sb_blk[k].sb_end;
		else if (SEQ_LT(tp->snd_nxt, sb->sb_blk[k].sb_start))
			return sb->sb_blk[k].sb_start - tp->snd_nxt;
	}
	return TCP_SACK_NOLIMIT;
}
