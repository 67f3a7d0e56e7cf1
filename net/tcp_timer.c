// TCP timers: retransmission (RFC 6298), persist (zero-window probes),
// keepalive, 2MSL (TIME_WAIT), delayed ACK and the tail loss probe
// (net/tcp_tlp.c); and the RTT estimator.
//
// Problem: each connection needs six timers, which must run in the
// connection's own netisr (ownership: nothing else may touch the tcpcb),
// cost little when re-armed on every ACK, and never fire after the
// tcpcb is freed.
//
// Idea: the timers are deadlines in the tcpcb (t_timer[], absolute ms).
// One callout per tcpcb is armed, on the owning netisr's CPU, for the
// earliest deadline (lazily: an earlier-armed callout is left alone, it
// fires, finds nothing due and re-arms). The callout runs in interrupt
// context, where it may not touch the tcpcb; it only sends the tcpcb's
// embedded message t_timermsg to the owning netisr (if the message is
// not already in flight). The netisr runs tcp_timer_handler, which
// replies first (the message is the callout's to send again), then runs
// every expired timer, then re-arms.
//
// Message type (docs/conventions.md rule 11): t_timermsg
//   sender: tcp_timer_callout (callout, interrupt context, owner's CPU);
//   target: the netisr of t_cpu; reply port: none (reply marks it DONE);
//   freed by: nobody -- embedded in the tcpcb, which tcp_close frees only
//   after tcp_timer_teardown (callout stopped, message DONE or dropped).
//
// Invariants:
//   I1 t_callout_at != 0 => the callout is pending for a time <= every
//      running deadline... or the handler will re-arm (it always does).
//   I2 The callout is armed only by the owning netisr, so it fires on
//      that netisr's CPU (kernel/callout.c).
//   I3 A tcpcb is freed only after tcp_timer_teardown.
//
// Locking: none beyond the message handoff; every field is [o].
//
// Races:
//   - "callout fires while the handler runs": the message is not DONE
//     until the handler replies (its first action); a callout firing
//     earlier finds it busy and does nothing, and the handler's re-arm
//     covers what it wanted. One firing later sends it again: harmless.
//   - "close while the message is queued": tcp_timer_teardown stops the
//     callout, then withdraws the queued message (lwkt_dropmsg) -- it can
//     only be queued on our own port, which only we dequeue.
//
// Life of a retransmission: callout -> tcp_timer_callout -> lwkt_sendmsg
// -> netisr: tcp_timer_handler -> tcp_timer_rexmt -> tcp_cc_rto ->
// snd_nxt = snd_una -> tcp_output.
//
// Testing: make hosttest (tcp_rto_backoff_karn, tcp_zero_window_persist,
// tcp_keepalive_drop, tcp_time_wait_reuse, tcp_delayed_ack,
// tcp_rto_3s_after_syn_timeout, tcp_persist_gives_up_on_a_dead_peer).
// gdb: break tcp_timer_rexmt.
//
// References: RFC 6298 (RTO: 2 estimator, 3 Karn, 5 timer management);
// RFC 9293 3.8.1 (retransmission), 3.8.6.1 (zero-window probes),
// 3.8.4 (keepalive; RFC 1122 4.2.3.6), 3.6.1 (TIME_WAIT, 2MSL);
// RFC 1122 4.2.3.2 (delayed ACK), 4.2.3.5 (retransmission limits);
// DragonFly BSD netinet/tcp_timer.c (timers as netisr messages).
#include "net/tcp_var.h"
#include "net/tcp_sack.h"
#include "net/in_pcb.h"
#include "net/socket.h"
#include "net/netisr.h"

// Tunables (sysctl net.inet.tcp.*). Times in ms.
int tcp_msl_ms = 30000;          // RFC 9293 3.4.2: MSL "2 minutes" (engineering: 30 s)
int tcp_rto_init_ms = 1000;      // RFC 6298 2.1: initial RTO 1 s
int tcp_rto_min_ms = 200;        // RFC 6298 2.4 says 1 s; Linux and BSD use 200 ms
int tcp_rto_max_ms = 60000;      // RFC 6298 2.5: a maximum of at least 60 s
int tcp_rexmt_max = 12;          // retransmissions of one segment, then ETIMEDOUT
int tcp_syn_rexmt_max = 6;       // retransmissions of a SYN (1+2+...+32 s = 63 s)
int tcp_keepidle_ms = 7200000;   // RFC 1122 4.2.3.6: "no less than two hours"
int tcp_keepintvl_ms = 75000;
int tcp_keepcnt = 8;
int tcp_keepinit_ms = 75000;     // unused: the SYN retransmission limit bounds it
int tcp_delack_ms = 100;         // RFC 1122 4.2.3.2: "MUST be less than 0.5 seconds"
int tcp_fin_wait_2_ms = 60000;   // orphaned FIN_WAIT_2 gives up after this idle

NET_SYSCTL_INT_RANGE(tcp_msl_ms, "net.inet.tcp.msl_ms", SYSCTL_RW, &tcp_msl_ms, 1, 600000,
	       "maximum segment lifetime, ms (TIME_WAIT = 2 x this)");
NET_SYSCTL_INT_RANGE(tcp_rto_init_ms, "net.inet.tcp.rto_init_ms", SYSCTL_RW, &tcp_rto_init_ms, 200, 60000,
	       "RTO before the first RTT sample, ms");
NET_SYSCTL_INT_RANGE(tcp_rto_min_ms, "net.inet.tcp.rto_min_ms", SYSCTL_RW, &tcp_rto_min_ms, 1, 60000,
	       "smallest RTO, ms");
NET_SYSCTL_INT_RANGE(tcp_rto_max_ms, "net.inet.tcp.rto_max_ms", SYSCTL_RW, &tcp_rto_max_ms, 1000, 600000,
	       "largest RTO after backoff, ms");
NET_SYSCTL_INT_RANGE(tcp_rexmt_max, "net.inet.tcp.rexmt_max", SYSCTL_RW, &tcp_rexmt_max, 1, 30,
	       "retransmissions of a segment before ETIMEDOUT");
NET_SYSCTL_INT_RANGE(tcp_syn_rexmt_max, "net.inet.tcp.syn_rexmt_max", SYSCTL_RW, &tcp_syn_rexmt_max, 1, 30, "retransmissions of a SYN before ETIMEDOUT");
NET_SYSCTL_INT_RANGE(tcp_keepidle_ms, "net.inet.tcp.keepidle_ms", SYSCTL_RW, &tcp_keepidle_ms, 100, 86400000,
	       "idle time before the first keepalive probe, ms");
NET_SYSCTL_INT_RANGE(tcp_keepintvl_ms, "net.inet.tcp.keepintvl_ms", SYSCTL_RW, &tcp_keepintvl_ms, 100, 3600000, "time between keepalive probes, ms");
NET_SYSCTL_INT_RANGE(tcp_keepcnt, "net.inet.tcp.keepcnt", SYSCTL_RW, &tcp_keepcnt, 1, 100,
	       "unanswered keepalive probes before the connection is dropped");
NET_SYSCTL_INT_RANGE(tcp_delack_ms, "net.inet.tcp.delack_ms", SYSCTL_RW, &tcp_delack_ms, 1, 200,
	       "delayed ACK timer, ms (<= 200)");
NET_SYSCTL_INT_RANGE(tcp_fin_wait_2_ms, "net.inet.tcp.fin_wait_2_ms", SYSCTL_RW, &tcp_fin_wait_2_ms, 100, 3600000, "idle limit of a closed socket in FIN_WAIT_2, ms");

static int tcp_knob(int *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

// ---- the callout and the message ---------------------------------------------------

static void tcp_timer_handler(struct lwkt_msg *msg);

// Callout function: interrupt context on the owner's CPU (I2). Touches
// only the message (see Races).
static void tcp_timer_callout(void *arg)
{
	struct tcpcb *tp = arg;
	if (lwkt_msg_done(&tp->t_timermsg))
		lwkt_sendmsg(netisr_cpuport(tp->t_cpu), &tp->t_timermsg);
}

void tcp_timer_init(struct tcpcb *tp)
{
	net_callout_init(&tp->t_callout);
	lwkt_initmsg(&tp->t_timermsg, NULL, tcp_timer_handler, 0);
	lwkt_initmsg(&tp->t_connmsg, NULL, NULL, 0);   // DONE until connect sends it
}

// Arm the callout for the earliest deadline, unless it is armed for an
// earlier time already (it will fire, find nothing, and come back here).
static void tcp_timer_rearm(struct tcpcb *tp)
{
	uint64 first = 0;
	for (int t = 0; t < TCPT_NTIMERS; t++)
		if (tp->t_timer[t] != 0 && (first == 0 || tp->t_timer[t] < first))
			first = tp->t_timer[t];
	if (first == 0 || (tp->t_callout_at != 0 && tp->t_callout_at <= first))
		return;
	uint64 now = net_now_ms();
	tp->t_callout_at = first;
	net_callout_reset(&tp->t_callout, first > now ? (int)(first - now) : 0,
			  tcp_timer_callout, tp);
}

void tcp_timer_set(struct tcpcb *tp, enum tcp_timer_kind t, int ms)
{
	tp->t_timer[t] = ms > 0 ? net_now_ms() + ms : 0;
	if (ms > 0)
		tcp_timer_rearm(tp);
}

bool tcp_timer_active(struct tcpcb *tp, enum tcp_timer_kind t)
{
	return tp->t_timer[t] != 0;
}

void tcp_timer_stopall(struct tcpcb *tp)
{
	for (int t = 0; t < TCPT_NTIMERS; t++)
		tp->t_timer[t] = 0;
}

void tcp_timer_teardown(struct tcpcb *tp)
{
	tcp_timer_stopall(tp);
	net_callout_stop(&tp->t_callout);
	tp->t_callout_at = 0;
	if (!lwkt_msg_done(&tp->t_timermsg))
		lwkt_dropmsg(netisr_cpuport(tp->t_cpu), &tp->t_timermsg);   // I3
	// t_connmsg is queued ahead of every request that could close us
	// (FIFO on our port); only forged segments arriving before it ran
	// could end the connection first: withdraw it then.
	if (!lwkt_msg_done(&tp->t_connmsg))
		lwkt_dropmsg(netisr_cpuport(tp->t_cpu), &tp->t_connmsg);
}

// ---- RTT and RTO (RFC 6298) ---------------------------------------------------------

void tcp_rtt_update(struct tcpcb *tp, int rtt)
{
	if (rtt < 1)
		rtt = 1;   // our clock's granularity G is 1 ms
	TCPSTAT_INC(tcps_rttupdated);
	if (tp->t_srtt == 0) {
		// RFC 6298 2.2: "SRTT <- R, RTTVAR <- R/2"
		tp->t_srtt = rtt << 3;
		tp->t_rttvar = rtt << 1;
	} else {
		// RFC 6298 2.3: "RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|,
		// SRTT <- (1 - alpha) * SRTT + alpha * R'" (alpha 1/8, beta 1/4),
		// RTTVAR first, with the old SRTT.
		int delta = (rtt << 3) - tp->t_srtt;
		int adelta = delta < 0 ? -delta : delta;
		tp->t_rttvar += ((adelta >> 1) - tp->t_rttvar) >> 2;
		tp->t_srtt += delta >> 3;
		if (tp->t_srtt <= 0)
			tp->t_srtt = 1;
	}
	// "RTO <- SRTT + max (G, K*RTTVAR)", K = 4 (t_rttvar is RTTVAR * 4).
	int rto = (tp->t_srtt >> 3) + (tp->t_rttvar > 1 ? tp->t_rttvar : 1);
	int lo = tcp_knob(&tcp_rto_min_ms), hi = tcp_knob(&tcp_rto_max_ms);
	tp->t_rto = rto < lo ? lo : rto > hi ? hi : rto;
}

void tcp_rto_after_handshake(struct tcpcb *tp)
{
	// RFC 6298 5.7: "If the timer expires awaiting the ACK of a SYN
	// segment and the TCP implementation is using an RTO less than 3
	// seconds, the RTO MUST be re-initialized to 3 seconds when data
	// transmission begins (i.e., after the three-way handshake
	// completes)." An RTT sample (a timestamp echo) knows better.
	if (tp->t_rxtshift > 0 && tp->t_srtt == 0 && tp->t_rto < TCP_RTO_SYN_FALLBACK_MS)
		tp->t_rto = TCP_RTO_SYN_FALLBACK_MS;
}

int tcp_rexmt_ms(struct tcpcb *tp)
{
	// RFC 6298 5.5: "set RTO <- RTO * 2 ("back off the timer")", up to
	// the maximum of 2.5.
	int shift = tp->t_rxtshift < 16 ? tp->t_rxtshift : 16;
	uint64 ms = (uint64)tp->t_rto << shift;
	uint64 hi = (uint64)tcp_knob(&tcp_rto_max_ms);
	return (int)(ms > hi ? hi : ms);
}

// ---- the timers ----------------------------------------------------------------------

// Retransmission timeout (RFC 6298 5.4-5.7; RFC 5681 3.1 for cwnd).
// Returns NULL if the connection was dropped.
static struct tcpcb *tcp_timer_rexmt(struct tcpcb *tp)
{
	TCPSTAT_INC(tcps_rexmttimeo);
	int limit = tp->t_state < TCPS_ESTABLISHED ? tcp_knob(&tcp_syn_rexmt_max)
						   : tcp_knob(&tcp_rexmt_max);
	if (++tp->t_rxtshift > limit) {
		// RFC 1122 4.2.3.5: after R2 retransmissions, close.
		TCPSTAT_INC(tcps_timeoutdrop);
		return tcp_drop(tp, -ETIMEDOUT);
	}
	tp->t_rtttime = 0;   // RFC 6298 3 (Karn): no sample from a retransmission
	tcp_tlp_reset(tp);           // the probe (if any) did not help
	tcp_cc_rto(tp);
	tcp_sack_rto(tp);            // RFC 6675 5.1: forget the scoreboard
	tp->snd_nxt = tp->snd_una;   // go back and resend from the oldest
	tcp_output(tp);   // RFC 6298 5.4: "Retransmit the earliest segment"
	tcp_rexmt_arm(tp);   // 5.6: "Start the retransmission timer"
	return tp;
}

// Zero-window probe (RFC 9293 3.8.6.1): resend the first unacknowledged
// byte (or the first queued one) past the closed window, with backoff.
// RFC 1122 4.2.2.17: the connection stays open however long the window
// stays closed, "as long as the receiving TCP continues to send
// acknowledgments in response to the probe segments". A peer that has
// vanished answers none: after rexmt_max probes in a row without any
// segment from it (t_persistprobes, reset by every segment received),
// the connection is dropped with ETIMEDOUT, as a retransmission would be
// (RFC 1122 4.2.3.5) -- else it would probe a dead host for ever.
static struct tcpcb *tcp_timer_persist(struct tcpcb *tp)
{
	TCPSTAT_INC(tcps_persisttimeo);
	if (tp->snd_wnd == 0 && ++tp->t_persistprobes > tcp_knob(&tcp_rexmt_max)) {
		TCPSTAT_INC(tcps_persistdrop);
		return tcp_drop(tp, -ETIMEDOUT);
	}
	if (tp->snd_wnd == 0) {   // a probe; else: force a small segment (SWS)
		if (tp->t_persist_shift < 12)
			tp->t_persist_shift++;
		int base = tp->t_rto << tp->t_persist_shift;
		int hi = tcp_knob(&tcp_rto_max_ms);
		tcp_timer_set(tp, TCPT_PERSIST, base > hi || base <= 0 ? hi : base);
	}
	tp->snd_nxt = tp->snd_una;   // nothing is in flight but a probe byte
	tp->t_flags |= TF_FORCEDATA;
	tcp_output(tp);
	tp->t_flags &= ~TF_FORCEDATA;
	return tp;
}

// Keepalive (RFC 9293 3.8.4, RFC 1122 4.2.3.6): probe an idle connection
// with <SEQ=SND.NXT-1><ACK=RCV.NXT>, which the peer must answer; after
// keepcnt unanswered probes, drop it.
static struct tcpcb *tcp_timer_keep(struct tcpcb *tp)
{
	struct socket *so = tp->t_socket;
	TCPSTAT_INC(tcps_keeptimeo);
	int idle_lim = tcp_knob(&tcp_keepidle_ms);
	// RFC 9293 3.8.4 (MUST-26): "keep-alive packets MUST only be sent
	// when no sent data is outstanding" -- while it is, the
	// retransmission (or persist) timer is the one that finds a dead peer.
	if (!(__atomic_load_n(&so->so_options, __ATOMIC_RELAXED) & SO_OPT_KEEPALIVE) ||
	    tp->t_state < TCPS_ESTABLISHED || tp->t_state > TCPS_CLOSE_WAIT ||
	    tp->snd_max != tp->snd_una) {
		tcp_timer_set(tp, TCPT_KEEP, idle_lim);
		return tp;
	}
	uint64 idle = net_now_ms() - tp->t_rcvtime;
	if (idle < (uint64)idle_lim && tp->t_keepprobes == 0) {
		tcp_timer_set(tp, TCPT_KEEP, (int)(idle_lim - idle));
		return tp;
	}
	if (tp->t_keepprobes >= tcp_knob(&tcp_keepcnt)) {
		TCPSTAT_INC(tcps_keepdrops);
		return tcp_drop(tp, -ETIMEDOUT);
	}
	TCPSTAT_INC(tcps_keepprobe);
	tp->t_keepprobes++;
	tcp_respond_tcb(tp, tp->snd_una - 1, tp->rcv_nxt, TH_ACK);
	tcp_timer_set(tp, TCPT_KEEP, tcp_knob(&tcp_keepintvl_ms));
	return tp;
}

// 2MSL: TIME_WAIT is over (RFC 9293 3.6.1), or an orphaned FIN_WAIT_2
// has been idle too long.
static struct tcpcb *tcp_timer_2msl(struct tcpcb *tp)
{
	if (tp->t_state == TCPS_FIN_WAIT_2 && !(tp->t_flags & TF_NOFDREF)) {
		return tp;   // the user may still half-close for ever
	}
	if (tp->t_state == TCPS_FIN_WAIT_2) {
		uint64 idle = net_now_ms() - tp->t_rcvtime;
		int lim = tcp_knob(&tcp_fin_wait_2_ms);
		if (idle < (uint64)lim) {
			tcp_timer_set(tp, TCPT_2MSL, (int)(lim - idle));
			return tp;
		}
	}
	return tcp_close(tp);
}

static struct tcpcb *tcp_timer_delack(struct tcpcb *tp)
{
	TCPSTAT_INC(tcps_delack);
	tp->t_flags |= TF_ACKNOW;
	tcp_output(tp);
	// No mbuf for the ACK (tcp_output swallows ENOBUFS): the ACK is still
	// owed (TF_ACKNOW stays until one goes), so try again one interval
	// later rather than leave it to the peer's retransmission timer.
	if (tp->t_flags & TF_ACKNOW)
		tcp_timer_set(tp, TCPT_DELACK, tcp_delack_ms);
	return tp;
}

void tcp_timewait_start(struct tcpcb *tp)
{
	tcp_setstate(tp, TCPS_TIME_WAIT);
	tcp_timer_stopall(tp);
	tp->t_last_rcvnxt = tp->rcv_nxt;
	// RFC 9293 3.6.1: "remain in TIME-WAIT for 2 MSL".
	tcp_timer_set(tp, TCPT_2MSL, 2 * tcp_knob(&tcp_msl_ms));
	__atomic_or_fetch(&tp->t_socket->so_state, SS_SNDDONE, __ATOMIC_ACQ_REL);
	soisdisconnected(tp->t_socket);
}

// Run expired timer t. Returns NULL if the connection is gone.
static struct tcpcb *tcp_timer_fire(struct tcpcb *tp, int t)
{
	switch (t) {
	case TCPT_REXMT:
		return tcp_timer_rexmt(tp);
	case TCPT_PERSIST:
		return tcp_timer_persist(tp);
	case TCPT_KEEP:
		return tcp_timer_keep(tp);
	case TCPT_2MSL:
		return tcp_timer_2msl(tp);
	case TCPT_DELACK:
		return tcp_timer_delack(tp);
	case TCPT_PTO:
		tcp_tlp_fire(tp);   // net/tcp_tlp.c
		return tp;
	}
	return tp;
}

// Handler of t_timermsg, in the owning netisr (see the message type).
static void tcp_timer_handler(struct lwkt_msg *msg)
{
	struct tcpcb *tp = container_of(msg, struct tcpcb, t_timermsg);
	lwkt_replymsg(msg, 0);   // DONE first: the callout may send it again
	tp->t_callout_at = 0;
	uint64 now = net_now_ms();
	for (int t = 0; t < TCPT_NTIMERS; t++) {
		if (tp->t_timer[t] == 0 || tp->t_timer[t] > now)
			continue;
		tp->t_timer[t] = 0;
		if (tcp_timer_fire(tp, t) == NULL)
			return;   // freed (I3 held: teardown saw the message DONE)
	}
	tcp_timer_rearm(tp);
}
