// TCP output: deciding what to send and building segments.
//
// Problem: at any moment the connection may owe the peer a SYN, data,
// a FIN, a retransmission, an ACK or a window update, limited by the
// peer's window, the congestion window, Nagle's rule and silly-window
// avoidance, and nothing may be sent twice by accident. Callers (input,
// user requests, timers, the end-of-batch rollup) should not have to
// know which.
//
// Idea (BSD's tcp_output, written anew and split): one function,
// tcp_output, called whenever something may have changed; it loops on
// tcp_output_decide, which computes (from the state, snd_nxt/snd_una,
// the windows and the socket buffer) the next segment or "nothing", and
// tcp_output_send, which builds it from so_snd (m_copym shares the
// clusters) and advances snd_nxt/snd_max, the RTT probe and the timers.
// Data stays in so_snd until acknowledged (tcp_input_sync drops it), so a
// retransmission is "move snd_nxt back and call tcp_output". Most calls
// decide "nothing" (each ACK to a sender calls it): the decision uses
// only the options' length (tcp_optlen) and computes the window only for
// a window update; both are written once a segment goes.
//
// Invariants:
//   I1 snd_una <= snd_nxt <= snd_max (sequence order).
//   I2 so_snd holds exactly the bytes [snd_una', snd_una' + sb_cc) where
//      snd_una' = snd_una, +1 while our SYN is unacknowledged; our FIN,
//      once sent, is the sequence number after the last byte.
//   I3 The advertised window never shrinks: rcv_adv only moves right
//      (with a scaled window, to the granularity of the scale: see
//      tcp_output_win).
//   I4 A segment carrying data, SYN or FIN leaves with the
//      retransmission timer running (or the persist timer, for a
//      zero-window probe).
//
// Locking: everything here is [o] (the owning netisr). so_snd is read
// without its lock: only this netisr changes its chain and count (the
// user thread only reads sb_cc to wait for room). so_rcv's free space is
// read without its lock too (sbspace_peek: we are its only appender; a
// reader only makes room), as often as every segment and ACK asks.
//
// Races: "ACK owed by many segments of one batch": tcp_ack_later puts
// the tcpcb on the netisr's rollup list once; tcp_rollup sends one ACK at
// the end of the batch (net/netisr.c I4).
//
// Life of a segment sent: write -> sosend -> PRU_SEND -> tcp_usr_send ->
// sbappendstream -> tcp_output -> tcp_output_decide -> tcp_output_send ->
// ip_output -> if_output.
//
// Options (MSS, RFC 7323 window scale and timestamps, SACK) are built
// by net/tcp_options.c (tcp_addoptions) when the segment is decided, so
// the data length can leave room for them; tcp_output_win scales the
// window.
//
// SACK recovery (net/tcp_sack.c) chooses each segment itself (RFC 6675
// NextSeg) and sends it with tcp_output_at; while it runs, tcp_output
// sends no data (tcp_output_len).
//
// Testing: make hosttest (tcp_nagle, tcp_delayed_ack, tcp_zero_window_
// persist, tcp_sws_avoidance, tcp_optlen_agrees_with_addoptions). gdb: break tcp_output_send.
//
// References: RFC 9293 3.8.6 (window management, SWS avoidance: 3.8.6.2),
// 3.10.4 (FIN after queued data); RFC 1122 4.2.3.3 (receiver SWS),
// 4.2.3.4 (Nagle, sender SWS); RFC 896 (Nagle); RFC 6928 (initial window);
// McKusick et al., FreeBSD design, 14.6.
#include "net/tcp_var.h"
#include "net/tcp_sack.h"
#include "net/in_pcb.h"
#include "net/socket.h"
#include "net/ip.h"
#include "net/netisr.h"
#include "net/byteorder.h"

// Flags each state sends with (RFC 9293 3.10, by state). CONSTANT [i].
static const uint8 tcp_outflags[TCP_NSTATES] = {
	[TCPS_CLOSED] = TH_RST | TH_ACK,
	[TCPS_LISTEN] = 0,
	[TCPS_SYN_SENT] = TH_SYN,
	[TCPS_SYN_RECEIVED] = TH_SYN | TH_ACK,
	[TCPS_ESTABLISHED] = TH_ACK,
	[TCPS_CLOSE_WAIT] = TH_ACK,
	[TCPS_FIN_WAIT_1] = TH_FIN | TH_ACK,
	[TCPS_CLOSING] = TH_FIN | TH_ACK,
	[TCPS_LAST_ACK] = TH_FIN | TH_ACK,
	[TCPS_FIN_WAIT_2] = TH_ACK,
	[TCPS_TIME_WAIT] = TH_ACK,
};

// What tcp_output_decide chose.
struct tcp_outseg {
	uint32 os_off;     // offset of the data in so_snd
	uint32 os_len;     // data bytes
	uint8 os_flags;    // TH_*
	uint32 os_win;     // window to advertise (bytes, before scaling)
	uint32 os_mss;     // payload bytes per frame (t_maxseg less the options)
	int os_optlen;     // bytes of options in os_opt
	uint8 os_opt[TCP_MAXOLEN];   // the options (tcp_addoptions)
};

static struct tcpcb *tcp_rollup_head[NETISR_MAXCPU];   // [o] of that cpu's netisr

uint32 tcp_rcvwin(struct tcpcb *tp)
{
	// Without sb_lock (called several times per segment and ACK): we
	// are the receive buffer's only appender (sbspace_peek).
	uint32 hiwat, space = sbspace_peek(&tp->t_socket->so_rcv, &hiwat);
	// RFC 1122 4.2.3.3 (receiver SWS avoidance): do not offer a window
	// smaller than min(a quarter of the buffer, one segment) -- offer 0.
	if (space < hiwat / 4 && space < tp->t_ourmss)
		space = 0;
	return MIN(space, (uint32)TCP_MAXWIN << tp->rcv_scale);
}

// The window a segment with flags advertises, in bytes: what the peer
// will read back from th_win. RFC 7323 2.2: a SYN's window is never
// scaled; other windows are sent >> rcv_scale, so the low bits are
// lost and the value is rounded down. I3 keeps the old right edge, to
// that granularity: the peer may see it fall back by less than
// 2^rcv_scale bytes (the "window retraction" of RFC 7323 2.4), and we
// still accept data up to rcv_adv. (Rounding up instead would let the
// edge creep past the buffer by a little on every ACK.)
uint32 tcp_output_win(struct tcpcb *tp, uint8 flags)
{
	int s = (flags & TH_SYN) ? 0 : tp->rcv_scale;
	uint32 max = (uint32)TCP_MAXWIN << s;
	uint32 win = MIN(tcp_rcvwin(tp), max) >> s << s;
	uint32 adv = SEQ_GT(tp->rcv_adv, tp->rcv_nxt) ? tp->rcv_adv - tp->rcv_nxt : 0;
	if (win < adv)
		win = MIN(adv, max) >> s << s;   // I3
	return win;
}

// Is our SYN still unacknowledged (so_snd data starts one later)?
static bool tcp_synunacked(struct tcpcb *tp)
{
	return tp->t_state <= TCPS_SYN_RECEIVED && tp->snd_una == tp->iss;
}

// The data a segment with optlen bytes of options may carry: t_maxseg
// less the options (RFC 6691), never below TCP_MSS_MIN / 2.
static uint32 tcp_output_mss(struct tcpcb *tp, int optlen)
{
	return tp->t_maxseg > (uint32)optlen + TCP_MSS_MIN / 2 ? tp->t_maxseg - (uint32)optlen :
								  TCP_MSS_MIN / 2;
}

int tcp_tso = 1;
NET_SYSCTL_INT_RANGE(tcp_tso, "net.inet.tcp.tso", SYSCTL_RW, &tcp_tso, 0, 1,
		     "1: send up to 44 MSS in one TSO packet where the interface cuts them");

// TCP segmentation offload (docs/tcp.md "Offload"): how much new data
// one packet may carry -- a multiple of the MSS up to what an IP packet
// holds, if the route's interface cuts packets into frames (IFCAP_TSO),
// else one MSS (mss: t_maxseg less the options, the payload of a
// frame). Only new data (a retransmission goes MSS by MSS), never a
// probe. The route is looked up only when more than one MSS could go.
static uint32 tcp_tso_maxlen(struct tcpcb *tp, uint32 could, uint32 mss)
{
	struct ifnet *ifp;
	uint32 nexthop;
	if (could <= mss || !__atomic_load_n(&tcp_tso, __ATOMIC_RELAXED) ||
	    tp->snd_nxt != tp->snd_max || (tp->t_flags & TF_FORCEDATA) ||
	    !TCPS_HAVEESTABLISHED(tp->t_state) ||
	    ip_route(tp->t_inp->inp_faddr, &ifp, &nexthop) < 0 ||
	    !(__atomic_load_n(&ifp->if_hwassist, __ATOMIC_RELAXED) & IFCAP_TSO))
		return mss;
	uint32 most = (TCP_TSO_MAXPKT - IP_HDR_LEN - TCP_HDR_LEN - TCP_MAXOLEN) / mss * mss;
	return MAX(MIN(could, most) / mss * mss, mss);
}

// How much data may go now, from offset off of so_snd, at most mss
// bytes (t_maxseg less the options, RFC 6691); sets *flags' FIN bit off
// if data stays behind. Pure computation, but for the route lookup
// of TSO (more than mss bytes).
static uint32 tcp_output_len(struct tcpcb *tp, uint32 off, uint32 sbcc, uint32 mss,
			     uint8 *flags)
{
	uint32 sendwin = MIN(tp->snd_wnd, tp->snd_cwnd);
	if ((tp->t_flags & TF_FORCEDATA) && sendwin == 0)
		sendwin = 1;   // RFC 9293 3.8.6.1: a zero-window probe carries one byte
	int64 len = (int64)MIN(sbcc, sendwin) - off;
	if (len < 0 || tp->t_state < TCPS_ESTABLISHED)
		len = 0;
	// RFC 6675 5 (C): in SACK recovery data goes only where NextSeg
	// says (tcp_sack_send -> tcp_output_at), counted in pipe.
	if (tp->t_flags & TF_SACKRECOVERY)
		len = 0;
	if (len > mss)
		len = tcp_tso_maxlen(tp, (uint32)len, mss);
	if (off + len < sbcc || len > mss)
		*flags &= ~TH_FIN;   // RFC 9293 3.10.4: the FIN follows all queued
				     // data (and never rides in a TSO packet)
	return (uint32)len;
}

// Nagle (RFC 1122 4.2.3.4, RFC 896) and sender SWS avoidance: may a
// segment of len bytes (len < MSS) go now?
static bool tcp_small_ok(struct tcpcb *tp, uint32 off, uint32 len, uint32 sbcc)
{
	bool idle = tp->snd_max == tp->snd_una;
	if (tp->t_flags & TF_FORCEDATA)
		return true;
	// "(a) a maximum-sized segment can be sent" is the caller's case;
	// "(b) the data is pushed and all queued data can be sent now" and
	// Nagle: no unacknowledged data outstanding (or TCP_NODELAY).
	if ((idle || (tp->t_flags & TF_NODELAY)) && off + len >= sbcc)
		return true;
	// "(c) at least a fraction Fs of the maximum window can be sent"
	// (Fs = 1/2), RFC 1122 4.2.3.4: the largest window the peer offered.
	if (tp->t_maxsndwnd > 0 && len >= tp->t_maxsndwnd / 2)
		return true;
	return SEQ_LT(tp->snd_nxt, tp->snd_max);   // a retransmission
}

// What the next segment would carry now: flags, data offset and length
// in so_snd, options, window (fills *os). Returns the go-back-N limit
// after a timeout (TCP_SACK_NOLIMIT if none): a segment cut there goes
// even if short.
static uint32 tcp_output_fill(struct tcpcb *tp, struct tcp_outseg *os, uint32 sbcc)
{
	uint8 flags = tcp_outflags[tp->t_state];
	if ((flags & TH_SYN) && tp->snd_nxt != tp->iss)
		flags &= ~TH_SYN;   // sent already (a retransmission backs snd_nxt up)
	// After a timeout, go-back-N steps over what the peer SACKed.
	uint32 lim = TCP_SACK_NOLIMIT;
	if (SEQ_LT(tp->snd_nxt, tp->snd_max) && !(flags & TH_SYN) && !tcp_synunacked(tp))
		lim = tcp_sack_skip(tp);
	uint32 off = tp->snd_nxt - tp->snd_una - (tcp_synunacked(tp) ? 1 : 0);
	if ((flags & TH_SYN) || tp->t_state < TCPS_ESTABLISHED)
		off = 0;
	// The options come first: data takes what room they leave. Only
	// their length here: they and the window are written once the
	// segment is sure to go (tcp_output_complete).
	os->os_optlen = tcp_optlen(tp, flags);
	uint32 mss = tcp_output_mss(tp, os->os_optlen);
	uint32 len = (flags & TH_SYN) || tp->t_state < TCPS_ESTABLISHED ? 0 :
		     tcp_output_len(tp, off, sbcc, mss, &flags);
	if (len > lim) {
		len = lim;
		flags &= ~TH_FIN;
	}
	// Our FIN went already and is not being retransmitted.
	if ((flags & TH_FIN) && (tp->t_flags & TF_SENTFIN) && tp->snd_nxt == tp->snd_max)
		flags &= ~TH_FIN;
	os->os_off = off;
	os->os_len = len;
	os->os_flags = flags;
	os->os_mss = mss;
	return lim;
}

// The segment tcp_output_fill described goes: write its options and
// its window (the same options tcp_optlen counted: nothing between the
// two calls changes them).
static void tcp_output_complete(struct tcpcb *tp, struct tcp_outseg *os)
{
	int optlen = tcp_addoptions(tp, os->os_flags, os->os_opt, TCP_MAXOLEN);
	KASSERT(optlen == os->os_optlen);
	os->os_win = tcp_output_win(tp, os->os_flags);
}

// RFC 9293 3.8.6.2.2: a window update once the window can grow by
// min(half the buffer, one MSS) -- we use two MSS or half the buffer,
// and only while the peer may send less than half the buffer (with
// more, the ACKs of its data carry the new window soon enough).
static bool tcp_output_winupdate(struct tcpcb *tp, const struct tcp_outseg *os)
{
	if (!TCPS_HAVEESTABLISHED(tp->t_state) || TCPS_HAVERCVDFIN(tp->t_state))
		return false;
	uint32 left = tp->rcv_adv - tp->rcv_nxt;
	uint32 hiwat = tp->t_socket->so_rcv.sb_hiwat;
	if (left >= hiwat / 2)
		return false;   // (a sender's case: no need to compute the window)
	uint32 win = tcp_output_win(tp, os->os_flags);
	uint32 grow = win - left;
	return SEQ_GT(tp->rcv_nxt + win, tp->rcv_adv) &&
	       (grow >= 2 * tp->t_ourmss || grow >= hiwat / 2);
}

// Nothing goes, but data beyond off waits with nothing in flight: behind
// a zero window (probe it, RFC 9293 3.8.6.1), or held back by sender SWS
// avoidance (RFC 1122 4.2.3.4: "a timeout ... to force transmission").
// Both are the persist timer's job, unless it or the retransmission timer
// runs -- or the tail loss probe's, which stands in for the latter while
// data is in flight (net/tcp_tlp.c I2).
static void tcp_output_persist(struct tcpcb *tp, uint32 off, uint32 sbcc)
{
	if (sbcc > off && TCPS_HAVEESTABLISHED(tp->t_state) &&
	    !tcp_timer_active(tp, TCPT_REXMT) && !tcp_timer_active(tp, TCPT_PTO) &&
	    !tcp_timer_active(tp, TCPT_PERSIST)) {
		tp->t_persist_shift = 0;
		tcp_timer_set(tp, TCPT_PERSIST, tcp_rexmt_ms(tp));
	}
}

// Must the segment tcp_output_fill described go?
static bool tcp_output_due(struct tcpcb *tp, const struct tcp_outseg *os, uint32 sbcc,
			   uint32 lim)
{
	uint32 len = os->os_len;
	if (len > 0 && (len >= os->os_mss || len == lim || tcp_small_ok(tp, os->os_off, len, sbcc)))
		return true;
	if (os->os_flags & (TH_SYN | TH_RST | TH_FIN))
		return true;
	if (tp->t_flags & TF_ACKNOW)
		return true;
	if (tcp_output_winupdate(tp, os)) {
		TCPSTAT_INC(tcps_sndwinup);
		return true;
	}
	return false;
}

// Decide the next segment. Returns true and fills *os if one must go.
// Most calls after an ACK to a sender decide "nothing" (the data queued
// is in flight, or waits for Nagle): that answer costs no options and
// no window computed.
static bool tcp_output_decide(struct tcpcb *tp, struct tcp_outseg *os)
{
	uint32 sbcc = __atomic_load_n(&tp->t_socket->so_snd.sb_cc, __ATOMIC_RELAXED);
	uint32 lim = tcp_output_fill(tp, os, sbcc);
	if (!tcp_output_due(tp, os, sbcc, lim)) {
		tcp_output_persist(tp, os->os_off, sbcc);
		return false;
	}
	tcp_output_complete(tp, os);
	return true;
}

// Build the header and options in front of data m (or none) and
// checksum. NULL if out of memory. Consumes m.
static struct mbuf *tcp_output_build(struct tcpcb *tp, const struct tcp_outseg *os,
				     struct mbuf *data, tcp_seq seq)
{
	struct inpcb *inp = tp->t_inp;
	int optlen = os->os_optlen;
	int hlen = TCP_HDR_LEN + optlen;
	struct mbuf *m = m_getspace(hlen, 64);
	if (m == NULL) {
		m_freem(data);
		return NULL;
	}
	struct tcphdr *th = mtod(m, struct tcphdr *);
	memset(th, 0, hlen);
	th->th_sport = hton16(inp->inp_lport);
	th->th_dport = hton16(inp->inp_fport);
	th->th_seq = hton32(seq);
	th->th_ack = (os->os_flags & TH_ACK) ? hton32(tp->rcv_nxt) : 0;
	th->th_off = (uint8)((hlen / 4) << 4);
	th->th_flags = os->os_flags | (os->os_len > 0 ? TH_PUSH : 0);
	// RFC 7323 2.3: "the window field in every outgoing segment, with
	// the exception of <SYN> segments, MUST be right-shifted by
	// Rcv.Wind.Shift bits" (tcp_output_win made the low bits zero).
	int shift = (os->os_flags & TH_SYN) ? 0 : tp->rcv_scale;
	th->th_win = hton16((uint16)(os->os_win >> shift));
	memcpy(th + 1, os->os_opt, optlen);
	if (data != NULL) {
		m_cat(m, data);
		m->m_pkthdr.ph_len += os->os_len;
	}
	// Checksum offload: th_sum gets the pseudo-header sum; the interface
	// or ip_output sums the rest (PH_CSUM_TCP). A packet of more than
	// one MSS is cut by the interface (PH_TSO), which adds each frame's
	// length to the pseudo-header.
	bool tso = os->os_len > os->os_mss;
	th->th_sum = tcp_phdr_sum(inp->inp_laddr, inp->inp_faddr, tso ? 0 : hlen + os->os_len);
	m->m_pkthdr.ph_flags |= PH_CSUM_TCP | (tso ? PH_TSO : 0);
	m->m_pkthdr.ph_tso_mss = tso ? os->os_mss : 0;
	return m;
}

// Count a segment in the statistics.
static void tcp_output_count(struct tcpcb *tp, const struct tcp_outseg *os, bool rexmit)
{
	TCPSTAT_INC(tcps_sndtotal);
	if (os->os_len > 0 && rexmit) {
		TCPSTAT_INC(tcps_sndrexmitpack);
		TCPSTAT_ADD(tcps_sndrexmitbyte, os->os_len);
	} else if (os->os_len > 0) {
		TCPSTAT_INC(tcps_sndpack);
		TCPSTAT_ADD(tcps_sndbyte, os->os_len);
	} else if (os->os_flags & (TH_SYN | TH_FIN | TH_RST)) {
		TCPSTAT_INC(tcps_sndctrl);
	} else {
		TCPSTAT_INC(tcps_sndacks);
	}
	if ((tp->t_flags & TF_FORCEDATA) && os->os_len > 0)
		TCPSTAT_INC(tcps_sndprobe);
	int sack = (os->os_flags & TH_SYN) ? 0 : os->os_optlen - tcp_optlen_fixed(tp);
	if (sack > 0)   // NOP NOP 5 len, then 8 bytes a block (RFC 2018 3)
		TCPSTAT_ADD(tcps_sack_sndblocks, (uint32)(sack - 4) / TCPOLEN_SACK_BLOCK);
}

// Send the segment os describes and advance the send state. 0 or -Exxx.
static int tcp_output_send(struct tcpcb *tp, const struct tcp_outseg *os)
{
	struct socket *so = tp->t_socket;
	struct mbuf *data = NULL;
	tcp_seq seq = tp->snd_nxt;
	if (os->os_len > 0 &&
	    (data = m_copym(so->so_snd.sb_mb, (int)os->os_off, (int)os->os_len)) == NULL)
		return -ENOBUFS;
	struct mbuf *m = tcp_output_build(tp, os, data, seq);
	if (m == NULL)
		return -ENOBUFS;
	bool rexmit = SEQ_LT(seq, tp->snd_max);
	if (os->os_len > 0)
		tp->t_sndtime = net_now_ms();   // RFC 5681 4.1 (tcp_cc_idle_restart)
	uint32 adv = os->os_len + ((os->os_flags & TH_SYN) ? 1 : 0) +
		     ((os->os_flags & TH_FIN) ? 1 : 0);
	tp->snd_nxt += adv;
	if (SEQ_GT(tp->snd_nxt, tp->snd_max)) {
		tp->snd_max = tp->snd_nxt;
		// RFC 6298 3 / Karn: time only segments sent for the first time.
		if (tp->t_rtttime == 0 && adv > 0) {
			tp->t_rtttime = net_now_ms() | 1;   // never 0 when set
			tp->t_rtseq = seq;
		}
	}
	if (os->os_flags & TH_FIN)
		tp->t_flags |= TF_SENTFIN;
	// I4 (RFC 6298 5.1): "start the timer if it is not running". A
	// segment sent in the ordinary way ends persisting; a zero-window
	// probe is covered by the persist timer instead.
	if (adv > 0 && !(tp->t_flags & TF_FORCEDATA)) {
		tcp_timer_set(tp, TCPT_PERSIST, 0);
		tp->t_persist_shift = 0;
	}
	if (adv > 0 && !tcp_timer_active(tp, TCPT_PERSIST))
		tcp_rexmt_arm(tp);
	if (os->os_flags & TH_ACK) {
		tp->last_ack_sent = tp->rcv_nxt;   // RFC 7323 4.3: Last.ACK.sent
		tcp_sack_acked(tp);                // a D-SACK block went with it
		tp->t_flags &= ~(TF_ACKNOW | TF_DELACK);
		tcp_timer_set(tp, TCPT_DELACK, 0);
		tp->t_unacked_bytes = 0;
		tp->t_segs_unacked = 0;
	}
	if (SEQ_GT(tp->rcv_nxt + os->os_win, tp->rcv_adv))
		tp->rcv_adv = tp->rcv_nxt + os->os_win;   // I3
	tcp_output_count(tp, os, rexmit);
	struct inpcb *inp = tp->t_inp;
	return ip_output(m, inp->inp_laddr, inp->inp_faddr, IPPROTO_TCP, 0, 0);
}

int tcp_output(struct tcpcb *tp)
{
	struct tcp_outseg os;
	int err = 0;
	tcp_seq omax = tp->snd_max;
	if (TCPS_HAVEESTABLISHED(tp->t_state))
		tcp_cc_idle_restart(tp);
	// Each round sends one segment and changes what the next decision
	// sees (snd_nxt moves, TF_ACKNOW clears), so the loop ends.
	while (tcp_output_decide(tp, &os)) {
		if ((err = tcp_output_send(tp, &os)) < 0)
			break;   // the retransmission timer will try again
		if (os.os_len == 0 && !(os.os_flags & (TH_SYN | TH_FIN)))
			break;   // a pure ACK: nothing further was waiting
	}
	if (SEQ_GT(tp->snd_max, omax))
		tcp_tlp_arm(tp);   // RFC 8985 7.2: new data went: (re)start the PTO
	return err == -ENOBUFS || err == -ENETUNREACH ? 0 : err;
}

int tcp_output_at(struct tcpcb *tp, tcp_seq seq, uint32 len)
{
	struct tcp_outseg os;
	uint32 sbcc = __atomic_load_n(&tp->t_socket->so_snd.sb_cc, __ATOMIC_RELAXED);
	uint32 off = seq - tp->snd_una;
	uint8 flags = tcp_outflags[tp->t_state];
	if (!TCPS_HAVEESTABLISHED(tp->t_state) || tcp_synunacked(tp) || off > sbcc ||
	    SEQ_GT(seq, tp->snd_max) || len == 0)
		return 0;
	os.os_optlen = tcp_addoptions(tp, flags, os.os_opt, TCP_MAXOLEN);
	os.os_mss = tcp_output_mss(tp, os.os_optlen);
	len = MIN(len, os.os_mss);   // never a TSO packet
	if (off + len >= sbcc)
		len = sbcc - off;      // the data ends here: the FIN (if due) goes too
	else
		flags &= ~TH_FIN;
	if (len == 0 && !(flags & TH_FIN))
		return 0;
	os.os_off = off;
	os.os_len = len;
	os.os_flags = flags;
	os.os_win = tcp_output_win(tp, flags);
	tcp_seq onxt = tp->snd_nxt;
	if (SEQ_LT(seq, tp->snd_max))
		tp->t_rtttime = 0;   // RFC 6298 3 (Karn): no sample across a retransmission
	tp->snd_nxt = seq;
	int err = tcp_output_send(tp, &os);
	int sent = (int)(tp->snd_nxt - seq);
	if (SEQ_GT(onxt, tp->snd_nxt))
		tp->snd_nxt = onxt;
	return err < 0 && sent == 0 ? err : sent;
}

void tcp_rexmt_arm(struct tcpcb *tp)
{
	if (!tcp_timer_active(tp, TCPT_REXMT))
		tcp_timer_set(tp, TCPT_REXMT, tcp_rexmt_ms(tp));
}

// ---- the end-of-batch ACK (rollup) -------------------------------------------------

void tcp_rollup_add(struct tcpcb *tp)
{
	if (tp->t_flags & TF_ONROLLUP)
		return;
	tp->t_flags |= TF_ONROLLUP;
	tp->t_rollnext = tcp_rollup_head[tp->t_cpu];
	tcp_rollup_head[tp->t_cpu] = tp;
}

int tcp_invalid_ratelimit_ms = 500;   // Linux's tcp_invalid_ratelimit
NET_SYSCTL_INT_RANGE(tcp_invalid_ratelimit_ms, "net.inet.tcp.invalid_ratelimit_ms", SYSCTL_RW,
		     &tcp_invalid_ratelimit_ms, 0, 10000,
		     "ms between ACKs answering unacceptable segments (0: no limit)");

void tcp_ack_invalid(struct tcpcb *tp)
{
	// Two ends that disagree (a blind injection desynchronized them)
	// would answer each other's ACKs for ever: an ACK storm. The
	// per-connection limit is net/tcp_challenge.c's.
	if (!tcp_invalid_limited(tp))
		tcp_ack_later(tp);
}

void tcp_ack_later(struct tcpcb *tp)
{
	tp->t_flags |= TF_ACKNOW;
	tcp_rollup_add(tp);
}

void tcp_rollup(int cpu)
{
	struct tcpcb *tp;
	while ((tp = tcp_rollup_head[cpu]) != NULL) {
		tcp_rollup_head[cpu] = tp->t_rollnext;
		tp->t_rollnext = NULL;
		tp->t_flags &= ~TF_ONROLLUP;
		if (tp->t_flags & TF_WAKEREADER) {
			// One wakeup per batch for all the data it delivered.
			struct sockbuf *sb = &tp->t_socket->so_rcv;
			tp->t_flags &= ~TF_WAKEREADER;
			sbrcv_lock(sb, SBRCV_NETISR);
			sbwakeup(sb);
			net_lock_release(&sb->sb_lock);
		}
		if (tp->t_flags & TF_ACKNOW)
			tcp_output(tp);
	}
}

void tcp_rollup_remove(struct tcpcb *tp)
{
	if (!(tp->t_flags & TF_ONROLLUP))
		return;
	for (struct tcpcb **pp = &tcp_rollup_head[tp->t_cpu]; *pp; pp = &(*pp)->t_rollnext) {
		if (*pp == tp) {
			*pp = tp->t_rollnext;
			break;
		}
	}
	tp->t_flags &= ~TF_ONROLLUP;
}
