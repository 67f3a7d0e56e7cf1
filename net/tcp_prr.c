// TCP Proportional Rate Reduction (RFC 6937): how much a sender in SACK
// loss recovery may send on each ACK.
//
// Problem: RFC 6675 (net/tcp_sack.c) cuts cwnd to ssthresh = FlightSize/2
// the moment it enters recovery, and then sends while cwnd - pipe >= 1
// SMSS. pipe starts near FlightSize, far above the new cwnd, so nothing
// at all may go until the ACKs of half a window have come back: the ACK
// clock stops for half a round trip. Where the round trip is mostly the
// ends' own reaction time (a guest under QEMU at 2% loss, with a window
// of a few segments) the link simply idles. Later, if further losses or
// lost ACKs have let pipe fall well below ssthresh, RFC 6675 sends
// ssthresh - pipe at once: a burst, right when the path has shown it
// is overloaded.
//
// Idea: spread the reduction over the recovery. For every byte the
// receiver reports delivered (DeliveredData: what the cumulative ACK
// advanced plus what was newly SACKed, less what the ACK took out of the
// SACKed ranges), send ssthresh / RecoverFS bytes -- about half -- so the
// ACK clock keeps running from the first duplicate ACK on, and when
// recovery ends, ssthresh bytes are in flight, as RFC 6675 wants:
//     pipe >  ssthresh: sndcnt = ceil(prr_delivered * ssthresh / RecoverFS)
//                                - prr_out
//     pipe <= ssthresh: sndcnt = min(ssthresh - pipe,
//                                    max(prr_delivered - prr_out,
//                                        DeliveredData) + SMSS)
// (the second line is the slow-start reduction bound, PRR-SSRB: below
// ssthresh, grow back at most one SMSS faster than data is delivered,
// never in a burst). RFC 6675's step (C) then sends while
// pipe + sndcnt - pipe' >= SMSS, what NextSeg says; cwnd itself stays
// ssthresh (what netstat shows, and what recovery ends with). The fast
// retransmission on entering recovery goes whatever PRR says (RFC 6675
// (4.3)); like everything sent in recovery it counts in prr_out.
//
// Switch: net.inet.tcp.prr (1: PRR-SSRB, as Linux and FreeBSD do by
// default; 0: RFC 6675 alone, the default here). It is read once per
// recovery, when it starts, so a flip never mixes the two inside one
// recovery. Off by default (RFC 6675's behaviour, as before PRR was
// added) because on this project's lossy path (2% random loss each way,
// no queue to overflow, a round trip that is mostly the guest's own
// reaction time) it measured no better: guest -> Linux, flipped in one
// boot, four boots, 8 paired runs, 5 of them lower with PRR, means 52.2
// (PRR) and 51.4 Mbit/s (docs/tcp.md). Its gentleness pays where losses
// come from a queue that a burst would overflow again.
//
// Invariants:
//   I1 sb_prr_on only while TF_SACKRECOVERY (set by tcp_prr_start,
//      cleared by tcp_prr_end at the end of recovery or on a timeout).
//   I2 sb_prr_out counts every byte sent in this recovery:
//      tcp_sack_enter's retransmission, tcp_sack_send, the probe
//      timeout's resend of a lost retransmission (net/tcp_tlp.c).
//   I3 sb_delivered is the DeliveredData of the last acceptable ACK,
//      set by tcp_sack_update before snd_una moves.
//
// Locking: [o] only: the state is in the scoreboard, which belongs to the
// tcpcb's owning netisr. The switch is read with a relaxed atomic load
// ([a]: a sysctl may write it from any CPU). Races: none between threads.
//
// Life of a recovery: tcp_input_ack -> tcp_sack_update (DeliveredData)
// -> tcp_sack_dupack -> tcp_sack_enter -> tcp_prr_start; retransmit;
// tcp_sack_send -> tcp_prr_window (how far pipe may go) ->
// tcp_output_at -> tcp_prr_sent. Later ACKs: tcp_sack_recovery_ack ->
// tcp_prr_ack -> tcp_sack_send, or (A) -> tcp_prr_end.
//
// Testing: make hosttest (tests/host/test_tcp_prr.c:
// tcp_prr_keeps_ack_clock_on_entry, tcp_prr_no_burst_below_ssthresh,
// tcp_prr_sysctl_range); make bench
// --only lossflip flips it in one boot. netstat -s: prr_recovery.
// gdb: break tcp_prr_window; print *tp->t_sack.
//
// References: RFC 6937 (2 definitions, 3 the algorithm, 5 properties),
// RFC 6675 5 (the recovery it modifies); M. Mathis, N. Dukkipati, Y.
// Cheng, "Proportional Rate Reduction for TCP", IMC 2011.
#include "net/tcp_sack.h"

int tcp_do_prr = 0;
NET_SYSCTL_INT_RANGE(tcp_do_prr, "net.inet.tcp.prr", SYSCTL_RW, &tcp_do_prr, 0, 1,
		     "SACK recovery sends by RFC 6937 proportional rate reduction (0: RFC 6675 alone)");

void tcp_prr_start(struct tcpcb *tp, uint32 delivered)
{
	struct tcp_sackboard *sb = tp->t_sack;
	sb->sb_prr_on = __atomic_load_n(&tcp_do_prr, __ATOMIC_RELAXED) != 0;
	// RFC 6937 3: "prr_delivered = 0; prr_out = 0; RecoverFS = snd.nxt -
	// snd.una" -- and the ACK that starts recovery is the first one
	// counted ("On every ACK starting or during fast recovery").
	sb->sb_prr_delivered = delivered;
	sb->sb_prr_out = 0;
	sb->sb_prr_recoverfs = tp->snd_max - tp->snd_una;
	if (sb->sb_prr_on)
		TCPSTAT_INC(tcps_prr_recovery);
}

void tcp_prr_ack(struct tcpcb *tp)
{
	struct tcp_sackboard *sb = tp->t_sack;
	if (sb != NULL && sb->sb_prr_on)
		sb->sb_prr_delivered += sb->sb_delivered;   // "prr_delivered += DeliveredData"
}

void tcp_prr_sent(struct tcpcb *tp, uint32 bytes)
{
	struct tcp_sackboard *sb = tp->t_sack;
	if (sb != NULL && sb->sb_prr_on)
		sb->sb_prr_out += bytes;   // "On any data transmission or retransmission"
}

void tcp_prr_end(struct tcpcb *tp)
{
	if (tp->t_sack != NULL)
		tp->t_sack->sb_prr_on = false;   // I1; cwnd is ssthresh (never moved)
}

// RFC 6937 3: sndcnt, in bytes (never negative).
static uint32 tcp_prr_sndcnt(struct tcpcb *tp, uint32 pipe)
{
	struct tcp_sackboard *sb = tp->t_sack;
	uint32 ssthresh = tp->snd_ssthresh;
	int64 out = sb->sb_prr_out, dlv = sb->sb_prr_delivered, cnt;
	if (pipe > ssthresh) {
		// "Proportional Rate Reduction": CEIL(prr_delivered * ssthresh
		// / RecoverFS) - prr_out.
		uint64 fs = MAX(sb->sb_prr_recoverfs, 1u);
		cnt = (int64)(((uint64)dlv * ssthresh + fs - 1) / fs) - out;
	} else {
		// "PRR-SSRB": limit = MAX(prr_delivered - prr_out,
		// DeliveredData) + MSS; sndcnt = MIN(ssthresh - pipe, limit).
		int64 limit = MAX(dlv - out, (int64)sb->sb_delivered) + tp->t_maxseg;
		cnt = MIN((int64)(ssthresh - pipe), limit);
	}
	return cnt > 0 ? (uint32)cnt : 0;
}

uint32 tcp_prr_window(struct tcpcb *tp, uint32 pipe)
{
	struct tcp_sackboard *sb = tp->t_sack;
	if (sb == NULL || !sb->sb_prr_on)
		return tp->snd_cwnd;   // RFC 6675: cwnd (= ssthresh)
	return pipe + tcp_prr_sndcnt(tp, pipe);   // RFC 6937: "cwnd = pipe + sndcnt"
}
