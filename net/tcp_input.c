// TCP input, first half: validating a segment, finding its connection,
// and the states before synchronization -- LISTEN (a SYN creates a
// connection) and SYN_SENT (our SYN is answered). Synchronized states
// are in net/tcp_input_sync.c.
//
// Problem: anything may arrive: short or corrupt segments, bad offsets,
// options that lie about their length, segments for no connection,
// SYNs for a listener owned by another netisr, answers to our SYN that
// acknowledge the wrong thing. Each case has exactly one right answer
// in RFC 9293 3.10.7, and none may crash the kernel.
//
// Idea: tcp_input parses the segment once into a struct tcp_seg (host
// order, options parsed) that every later step receives as a parameter;
// it looks the connection up under the table lock, then dispatches by
// state to one handler per RFC subsection. The lookup of a listener
// takes a reference on the listening SOCKET and drops the table lock;
// the listener's tcpcb (owned elsewhere) is never touched here.
//
// Invariants:
//   I1 Every segment is counted in rcvtotal and then either consumed by
//      a state handler or counted in one drop reason (rcvshort,
//      rcvbadsum, rcvbadoff, drop_*).
//   I2 A connected tcpcb is handled only on its own netisr (t_cpu ==
//      this netisr): the packet's 4-tuple hash chose this netisr, and
//      the same hash chose t_cpu (tcp_tuplecpu). A segment that finds a
//      tcpcb in the middle of moving (connect) is answered by RST
//      without touching it.
//
// Locking: tcbinfo.ipi_lock around the lookup only; [o] afterwards.
//
// Races:
//   - "SYN vs listener close": the listener's socket is referenced
//     (soref) before the table lock is dropped; sonewconn then checks
//     SS_ACCEPTCONN under the queue lock (net/so_accept.c).
//   - "SYN for a TIME_WAIT 4-tuple": RFC 9293 3.6.1 reuse: the old
//     tcpcb is closed on this netisr (it owns it), then the lookup is
//     repeated and the listener gets the SYN, with an ISS above the old
//     connection's.
//
// Options: parsed by tcp_dooptions, negotiated by tcp_options_syn (both
// in net/tcp_options.c).
//
// Life of a segment: ip_input -> tcp_input -> tcp_input_parse ->
// [tcp_lro_input: held and merged until the batch ends, net/tcp_lro.c] ->
// tcp_input_demux -> {tcp_input_listener (-> net/tcp_syncache.c),
// tcp_input_synsent, tcp_input_sync}.
//
// Testing: make hosttest (tcp_three_way_handshake, tcp_rst_for_closed_port,
// tcp_bad_checksum_dropped, tcp_simultaneous_open, tcp_listen_backlog,
// tcp_time_wait_reuse, tcp_time_wait_reuse_rejects_old_syn,
// tcp_time_wait_reuse_timestamps, tcp_time_wait_kept_without_listener,
// tcp_accept_inherits_options). gdb: break tcp_input, tcp_input_listener.
//
// References: RFC 9293 3.1 (header, options), 3.7.1 (MSS), 3.10.7.1
// (CLOSED), 3.10.7.2 (LISTEN), 3.10.7.3 (SYN-SENT), 3.6.1 (TIME-WAIT
// reuse, also RFC 1122 4.2.2.13); RFC 1122 4.2.3.10 (no connections from
// broadcasts).
#include "net/tcp_var.h"
#include "net/tcp_syncache.h"
#include "net/in_pcb.h"
#include "net/socket.h"
#include "net/so_accept.h"
#include "net/ip.h"
#include "net/if.h"
#include "net/netisr.h"
#include "net/byteorder.h"

// Validate m (IP header first, hlen bytes) and fill *sg. 0, or -EINVAL
// (counted; the caller frees m).
static int tcp_input_parse(struct mbuf *m, int hlen, struct tcp_seg *sg)
{
	// The header and its options are read in place when the first mbuf
	// holds them (a received frame always does), else copied into hdrbuf.
	uint8 hdrbuf[TCP_HDR_LEN + TCP_MAXOLEN];
	const int align = _Alignof(struct tcphdr);
	const uint8 *hdr = NULL;
	int tlen = m->m_pkthdr.ph_len - hlen;
	struct ip *ip = mtod(m, struct ip *);   // ip_input: hlen bytes contiguous
	if (tlen < TCP_HDR_LEN || (hdr = m_peek(m, hlen, TCP_HDR_LEN, align, hdrbuf)) == NULL) {
		TCPSTAT_INC(tcps_rcvshort);
		return -EINVAL;
	}
	sg->sg_src = ntoh32(ip->ip_src);
	sg->sg_dst = ntoh32(ip->ip_dst);
	// A segment that went through lo0 with its checksum left to the
	// interface (PH_CSUM_TCP) never left memory: nothing to verify (and
	// th_sum holds only the pseudo-header sum).
	bool trusted = (m->m_pkthdr.ph_flags & (PH_LOOP | PH_CSUM_TCP)) ==
		       (PH_LOOP | PH_CSUM_TCP);
	if (!trusted && tcp_cksum(m, hlen, tlen, sg->sg_src, sg->sg_dst) != 0) {
		TCPSTAT_INC(tcps_rcvbadsum);   // RFC 9293 3.10.7: checksum first
		return -EINVAL;
	}
	int off = (((const struct tcphdr *)hdr)->th_off >> 4) * 4;
	if (off < TCP_HDR_LEN || off > tlen ||
	    (off > TCP_HDR_LEN && (hdr = m_peek(m, hlen, off, align, hdrbuf)) == NULL)) {
		TCPSTAT_INC(tcps_rcvbadoff);
		return -EINVAL;
	}
	const struct tcphdr *th = (const struct tcphdr *)hdr;
	sg->sg_m = m;
	sg->sg_hdroff = hlen + off;
	sg->sg_sport = ntoh16(th->th_sport);
	sg->sg_dport = ntoh16(th->th_dport);
	sg->sg_seq = ntoh32(th->th_seq);
	sg->sg_ack = ntoh32(th->th_ack);
	sg->sg_flags = th->th_flags;
	sg->sg_win = ntoh16(th->th_win);
	sg->sg_len = (uint32)(tlen - off);
	tcp_dooptions(&sg->sg_opt, hdr + TCP_HDR_LEN, off - TCP_HDR_LEN,
		      (th->th_flags & TH_SYN) != 0);
	return 0;
}

// Consume the segment without an answer.
static void tcp_input_drop(struct tcp_seg *sg)
{
	m_freem(sg->sg_m);
	sg->sg_m = NULL;
}

// Answer with a RST (RFC 9293 3.10.7.1) and drop.
static void tcp_input_dropreset(struct tcp_seg *sg)
{
	tcp_reset_for(sg);
	tcp_input_drop(sg);
}

// ---- LISTEN (RFC 9293 3.10.7.2) ----------------------------------------------------

// The send MSS from the peer's SYN: RFC 9293 3.7.1, "If an MSS Option is
// not received at connection setup, TCP implementations MUST assume a
// default send MSS of 536"; never more than our own interface allows.
static void tcp_mss_from_syn(struct tcpcb *tp, const struct tcp_seg *sg)
{
	uint32 mss = TCP_MSS_DEFAULT;
	if (sg->sg_opt.to_flags & TOF_MSS) {
		mss = sg->sg_opt.to_mss;
		tp->t_flags |= TF_RCVD_MSS;
	}
	mss = MIN(mss, tp->t_ourmss);
	tp->t_maxseg = mss < TCP_MSS_MIN ? TCP_MSS_MIN : mss;
}

void tcp_passive_options(struct tcpcb *tp, const struct tcp_seg *syn)
{
	tcp_mss_from_syn(tp, syn);
	tcp_options_request(tp);
	tcp_options_syn(tp, &syn->sg_opt, net_now_ms());
}

struct tcpcb *tcp_listen_child(struct socket *so, const struct tcp_seg *sg, int cpu)
{
	struct inpcb *inp;
	struct tcpcb *tp;
	if (in_pcballoc(so, &tcbinfo, &inp) < 0)
		goto fail;
	if ((tp = tcp_newtcpcb(so, inp, cpu)) == NULL) {
		in_pcbdetach(inp);
		goto fail;
	}
	so->so_pcb = inp;
	soref(so);   // the pcb's reference
	sbsetlowat(&so->so_snd, so->so_snd.sb_hiwat / 4);   // as tcp_usr_attach
	// The listener's options came with so_clone (SO_KEEPALIVE, SO_LINGER,
	// the buffer sizes: BSD and Linux do the same); TCP_NODELAY too.
	if (__atomic_load_n(&so->so_options, __ATOMIC_RELAXED) & SO_OPT_TCP_NODELAY)
		tp->t_flags |= TF_NODELAY;
	if (in_pcbinstall(inp, sg->sg_dst, sg->sg_dport, sg->sg_src, sg->sg_sport) < 0) {
		tcp_close(tp);   // also takes the child off the queue
		return NULL;
	}
	return tp;
fail:
	TCPSTAT_INC(tcps_drop_nomem);
	soqremove(so);
	return NULL;
}

// The third segment of a handshake (or any ACK) for a listener: the
// syncache makes the connection if it completes one (net/tcp_syncache.c),
// and the segment goes on as the first one of SYN_RECEIVED.
static void tcp_input_listen_ack(struct socket *lso, struct tcp_seg *sg)
{
	struct tcpcb *tp;
	int err = tcp_syncache_ack(lso, sg, &tp);
	if (err == 0) {
		tcp_input_sync(tp, sg);
	} else if (err == -ENOENT) {
		// "second, check for an ACK: ... <SEQ=SEG.ACK><CTL=RST>"
		TCPSTAT_INC(tcps_drop_badack);
		tcp_input_dropreset(sg);
	} else {
		tcp_input_drop(sg);   // no room yet: the peer retransmits
	}
}

// Any segment for a listener (RFC 9293 3.10.7.2).
static void tcp_input_listener(struct socket *lso, struct tcp_seg *sg)
{
	if (sg->sg_flags & TH_RST) {
		// "first, check for a RST: An incoming RST should be ignored"
		// -- it may end a handshake the syncache holds, though.
		tcp_syncache_rst(sg);
		tcp_input_drop(sg);
	} else if (sg->sg_flags & TH_ACK) {
		tcp_input_listen_ack(lso, sg);
	} else if (sg->sg_flags & TH_SYN) {
		// "third, check for a SYN": the syncache remembers it and
		// answers <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>; the connection
		// is made when the ACK of that arrives. A TIME_WAIT this SYN
		// reopens (tcp_timewait_reuse) ends only now that it is taken.
		if (tcp_syncache_syn(lso, sg) == 0 && sg->sg_tw != NULL) {
			TCPSTAT_INC(tcps_twreuse);
			tcp_close(sg->sg_tw);
			sg->sg_tw = NULL;
		}
	} else {
		tcp_input_drop(sg);   // "fourth, other data or control: drop"
	}
}

// ---- SYN_SENT (RFC 9293 3.10.7.3) --------------------------------------------------

// "first, check the ACK bit" and "second, check the RST bit": true if
// that settled sg (dropped, answered by a RST, or tp refused).
static bool tcp_synsent_ack_rst(struct tcpcb *tp, struct tcp_seg *sg)
{
	uint8 f = sg->sg_flags;
	// "If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset (unless the
	// RST bit is set, if so drop the segment)".
	if ((f & TH_ACK) && (SEQ_LEQ(sg->sg_ack, tp->iss) || SEQ_GT(sg->sg_ack, tp->snd_max))) {
		TCPSTAT_INC(tcps_drop_badack);
		if (f & TH_RST)
			tcp_input_drop(sg);
		else
			tcp_input_dropreset(sg);
		return true;
	}
	if (!(f & TH_RST))
		return false;
	// "If the ACK was acceptable, then signal to the user 'error:
	// connection reset', drop the segment, enter CLOSED state, delete
	// TCB ... Otherwise (no ACK), drop the segment." connect(2) reports
	// ECONNREFUSED.
	tcp_input_drop(sg);
	if (f & TH_ACK) {
		TCPSTAT_INC(tcps_rstrcvd);
		tcp_drop_quiet(tp, -ECONNREFUSED);
	}
	return true;
}

// "fourth, check the SYN bit": RCV.NXT = SEG.SEQ+1, IRS = SEG.SEQ, and
// what the peer's SYN tells: its MSS, options and window.
static void tcp_synsent_take_syn(struct tcpcb *tp, const struct tcp_seg *sg)
{
	tp->irs = sg->sg_seq;
	tp->rcv_nxt = tp->rcv_adv = sg->sg_seq + 1;
	tcp_mss_from_syn(tp, sg);
	tcp_options_syn(tp, &sg->sg_opt, net_now_ms());
	tp->snd_wnd = tp->t_maxsndwnd = sg->sg_win;   // RFC 7323 2.2: a SYN's window is never scaled
	tp->snd_wl1 = sg->sg_seq;
	tp->snd_wl2 = sg->sg_ack;
	tp->t_rcvtime = net_now_ms();
}

// Our SYN acknowledged by the peer's SYN,ACK: "If SND.UNA > ISS (our SYN
// has been ACKed), change the connection state to ESTABLISHED, form an
// ACK segment <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and send it."
static void tcp_synsent_established(struct tcpcb *tp, struct tcp_seg *sg)
{
	// RFC 7323 4.1: an echo times even a retransmitted SYN.
	bool tsrtt = tcp_ts_rtt(tp, sg);
	if (!tsrtt && tp->t_rtttime != 0)   // Karn: the SYN was not retransmitted
		tcp_rtt_update(tp, (int)(net_now_ms() - tp->t_rtttime));
	tp->t_rtttime = 0;
	tcp_rto_after_handshake(tp);
	tp->t_rxtshift = 0;
	tp->snd_una = sg->sg_ack;
	tcp_timer_set(tp, TCPT_REXMT, 0);
	tcp_setstate(tp, TCPS_ESTABLISHED);
	tcp_established(tp);
	tp->t_flags |= TF_ACKNOW;
	tcp_output(tp);
}

// Simultaneous open (a SYN without ACK): "enter SYN-RECEIVED, form a
// SYN,ACK segment <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> and send it."
static void tcp_synsent_simultaneous(struct tcpcb *tp)
{
	tcp_setstate(tp, TCPS_SYN_RECEIVED);
	tp->snd_nxt = tp->iss;
	tp->t_rtttime = 0;
	tcp_timer_set(tp, TCPT_REXMT, 0);
	tcp_output(tp);
}

static void tcp_input_synsent(struct tcpcb *tp, struct tcp_seg *sg)
{
	if (tcp_synsent_ack_rst(tp, sg))
		return;
	if (!(sg->sg_flags & TH_SYN)) {
		tcp_input_drop(sg);   // "fifth, if neither ... drop the segment"
		return;
	}
	tcp_synsent_take_syn(tp, sg);
	if (sg->sg_flags & TH_ACK)
		tcp_synsent_established(tp, sg);
	else
		tcp_synsent_simultaneous(tp);
	tcp_input_drop(sg);   // text in a SYN is not queued: the peer resends it
}

// ---- demultiplexing ----------------------------------------------------------------

// The listener a SYN for sg's 4-tuple reaches once the TIME_WAIT
// connection holding that 4-tuple is out of the way: referenced (the
// caller sorele's it), or NULL if nobody listens there.
static struct socket *tcp_listener_for(const struct tcp_seg *sg, uint32 hash)
{
	struct socket *lso = NULL;
	net_lock_acquire(&tcbinfo.ipi_lock);
	struct inpcb *inp = in_pcblookup_unconnected(&tcbinfo, sg->sg_dst, sg->sg_dport, hash);
	if (inp != NULL &&
	    (__atomic_load_n(&inp->inp_socket->so_state, __ATOMIC_ACQUIRE) & SS_ACCEPTCONN)) {
		lso = inp->inp_socket;
		soref(lso);
	}
	net_lock_release(&tcbinfo.ipi_lock);
	return lso;
}

// RFC 6191 2: can the SYN not be an old duplicate of the connection tp
// in TIME_WAIT? If both connections use timestamps, its TSval must be
// newer than the last one seen (or equal, with a newer sequence number);
// otherwise its sequence number must be beyond the old connection's
// final RCV.NXT (RFC 1122 4.2.2.13).
static bool tcp_timewait_syn_newer(struct tcpcb *tp, const struct tcp_seg *sg)
{
	bool seq_newer = SEQ_GT(sg->sg_seq, tp->t_last_rcvnxt);
	if ((tp->t_flags & TF_BOTH_TSTMP) != TF_BOTH_TSTMP || !(sg->sg_opt.to_flags & TOF_TS) ||
	    !__atomic_load_n(&tcp_do_timestamps, __ATOMIC_RELAXED))
		return seq_newer;   // one of the two incarnations has no timestamps
	uint32 tsval = sg->sg_opt.to_tsval;
	return TSTMP_GT(tsval, tp->ts_recent) || (tsval == tp->ts_recent && seq_newer);
}

// RFC 9293 3.6.1, RFC 1122 4.2.2.13, RFC 6191: a SYN for a connection in
// TIME_WAIT reopens it only if it cannot be an old duplicate of the old
// connection (tcp_timewait_syn_newer) and a listener is there to take
// it. The new connection's ISS is then above everything the old one sent
// (tcp_input_listen). Any other SYN is an old duplicate or a mistake and
// gets what a synchronized state gives a SYN (tcp_input_sync: an ACK,
// RFC 9293 3.10.7.4 / RFC 5961 4), and the TIME_WAIT stays (as in Linux;
// RFC 6191 would drop it silently). Returns the listener (referenced)
// that is to see the SYN, with sg->sg_tw = tp, or NULL: tp handles it.
// tp is closed only once the syncache takes the SYN (tcp_input_listener):
// a SYN the listener drops (accept queue or syncache full) leaves the
// TIME_WAIT, and its protection, as it was; the peer retransmits.
static struct socket *tcp_timewait_reuse(struct tcpcb *tp, struct tcp_seg *sg, uint32 hash)
{
	if (tp->t_state != TCPS_TIME_WAIT || (sg->sg_flags & (TH_SYN | TH_ACK | TH_RST)) != TH_SYN ||
	    !tcp_timewait_syn_newer(tp, sg))
		return NULL;
	struct socket *lso = tcp_listener_for(sg, hash);
	if (lso != NULL) {
		sg->sg_tw = tp;
		sg->sg_tw_iss = tp->snd_max;
	}
	return lso;
}

struct tcpcb *tcp_input_conn(const struct tcp_seg *sg)
{
	uint32 hash = netisr_hash_ipv4(sg->sg_src, sg->sg_dst, IPPROTO_TCP, sg->sg_sport,
				       sg->sg_dport);
	net_lock_acquire(&tcbinfo.ipi_lock);
	struct inpcb *inp = in_pcblookup(&tcbinfo, sg->sg_src, sg->sg_sport, sg->sg_dst,
					 sg->sg_dport, hash);
	if (inp != NULL && inp->inp_faddr == INADDR_ANY)
		inp = NULL;   // a listener (or a bound socket): not a connection
	net_lock_release(&tcbinfo.ipi_lock);
	struct tcpcb *tp = inp ? intotcpcb(inp) : NULL;
	if (tp == NULL || tp->t_cpu != net_cpuid() || tp->t_state == TCPS_CLOSED)
		return NULL;
	return tp;
}

void tcp_input_demux(struct tcp_seg *sg)
{
	uint32 hash = netisr_hash_ipv4(sg->sg_src, sg->sg_dst, IPPROTO_TCP, sg->sg_sport,
				       sg->sg_dport);
	net_lock_acquire(&tcbinfo.ipi_lock);
	struct inpcb *inp = in_pcblookup(&tcbinfo, sg->sg_src, sg->sg_sport, sg->sg_dst,
					 sg->sg_dport, hash);
	if (inp != NULL && inp->inp_faddr == INADDR_ANY) {
		struct socket *lso = inp->inp_socket;
		if (__atomic_load_n(&lso->so_state, __ATOMIC_ACQUIRE) & SS_ACCEPTCONN) {
			soref(lso);
			net_lock_release(&tcbinfo.ipi_lock);
			tcp_input_listener(lso, sg);
			sorele(lso);
			return;
		}
		inp = NULL;   // bound but not listening: nobody is there
	}
	net_lock_release(&tcbinfo.ipi_lock);
	struct tcpcb *tp = inp ? intotcpcb(inp) : NULL;
	if (tp == NULL || tp->t_cpu != net_cpuid() || tp->t_state == TCPS_CLOSED) {
		TCPSTAT_INC(tcps_drop_nopcb);   // I2: or caught moving
		tcp_input_dropreset(sg);
		return;
	}
	struct socket *lso = tcp_timewait_reuse(tp, sg, hash);
	if (lso != NULL) {
		tcp_input_listener(lso, sg);
		sorele(lso);
		return;
	}
	if (tp->t_state == TCPS_SYN_SENT)
		tcp_input_synsent(tp, sg);
	else
		tcp_input_sync(tp, sg);
}

void tcp_input(struct mbuf *m, int hlen)
{
	// Zeroed by stores the compiler writes inline (a memset call of its
	// 120 bytes was ~1.5% of a received segment's instructions).
	struct tcp_seg sg = { .sg_m = NULL };
	TCPSTAT_INC(tcps_rcvtotal);
	if (tcp_input_parse(m, hlen, &sg) < 0) {
		m_freem(m);
		return;
	}
	// RFC 1122 4.2.3.10: "A TCP implementation MUST silently discard an
	// incoming SYN segment that is addressed to a broadcast or multicast
	// address" -- and nothing else there is ours either.
	if ((m->m_pkthdr.ph_flags & (PH_BCAST | PH_MCAST)) || if_isbroadcast(sg.sg_dst) ||
	    if_isbroadcast(sg.sg_src) || sg.sg_src == INADDR_ANY) {
		tcp_input_drop(&sg);
		return;
	}
	// Receive coalescing (net/tcp_lro.c) may hold an in-order data
	// segment until the end of the batch, to hand a run of them on as one.
	if (tcp_lro_input(&sg))
		return;
	tcp_input_demux(&sg);
}
