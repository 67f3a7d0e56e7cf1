// TCP congestion control: RFC 5681 slow start, congestion avoidance,
// fast retransmit and fast recovery, with RFC 6582 NewReno partial-ACK
// handling and the RFC 6928 initial window.
//
// Problem: a sender must not put more into the network than it can
// carry: probe for capacity, halve on loss, and recover from several
// losses in one window without waiting for a timeout per loss.
//
// Idea: cwnd and ssthresh in bytes; the sender's usable window is
// min(snd_wnd, cwnd) counted from snd_una (tcp_output). Duplicate ACKs
// are counted by the input path, which calls tcp_cc_dupack; new ACKs go
// to tcp_cc_ack or, during recovery, tcp_cc_recovery_ack. A
// retransmission of one segment is done by moving snd_nxt back to
// snd_una with cwnd = one MSS for the duration of one tcp_output.
//
// Invariants:
//   I1 cwnd >= one MSS; ssthresh >= two MSS after a loss.
//   I2 TF_INRECOVERY lasts from the third duplicate ACK until the ACK
//      that covers snd_recover (RFC 6582 3.2 step 3) or a timeout.
//   I3 snd_recover starts at iss, so the first loss may enter recovery.
//
// Locking: [o] only (the owning netisr).
// Races: none (single owner).
// Life of a loss: 3 dup ACKs -> tcp_input_sync (dup ACK test) ->
// tcp_cc_dupack -> tcp_cc_retransmit_one -> tcp_output; partial ACK ->
// tcp_cc_recovery_ack -> tcp_cc_retransmit_one; full ACK -> deflate.
//
// Testing: make hosttest (tcp_fast_retransmit_3dupacks,
// tcp_newreno_partial_ack, tcp_slow_start_growth). netstat -s:
// fastrexmt, newreno_partial, recovery. Per connection: the cwnd and
// ssthresh columns of net.inet.tcp.pcblist.
//
// With SACK (net.inet.tcp.sack and the peer's SACK-permitted), loss
// recovery is RFC 6675's instead (net/tcp_sack.c); it enters through
// tcp_cc_recovery_start, and tcp_cc_rto ends it.
//
// After an idle time longer than the RTO, cwnd restarts from the initial
// window (RFC 5681 4.1: tcp_cc_idle_restart, called by tcp_output).
//
// References: RFC 5681 (2, 3.1, 3.2, 4.1); RFC 6582 (3.2); RFC 6928 (2);
// RFC 3465 (byte counting, L = 1 SMSS).
#include "net/tcp_var.h"

int tcp_iw_segs = 10;   // RFC 6928
NET_SYSCTL_INT_RANGE(tcp_iw_segs, "net.inet.tcp.iw_segs", SYSCTL_RW, &tcp_iw_segs, 1, 100,
	       "initial congestion window in segments (RFC 6928: 10)");

#define TCP_CWND_MAX (1u << 30)

static uint32 tcp_flightsize(struct tcpcb *tp)
{
	return tp->snd_max - tp->snd_una;
}

// The initial window: RFC 6928 2: "IW = min (10*MSS, max (2*MSS,
// 14600))" (with the sysctl's segment count in place of 10).
static uint32 tcp_cc_iw(struct tcpcb *tp)
{
	uint32 mss = tp->t_maxseg;
	uint32 n = (uint32)__atomic_load_n(&tcp_iw_segs, __ATOMIC_RELAXED);
	return MAX(MIN(n * mss, MAX(2 * mss, 14600u)), mss);
}

void tcp_cc_init(struct tcpcb *tp)
{
	tp->snd_cwnd = tcp_cc_iw(tp);
	// RFC 5681 3.1: "The initial value of ssthresh SHOULD be set
	// arbitrarily high".
	tp->snd_ssthresh = TCP_CWND_MAX;
	tp->t_dupacks = 0;
	tp->t_bytes_acked = 0;
}

void tcp_cc_idle_restart(struct tcpcb *tp)
{
	// RFC 5681 4.1: "if the TCP has not sent data in an interval
	// exceeding the retransmission timeout ... cwnd ... RW = min(IW,
	// cwnd)": the ACK clock has stopped; do not send a whole old
	// window into a network whose state we no longer know.
	if (tp->t_sndtime == 0 || tp->snd_max != tp->snd_una ||
	    net_now_ms() - tp->t_sndtime <= (uint64)tp->t_rto)
		return;
	uint32 rw = tcp_cc_iw(tp);
	if (tp->snd_cwnd > rw) {
		tp->snd_cwnd = rw;
		TCPSTAT_INC(tcps_idlerestart);
	}
}

void tcp_cc_ack(struct tcpcb *tp, uint32 acked)
{
	uint32 mss = tp->t_maxseg;
	tp->t_dupacks = 0;
	if (tp->snd_cwnd < tp->snd_ssthresh) {
		// RFC 5681 3.1 (2): slow start, "cwnd += min (N, SMSS)".
		tp->snd_cwnd += MIN(acked, mss);
	} else {
		// RFC 5681 3.1 (3) by byte counting: one SMSS per cwnd acked.
		tp->t_bytes_acked += acked;
		if (tp->t_bytes_acked >= tp->snd_cwnd) {
			tp->t_bytes_acked -= tp->snd_cwnd;
			tp->snd_cwnd += mss;
		}
	}
	if (tp->snd_cwnd > TCP_CWND_MAX)
		tp->snd_cwnd = TCP_CWND_MAX;
}

// Resend the segment at snd_una now, whatever cwnd says, and put
// snd_nxt back where it was.
static void tcp_cc_retransmit_one(struct tcpcb *tp)
{
	tcp_seq onxt = tp->snd_nxt;
	uint32 ocwnd = tp->snd_cwnd;
	tp->snd_nxt = tp->snd_una;
	tp->snd_cwnd = tcp_smss(tp);   // one segment, not one and a runt of the options' size
	tp->t_rtttime = 0;   // RFC 6298 3 (Karn): this range is no RTT sample
	tcp_timer_set(tp, TCPT_REXMT, 0);   // restarted by the send (RFC 6298 5.3)
	tcp_output(tp);
	tp->snd_cwnd = ocwnd;
	if (SEQ_GT(onxt, tp->snd_nxt))
		tp->snd_nxt = onxt;
}

// RFC 5681 3.1 (4): "ssthresh = max (FlightSize / 2, 2*SMSS)".
static void tcp_cc_halve(struct tcpcb *tp)
{
	uint32 half = tcp_flightsize(tp) / 2;
	tp->snd_ssthresh = MAX(half, 2 * tp->t_maxseg);
}

// (The same four steps as tcp_cc_dupack's, which keeps them in line for
// the tcp lab's exercise 2.)
void tcp_cc_recovery_start(struct tcpcb *tp)
{
	TCPSTAT_INC(tcps_fastrexmt);
	TCPSTAT_INC(tcps_recovery);
	tcp_cc_halve(tp);                  // RFC 5681 3.2 (2)
	// RFC 6582 3.2 (2): "recover = HighData" (RFC 6675 5 (4.1): RecoveryPoint).
	tp->snd_recover = tp->snd_max;
	tp->t_flags |= TF_INRECOVERY;
}

void tcp_cc_dupack(struct tcpcb *tp)
{
	uint32 mss = tp->t_maxseg;
	TCPSTAT_INC(tcps_rcvdupack);
	tp->t_dupacks++;
	if (tp->t_flags & TF_INRECOVERY) {
		// RFC 5681 3.2 (4): "For each additional duplicate ACK received
		// (after the third), cwnd MUST be incremented by SMSS."
		tp->snd_cwnd += mss;
		tcp_output(tp);
		return;
	}
	/* LAB tcp BEGIN: exercise 2, fast retransmit on the third duplicate ACK */
	if (tp->t_dupacks != 3)
		return;
	// RFC 6582 3.2 (2): "If the Cumulative Acknowledgment field didn't
	// cover more than recover, ... do not enter the fast retransmit".
	if (!SEQ_GT(tp->snd_una, tp->snd_recover))
		return;
	TCPSTAT_INC(tcps_fastrexmt);
	TCPSTAT_INC(tcps_recovery);
	tcp_cc_halve(tp);                  // RFC 5681 3.2 (2)
	tp->snd_recover = tp->snd_max;     // RFC 6582 3.2 (2): "recover = HighData"
	tp->t_flags |= TF_INRECOVERY;
	tcp_cc_retransmit_one(tp);         // RFC 5681 3.2 (3)
	tp->snd_cwnd = tp->snd_ssthresh + 3 * mss;   // "cwnd = ssthresh + 3*SMSS"
	tcp_output(tp);
	/* LAB tcp STUB
	   LAB tcp END */
}

bool tcp_cc_recovery_ack(struct tcpcb *tp, tcp_seq ack, uint32 acked)
{
	uint32 mss = tp->t_maxseg;
	if (SEQ_GEQ(ack, tp->snd_recover)) {
		// RFC 6582 3.2 (3), full acknowledgment: "Set cwnd to either (1)
		// min (ssthresh, max(FlightSize, SMSS) + SMSS) or (2) ssthresh".
		tp->t_flags &= ~TF_INRECOVERY;
		tp->t_dupacks = 0;
		tp->snd_cwnd = MIN(tp->snd_ssthresh, MAX(tcp_flightsize(tp), mss) + mss);
		return false;
	}
	// Partial acknowledgment: "retransmit the first unacknowledged
	// segment ... deflate the congestion window by the amount of new data
	// acknowledged ..., then add back SMSS bytes if the partial ACK
	// acknowledges SMSS bytes or more".
	/* LAB tcp BEGIN: exercise 3, a partial acknowledgment in recovery */
	TCPSTAT_INC(tcps_newreno_partial);
	tcp_cc_retransmit_one(tp);
	tp->snd_cwnd = tp->snd_cwnd > acked ? tp->snd_cwnd - acked : mss;
	if (acked >= mss)
		tp->snd_cwnd += mss;
	if (tp->snd_cwnd < mss)
		tp->snd_cwnd = mss;
	tcp_output(tp);   // "send a new segment if permitted"
	return true;
	/* LAB tcp STUB
	(void)acked;
	(void)tcp_cc_retransmit_one;   // you will need it
	tp->t_flags &= ~TF_INRECOVERY;
	tp->t_dupacks = 0;
	tp->snd_cwnd = tp->snd_ssthresh;
	return false;
	   LAB tcp END */
}

void tcp_cc_rto(struct tcpcb *tp)
{
	// RFC 5681 3.1: on a timeout ssthresh per (4), "cwnd MUST be set to
	// no more than the loss window, LW, which equals 1 full-sized segment".
	if (tp->t_rxtshift <= 1)
		tcp_cc_halve(tp);   // only the first timeout of a loss halves
	// One full-sized segment is its data (tcp_smss): t_maxseg bytes would
	// let a second segment of 12 bytes (the timestamps' size) follow it.
	tp->snd_cwnd = tcp_smss(tp);
	tp->t_bytes_acked = 0;
	tp->t_dupacks = 0;
	tp->t_flags &= ~TF_INRECOVERY;
	// RFC 6582 3.2 (after a timeout): "recover <- highest sent".
	tp->snd_recover = tp->snd_max;
}
