// TCP receive-buffer autotuning: a socket whose user did not choose
// SO_RCVBUF gets a receive buffer as large as its path needs.
//
// Problem: a receiver can never have more than its buffer in flight
// towards it, so goodput <= SO_RCVBUF / RTT. The default buffer (64 KB)
// caps a 20 ms path at 3.2 MB/s however fast the link; a buffer sized
// for the worst path wastes memory on every LAN connection, and most
// programs never set SO_RCVBUF.
//
// Idea (FreeBSD's tcp_autorcvbuf, the same question as Linux's dynamic
// right-sizing, tcp_rcv_space_adjust): measure how many bytes arrive in
// order during one round trip. If that is nearly the whole buffer
// (> 7/8), the sender is limited by our window, so the buffer doubles,
// up to net.inet.tcp.recvbuf_max. The receiver has no RTT sample of its
// own (it sends no data to time), so the round trip is measured with
// timestamps: note our TSval when the measurement starts; the first
// segment whose TSecr is later echoes an ACK we sent after the start,
// so a full round trip has passed. Without timestamps nothing is tuned.
// The window shift chosen in the SYN already covers the ceiling
// (tcp_rcvbuf_ceiling), so the larger buffer can be advertised.
//
// Invariants:
//   I1 Only a socket without SO_OPT_RCVBUF grows, and only while
//      net.inet.tcp.recvbuf_auto is 1; the buffer never shrinks here.
//   I2 sb_hiwat <= tcp_rcvbuf_ceiling(tp) <= TCP_MAXWIN << rcv_scale
//      once the connection is synchronized (the SYN fixed rcv_scale from
//      the ceiling); a buffer larger than the window shift allows is
//      never advertised beyond it (tcp_rcvwin clamps).
//   I3 Only a buffer its reader keeps draining grows: at the decision
//      at most half of it may be queued. A program that never reads
//      must not let a sender grow its buffer (and the memory it pins)
//      to recvbuf_max by filling it once per round trip; Linux sizes
//      by bytes copied to the reader for the same reason.
//
// Locking: t_rfbuf_* are [o]; sbgrow takes so_rcv.sb_lock.
//
// Races: "SO_RCVBUF vs autotuning": as in net/tcp_sndbuf.c, sbgrow
// checks the size and the user's mark under sb_lock (I1).
// "knob changed mid-connection": recvbuf_max is read once per
// decision; a smaller ceiling stops growth, a larger one is limited by
// the shift the SYN fixed (I2).
//
// Life of a segment: tcp_input_sync -> tcp_input_text -> in order, or
// filling a hole (the bytes tcp_reass hands to the socket: on a lossy
// path most of a round's data comes that way, and counting only the
// in-order segments would keep a lossy connection at its smallest
// window, where recovery most needs room behind the hole):
// tcp_rcvbuf_autotune -> (a round trip passed, buffer nearly filled)
// sbgrow -> the next ACK advertises the larger window.
//
// Testing: make hosttest (tcp_rcvbuf_autotune_needs_a_reader,
// tcp_rcvbuf_autotune_counts_reassembled_data); tests/test_tcp_opts.py (a 20 ms relay path: the advertised
// window grows past 64 KB, and stays with the switch off); make bench
// (bench/bdpbench.py: the "auto" row). gdb: break tcp_rcvbuf_autotune.
//
// References: FreeBSD tcp_input.c, "TCP receive buffer autosizing"
// (net.inet.tcp.recvbuf_auto, 2007); Fisk and Feng, "Dynamic
// right-sizing in TCP" (Los Alamos, 2001); RFC 7323 2.3, 4.
#include "net/tcp_var.h"
#include "net/socket.h"

int tcp_recvbuf_auto = 1;
NET_SYSCTL_INT_RANGE(tcp_recvbuf_auto, "net.inet.tcp.recvbuf_auto", SYSCTL_RW,
		     &tcp_recvbuf_auto, 0, 1,
		     "grow the receive buffer of sockets without SO_RCVBUF to the path's needs");
int tcp_recvbuf_max = 2 * 1024 * 1024;
NET_SYSCTL_INT_RANGE(tcp_recvbuf_max, "net.inet.tcp.recvbuf_max", SYSCTL_RW,
		     &tcp_recvbuf_max, 65536, SB_MAX, "largest autotuned receive buffer, bytes");

uint32 tcp_rcvbuf_ceiling(struct tcpcb *tp)
{
	struct socket *so = tp->t_socket;
	uint32 hiwat = __atomic_load_n(&so->so_rcv.sb_hiwat, __ATOMIC_RELAXED);
	if ((__atomic_load_n(&so->so_options, __ATOMIC_RELAXED) & SO_OPT_RCVBUF) ||
	    !__atomic_load_n(&tcp_recvbuf_auto, __ATOMIC_RELAXED))
		return hiwat;
	uint32 max = (uint32)__atomic_load_n(&tcp_recvbuf_max, __ATOMIC_RELAXED);
	return MAX(hiwat, max);
}

// One round trip has passed: grow the buffer if it nearly filled.
static void tcp_rcvbuf_grow(struct tcpcb *tp)
{
	struct socket *so = tp->t_socket;
	uint32 hiwat = __atomic_load_n(&so->so_rcv.sb_hiwat, __ATOMIC_RELAXED);
	uint32 max = MIN((uint32)__atomic_load_n(&tcp_recvbuf_max, __ATOMIC_RELAXED),
			 (uint32)TCP_MAXWIN << tp->rcv_scale);   // I2
	uint32 queued = __atomic_load_n(&so->so_rcv.sb_cc, __ATOMIC_RELAXED);
	if (tp->t_rfbuf_cnt > hiwat / 8 * 7 && hiwat < max && queued <= hiwat / 2) {   // I3
		if (sbgrow(&so->so_rcv, hiwat, MIN(2 * hiwat, max)))   // not past SO_RCVBUF
			TCPSTAT_INC(tcps_rcvbufgrow);
	}
}

void tcp_rcvbuf_autotune(struct tcpcb *tp, const struct tcp_seg *sg, uint32 len)
{
	struct socket *so = tp->t_socket;
	const struct tcpopt *to = &sg->sg_opt;
	if (!__atomic_load_n(&tcp_recvbuf_auto, __ATOMIC_RELAXED) ||
	    (__atomic_load_n(&so->so_options, __ATOMIC_RELAXED) & SO_OPT_RCVBUF) ||
	    (tp->t_flags & TF_BOTH_TSTMP) != TF_BOTH_TSTMP || !(to->to_flags & TOF_TS))
		return;   // I1
	if (tp->t_rfbuf_ts == 0) {
		tp->t_rfbuf_ts = tcp_ts_now(tp) | 1;   // never 0 while measuring
		tp->t_rfbuf_cnt = 0;
	}
	tp->t_rfbuf_cnt += len;
	if (TSTMP_GT(to->to_tsecr, tp->t_rfbuf_ts)) {
		tcp_rcvbuf_grow(tp);
		tp->t_rfbuf_ts = 0;   // the next segment starts a new round
	}
}
