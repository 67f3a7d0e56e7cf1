// TCP tail loss probe (RFC 8985 7, the TLP half of RACK-TLP), with the
// one RACK inference a probe makes possible, and SACK limited transmit.
//
// Problem: a sender learns of a loss from what arrives after it: three
// duplicate ACKs, or SACK blocks above the hole (RFC 6675 IsLost wants
// three SACKed segments, or more than two segments' worth, above it).
// When a loss is at the tail of a flight -- the last segments of a
// transfer, or of a window that a small cwnd keeps short -- nothing
// arrives after it, and the sender waits for the retransmission timer:
// at least net.inet.tcp.rto_min_ms (200 ms), and then cwnd falls to one
// segment and goes back to slow start. On the e1000 the round trip is a
// millisecond or two; one timeout there costs a hundred round trips.
//
// Idea: when the sender has data outstanding and expects an ACK within
// about two round trips, it sets a shorter timer, the probe timeout
// (PTO = 2 SRTT, plus the peer's worst delayed-ACK time when only one
// segment is out). If it fires, the sender sends one segment -- new
// data if there is some and the peer's window allows, else the last
// segment again -- whatever cwnd says. The probe's ACK is the feedback
// the tail loss withheld:
//   - it SACKs the probe but not the holes below it: those were sent a
//     whole PTO before the probe, which arrived, so they are lost (the
//     reasoning RACK applies to every segment, RFC 8985 6.2; here only
//     to the probe). SACK recovery starts at once (tcp_tlp_marks_lost,
//     asked by tcp_sack_dupack);
//   - it acknowledges everything: the probe was a retransmission and
//     plugged the only hole. If no duplicate of it (a D-SACK or a pure
//     duplicate ACK at its end, a "TLP dupack") arrives before the ACK
//     of later data, the original was lost, and cwnd is halved as after
//     a fast recovery (RFC 8985 7.4.2), counted in tlp_recovered.
// The probe timer replaces the retransmission timer while it runs (RFC
// 8985 7.2: it fires at the RTO's time at the latest); after a probe
// the retransmission timer runs again (7.3), so a lost probe still ends
// in a timeout, never in silence.
//
// In SACK recovery the same timer watches the retransmission of the
// segment at snd_una: if snd_una has not moved a PTO after recovery began
// (or after the ACK that last moved it), that retransmission was lost
// too -- RFC 6675 would wait for the RTO; RACK would see it when later
// data is SACKed -- and it is sent again, once
// (tcp_tlp_recovery_arm, tlp_recovery_fire, counted in tlp_lostrexmt).
//
// SACK limited transmit (RFC 6675 5 step (3), RFC 3042 with pipe): an
// ACK that SACKs new data below DupThresh lets new data go while cwnd -
// pipe >= SMSS. With a small cwnd this is what brings the third SACKed
// segment above a hole (tcp_sack_limited_transmit, net/tcp_sack.c).
//
// Invariants:
//   I1 Outside recovery, TCPT_PTO is armed only while TF_SACK_PERMIT,
//      net.inet.tcp.tlp, state ESTABLISHED or CLOSE_WAIT, data
//      outstanding, no backoff (t_rxtshift == 0) and no probe episode
//      (t_tlp_state 0); in SACK recovery, only with net.inet.tcp.tlp.
//   I2 Outside recovery, while TCPT_PTO runs TCPT_REXMT does not (the
//      probe timer stands in for it, at its deadline at the latest);
//      every path that stops TCPT_PTO with data outstanding leaves
//      TCPT_REXMT running. In SACK recovery both run (the PTO earlier).
//   I3 At most one probe per episode: the episode (TLP_EPISODE) begins
//      with the probe and ends when an ACK passes t_tlp_end, a TLP
//      dupack arrives, recovery starts, or the RTO fires.
//
// Locking: [o] only (the owning netisr): every field is the tcpcb's.
// Races: none between threads. "ACK and PTO in one batch": the timer
// message is handled after the input batch (FIFO on the netisr's port);
// the ACK re-armed or stopped the timer, so the handler finds the new
// deadline and does nothing early.
//
// Life of a tail loss: tcp_output (new data) -> tcp_tlp_arm -> ... no
// ACK ... -> callout -> tcp_timer_handler -> tcp_tlp_fire ->
// tcp_output_at (probe) -> peer ACKs with a SACK block -> tcp_input_ack
// -> tcp_tlp_ack -> tcp_sack_dupack -> tcp_tlp_marks_lost ->
// tcp_sack_enter (retransmit the hole). Or the probe was the lost
// segment: its ACK covers everything; the next ACK past t_tlp_end ->
// tcp_tlp_ack -> tlp_recovered, cwnd halved.
//
// Testing: make hosttest: tests/host/test_tcp_tlp.c (tcp_tlp_tail_loss_
// two_srtt, tcp_tlp_off_waits_for_rto, tcp_tlp_two_tail_losses_sack_
// recovery, tcp_tlp_pto_recovers_a_sacked_hole,
// tcp_tlp_spurious_probe_dsack_no_cwnd_cut,
// tcp_tlp_lost_retransmission_resent and its tlp=0 twin,
// tcp_sack_limited_transmit, tcp_tlp_lone_segment_pto_wcdelack: the
// knob net.inet.tcp.tlp_wcdelack_ms). netstat -s: tlp_probe, tlp_probe_rexmt,
// tlp_recovered, tlp_recovery, tlp_rack, tlp_lostrexmt, sack_limited.
// make bench --only tcpe1000 (RTO / TLP counts per run).
// gdb: break tcp_tlp_fire, tcp_tlp_ack.
//
// References: RFC 8985 (7.2 scheduling the PTO, 7.3 sending a probe,
// 7.4 detecting losses repaired by it; 6.2 RACK's time-based
// inference); RFC 6675 5 (3) (limited transmit with pipe); RFC 3042;
// RFC 2883 (D-SACK); N. Dukkipati et al., "Tail Loss Probe (TLP)",
// draft-dukkipati-tcpm-tcp-loss-probe-01 (2013), 3 (TLP dupacks).
#include "net/tcp_var.h"
#include "net/tcp_sack.h"
#include "net/socket.h"

int tcp_do_tlp = 1;
NET_SYSCTL_INT_RANGE(tcp_do_tlp, "net.inet.tcp.tlp", SYSCTL_RW, &tcp_do_tlp, 0, 1,
		     "tail loss probes (RFC 8985 7) on SACK connections (0: wait for the RTO)");

// RFC 8985 7.2: WCDelAckT, the peer's worst delayed ACK, added to the PTO
// when one segment is out ("The RECOMMENDED value ... is 200ms").
int tcp_tlp_wcdelack_ms = 200;
NET_SYSCTL_INT_RANGE(tcp_tlp_wcdelack_ms, "net.inet.tcp.tlp_wcdelack_ms", SYSCTL_RW,
		     &tcp_tlp_wcdelack_ms, 0, 1000,
		     "added to the probe timeout when one segment is out (RFC 8985 WCDelAckT)");
#define TCP_TLP_MIN_MS 10         // a floor under 2 SRTT (the clock ticks in ms)

// t_tlp_state
#define TLP_EPISODE 0x01   // a probe was sent; its outcome is not known yet
#define TLP_REXMT   0x02   // the probe was a retransmission (of the last segment)
#define TLP_DUPSEEN 0x04   // a TLP dupack arrived: the original was not lost

static bool tlp_allowed(struct tcpcb *tp)
{
	return __atomic_load_n(&tcp_do_tlp, __ATOMIC_RELAXED) && (tp->t_flags & TF_SACK_PERMIT) &&
	       (tp->t_state == TCPS_ESTABLISHED || tp->t_state == TCPS_CLOSE_WAIT) &&
	       !(tp->t_flags & TF_INRECOVERY) && tp->t_rxtshift == 0 && tp->t_tlp_state == 0 &&
	       tp->snd_una != tp->snd_max && !tcp_timer_active(tp, TCPT_PERSIST);
}

// RFC 8985 7.2: "PTO = 2 * SRTT", plus WCDelAckT "if FlightSize is one
// segment"; 1 s without an RTT sample.
static int tlp_pto_ms(struct tcpcb *tp)
{
	if (tp->t_srtt == 0)
		return 1000;
	int pto = 2 * (tp->t_srtt >> 3);
	if (tp->snd_max - tp->snd_una <= tp->t_maxseg)
		pto += __atomic_load_n(&tcp_tlp_wcdelack_ms, __ATOMIC_RELAXED);
	return pto < TCP_TLP_MIN_MS ? TCP_TLP_MIN_MS : pto;
}

void tcp_tlp_arm(struct tcpcb *tp)
{
	if (!tlp_allowed(tp))
		return;
	// "If the RTO would fire sooner than the PTO, the probe goes at the
	// RTO's time": the probe timer takes the retransmission timer's place
	// (I2), at its deadline at the latest.
	uint64 now = net_now_ms();
	uint64 rto_at = tp->t_timer[TCPT_REXMT] ? tp->t_timer[TCPT_REXMT]
						: now + (uint64)tcp_rexmt_ms(tp);
	uint64 at = now + (uint64)tlp_pto_ms(tp);
	if (at > rto_at)
		at = rto_at;
	tcp_timer_set(tp, TCPT_REXMT, 0);
	tcp_timer_set(tp, TCPT_PTO, at > now ? (int)(at - now) : 1);
}

void tcp_tlp_newack(struct tcpcb *tp)
{
	// (The caller restarted TCPT_REXMT if data is outstanding: I2.)
	tcp_timer_set(tp, TCPT_PTO, 0);
	if (tp->t_flags & TF_SACKRECOVERY)
		tcp_tlp_recovery_arm(tp);
	else
		tcp_tlp_arm(tp);
}

// ---- a lost retransmission in SACK recovery ----------------------------------------------

void tcp_tlp_recovery_arm(struct tcpcb *tp)
{
	if (!__atomic_load_n(&tcp_do_tlp, __ATOMIC_RELAXED) || !(tp->t_flags & TF_SACKRECOVERY) ||
	    tp->t_srtt == 0)
		return;
	int pto = 2 * (tp->t_srtt >> 3);
	tp->t_tlp_rxtuna = tp->snd_una;
	tcp_timer_set(tp, TCPT_PTO, pto < TCP_TLP_MIN_MS ? TCP_TLP_MIN_MS : pto);
}

// The PTO in SACK recovery. RFC 6675 cannot see a retransmission lost
// again: the hole stays (SACKs of later data may keep coming, or
// nothing comes), and only the RTO ends it: cwnd to one segment,
// go-back-N, and a timer of 200 ms at least on a path whose round trip
// is a few. RACK (RFC 8985 6.2) marks a retransmission lost when a
// segment sent after it was delivered and a round trip has passed. Here,
// for the segment at snd_una only: it was retransmitted in this recovery
// (below HighRxt) and snd_una has not moved for a PTO (2 SRTT): it is
// sent again, once per snd_una -- with the later data SACKed, RACK's
// conclusion; with nothing back, a probe, as TLP sends outside recovery.
static void tlp_recovery_fire(struct tcpcb *tp)
{
	struct tcp_sackboard *sb = tp->t_sack;
	if (sb == NULL || tp->snd_una != tp->t_tlp_rxtuna || !SEQ_LT(tp->snd_una, sb->sb_highrxt))
		return;
	tcp_seq end = sb->sb_n > 0 ? sb->sb_blk[0].sb_start : tp->snd_max;
	int sent = tcp_output_at(tp, tp->snd_una, MIN(end - tp->snd_una, tp->t_maxseg));
	if (sent > 0) {
		TCPSTAT_INC(tcps_tlp_lostrexmt);
		TCPSTAT_ADD(tcps_sack_rexmitbyte, (uint32)sent);
		tcp_prr_sent(tp, (uint32)sent);   // (net/tcp_prr.c I2)
	}
	// Once per snd_una: a second loss of it is the RTO's (t_tlp_rxtuna
	// moves on only when an ACK moves snd_una and re-arms).
	tp->t_tlp_rxtuna = tp->snd_una - 1;
}

void tcp_tlp_reset(struct tcpcb *tp)
{
	tp->t_tlp_state = 0;
	tcp_timer_set(tp, TCPT_PTO, 0);   // (the caller runs TCPT_REXMT)
}

// The probe's range: one new segment if the peer's window takes it,
// else the last segment sent (RFC 8985 7.3). false: nothing to send.
static bool tlp_probe_range(struct tcpcb *tp, tcp_seq *seq, uint32 *len, bool *rexmt)
{
	uint32 mss = tp->t_maxseg - (uint32)tcp_optlen_fixed(tp);
	uint32 sbcc = __atomic_load_n(&tp->t_socket->so_snd.sb_cc, __ATOMIC_RELAXED);
	tcp_seq dend = tp->snd_una + sbcc, wend = tp->snd_una + tp->snd_wnd;
	if (SEQ_LT(tp->snd_max, dend) && SEQ_GEQ(wend, tp->snd_max + MIN(mss, dend - tp->snd_max))) {
		*seq = tp->snd_max;
		*len = MIN(mss, dend - tp->snd_max);
		*rexmt = false;
		return true;
	}
	uint32 out = tp->snd_max - tp->snd_una;
	if (out == 0 || (tp->t_flags & TF_SENTFIN))
		return false;
	*len = MIN(out, mss);
	*seq = tp->snd_max - *len;
	*rexmt = true;
	return true;
}

void tcp_tlp_fire(struct tcpcb *tp)
{
	tcp_seq seq;
	uint32 len;
	bool rexmt;
	if (tp->t_flags & TF_SACKRECOVERY) {
		tlp_recovery_fire(tp);   // (TCPT_REXMT runs beside it in recovery)
		return;
	}
	// RACK (RFC 8985 6.2) would have marked the hole at snd_una lost an
	// SRTT and a quarter after it was sent if a later segment was SACKed:
	// a PTO (>= 2 SRTT) has passed, so recover now rather than probe.
	if (tp->t_tlp_state == 0 && tcp_sack_enter_lost(tp)) {
		TCPSTAT_INC(tcps_tlp_rack);
		return;   // (tcp_sack_enter ran the retransmission timer)
	}
	// RFC 8985 7.3: the conditions may have changed since the arm (I1).
	if (tp->t_tlp_state == 0 && !(tp->t_flags & TF_INRECOVERY) &&
	    tlp_probe_range(tp, &seq, &len, &rexmt) && tcp_output_at(tp, seq, len) > 0) {
		TCPSTAT_INC(tcps_tlp_probe);
		if (rexmt)
			TCPSTAT_INC(tcps_tlp_probe_rexmt);
		tp->t_tlp_state = TLP_EPISODE | (rexmt ? TLP_REXMT : 0);
		tp->t_tlp_seq = seq;
		tp->t_tlp_end = tp->snd_max;   // "TLP.end_seq = SND.NXT"
		tcp_timer_set(tp, TCPT_REXMT, 0);   // a full RTO from the probe
	}
	// "After attempting to send a loss probe, regardless of whether a
	// loss probe was sent, the sender MUST re-arm the RTO timer, not the
	// PTO timer."
	if (tp->snd_una != tp->snd_max)
		tcp_rexmt_arm(tp);
}

// Does this ACK (before snd_una moves) carry a TLP dupack: a D-SACK
// block (RFC 2883: below the cumulative ACK) over the probe, or a pure
// duplicate ACK at the probe's end?
static bool tlp_dupack(struct tcpcb *tp, const struct tcp_seg *sg, uint32 sacked)
{
	const struct tcpopt *to = &sg->sg_opt;
	if ((to->to_flags & TOF_SACK) && to->to_nsacks > 0) {
		tcp_seq s = to->to_sacks[0][0], e = to->to_sacks[0][1];
		if (SEQ_LEQ(e, sg->sg_ack) && SEQ_LT(s, tp->t_tlp_end) && SEQ_GT(e, tp->t_tlp_seq))
			return true;
	}
	return sg->sg_ack == tp->snd_una && sg->sg_ack == tp->t_tlp_end && sg->sg_len == 0 &&
	       sacked == 0 && !(sg->sg_flags & (TH_SYN | TH_FIN));
}

// RFC 8985 7.4.2: the probe repaired a loss: "invoke a congestion
// control response equivalent to fast recovery": halve cwnd.
static void tlp_repaired(struct tcpcb *tp)
{
	TCPSTAT_INC(tcps_tlp_recovered);
	tp->snd_ssthresh = MAX(tp->snd_cwnd / 2, 2 * tp->t_maxseg);
	tp->snd_cwnd = tp->snd_ssthresh;
	tp->t_bytes_acked = 0;
}

void tcp_tlp_ack(struct tcpcb *tp, const struct tcp_seg *sg, uint32 sacked)
{
	tcp_seq ack = sg->sg_ack;
	if (!(tp->t_tlp_state & TLP_EPISODE))
		return;
	if (tp->t_flags & TF_INRECOVERY) {   // recovery took over (I3)
		tp->t_tlp_state = 0;
		return;
	}
	if ((tp->t_tlp_state & TLP_REXMT) && tlp_dupack(tp, sg, sacked))
		tp->t_tlp_state |= TLP_DUPSEEN;
	if (SEQ_LT(ack, tp->t_tlp_end))
		return;
	// Linux ends the episode at an ACK strictly past the probe's end (a
	// D-SACK for the probe may follow the ACK that reaches it).
	if (!(tp->t_tlp_state & TLP_REXMT) || (tp->t_tlp_state & TLP_DUPSEEN)) {
		tp->t_tlp_state = 0;   // new data, or a duplicate: no loss hidden
		return;
	}
	if (SEQ_GT(ack, tp->t_tlp_end)) {
		tlp_repaired(tp);
		tp->t_tlp_state = 0;
	}
}

bool tcp_tlp_marks_lost(struct tcpcb *tp)
{
	// RACK (RFC 8985 6.2), for the probe only: a segment is lost if one
	// sent at least a reordering window after it was delivered. Every
	// segment below the probe went a whole PTO (>= 2 SRTT) before it, so
	// once the probe is SACKed, the hole at snd_una is lost.
	if (!(tp->t_tlp_state & TLP_EPISODE) || tp->t_sack == NULL || tp->t_sack->sb_n == 0)
		return false;
	struct tcp_sackblk *top = &tp->t_sack->sb_blk[tp->t_sack->sb_n - 1];
	if (!SEQ_GT(top->sb_end, tp->t_tlp_seq))
		return false;
	TCPSTAT_INC(tcps_tlp_recovery);
	tp->t_tlp_state = 0;
	return true;
}
