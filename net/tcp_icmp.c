// TCP's reaction to ICMP errors about its segments: destination
// unreachable, time exceeded, parameter problem, and "fragmentation
// needed" with its next-hop MTU.
//
// Problem: an ICMP error says something went wrong with a segment we
// sent; believing it blindly lets anyone who can guess a 4-tuple kill or
// slow down a connection (RFC 5927), ignoring it leaves a connect(2) to a
// closed port waiting a minute and a connection to a vanished host
// reporting a plain ETIMEDOUT. And the ICMP message arrives on the
// netisr its own addresses hash to, not on the connection's owner.
//
// Idea: net/icmp.c hands us the quoted addresses and 8 bytes of our TCP
// header (ports and sequence number). tcp_ctlinput finds the owning
// netisr from the quoted 4-tuple (the same hash as the connection's) and,
// if that is not the current one, sends it a small message carrying the
// facts; the owner looks the connection up and acts:
//   - the quoted sequence number must lie in SND.UNA..SND.MAX-1 (a
//     segment we sent and is not yet acknowledged: RFC 5927 4.1), or the
//     message is ignored (counted in icmp_badseq);
//   - protocol and port unreachable (RFC 1122 4.2.3.9: "hard error
//     conditions") abort a connection in SYN_SENT with ECONNREFUSED -- as
//     Linux and BSD do, connect(2) fails at once. In every later state
//     they are treated as soft errors (RFC 5461, and Linux): a
//     synchronized connection is not torn down by one forgeable message;
//   - network and host unreachable (codes 0, 1, 5-12 and the
//     administratively prohibited 13) and time exceeded are soft
//     errors in every state, SYN_SENT included (RFC 1122 4.2.3.9:
//     "TCP MUST NOT abort the connection"): the error is remembered in
//     t_softerror and becomes the connection's error if it later times out
//     (connect or write then fails with EHOSTUNREACH/ENETUNREACH instead
//     of ETIMEDOUT: tcp_drop_quiet). Any ACK of new data clears it;
//   - fragmentation needed (RFC 1191): the segment size t_maxseg drops to
//     the reported MTU less 40, never below net.inet.tcp.minmss (a forged
//     tiny MTU must not turn a connection into a stream of 64-byte
//     segments: RFC 5927 7), never up; in a synchronized state what is
//     outstanding is sent again in the smaller size (go-back-N, no
//     congestion response: the segments were not lost to congestion).
//     A message without an MTU (pre-RFC 1191 routers) is ignored.
// Source quench is ignored (RFC 6633), and so is parameter problem (a
// soft error with no errno of its own here), as are messages about a
// listener or a TIME_WAIT connection.
//
// Message type (docs/conventions.md rule 11): struct tcp_ctlmsg
//   sender: tcp_ctlinput, in the netisr that received the ICMP message;
//   target: the netisr owning the quoted 4-tuple; reply port: none
//   (one-way); freed by: its handler, tcp_ctlmsg_handler (net_free).
//
// Invariants:
//   I1 A tcpcb is touched only on its owning netisr (t_cpu): messages
//      for another netisr's connection travel as a tcp_ctlmsg.
//   I2 t_maxseg only decreases here, and stays >= tcp_minmss (or the
//      peer's smaller MSS, which it already was).
//
// Locking: tcbinfo.ipi_lock around the lookup; [o] afterwards.
//
// Races: "connection closes while the message travels": the handler
// looks the 4-tuple up again on the owner; a closed connection is simply
// not found, a new one with the same 4-tuple fails the sequence check.
//
// Life of an ICMP error: ip_input -> icmp_input -> icmp_notify ->
// tcp_ctlinput -> [tcp_ctlmsg -> owner netisr: tcp_ctlmsg_handler] ->
// tcp_ctl_act -> tcp_drop_quiet / t_softerror / tcp_mtu_reduce.
//
// Testing: make hosttest (tcp_icmp_port_unreach_refuses_connect,
// tcp_icmp_host_unreach_soft_error, tcp_icmp_needfrag_shrinks_mss; each
// also sends errors quoting a sequence number not in flight, which must
// be ignored); tests/test_tcp.py
// (test_tcp_icmp_errors_from_linux: nftables rejects in the peer's
// namespace). gdb: break tcp_ctl_act.
//
// References: RFC 1122 4.2.3.9 (TCP's ICMP processing), 3.2.2.1; RFC
// 5927 (ICMP attacks against TCP: 4.1 sequence check, 7 the MTU floor);
// RFC 5461 (soft errors); RFC 1191 (path MTU discovery, 4 and 6.5);
// RFC 6633 (source quench deprecated); McKusick et al., FreeBSD design,
// 14 (tcp_ctlinput, tcp_notify).
#include "net/tcp_var.h"
#include "net/in_pcb.h"
#include "net/socket.h"
#include "net/icmp.h"
#include "net/ip.h"
#include "net/netisr.h"

int tcp_minmss = 216;   // FreeBSD's net.inet.tcp.minmss
NET_SYSCTL_INT_RANGE(tcp_minmss, "net.inet.tcp.minmss", SYSCTL_RW, &tcp_minmss, TCP_MSS_MIN,
		     1460, "smallest segment size an ICMP 'fragmentation needed' may impose");

// The facts of an ICMP error, on their way to the owning netisr.
struct tcp_ctlmsg {
	struct lwkt_msg cm_msg;   // [o] the carrier (first: container_of)
	struct icmp_ctl cm_ctl;   // [o] copied from the ICMP message
};

static uint16 be16at(const uint8 *p)
{
	return (uint16)(p[0] << 8 | p[1]);
}

static uint32 be32at(const uint8 *p)
{
	return (uint32)p[0] << 24 | (uint32)p[1] << 16 | (uint32)p[2] << 8 | p[3];
}

// The connection the quoted segment belongs to, on this netisr, or NULL.
static struct tcpcb *tcp_ctl_lookup(const struct icmp_ctl *ctl)
{
	uint16 lport = be16at(ctl->ic_th), fport = be16at(ctl->ic_th + 2);
	uint32 hash = netisr_hash_ipv4(ctl->ic_dst, ctl->ic_src, IPPROTO_TCP, fport, lport);
	net_lock_acquire(&tcbinfo.ipi_lock);
	struct inpcb *inp = in_pcblookup(&tcbinfo, ctl->ic_dst, fport, ctl->ic_src, lport, hash);
	if (inp != NULL && (inp->inp_faddr != ctl->ic_dst || inp->inp_fport != fport))
		inp = NULL;   // a listener (or a bound socket): not a connection
	net_lock_release(&tcbinfo.ipi_lock);
	struct tcpcb *tp = inp ? intotcpcb(inp) : NULL;
	if (tp == NULL || tp->t_cpu != net_cpuid() || tp->t_state <= TCPS_LISTEN ||
	    tp->t_state == TCPS_TIME_WAIT)
		return NULL;   // I1 (a connection caught moving is left alone)
	return tp;
}

// RFC 1191: smaller segments from now on; resend what is outstanding.
static void tcp_mtu_reduce(struct tcpcb *tp, uint32 mtu)
{
	int floor = __atomic_load_n(&tcp_minmss, __ATOMIC_RELAXED);
	if (mtu == 0)
		return;   // no next-hop MTU given: nothing to go by
	int mss = (int)mtu - IP_HDR_LEN - TCP_HDR_LEN;
	if (mss < floor)
		mss = floor;   // I2 (RFC 5927 7)
	if ((uint32)mss >= tp->t_maxseg)
		return;
	TCPSTAT_INC(tcps_icmp_mtu);
	tp->t_maxseg = (uint32)mss;
	if (!TCPS_HAVEESTABLISHED(tp->t_state) || tp->snd_una == tp->snd_max)
		return;
	tp->snd_nxt = tp->snd_una;   // the big ones were dropped on the way
	tp->t_rtttime = 0;           // Karn: what is timed is being resent
	tcp_output(tp);
}

// The errno a soft error becomes (RFC 1122 4.2.3.9 codes).
static int tcp_ctl_softerr(const struct icmp_ctl *ctl)
{
	if (ctl->ic_type == ICMP_UNREACH &&
	    (ctl->ic_code == ICMP_UNREACH_NET || ctl->ic_code == ICMP_UNREACH_NET_UNKNOWN ||
	     ctl->ic_code == ICMP_UNREACH_TOSNET))
		return -ENETUNREACH;
	return -EHOSTUNREACH;
}

// Act on the error for its connection (on the owning netisr).
static void tcp_ctl_act(const struct icmp_ctl *ctl)
{
	struct tcpcb *tp = tcp_ctl_lookup(ctl);
	if (tp == NULL)
		return;
	tcp_seq seq = be32at(ctl->ic_th + 4);
	if (SEQ_LT(seq, tp->snd_una) || SEQ_GEQ(seq, tp->snd_max)) {
		TCPSTAT_INC(tcps_icmp_badseq);   // RFC 5927 4.1: not a segment in flight
		return;
	}
	bool unreach = ctl->ic_type == ICMP_UNREACH;
	if (unreach && ctl->ic_code == ICMP_UNREACH_NEEDFRAG) {
		tcp_mtu_reduce(tp, ctl->ic_mtu);
		return;
	}
	bool hard = unreach && (ctl->ic_code == ICMP_UNREACH_PROTOCOL ||
				ctl->ic_code == ICMP_UNREACH_PORT);
	if (hard && tp->t_state == TCPS_SYN_SENT) {
		TCPSTAT_INC(tcps_icmp_hard);
		tcp_drop_quiet(tp, -ECONNREFUSED);   // connect(2) fails now
		return;
	}
	TCPSTAT_INC(tcps_icmp_soft);
	tp->t_softerror = hard ? -ECONNREFUSED : tcp_ctl_softerr(ctl);
}

// Handler of struct tcp_ctlmsg (see the message type).
static void tcp_ctlmsg_handler(struct lwkt_msg *msg)
{
	struct tcp_ctlmsg *cm = container_of(msg, struct tcp_ctlmsg, cm_msg);
	tcp_ctl_act(&cm->cm_ctl);
	net_free(cm);
}

void tcp_ctlinput(const struct icmp_ctl *ctl)
{
	if (ctl->ic_type != ICMP_UNREACH && ctl->ic_type != ICMP_TIMXCEED)
		return;
	uint16 lport = be16at(ctl->ic_th), fport = be16at(ctl->ic_th + 2);
	int cpu = tcp_tuplecpu(ctl->ic_src, lport, ctl->ic_dst, fport);
	if (cpu == net_cpuid()) {
		tcp_ctl_act(ctl);
		return;
	}
	struct tcp_ctlmsg *cm = net_malloc(sizeof(*cm));
	if (cm == NULL) {
		TCPSTAT_INC(tcps_drop_nomem);
		return;
	}
	cm->cm_ctl = *ctl;
	lwkt_initmsg(&cm->cm_msg, NULL, tcp_ctlmsg_handler, 0);
	lwkt_sendmsg(netisr_cpuport(cpu), &cm->cm_msg);
}
