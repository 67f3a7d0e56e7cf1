// TCP send-buffer autotuning: a socket whose user did not choose
// SO_SNDBUF gets a send buffer as large as its window can use.
//
// Problem: a sender never has more in flight than its send buffer holds
// (sent data stays in so_snd until it is acknowledged), so goodput <=
// SO_SNDBUF / RTT, and a buffer no larger than the window keeps the
// sender stalled on every ACK: the writer waits for room, copies a few
// KB, and each PRU_SEND puts a small TSO packet on the wire. With the
// default 64 KB on a clean e1000 link, guest -> Linux sent ~11 segments
// per packet and ~0.09 TSO packets (each a TDT write, an exit into
// QEMU's e1000 model) per segment, and with a 256 KB buffer and 64 KB
// writes three times the goodput (docs/tcp.md, "Where the time goes on a
// clean e1000 link").
//
// Idea (FreeBSD's tcp_autosndbuf, Linux's tcp_sndbuf_expand): each time
// the user appends (tcp_usr_send), look whether the buffer is what
// limits the sender: it is so full that the writer must wait (less
// than its low water mark free; FreeBSD asks for 7/8 full, but a writer
// of 16 KB pieces that waits for a quarter free never gets there) and
// the usable window, min(peer's window, cwnd), is larger than the
// whole buffer -- the network would take more than we can hold. Then
// the buffer doubles, up to net.inet.tcp.sendbuf_max, and the writer's
// low water mark stays a quarter of it (tcp_usr_attach's rule: fewer,
// larger PRU_SENDs). A window the peer or congestion control keeps
// small never grows the buffer: memory follows the path's real need.
//
// Invariants:
//   I1 Only a socket without SO_OPT_SNDBUF grows, and only while
//      net.inet.tcp.sendbuf_auto is 1; the buffer never shrinks here.
//   I2 sb_hiwat <= MAX(its size at attach, sendbuf_max).
//
// Locking: called in the owning netisr ([o]); sbgrow and sbsetlowat
// take so_snd.sb_lock. The writer reads sb_hiwat under the same lock.
//
// Races: "SO_SNDBUF vs autotuning": setsockopt runs on the process's
// CPU while we decide here; sbgrow grows only if, under sb_lock, the
// size is still the one we decided from and the user has not set one
// (sbreserve_user marks it in the same hold), so I1 holds however the
// two interleave (host test sockbuf_grow_never_undoes_the_users_size).
// "writer waits while the buffer grows": the writer re-reads
// sbspace under sb_lock when woken; a larger buffer only means more
// space, found at its next look (the ACK that frees room wakes it).
//
// Life of a write: sosend_stream -> so_pru_send -> (netisr) tcp_usr_send
// -> sbappendstream -> tcp_sndbuf_autotune -> tcp_output.
//
// Testing: make hosttest (tcp_sndbuf_grows_to_the_window,
// tcp_sndbuf_fixed_by_so_sndbuf_or_switch, tcp_sndbuf_sysctl_range);
// make bench (tcp_e1000, guest -> Linux). gdb: break tcp_sndbuf_autotune.
//
// References: FreeBSD tcp_output.c, "TCP send buffer autosizing"
// (net.inet.tcp.sendbuf_auto, 2007); Linux tcp_sndbuf_expand
// (net/ipv4/tcp_input.c); RFC 9293 3.8.6 (the windows).
#include "net/tcp_var.h"
#include "net/socket.h"

int tcp_sendbuf_auto = 1;
NET_SYSCTL_INT_RANGE(tcp_sendbuf_auto, "net.inet.tcp.sendbuf_auto", SYSCTL_RW,
		     &tcp_sendbuf_auto, 0, 1,
		     "grow the send buffer of sockets without SO_SNDBUF while the window is larger");
int tcp_sendbuf_max = 1024 * 1024;
NET_SYSCTL_INT_RANGE(tcp_sendbuf_max, "net.inet.tcp.sendbuf_max", SYSCTL_RW,
		     &tcp_sendbuf_max, 65536, SB_MAX, "largest autotuned send buffer, bytes");

void tcp_sndbuf_autotune(struct tcpcb *tp)
{
	struct socket *so = tp->t_socket;
	struct sockbuf *sb = &so->so_snd;
	if (!__atomic_load_n(&tcp_sendbuf_auto, __ATOMIC_RELAXED) ||
	    (__atomic_load_n(&so->so_options, __ATOMIC_RELAXED) & SO_OPT_SNDBUF))
		return;   // I1
	uint32 hiwat = __atomic_load_n(&sb->sb_hiwat, __ATOMIC_RELAXED);
	uint32 max = (uint32)__atomic_load_n(&tcp_sendbuf_max, __ATOMIC_RELAXED);
	uint32 win = MIN(tp->snd_wnd, tp->snd_cwnd);
	uint32 cc = __atomic_load_n(&sb->sb_cc, __ATOMIC_RELAXED);
	uint32 lowat = __atomic_load_n(&sb->sb_lowat, __ATOMIC_RELAXED);
	if (hiwat >= max || win <= hiwat || cc + lowat <= hiwat)
		return;   // room for the writer's next wake-up, or the window limits
	uint32 grown = MIN(2 * hiwat, max);   // I2
	if (!sbgrow(sb, hiwat, grown))
		return;   // SO_SNDBUF since we looked: the user's size stays
	sbsetlowat(sb, grown / 4);
	TCPSTAT_INC(tcps_sndbufgrow);
}
