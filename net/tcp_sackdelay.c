// TCP receiver: acknowledging out-of-order segments like in-order data
// once the sender has what it needs to start recovery.
//
// Problem: behind a lost segment the rest of the window keeps arriving,
// and RFC 5681 4.2 asks for an immediate ACK for each of them ("an
// immediate duplicate ACK ... when it receives a data segment above a
// gap"). At 2% loss with ~100 segments in flight a hole is open most of
// the time: two thirds of the segments from Linux arrived behind one,
// and the guest sent 0.83 ACKs per data segment instead of 0.5. Each ACK
// is a transmit through the emulated NIC, the host's tap and the
// forwarding path (where 2% of the ACKs are dropped too) -- receiver
// time and sender time spent on ACKs that tell the sender nothing new:
// the sender's SACK scoreboard (RFC 6675) needs the highest SACKed byte,
// not one ACK per segment.
//
// Idea: with SACK negotiated, the immediate ACKs stay where they carry
// news -- a segment that opens a new block (a new hole), one that fills
// or narrows a hole or moves rcv_nxt, and the first DupThresh (3) ACKs
// behind each rcv_nxt, so a sender counting duplicate ACKs still sees
// three. A segment that only extends the highest block, after those
// three, is acknowledged like in-order data (tcp_input_delack): the ACK
// leaves at the end of the input batch (the rollup), or at once when
// more than net.inet.tcp.ack_batch_max bytes are unacknowledged, never
// later (sack_delack=2, the default); with sack_delack=1 with every
// second full-sized segment (RFC 5681 4.2 / RFC 1122 4.2.3.2). At 2%
// loss three quarters of the segments from Linux arrive behind a hole,
// so this is most of the receiver's ACKs. The sender loses
// no information: each ACK's first SACK block (RFC 2018 4) covers every
// byte the skipped ACKs would have reported, and RFC 6675 counts SACKed
// bytes, not ACKs. Linux's receiver does the same with more delay ("SACK
// compression": up to 44 ACKs, up to 1 ms, net.ipv4.tcp_comp_sack_nr);
// this one never holds an ACK past its batch.
// net.inet.tcp.sack_delack=0 restores one ACK per out-of-order segment.
// Because such segments are treated alike one by one, receive
// coalescing (net/tcp_lro.c) may hand a run of them to TCP as one
// segment (tcp_sackdelay_run, net.inet.tcp.lro_ooo): it is appended to
// the highest block once and counts as its parts here (I2).
//
// Invariants:
//   I1 An ACK is deferred only for a segment that left rcv_nxt and the
//      number of reassembly blocks unchanged, ends where the highest
//      block ends and starts after that block's first byte, with SACK
//      permitted and t_oooacks >= TCP_DUPTHRESH. (One that starts in the
//      hole below the highest block and covers it narrows that hole and
//      keeps the count: the block it made starts where it does.)
//   I2 A deferred segment is counted in t_unacked_bytes/t_segs_unacked
//      (cleared by every ACK that leaves, tcp_output): with more than
//      the limit unacknowledged (one MSS for sack_delack=1, else
//      MAX(ack_batch_max, MSS) as in-order data) the ACK leaves now;
//      otherwise the tcpcb is on the rollup list and the ACK leaves at
//      the end of the batch.
//   I3 t_oooacks counts the immediate ACKs for out-of-order data since
//      rcv_nxt was last t_ooonxt.
//
// Locking: [o] only (t_ooonxt, t_oooacks belong to the owning netisr);
// tcp_sack_delack is read once per segment ([a]).
// Races: "knob flipped mid-connection": the next segment follows the new
// value; an ACK already deferred still leaves at the end of the batch.
//
// Life of a segment: tcp_input_sync -> tcp_input_text -> tcp_reass ->
// tcp_sack_rcvd -> tcp_sackdelay_ack -> (news) TF_ACKNOW tcp_output, or
// (deferred) past the limit tcp_output, else tcp_ack_later -> end of
// batch tcp_rollup -> tcp_output.
//
// Testing: make hosttest (tcp_sack_delack_halves_ooo_acks: the ACKs
// behind one hole, switch on and off; the first three immediate, the
// transfer and the recovery unchanged; tcp_sack_delack_news_at_once,
// tcp_sack_delack_narrowing_below_top_at_once: the ACKs that carry news
// leave at once). make bench --only tcpe1000 (the
// guest's ACKs per data segment at 2% loss), bench/lossdiag.py --set
// 'net.inet.tcp.sack_delack=0'.
//
// References: RFC 5681 4.2 (immediate ACK for out-of-order data, ACK at
// least every second full-sized segment), 3.2 (DupThresh); RFC 1122
// 4.2.3.2; RFC 2018 4 (the first block reports the most recent
// segment); RFC 6675 2, 4 (IsLost counts SACKed bytes).
#include "net/tcp_var.h"
#include "net/tcp_sack.h"

#define TCP_DUPTHRESH 3

int tcp_lro_ooo = 1;
NET_SYSCTL_INT_RANGE(tcp_lro_ooo, "net.inet.tcp.lro_ooo", SYSCTL_RW, &tcp_lro_ooo, 0, 1,
		     "with net.inet.tcp.lro: coalesce runs behind a hole that only extend the "
		     "highest SACK block (0: only in-order runs)");

int tcp_sack_delack = 2;
NET_SYSCTL_INT_RANGE(tcp_sack_delack, "net.inet.tcp.sack_delack", SYSCTL_RW,
		     &tcp_sack_delack, 0, 2,
		     "with SACK, out-of-order data that only extends the highest block: 0 ACK each, 1 every second segment, 2 like in-order data (ack_batch_max)");

// How many bytes a deferred out-of-order ACK may cover before it leaves.
static uint32 tcp_sackdelay_limit(struct tcpcb *tp)
{
	if (__atomic_load_n(&tcp_sack_delack, __ATOMIC_RELAXED) == 1)
		return tp->t_maxseg;
	return tcp_ack_batch_limit(tp);   // as in-order data
}

bool tcp_sackdelay_run(struct tcpcb *tp, tcp_seq seq, uint32 *limit)
{
	if (!__atomic_load_n(&tcp_lro_ooo, __ATOMIC_RELAXED) ||
	    !__atomic_load_n(&tcp_sack_delack, __ATOMIC_RELAXED) ||
	    !(tp->t_flags & TF_SACK_PERMIT) || !tcp_reass_extends_tail(tp, seq))
		return false;
	if (tp->t_ooonxt != tp->rcv_nxt || tp->t_oooacks < TCP_DUPTHRESH)
		return false;   // I1: the first three ACKs behind this hole leave one by one
	*limit = tcp_sackdelay_limit(tp);
	return true;
}

// The end of the highest block of the reassembly queue (rcv_nxt if
// empty); its start in *start. No walk: the queue keeps its last entry.
static tcp_seq tcp_sackdelay_top(struct tcpcb *tp, tcp_seq *start)
{
	tcp_seq s, e;
	if (tcp_reass_last(tp, &s, &e) == NULL)
		s = e = tp->rcv_nxt;
	*start = s;
	return e;
}

// May the ACK for sg (len data bytes, queued out of order) wait? I1.
static bool tcp_sackdelay_may_wait(struct tcpcb *tp, const struct tcp_seg *sg, uint32 len,
				   tcp_seq onxt, uint32 onseg)
{
	if (!__atomic_load_n(&tcp_sack_delack, __ATOMIC_RELAXED) ||
	    !(tp->t_flags & TF_SACK_PERMIT) || len == 0 || (sg->sg_flags & TH_FIN))
		return false;
	if (tp->rcv_nxt != onxt || tp->t_reass.tr_nseg != onseg || tp->t_reass.tr_nseg == 0)
		return false;   // a hole filled, narrowed into a merge, or a new block
	if (tp->t_ooonxt != tp->rcv_nxt || tp->t_oooacks < TCP_DUPTHRESH)
		return false;   // the sender has not seen three for this hole yet
	tcp_seq start, end = tcp_sackdelay_top(tp, &start);
	return end == sg->sg_seq + len && SEQ_LT(start, sg->sg_seq);   // only extended it
}

void tcp_sackdelay_ack(struct tcpcb *tp, const struct tcp_seg *sg, uint32 len,
		       tcp_seq onxt, uint32 onseg)
{
	if (tcp_sackdelay_may_wait(tp, sg, len, onxt, onseg)) {
		uint32 nsegs = MAX(sg->sg_nsegs, 1u);   // a coalesced run: its parts
		TCPSTAT_ADD(tcps_ooo_ackwait, nsegs);
		tp->t_unacked_bytes += len;   // I2
		tp->t_segs_unacked += nsegs;
		if (tp->t_unacked_bytes > tcp_sackdelay_limit(tp)) {
			tp->t_flags |= TF_ACKNOW;
			tcp_output(tp);
		} else {
			tcp_ack_later(tp);
		}
		return;
	}
	if (tp->t_ooonxt != tp->rcv_nxt) {   // I3
		tp->t_ooonxt = tp->rcv_nxt;
		tp->t_oooacks = 0;
	}
	if (tp->t_reass.tr_nseg > 0)
		tp->t_oooacks++;
	tp->t_flags |= TF_ACKNOW;
	tcp_output(tp);
}
