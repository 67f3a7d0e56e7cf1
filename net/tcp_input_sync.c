// TCP input, second half: segment processing in SYN_RECEIVED and every
// synchronized state, step by step as RFC 9293 3.10.7.4 orders it:
// sequence check, RST, SYN, ACK, text, FIN.
//
// Problem: this is where a connection's correctness lives: which
// segments are acceptable, which resets are believed, what an ACK frees
// and how the window moves, what data is delivered in order, when a FIN
// changes the state. BSD does it in one function of 1,500 lines; a
// student cannot step through that.
//
// Idea: one function per RFC step, called in the RFC's order by
// tcp_input_sync, each returning whether processing goes on. The
// segment (struct tcp_seg) is passed explicitly; the only shared state
// is the tcpcb. Congestion control (net/tcp_cc.c), reassembly
// (net/tcp_reass.c) and output decisions are called, not inlined.
//
// Invariants:
//   I1 rcv_nxt only moves forward, by data delivered in order (or a FIN).
//   I2 snd_una only moves forward; what it passes is dropped from so_snd.
//   I3 A step that frees the tcpcb (tcp_close/tcp_drop) returns false and
//      nothing after it touches tp.
//
// Locking: [o] only; so_snd.sb_lock to drop acknowledged data,
// so_rcv.sb_lock to append (tcp_deliver).
//
// Races: none between netisrs (single owner). "Reader vs append": the
// reader holds so_rcv.sb_lock to copy, we hold it to append.
//
// Life of a data segment: tcp_input -> tcp_input_demux -> tcp_input_sync
// -> tcp_seq_acceptable -> tcp_input_ack -> tcp_input_text -> (in order)
// tcp_deliver -> sbappendstream -> reader wakes; ACK: delayed
// (TCPT_DELACK) or at the end of the batch (tcp_ack_later -> rollup).
//
// Testing: make hosttest (tcp_rst_in_window, tcp_half_close, tcp_ack_batch_*,
// tcp_simultaneous_close, tcp_reass_fills_hole, tcp_delayed_ack,
// tcp_fast_retransmit_3dupacks, tcp_sndwnd_right_edge_kept_in_limited_transmit).
// gdb: break tcp_input_ack.
//
// References: RFC 9293 3.10.7.4 (every step), 3.4 (acceptability test,
// Table 6), 3.8.6 (window updates: SND.WL1/WL2); RFC 5961 3.2, 4.2 and
// 5.2 (challenge ACKs for an in-window RST, a SYN, an unacceptable ACK:
// net/tcp_challenge.c); RFC 1122 4.2.3.2
// (delayed ACK), 4.2.2.13 (data after close: RST); RFC 5681 2 (the
// duplicate-ACK definition), 4.2 (immediate ACKs for out-of-order data);
// RFC 6675 2, 5 (with SACK: the duplicate ACK is one with new SACK
// information; net/tcp_sack.c).
#include "net/tcp_var.h"
#include "net/tcp_sack.h"
#include "net/in_pcb.h"
#include "net/socket.h"
#include "net/byteorder.h"

void tcp_established(struct tcpcb *tp)
{
	tcp_cc_init(tp);   // the MSS is known now (RFC 6928 uses it)
	tp->t_rcvtime = net_now_ms();
	tcp_timer_set(tp, TCPT_KEEP, tcp_keepidle_ms);
	TCPSTAT_INC(tcps_connects);
	if (tp->t_flags & TF_PASSIVE)
		TCPSTAT_INC(tcps_accepts);
	soisconnected(tp->t_socket);   // wakes connect, or queues for accept
}

void tcp_deliver(struct tcpcb *tp, struct mbuf *m, uint32 nsegs)
{
	struct sockbuf *sb = &tp->t_socket->so_rcv;
	TCPSTAT_ADD(tcps_rcvpack, nsegs);
	TCPSTAT_ADD(tcps_rcvbyte, m_length(m));
	sbrcv_lock(sb, SBRCV_NETISR);
	sbappendstream(sb, m);
	net_lock_release(&sb->sb_lock);
	tp->t_flags |= TF_WAKEREADER;   // the reader wakes at the end of the batch
	tcp_rollup_add(tp);
}

// Segment length in sequence space (data + SYN + FIN).
static uint32 tcp_seglen(const struct tcp_seg *sg)
{
	return sg->sg_len + ((sg->sg_flags & TH_SYN) ? 1 : 0) + ((sg->sg_flags & TH_FIN) ? 1 : 0);
}

// RFC 9293 3.10.7.4 "first, check sequence number" (Table 6).
static bool tcp_seq_acceptable(struct tcpcb *tp, const struct tcp_seg *sg)
{
	uint32 len = tcp_seglen(sg);
	uint32 wnd = SEQ_GT(tp->rcv_adv, tp->rcv_nxt) ? tp->rcv_adv - tp->rcv_nxt : 0;
	tcp_seq seq = sg->sg_seq;
	if (len == 0 && wnd == 0)
		return seq == tp->rcv_nxt;
	if (len == 0)
		return seq_in(seq, tp->rcv_nxt, tp->rcv_nxt + wnd);
	if (wnd == 0)
		// "If the RCV.WND is zero, no segments will be acceptable, but
		// special allowance should be made to accept valid ACKs, URGs,
		// and RSTs": a probe at RCV.NXT is taken and its text trimmed.
		return seq == tp->rcv_nxt;
	return seq_in(seq, tp->rcv_nxt, tp->rcv_nxt + wnd) ||
	       seq_in(seq + len - 1, tp->rcv_nxt, tp->rcv_nxt + wnd);
}

// "second, check the RST bit" (with RFC 5961 3.2). Consumes the segment;
// returns false (processing always ends here).
static bool tcp_input_rst(struct tcpcb *tp, struct tcp_seg *sg)
{
	m_freem(sg->sg_m);
	if (sg->sg_seq != tp->rcv_nxt) {
		// "If the RST bit is set and the sequence number does not
		// exactly match the next expected sequence value, yet is within
		// the current receive window, TCP endpoints MUST send an
		// acknowledgment (challenge ACK)".
		TCPSTAT_INC(tcps_rstchallenge);
		tcp_challenge_ack(tp);
		return false;
	}
	TCPSTAT_INC(tcps_rstrcvd);
	switch (tp->t_state) {
	case TCPS_SYN_RECEIVED:
		// Passive: "return this connection to LISTEN state" -- the
		// listener never left it; this child simply goes. Active
		// (simultaneous open): "connection refused".
		tcp_drop_quiet(tp, (tp->t_flags & TF_PASSIVE) ? 0 : -ECONNREFUSED);
		break;
	case TCPS_ESTABLISHED:
	case TCPS_FIN_WAIT_1:
	case TCPS_FIN_WAIT_2:
	case TCPS_CLOSE_WAIT:
		// "any outstanding RECEIVEs and SEND should receive 'reset'
		// responses ... enter the CLOSED state, delete the TCB".
		tcp_drop_quiet(tp, -ECONNRESET);
		break;
	default:   // CLOSING, LAST_ACK, TIME_WAIT: "enter CLOSED, delete TCB"
		tcp_close(tp);
		break;
	}
	return false;
}

// "fourth, check the SYN bit" in a synchronized state -- checked before
// the sequence number, as RFC 5961 4.2 asks: "If the SYN bit is set,
// irrespective of the sequence number, TCP MUST send an ACK (also
// referred to as challenge ACK) to the remote peer". A peer that really
// restarted answers it with a RST at exactly RCV.NXT (3.2), which ends
// us. Exception: in SYN_RECEIVED, the peer's SYN again (its SYN,ACK was
// lost) gets our SYN,ACK again. Consumes; returns false.
static bool tcp_input_syn(struct tcpcb *tp, struct tcp_seg *sg)
{
	m_freem(sg->sg_m);
	TCPSTAT_INC(tcps_drop_badsyn);
	if (tp->t_state == TCPS_SYN_RECEIVED && sg->sg_seq == tp->irs) {
		tp->snd_nxt = tp->iss;   // resend SYN,ACK
		tcp_output(tp);
		return false;
	}
	TCPSTAT_INC(tcps_synchallenge);
	tcp_challenge_ack(tp);
	return false;
}

// SYN_RECEIVED -> ESTABLISHED: "If SND.UNA < SEG.ACK =< SND.NXT, then
// enter ESTABLISHED state and continue processing ... If the segment
// acknowledgment is not acceptable, form a reset segment
// <SEQ=SEG.ACK><CTL=RST>". Returns false if the segment was consumed.
static bool tcp_input_synrcvd_ack(struct tcpcb *tp, struct tcp_seg *sg)
{
	if (!SEQ_GT(sg->sg_ack, tp->snd_una) || SEQ_GT(sg->sg_ack, tp->snd_max)) {
		TCPSTAT_INC(tcps_drop_badack);
		tcp_reset_for(sg);
		m_freem(sg->sg_m);
		return false;
	}
	tp->snd_wnd = sg->sg_win;
	tp->snd_wl1 = sg->sg_seq;
	tp->snd_wl2 = sg->sg_ack;
	tcp_rto_after_handshake(tp);   // (an RTT sample may still follow: tcp_input_newack)
	tcp_setstate(tp, TCPS_ESTABLISHED);
	tcp_established(tp);
	return true;
}

// Update the send window from an acceptable ACK (RFC 9293 3.10.7.4:
// "If SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK),
// set SND.WND <- SEG.WND, set SND.WL1 <- SEG.SEQ, and set SND.WL2 <- SEG.ACK").
static void tcp_input_window(struct tcpcb *tp, const struct tcp_seg *sg)
{
	if (!(SEQ_LT(tp->snd_wl1, sg->sg_seq) ||
	      (tp->snd_wl1 == sg->sg_seq && SEQ_LEQ(tp->snd_wl2, sg->sg_ack))))
		return;
	if (sg->sg_win != tp->snd_wnd && sg->sg_len == 0 && sg->sg_ack == tp->snd_wl2)
		TCPSTAT_INC(tcps_rcvwinupd);
	bool opened = tp->snd_wnd == 0 && sg->sg_win > 0;
	tp->snd_wnd = sg->sg_win;
	if (tp->snd_wnd > tp->t_maxsndwnd)
		tp->t_maxsndwnd = tp->snd_wnd;
	tp->snd_wl1 = sg->sg_seq;
	tp->snd_wl2 = sg->sg_ack;
	if (opened) {
		tcp_timer_set(tp, TCPT_PERSIST, 0);   // the window opened: no more probes
		tp->t_persist_shift = 0;
		if (SEQ_GT(tp->snd_nxt, tp->snd_una) && !tcp_timer_active(tp, TCPT_REXMT))
			tcp_rexmt_arm(tp);   // a probe byte is outstanding
	}
}

// RFC 5681 2: a duplicate ACK acknowledges nothing new, carries no data,
// SYN or FIN, does not change the window ("the advertised window in the
// incoming acknowledgment equals the advertised window in the last
// incoming acknowledgment": oldwnd, SND.WND before this segment), and
// data is outstanding.
static bool tcp_is_dupack(struct tcpcb *tp, const struct tcp_seg *sg, uint32 oldwnd)
{
	return sg->sg_ack == tp->snd_una && sg->sg_len == 0 &&
	       !(sg->sg_flags & (TH_SYN | TH_FIN)) && sg->sg_win == oldwnd &&
	       tp->snd_max != tp->snd_una;
}

// An ACK that acknowledges nothing new. With SACK (RFC 6675 2) it is a
// duplicate if it SACKs new data (sacked > 0); without, RFC 5681 2 says.
// oldwnd: SND.WND before this segment (tcp_is_dupack).
static void tcp_input_dupack(struct tcpcb *tp, const struct tcp_seg *sg, uint32 sacked,
			     uint32 oldwnd)
{
	bool newreno_rec = (tp->t_flags & TF_INRECOVERY) && !(tp->t_flags & TF_SACKRECOVERY);
	if (tcp_sack_on(tp) && (sg->sg_opt.to_flags & TOF_SACK) && !newreno_rec) {
		if (sacked == 0)
			return;   // nothing new: not a duplicate, DupAcks stays
		TCPSTAT_INC(tcps_rcvdupack);
		if (tp->t_flags & TF_SACKRECOVERY)
			tcp_sack_recovery_ack(tp);   // RFC 6675 5 (B), (C)
		else
			tcp_sack_dupack(tp);
	} else if (tcp_is_dupack(tp, sg, oldwnd) && !(tp->t_flags & TF_SACKRECOVERY)) {
		tcp_cc_dupack(tp);
	} else if (!(tp->t_flags & TF_INRECOVERY)) {
		tp->t_dupacks = 0;
	}
}

// New data acknowledged: drop it from so_snd, take an RTT sample, move
// the timers and the congestion window. acked: sequence space acked.
static void tcp_input_newack(struct tcpcb *tp, tcp_seq ack, uint32 acked)
{
	struct socket *so = tp->t_socket;
	uint32 data = acked;
	if (tp->snd_una == tp->iss)
		data--;   // our SYN
	bool finacked = (tp->t_flags & TF_SENTFIN) && SEQ_GEQ(ack, tp->snd_max);
	if (finacked)
		data--;   // our FIN
	TCPSTAT_INC(tcps_rcvackpack);
	TCPSTAT_ADD(tcps_rcvackbyte, data);
	// RFC 6298 3 (Karn): only a segment sent once gives an RTT sample.
	if (tp->t_rtttime != 0 && SEQ_GT(ack, tp->t_rtseq)) {
		tcp_rtt_update(tp, (int)(net_now_ms() - (tp->t_rtttime & ~1ull)));
		tp->t_rtttime = 0;
	}
	tp->t_rxtshift = 0;
	tp->t_softerror = 0;   // the path works: an old ICMP error no longer explains anything
	net_lock_acquire(&so->so_snd.sb_lock);
	sbdrop(&so->so_snd, MIN(data, so->so_snd.sb_cc));   // I2
	if (sbspace(&so->so_snd) >= so->so_snd.sb_lowat)
		sbwakeup(&so->so_snd);   // a writer has room now
	net_lock_release(&so->so_snd.sb_lock);
	tp->snd_una = ack;
	if (SEQ_LT(tp->snd_nxt, tp->snd_una))
		tp->snd_nxt = tp->snd_una;
	// RFC 6298 5.2: "When all outstanding data has been acknowledged,
	// turn off the retransmission timer." 5.3: "When an ACK is received
	// that acknowledges new data, restart the retransmission timer".
	tcp_timer_set(tp, TCPT_REXMT, 0);
	if (tp->snd_una != tp->snd_max)
		tcp_rexmt_arm(tp);
	if (tp->t_flags & TF_SACKRECOVERY)
		tcp_sack_recovery_ack(tp);   // RFC 6675 5 (A) or (C)
	else if (!(tp->t_flags & TF_INRECOVERY) || !tcp_cc_recovery_ack(tp, ack, data))
		if (data > 0 && !(tp->t_flags & TF_INRECOVERY))
			tcp_cc_ack(tp, data);
	tcp_tlp_newack(tp);   // RFC 8985 7.2: restart the PTO (or stop it)
	if (finacked) {
		__atomic_or_fetch(&so->so_state, SS_SNDDONE, __ATOMIC_ACQ_REL);
		net_lock_acquire(&so->so_snd.sb_lock);
		sbwakeup(&so->so_snd);   // SO_LINGER waits for this
		net_lock_release(&so->so_snd.sb_lock);
	}
}

// The state changes an ACK of our FIN causes (RFC 9293 3.10.7.4 fifth,
// per state). Returns false if the tcpcb is gone.
static bool tcp_input_finacked(struct tcpcb *tp)
{
	switch (tp->t_state) {
	case TCPS_FIN_WAIT_1:
		// "if the FIN segment is now acknowledged, then enter FIN-WAIT-2"
		tcp_setstate(tp, TCPS_FIN_WAIT_2);
		if (tp->t_flags & TF_NOFDREF)
			tcp_timer_set(tp, TCPT_2MSL, tcp_fin_wait_2_ms);
		return true;
	case TCPS_CLOSING:
		// "if the ACK acknowledges our FIN, then enter the TIME-WAIT state"
		tcp_timewait_start(tp);
		return true;
	case TCPS_LAST_ACK:
		// "If our FIN is now acknowledged, delete the TCB, enter CLOSED"
		tcp_close(tp);
		return false;
	default:
		return true;
	}
}

// Is SEG.ACK within [SND.UNA - MAX.SND.WND, SND.NXT]? Else a challenge
// ACK answers it and the segment is dropped (consumed): false.
static bool tcp_ack_acceptable(struct tcpcb *tp, struct tcp_seg *sg)
{
	if (SEQ_GT(sg->sg_ack, tp->snd_max)) {
		// "If the ACK acks something not yet sent (SEG.ACK > SND.NXT),
		// then send an ACK, drop the segment, and return."
		TCPSTAT_INC(tcps_rcvacktoomuch);
	} else if (SEQ_LT(sg->sg_ack, tp->snd_una - tp->t_maxsndwnd)) {
		// RFC 5961 5.2: "The ACK value is considered acceptable only
		// if it is in the range of ((SND.UNA - MAX.SND.WND) =< SEG.ACK
		// =< SND.NXT). All incoming segments whose ACK value doesn't
		// satisfy the above condition MUST be discarded and an ACK
		// sent back." Blindly injected data must now guess the ACK too.
		TCPSTAT_INC(tcps_rcvackold);
	} else {
		return true;
	}
	tcp_challenge_ack(tp);
	m_freem(sg->sg_m);
	return false;
}

// "fifth, check the ACK field". Returns false if processing ends.
static bool tcp_input_ack(struct tcpcb *tp, struct tcp_seg *sg, bool *output)
{
	if (!(sg->sg_flags & TH_ACK)) {
		// "if the ACK bit is off, drop the segment and return"
		TCPSTAT_INC(tcps_drop_noack);
		m_freem(sg->sg_m);
		return false;
	}
	if (tp->t_state == TCPS_SYN_RECEIVED && !tcp_input_synrcvd_ack(tp, sg))
		return false;
	if (!tcp_ack_acceptable(tp, sg))
		return false;
	tcp_seq ack = sg->sg_ack;
	// The window first: everything below may send at once (limited
	// transmit, fast retransmit, a NewReno partial ACK, NextSeg in SACK
	// recovery, a loss probe), and each bounds what it sends by
	// snd_una + snd_wnd. With the new SND.UNA but the previous SND.WND,
	// that edge lies past the peer's when its window shrank as SND.UNA
	// moved (a receiver whose reader lags keeps SEG.ACK + SEG.WND put):
	// those segments would be dropped as beyond the window (RFC 9293
	// 3.8.6). Only the duplicate-ACK test wants the previous window.
	uint32 oldwnd = tp->snd_wnd;
	if (SEQ_LEQ(ack, tp->snd_max))
		tcp_input_window(tp, sg);
	if (tp->snd_wnd > oldwnd)
		*output = true;
	// RFC 6675 5: "Upon the receipt of any ACK containing SACK
	// information, the scoreboard MUST be updated via the Update () routine".
	uint32 sacked = tcp_sack_update(tp, &sg->sg_opt, ack);
	tcp_tlp_ack(tp, sg, sacked);   // RFC 8985 7.4: the probe's outcome
	if (SEQ_LEQ(ack, tp->snd_una)) {
		// "If the ACK is a duplicate (SEG.ACK =< SND.UNA), it can be
		// ignored" -- except for counting (RFC 5681 3.2, RFC 6675 5).
		tcp_input_dupack(tp, sg, sacked, oldwnd);
	} else {
		bool finacked = (tp->t_flags & TF_SENTFIN) && SEQ_GEQ(ack, tp->snd_max);
		if (tcp_ts_rtt(tp, sg))
			tp->t_rtttime = 0;   // RFC 7323 4.1 replaces the timed segment
		tcp_input_newack(tp, ack, ack - tp->snd_una);
		*output = true;
		if (finacked && !tcp_input_finacked(tp)) {
			m_freem(sg->sg_m);   // LAST_ACK: the connection is gone
			return false;
		}
		// RFC 6675 2: an ACK that SACKs new data counts as a duplicate
		// "even if it ... moves the cumulative acknowledgment point".
		if (sacked > 0 && tcp_sack_on(tp) && !(tp->t_flags & TF_INRECOVERY))
			tcp_sack_dupack(tp);
	}
	return true;
}

// Refuse data nobody will read (RFC 1122 4.2.2.13). Returns false if
// the connection was reset.
static bool tcp_input_afterclose(struct tcpcb *tp, struct tcp_seg *sg)
{
	if (sg->sg_len == 0 || !(tp->t_flags & TF_NOFDREF))
		return true;
	TCPSTAT_INC(tcps_rcvafterclose);
	m_freem(sg->sg_m);
	tcp_drop(tp, 0);
	return false;
}

// Trim the segment's text to [rcv_nxt, the window end). Returns the
// data chain (headers removed) or NULL; updates seq/len/flags in sg.
static struct mbuf *tcp_input_trim(struct tcpcb *tp, struct tcp_seg *sg)
{
	struct mbuf *m = sg->sg_m;
	sg->sg_m = NULL;
	m_adj(m, sg->sg_hdroff);
	if (SEQ_LT(sg->sg_seq, tp->rcv_nxt)) {
		uint32 dup = tp->rcv_nxt - sg->sg_seq;
		if (dup >= sg->sg_len) {
			// All old (a retransmission we had): ACK at once so the
			// sender learns (RFC 9293 3.10.7.4 note on duplicates).
			TCPSTAT_INC(tcps_rcvduppack);
			if (dup > sg->sg_len)
				sg->sg_flags &= ~TH_FIN;   // an old FIN too
			dup = sg->sg_len;
			tcp_ack_later(tp);
		} else {
			TCPSTAT_INC(tcps_rcvpartduppack);
		}
		tcp_sack_dsack(tp, sg->sg_seq, dup);   // RFC 2883: tell the sender
		m_adj(m, (int)dup);
		sg->sg_seq += dup;
		sg->sg_len -= dup;
	}
	uint32 wnd = MAX(tcp_rcvwin(tp), SEQ_GT(tp->rcv_adv, tp->rcv_nxt) ? tp->rcv_adv - tp->rcv_nxt : 0);
	tcp_seq end = tp->rcv_nxt + wnd;
	if (SEQ_GT(sg->sg_seq + sg->sg_len, end)) {
		uint32 over = sg->sg_seq + sg->sg_len - end;
		over = MIN(over, sg->sg_len);
		TCPSTAT_INC(tcps_rcvafterwin);
		if (sg->sg_len == 1 && wnd == 0)
			TCPSTAT_INC(tcps_rcvwinprobe);
		m_adj(m, -(int)over);
		sg->sg_len -= over;
		sg->sg_flags &= ~TH_FIN;   // the FIN lies past the window
		tcp_ack_later(tp);         // tell the sender where the window is
	}
	if (sg->sg_len == 0) {
		m_freem(m);
		return NULL;
	}
	return m;
}

// Delayed ACK (RFC 1122 4.2.3.2: "an ACK SHOULD be generated for at
// least every second full-sized segment, and MUST be generated within
// 500 ms"), for len in-order bytes just delivered.
//
// net.inet.tcp.ack_batch_max = 0 (RFC 1122 to the letter): once more
// than one full segment's worth is unacknowledged (the second
// full-sized segment, as Linux counts), the ACK leaves now, in the
// middle of the batch: a batch of 22 full segments gets 11 ACKs, not
// one at its end.
//
// ack_batch_max = B > 0 (the default, 65535): what Linux's receiver does
// with GRO, which merges the in-order segments of one flow that one
// interrupt's poll found into one large segment before TCP sees them,
// and so ACKs that poll's run with one ACK. Here the segments of one
// netisr batch (net/netisr.c: at most NETISR_BATCH messages) are not
// merged, but their ACK is the same: it leaves at the end of the batch
// (the rollup), or as soon as more than B bytes (at least one MSS) are
// unacknowledged. On a clean e1000 link this sends one ACK per ~30
// segments instead of one per 2: every ACK not sent is a transmit
// descriptor, a TDT write (an exit into QEMU's e1000 model) and a frame
// Linux must process (docs/tcp.md "Where the time goes").
//
// Either way: two or more smaller segments get their ACK at the end of
// the batch (the rollup); a single segment waits for the delayed-ACK
// timer (tcp_delack_ms <= 200); out-of-order segments and the ones that
// fill a hole are ACKed at once, but for those that only extend the
// highest SACK block (tcp_input_text, net/tcp_sackdelay.c).
int tcp_ack_batch_max = 65535;
NET_SYSCTL_INT_RANGE(tcp_ack_batch_max, "net.inet.tcp.ack_batch_max", SYSCTL_RW,
		     &tcp_ack_batch_max, 0, 1 << 20,
		     "in-order bytes one ACK may cover inside one input batch (as GRO); "
		     "0: ACK every second full segment at once (RFC 1122)");

uint32 tcp_ack_batch_limit(struct tcpcb *tp)
{
	uint32 limit = (uint32)__atomic_load_n(&tcp_ack_batch_max, __ATOMIC_RELAXED);
	return MAX(limit, tp->t_maxseg);
}

//
// A segment coalesced by net/tcp_lro.c counts as the nsegs segments it
// was made of; tcp_lro.c cuts its runs where the first test below would
// have fired for one of them, so the ACK leaves where it would have.
static void tcp_input_delack(struct tcpcb *tp, uint32 len, uint32 nsegs)
{
	tp->t_unacked_bytes += len;
	tp->t_segs_unacked += nsegs;
	if (tp->t_unacked_bytes > tcp_ack_batch_limit(tp)) {
		tp->t_flags |= TF_ACKNOW;
		tcp_output(tp);   // clears both counts with the ACK
		return;
	}
	if (tp->t_segs_unacked >= 2) {
		tcp_ack_later(tp);
		return;
	}
	if (!(tp->t_flags & TF_DELACK)) {
		tp->t_flags |= TF_DELACK;
		tcp_timer_set(tp, TCPT_DELACK, tcp_delack_ms);
	}
}

// Receive-buffer autotuning counts in-order data segment by segment: a
// coalesced segment (net/tcp_lro.c; its parts share SEG.TSecr) is
// counted as the segments it was made of, in their order.
static void tcp_input_autotune(struct tcpcb *tp, const struct tcp_seg *sg)
{
	uint32 sum = 0;
	for (uint32 i = 0; sg->sg_seglens != NULL && i < sg->sg_nsegs; i++)
		sum += sg->sg_seglens[i];
	if (sg->sg_seglens == NULL || sum != sg->sg_len) {
		tcp_rcvbuf_autotune(tp, sg, sg->sg_len);   // one segment (or trimmed)
		return;
	}
	for (uint32 i = 0; i < sg->sg_nsegs; i++)
		tcp_rcvbuf_autotune(tp, sg, sg->sg_seglens[i]);
}

// "seventh, process the segment text". Returns TH_FIN if a FIN is now
// in order (it may have been queued behind a hole).
static int tcp_input_text(struct tcpcb *tp, struct tcp_seg *sg)
{
	bool fin = sg->sg_flags & TH_FIN;
	if (!TCPS_CANRECV(tp->t_state)) {
		// CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT: "This should not
		// occur since a FIN has been received from the remote side.
		// Ignore the segment text."
		m_freem(sg->sg_m);
		return 0;
	}
	struct mbuf *m = tcp_input_trim(tp, sg);
	fin = sg->sg_flags & TH_FIN;
	if (sg->sg_seq == tp->rcv_nxt && tp->t_reass.tr_head == NULL) {
		if (m != NULL) {   // in order: straight to the socket
			tcp_input_autotune(tp, sg);
			tp->rcv_nxt += sg->sg_len;
			tcp_deliver(tp, m, MAX(sg->sg_nsegs, 1u));
			tcp_input_delack(tp, sg->sg_len, MAX(sg->sg_nsegs, 1u));
		}
		return fin ? TH_FIN : 0;
	}
	if (m == NULL && !fin)
		return 0;
	// Out of order, or filling a hole: RFC 5681 4.2 "an immediate ACK
	// SHOULD be generated when an out-of-order segment arrives ... [and]
	// when the incoming segment fills in all or part of a gap" -- one per
	// segment, not one per batch: the sender counts them (3 dup ACKs).
	// With SACK, a segment that only extends the highest block, after
	// three immediate ACKs for this hole, is acknowledged like in-order
	// data instead (net/tcp_sackdelay.c).
	tcp_seq onxt = tp->rcv_nxt;
	uint32 onseg = tp->t_reass.tr_nseg, len = m ? sg->sg_len : 0;
	int r = tcp_reass(tp, sg->sg_seq, len, m, fin);
	if (sg->sg_nsegs > 1 && len > 0 && SEQ_GT(sg->sg_seq, tp->rcv_nxt))
		TCPSTAT_ADD(tcps_rcvoopack, sg->sg_nsegs - 1);   // a coalesced run, queued: its parts
	if (SEQ_GT(tp->rcv_nxt, onxt))   // a filled hole delivered data: it counts too
		tcp_rcvbuf_autotune(tp, sg, tp->rcv_nxt - onxt);
	if (m != NULL && SEQ_GT(sg->sg_seq, tp->rcv_nxt))
		tcp_sack_rcvd(tp, sg->sg_seq);   // RFC 2018 4: its block is reported first
	if (r == TH_FIN)
		tp->t_flags |= TF_ACKNOW;   // (a FIN's ACK follows in tcp_input_fin)
	else
		tcp_sackdelay_ack(tp, sg, len, onxt, onseg);
	return r;
}

// "eighth, check the FIN bit" for a FIN now in order.
static void tcp_input_fin(struct tcpcb *tp)
{
	tp->rcv_nxt++;   // "advance RCV.NXT over the FIN"
	tcp_ack_later(tp);   // "and send an acknowledgment for the FIN"
	socantrcvmore(tp->t_socket);   // "signal the user 'connection closing'"
	/* LAB tcp BEGIN: exercise 1, the state a FIN leads to */
	switch (tp->t_state) {
	case TCPS_SYN_RECEIVED:
	case TCPS_ESTABLISHED:
		tcp_setstate(tp, TCPS_CLOSE_WAIT);   // "Enter the CLOSE-WAIT state"
		break;
	case TCPS_FIN_WAIT_1:
		// "If our FIN has been ACKed (perhaps in this segment), then
		// enter TIME-WAIT ...; otherwise, enter the CLOSING state."
		tcp_setstate(tp, TCPS_CLOSING);
		break;
	case TCPS_FIN_WAIT_2:
		tcp_timewait_start(tp);   // "Enter the TIME-WAIT state"
		break;
	case TCPS_TIME_WAIT:
		tcp_timer_set(tp, TCPT_2MSL, 2 * tcp_msl_ms);   // "Restart the 2 MSL time-wait timeout"
		break;
	default:
		break;   // CLOSE-WAIT, CLOSING, LAST-ACK: "Remain in the ... state"
	}
	/* LAB tcp STUB
	   LAB tcp END */
}

// TIME_WAIT (RFC 9293 3.10.7.4, eighth): "The only thing that can arrive
// in this state is a retransmission of the remote FIN. Acknowledge it,
// and restart the 2 MSL timeout." That FIN ends at RCV.NXT (it is the
// sequence number RCV.NXT - 1), so the acceptability test calls it old
// and would answer only through the rate-limited path (tcp_ack_invalid):
// the peer in LAST_ACK, whose first ACK from us was lost, could wait for
// ever. Here it gets its ACK each time and TIME_WAIT starts over.
// Returns true if the segment was consumed.
static bool tcp_timewait_finrexmt(struct tcpcb *tp, struct tcp_seg *sg)
{
	if (tp->t_state != TCPS_TIME_WAIT || (sg->sg_flags & (TH_FIN | TH_RST)) != TH_FIN ||
	    sg->sg_seq + sg->sg_len + 1 != tp->rcv_nxt)
		return false;
	m_freem(sg->sg_m);
	tcp_timer_set(tp, TCPT_2MSL, 2 * tcp_msl_ms);
	tcp_ack_later(tp);
	return true;
}

void tcp_input_sync(struct tcpcb *tp, struct tcp_seg *sg)
{
	bool output = false;
	tp->t_rcvtime = net_now_ms();
	tp->t_keepprobes = 0;
	tp->t_persistprobes = 0;   // the peer is there
	// RFC 7323: unscale SEG.WND, PAWS (5.3 R1 comes before the sequence
	// check, R2). Before the SYN bit below may be cleared.
	if (!tcp_options_input(tp, sg)) {
		m_freem(sg->sg_m);
		return;
	}
	// Simultaneous open: the peer's SYN,ACK repeats the SYN we took in
	// SYN_SENT; its SYN is old news, its ACK is what matters.
	if (tp->t_state == TCPS_SYN_RECEIVED && (sg->sg_flags & (TH_SYN | TH_ACK)) ==
	    (TH_SYN | TH_ACK) && sg->sg_seq == tp->irs) {
		sg->sg_flags &= ~TH_SYN;
		sg->sg_seq++;
	}
	if ((sg->sg_flags & TH_SYN) && !(sg->sg_flags & TH_RST)) {
		tcp_input_syn(tp, sg);   // RFC 5961 4.2: before the sequence check
		return;
	}
	if (tcp_timewait_finrexmt(tp, sg))
		return;
	if (!tcp_seq_acceptable(tp, sg)) {
		// "If an incoming segment is not acceptable, an acknowledgment
		// should be sent in reply (unless the RST bit is set, if so
		// drop the segment and return)".
		if (sg->sg_flags & TH_RST) {
			TCPSTAT_INC(tcps_rstignored);
		} else {
			TCPSTAT_INC(tcps_drop_badseq);
			if (sg->sg_len > 0 && SEQ_LEQ(sg->sg_seq + sg->sg_len, tp->rcv_nxt)) {
				TCPSTAT_INC(tcps_rcvduppack);   // old data: RFC 2883 D-SACK
				tcp_sack_dsack(tp, sg->sg_seq, sg->sg_len);
			}
			tcp_ack_invalid(tp);
		}
		m_freem(sg->sg_m);
		return;
	}
	if (sg->sg_flags & TH_RST) {
		tcp_input_rst(tp, sg);
		return;
	}
	tcp_ts_update(tp, sg);   // RFC 7323 5.3 R3: the segment is acceptable
	if (!tcp_input_ack(tp, sg, &output))
		return;
	if (!tcp_input_afterclose(tp, sg))
		return;
	// (sixth, the URG bit: urgent data is not supported; the text is
	// delivered in line, as RFC 6093 recommends.)
	if (tcp_input_text(tp, sg) == TH_FIN)
		tcp_input_fin(tp);
	if (output)
		tcp_output(tp);
}
