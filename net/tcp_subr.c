// TCP support: creating and freeing connection blocks, dropping
// connections, initial sequence numbers, RST generation for segments
// without a connection, the pcb table, statistics and the pcblist sysctl.
//
// Problem: a connection's life ends in many places (RST, timeout,
// TIME_WAIT expiry, close of a listener's unaccepted child, user abort);
// each must stop timers, withdraw a queued timer message, unhook the pcb
// from the tables and release the socket exactly once. Sequence numbers
// must not be guessable (RFC 6528) and answers to stray segments must
// follow RFC 9293 3.10.7.1 exactly, or a peer's new connection dies.
//
// Idea: one function ends every connection (tcp_close); tcp_drop adds
// the RST and the socket error. ISNs are RFC 6528's M + F(): a 4 us
// clock plus SipHash-2-4 of the 4-tuple under a boot-time key.
//
// Invariants:
//   I1 A tcpcb is freed only by tcp_close, in its owning netisr, after
//      its callout is stopped and its timer message is back (DONE) or
//      withdrawn from the port, and after it left the rollup list.
//   I2 tcpstat.tcps_pcbs counts tcpcbs alive; tests check it returns to
//      its baseline.
//
// Locking: tcbinfo.ipi_lock (net/in_pcb.c) guards the tables; the tcpcb
// fields are [o] (net/tcp_var.h). The pcblist sysctl walks the table
// under ipi_lock and reads [r] fields of tcpcbs owned by other netisrs:
// a statistics snapshot, possibly a little stale, never dereferencing a
// pointer from the tcpcb (only numbers), and the tcpcb cannot be freed
// while ipi_lock is held (tcp_close unlinks under it first).
//
// Races:
//   - "pcblist vs close": the sysctl holds ipi_lock; in_pcbdetach takes it
//     before the tcpcb is freed, so every tcpcb it sees is alive.
//   - "timer message in flight at close": I1, tcp_timer_teardown.
//
// Life of a segment with no connection: tcp_input -> lookup miss ->
// tcp_reset_for -> tcp_respond -> ip_output.
//
// Testing: make hosttest (test_tcp*.c: tcp_rst_for_closed_port, the pcb
// count back to baseline in every test). Guest: sysctl net.inet.tcp.
// gdb: break tcp_close, tcp_drop.
//
// References: RFC 9293 3.4.1 (ISN), 3.5.2 and 3.10.7.1 (reset
// generation); RFC 6528 (ISN algorithm); Aumasson and Bernstein,
// "SipHash: a fast short-input PRF" (2012); McKusick et al., FreeBSD
// design, 14.
#include "net/tcp_var.h"
#include "net/tcp_sack.h"
#include "net/in_pcb.h"
#include "net/socket.h"
#include "net/ip.h"
#include "net/if.h"
#include "net/netisr.h"
#include "net/byteorder.h"
#include "net/so_accept.h"

struct tcpstat tcpstat;
struct inpcbinfo tcbinfo;

#define TCPSTAT_OID(id, f, d) \
	NET_SYSCTL_UINT64(tcp_##id, "net.inet.tcp." #id, SYSCTL_RD, &tcpstat.f, d)
TCPSTAT_OID(sndtotal, tcps_sndtotal, "segments sent");
TCPSTAT_OID(sndpack, tcps_sndpack, "data segments sent");
TCPSTAT_OID(sndbyte, tcps_sndbyte, "data bytes sent");
TCPSTAT_OID(sndrexmitpack, tcps_sndrexmitpack, "data segments retransmitted");
TCPSTAT_OID(sndrexmitbyte, tcps_sndrexmitbyte, "data bytes retransmitted");
TCPSTAT_OID(sndacks, tcps_sndacks, "pure ACKs sent");
TCPSTAT_OID(sndprobe, tcps_sndprobe, "window probes sent");
TCPSTAT_OID(sndwinup, tcps_sndwinup, "window updates sent");
TCPSTAT_OID(sndctrl, tcps_sndctrl, "control segments (SYN/FIN/RST) sent");
TCPSTAT_OID(rcvtotal, tcps_rcvtotal, "segments received");
TCPSTAT_OID(rcvpack, tcps_rcvpack, "in-sequence data segments received");
TCPSTAT_OID(rcvbyte, tcps_rcvbyte, "in-sequence data bytes received");
TCPSTAT_OID(rcvbadsum, tcps_rcvbadsum, "dropped: bad checksum");
TCPSTAT_OID(rcvbadoff, tcps_rcvbadoff, "dropped: bad data offset");
TCPSTAT_OID(rcvshort, tcps_rcvshort, "dropped: shorter than a header");
TCPSTAT_OID(rcvduppack, tcps_rcvduppack, "completely duplicate segments");
TCPSTAT_OID(rcvpartduppack, tcps_rcvpartduppack, "partly duplicate segments");
TCPSTAT_OID(rcvoopack, tcps_rcvoopack, "out-of-order segments queued");
TCPSTAT_OID(rcvoobyte, tcps_rcvoobyte, "out-of-order bytes queued");
TCPSTAT_OID(rcvafterwin, tcps_rcvafterwin, "segments with data past the window");
TCPSTAT_OID(rcvafterclose, tcps_rcvafterclose, "data after close (reset)");
TCPSTAT_OID(rcvdupack, tcps_rcvdupack, "duplicate ACKs");
TCPSTAT_OID(rcvacktoomuch, tcps_rcvacktoomuch, "ACKs for unsent data");
TCPSTAT_OID(rcvackpack, tcps_rcvackpack, "ACKs of new data");
TCPSTAT_OID(rcvackbyte, tcps_rcvackbyte, "bytes acknowledged");
TCPSTAT_OID(rcvwinprobe, tcps_rcvwinprobe, "window probes received");
TCPSTAT_OID(rcvwinupd, tcps_rcvwinupd, "window updates received");
TCPSTAT_OID(connattempt, tcps_connattempt, "active opens (SYN sent)");
TCPSTAT_OID(accepts, tcps_accepts, "passive opens established");
TCPSTAT_OID(connects, tcps_connects, "connections established");
TCPSTAT_OID(drops, tcps_drops, "established connections dropped");
TCPSTAT_OID(conndrops, tcps_conndrops, "embryonic connections dropped");
TCPSTAT_OID(closed, tcps_closed, "connections closed (tcpcb freed)");
TCPSTAT_OID(timeoutdrop, tcps_timeoutdrop, "dropped: retransmission limit");
TCPSTAT_OID(keepdrops, tcps_keepdrops, "dropped: keepalive unanswered");
TCPSTAT_OID(persistdrop, tcps_persistdrop, "dropped: zero-window probes unanswered");
TCPSTAT_OID(idlerestart, tcps_idlerestart, "cwnd restarted from the initial window after idle");
TCPSTAT_OID(keepprobe, tcps_keepprobe, "keepalive probes sent");
TCPSTAT_OID(keeptimeo, tcps_keeptimeo, "keepalive timer expiries");
TCPSTAT_OID(persisttimeo, tcps_persisttimeo, "persist timer expiries");
TCPSTAT_OID(rexmttimeo, tcps_rexmttimeo, "retransmission timer expiries");
TCPSTAT_OID(delack, tcps_delack, "delayed ACKs sent");
TCPSTAT_OID(rstsent, tcps_rstsent, "resets sent");
TCPSTAT_OID(rstrcvd, tcps_rstrcvd, "resets received and accepted");
TCPSTAT_OID(rstignored, tcps_rstignored, "resets outside the window ignored");
TCPSTAT_OID(rstchallenge, tcps_rstchallenge, "in-window resets not at RCV.NXT (RFC 5961 3.2)");
TCPSTAT_OID(synchallenge, tcps_synchallenge, "SYNs on a synchronized connection (RFC 5961 4.2)");
TCPSTAT_OID(rcvackold, tcps_rcvackold, "ACKs below SND.UNA - MAX.SND.WND, dropped (RFC 5961 5.2)");
TCPSTAT_OID(challenge_sent, tcps_challenge_sent, "challenge ACKs sent (RFC 5961)");
TCPSTAT_OID(challenge_limited, tcps_challenge_limited, "challenge ACKs not sent: rate limit");
TCPSTAT_OID(fastrexmt, tcps_fastrexmt, "fast retransmits");
TCPSTAT_OID(newreno_partial, tcps_newreno_partial, "NewReno partial ACKs");
TCPSTAT_OID(recovery, tcps_recovery, "fast recovery episodes");
TCPSTAT_OID(rttupdated, tcps_rttupdated, "RTT samples");
TCPSTAT_OID(listendrop, tcps_listendrop, "SYNs dropped: accept queue full");
TCPSTAT_OID(drop_nopcb, tcps_drop_nopcb, "dropped: no connection");
TCPSTAT_OID(drop_badseq, tcps_drop_badseq, "dropped: sequence not acceptable");
TCPSTAT_OID(drop_badack, tcps_drop_badack, "dropped: unacceptable ACK");
TCPSTAT_OID(drop_noack, tcps_drop_noack, "dropped: no ACK bit");
TCPSTAT_OID(drop_badsyn, tcps_drop_badsyn, "dropped: unexpected SYN");
TCPSTAT_OID(drop_nomem, tcps_drop_nomem, "dropped: out of memory");
TCPSTAT_OID(twreuse, tcps_twreuse, "TIME_WAIT connections reused by a new SYN");
TCPSTAT_OID(pawsdrop, tcps_pawsdrop, "dropped: PAWS, timestamp older than TS.Recent");
TCPSTAT_OID(tsmissing, tcps_tsmissing, "dropped: no timestamp on a connection that uses them");
TCPSTAT_OID(tsrtt, tcps_tsrtt, "RTT samples from timestamp echoes");
TCPSTAT_OID(rcvbufgrow, tcps_rcvbufgrow, "receive buffers grown by autotuning");
TCPSTAT_OID(sndbufgrow, tcps_sndbufgrow, "send buffers grown by autotuning");
TCPSTAT_OID(ooo_ackwait, tcps_ooo_ackwait, "out-of-order segments whose ACK was deferred (net.inet.tcp.sack_delack)");
TCPSTAT_OID(reass_steps, tcps_reass_steps, "reassembly entries visited by walks of the queue (insertion, SACK blocks)");
TCPSTAT_OID(icmp_hard, tcps_icmp_hard, "connections aborted by an ICMP error");
TCPSTAT_OID(icmp_soft, tcps_icmp_soft, "ICMP errors kept as a soft error");
TCPSTAT_OID(icmp_mtu, tcps_icmp_mtu, "segment size lowered by ICMP fragmentation needed");
TCPSTAT_OID(icmp_badseq, tcps_icmp_badseq, "ICMP errors ignored: sequence not in flight");
TCPSTAT_OID(pcbs, tcps_pcbs, "tcpcbs allocated now");
TCPSTAT_OID(sack_recovery, tcps_sack_recovery, "SACK (RFC 6675) recovery episodes");
TCPSTAT_OID(sack_rcvblocks, tcps_sack_rcvblocks, "SACK blocks received");
TCPSTAT_OID(sack_rcvbad, tcps_sack_rcvbad, "SACK blocks ignored: outside snd_una..snd_max");
TCPSTAT_OID(sack_sndblocks, tcps_sack_sndblocks, "SACK blocks sent");
TCPSTAT_OID(sack_rexmitbyte, tcps_sack_rexmitbyte, "bytes retransmitted by SACK recovery");
TCPSTAT_OID(sack_lostbyte, tcps_sack_lostbyte, "bytes the SACK scoreboard marked lost");
TCPSTAT_OID(sack_rescue, tcps_sack_rescue, "SACK rescue retransmissions (RFC 6675 rule 4)");
TCPSTAT_OID(sack_sboverflow, tcps_sack_sboverflow, "SACK blocks dropped: scoreboard full");
TCPSTAT_OID(sack_limited, tcps_sack_limited, "new segments sent by SACK limited transmit (RFC 6675 5 (3))");
TCPSTAT_OID(tlp_probe, tcps_tlp_probe, "tail loss probes sent (RFC 8985 7.3)");
TCPSTAT_OID(tlp_probe_rexmt, tcps_tlp_probe_rexmt, "tail loss probes that resent the last segment");
TCPSTAT_OID(tlp_recovered, tcps_tlp_recovered, "losses repaired by a tail loss probe alone");
TCPSTAT_OID(tlp_recovery, tcps_tlp_recovery, "SACK recoveries started by a probe's SACK");
TCPSTAT_OID(tlp_rack, tcps_tlp_rack, "SACK recoveries started at the probe timeout");
TCPSTAT_OID(prr_recovery, tcps_prr_recovery, "SACK recoveries paced by PRR (RFC 6937)");
TCPSTAT_OID(tlp_lostrexmt, tcps_tlp_lostrexmt, "lost retransmissions resent at the probe timeout");

// ---- ISN (RFC 6528) -------------------------------------------------------------

static uint64 tcp_isn_key[2];   // [i] set by tcp_subr_init

static uint64 rotl(uint64 x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static void sipround(uint64 v[4])
{
	v[0] += v[1], v[1] = rotl(v[1], 13), v[1] ^= v[0], v[0] = rotl(v[0], 32);
	v[2] += v[3], v[3] = rotl(v[3], 16), v[3] ^= v[2];
	v[0] += v[3], v[3] = rotl(v[3], 21), v[3] ^= v[0];
	v[2] += v[1], v[1] = rotl(v[1], 17), v[1] ^= v[2], v[2] = rotl(v[2], 32);
}

// SipHash-2-4 of two 64-bit words (a 16-byte message) under key.
uint64 tcp_siphash(const uint64 key[2], uint64 m0, uint64 m1)
{
	uint64 v[4] = { key[0] ^ 0x736f6d6570736575ull,
			key[1] ^ 0x646f72616e646f6dull,
			key[0] ^ 0x6c7967656e657261ull,
			key[1] ^ 0x7465646279746573ull };
	uint64 m[3] = { m0, m1, 16ull << 56 };   // last word: the length byte
	for (int i = 0; i < 3; i++) {
		v[3] ^= m[i];
		sipround(v);
		sipround(v);
		v[0] ^= m[i];
	}
	v[2] ^= 0xff;
	for (int i = 0; i < 4; i++)
		sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static uint64 siphash_2w(uint64 m0, uint64 m1)
{
	return tcp_siphash(tcp_isn_key, m0, m1);
}

uint64 tcp_keyed_hash(uint64 m0, uint64 m1)
{
	return siphash_2w(m0, m1);
}

tcp_seq tcp_new_isn(uint32 laddr, uint16 lport, uint32 faddr, uint16 fport)
{
	// RFC 6528 3: ISN = M + F(localip, localport, remoteip, remoteport,
	// secretkey), "M is the 4 microsecond timer". Our clock counts ms.
	uint64 f = siphash_2w((uint64)laddr << 32 | faddr, (uint64)lport << 16 | fport);
	return (tcp_seq)(net_now_ms() * 250) + (tcp_seq)f;
}

uint32 tcp_ts_offset_for(uint32 laddr, uint16 lport, uint32 faddr, uint16 fport)
{
	// The same keyed hash as the ISN, another message (bit 63 set): no
	// clock, so one 4-tuple keeps one timestamp clock across incarnations.
	uint64 f = siphash_2w((uint64)laddr << 32 | faddr, 1ull << 63 | (uint64)lport << 16 | fport);
	return (uint32)(f >> 32);
}

// The key: the boot clock mixed with the addresses of stack and data.
// A teaching kernel has no entropy source; this is the weakest link of
// RFC 6528 here, and documented as such in docs/tcp.md.
static void tcp_isn_init(void)
{
	uint64 t = net_now_ms(), here = (uint64)(unsigned long)&t;
	tcp_isn_key[0] = siphash_2w(t ^ 0x9e3779b97f4a7c15ull, here);
	tcp_isn_key[1] = siphash_2w(here, (uint64)(unsigned long)&tcpstat ^ t);
}

// ---- create / free ---------------------------------------------------------------

int tcp_tuplecpu(uint32 laddr, uint16 lport, uint32 faddr, uint16 fport)
{
	return netisr_hashcpu(netisr_hash_ipv4(faddr, laddr, IPPROTO_TCP, fport, lport));
}

uint32 tcp_mss_for(uint32 faddr)
{
	struct ifnet *ifp;
	uint32 nexthop;
	if (ip_route(faddr, &ifp, &nexthop) < 0)
		return TCP_MSS_DEFAULT;
	int mss = ifp->if_mtu - IP_HDR_LEN - TCP_HDR_LEN;   // RFC 9293 3.7.1
	return mss < TCP_MSS_MIN ? TCP_MSS_MIN : (uint32)mss;
}

void tcp_tcpcb_setup(struct tcpcb *tp, struct socket *so, struct inpcb *inp, int cpu)
{
	memset(tp, 0, sizeof(*tp));
	tp->t_inp = inp;
	tp->t_socket = so;
	tp->t_cpu = cpu;
	tp->t_state = TCPS_CLOSED;
	tp->t_maxseg = TCP_MSS_DEFAULT;   // RFC 9293 3.7.1: until the peer says
	tp->t_ourmss = TCP_MSS_DEFAULT;
	tp->t_rto = __atomic_load_n(&tcp_rto_init_ms, __ATOMIC_RELAXED);
	if (__atomic_load_n(&tcp_do_sack, __ATOMIC_RELAXED))
		tp->t_flags |= TF_REQ_SACK;   // RFC 2018 2: offered in our SYN
}

struct tcpcb *tcp_newtcpcb(struct socket *so, struct inpcb *inp, int cpu)
{
	struct tcpcb *tp = net_malloc(sizeof(*tp));
	if (tp == NULL)
		return NULL;
	tcp_tcpcb_setup(tp, so, inp, cpu);
	tcp_cc_init(tp);
	tcp_timer_init(tp);
	inp->inp_ppcb = tp;
	TCPSTAT_INC(tcps_pcbs);
	return tp;
}

void tcp_setstate(struct tcpcb *tp, enum tcp_state s)
{
	__atomic_store_n(&tp->t_state, s, __ATOMIC_RELAXED);   // [r]
}

struct tcpcb *tcp_close(struct tcpcb *tp)
{
	struct socket *so = tp->t_socket;
	struct inpcb *inp = tp->t_inp;
	tcp_timer_teardown(tp);            // I1
	tcp_rollup_remove(tp);
	tcp_reass_flush(tp);
	tcp_sack_free(tp);
	tcp_setstate(tp, TCPS_CLOSED);
	in_pcbdetach(inp);                 // no lookup finds it any more
	so->so_pcb = NULL;
	soqremove(so);                     // an unaccepted child leaves its listener
	soisdisconnected(so);
	net_free(tp);
	__atomic_sub_fetch(&tcpstat.tcps_pcbs, 1, __ATOMIC_RELAXED);   // I2
	TCPSTAT_INC(tcps_closed);
	sorele(so);                        // the pcb's reference
	return NULL;
}

struct tcpcb *tcp_drop_quiet(struct tcpcb *tp, int err)
{
	if (TCPS_HAVEESTABLISHED(tp->t_state))
		TCPSTAT_INC(tcps_drops);
	else
		TCPSTAT_INC(tcps_conndrops);
	if (err == -ETIMEDOUT && tp->t_softerror)
		err = tp->t_softerror;   // say why, if an ICMP error told us
	if (err)
		soseterror(tp->t_socket, err);
	return tcp_close(tp);
}

struct tcpcb *tcp_drop(struct tcpcb *tp, int err)
{
	// RFC 9293 3.10.7.4 / 3.10.5 (ABORT): in a synchronized state (and
	// SYN_RECEIVED) "Send a reset segment: <SEQ=SND.NXT><CTL=RST>".
	if (tp->t_state >= TCPS_SYN_RECEIVED && tp->t_state != TCPS_TIME_WAIT) {
		struct inpcb *inp = tp->t_inp;
		tcp_respond(inp->inp_laddr, inp->inp_lport, inp->inp_faddr, inp->inp_fport,
			    tp->snd_max, tp->rcv_nxt, TH_RST | TH_ACK, 0);
	}
	return tcp_drop_quiet(tp, err);
}

// ---- control segments without a queue -------------------------------------------

uint16 tcp_cksum(struct mbuf *m, int off, int len, uint32 src, uint32 dst)
{
	// One's-complement sums add (RFC 1071): the pseudo-header's, summed
	// from its fields (tcp_phdr_sum: every received segment is checked,
	// so no 12-byte buffer to sum), and the segment's.
	uint32 sum = tcp_phdr_sum(src, dst, (uint32)len) + (uint16)~in_cksum(m, off, len);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16)~sum;
}

uint16 tcp_phdr_sum(uint32 src, uint32 dst, uint32 len)
{
	// The sum of 16-bit words is the same whatever the byte order of
	// each word, as long as all are taken alike (RFC 1071 2(B)): add in
	// host order, fold, and store in network order.
	uint32 sum = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
		     IPPROTO_TCP + len;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return hton16((uint16)sum);
}

// A control segment with the 16-bit window field win16 and optlen
// bytes of options opt (a multiple of 4). 0 or -Exxx. Any netisr.
static int tcp_respond_opt(uint32 laddr, uint16 lport, uint32 faddr, uint16 fport,
			   tcp_seq seq, tcp_seq ack, uint8 flags, uint16 win16,
			   const uint8 *opt, int optlen)
{
	int hlen = TCP_HDR_LEN + optlen;
	struct mbuf *m = m_getspace(hlen, 64);
	if (m == NULL)
		return -ENOBUFS;
	struct tcphdr *th = mtod(m, struct tcphdr *);
	memset(th, 0, sizeof(*th));
	if (optlen > 0)
		memcpy(th + 1, opt, optlen);
	th->th_sport = hton16(lport);
	th->th_dport = hton16(fport);
	th->th_seq = hton32(seq);
	th->th_ack = (flags & TH_ACK) ? hton32(ack) : 0;
	th->th_off = (uint8)((hlen / 4) << 4);
	th->th_flags = flags;
	th->th_win = hton16(win16);
	th->th_sum = tcp_cksum(m, 0, hlen, laddr, faddr);
	TCPSTAT_INC(tcps_sndtotal);
	if (flags & TH_RST)
		TCPSTAT_INC(tcps_rstsent);
	else
		TCPSTAT_INC(tcps_sndacks);
	return ip_output(m, laddr, faddr, IPPROTO_TCP, 0, 0);
}

int tcp_respond(uint32 laddr, uint16 lport, uint32 faddr, uint16 fport,
		tcp_seq seq, tcp_seq ack, uint8 flags, uint32 win)
{
	return tcp_respond_opt(laddr, lport, faddr, fport, seq, ack, flags,
			       (uint16)MIN(win, (uint32)TCP_MAXWIN), NULL, 0);
}

int tcp_respond_tcb(struct tcpcb *tp, tcp_seq seq, tcp_seq ack, uint8 flags)
{
	uint8 opt[TCP_MAXOLEN];
	struct inpcb *inp = tp->t_inp;
	// The connection's options (RFC 7323 3.2: timestamps on every
	// segment once negotiated) and its scaled window (2.3), which, as
	// on every segment tcp_output sends, never moves the right edge we
	// advertised (rcv_adv) back (RFC 9293 3.8.6.2.2; net/tcp_output.c
	// I3): a keepalive probe must not shrink the peer's window.
	int optlen = tcp_addoptions(tp, flags, opt, sizeof(opt));
	uint32 win = tcp_output_win(tp, flags);
	if (SEQ_GT(tp->rcv_nxt + win, tp->rcv_adv))
		tp->rcv_adv = tp->rcv_nxt + win;
	return tcp_respond_opt(inp->inp_laddr, inp->inp_lport, inp->inp_faddr, inp->inp_fport,
			       seq, ack, flags, (uint16)(win >> tp->rcv_scale), opt, optlen);
}

void tcp_reset_for(const struct tcp_seg *sg)
{
	if (sg->sg_flags & TH_RST)
		return;   // RFC 9293 3.10.7.1: "An incoming segment containing a RST is discarded."
	if (if_isbroadcast(sg->sg_dst) || (sg->sg_m && (sg->sg_m->m_pkthdr.ph_flags &
							 (PH_BCAST | PH_MCAST))))
		return;   // RFC 1122 4.2.3.10: never answer a broadcast
	if (sg->sg_flags & TH_ACK) {
		// "If the ACK bit is on, <SEQ=SEG.ACK><CTL=RST>"
		tcp_respond(sg->sg_dst, sg->sg_dport, sg->sg_src, sg->sg_sport, sg->sg_ack, 0,
			    TH_RST, 0);
	} else {
		// "If the ACK bit is off, sequence number zero is used,
		// <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>"
		uint32 len = sg->sg_len + ((sg->sg_flags & TH_SYN) ? 1 : 0) +
			     ((sg->sg_flags & TH_FIN) ? 1 : 0);
		tcp_respond(sg->sg_dst, sg->sg_dport, sg->sg_src, sg->sg_sport, 0,
			    sg->sg_seq + len, TH_RST | TH_ACK, 0);
	}
}

// ---- net.inet.tcp.pcblist --------------------------------------------------------
// One line per TCP pcb (the format is an interface of the tools: netstat,
// tests; keep it):
//   <laddr>:<lport> <faddr>:<fport> <STATE> <recvq> <sendq> <cwnd>
//   <ssthresh> <srtt_ms> <rto_ms> <cpu> <opts>\n
// <opts>: the options in use, comma-separated ("sack,ts,ws"), or "-".
// At most TCP_PCBLIST_MAX pcbs are listed (256 lines of at most 146
// bytes: two addresses of 21, a state of 12, 7 numbers of up to 10
// digits, "sack,ts,ws", the separators; more connections are cut off).
#define TCP_PCBLIST_MAX 256

static int fmt_u(char *p, uint64 v)
{
	char t[24];
	int n = 0, k = 0;
	do
		t[n++] = '0' + v % 10;
	while ((v /= 10) != 0);
	while (n > 0)
		p[k++] = t[--n];
	return k;
}

static int fmt_addr(char *p, uint32 a, uint16 port)
{
	int k = 0;
	for (int i = 3; i >= 0; i--) {
		k += fmt_u(p + k, (a >> (8 * i)) & 0xff);
		p[k++] = i ? '.' : ':';
	}
	return k + fmt_u(p + k, port);
}

// The options in use on tp, for the <opts> column (at most 10 bytes).
static int tcp_pcbopts(struct tcpcb *tp, char *p)
{
	uint32 f = __atomic_load_n(&tp->t_flags, __ATOMIC_RELAXED);   // [r] here
	const char *name[3] = { "sack", "ts", "ws" };
	bool on[3] = { (f & TF_SACK_PERMIT) != 0, (f & TF_BOTH_TSTMP) == TF_BOTH_TSTMP,
		       (f & TF_BOTH_SCALE) == TF_BOTH_SCALE };
	int k = 0;
	for (int i = 0; i < 3; i++) {
		if (!on[i])
			continue;
		if (k > 0)
			p[k++] = ',';
		memcpy(p + k, name[i], strlen(name[i]));
		k += strlen(name[i]);
	}
	if (k == 0)
		p[k++] = '-';
	return k;
}

// One line for inp into buf (>= 146 bytes). Caller holds ipi_lock.
static int tcp_pcbline(struct inpcb *inp, char *buf)
{
	struct tcpcb *tp = intotcpcb(inp);
	struct socket *so = inp->inp_socket;
	int k = fmt_addr(buf, inp->inp_laddr, inp->inp_lport);
	buf[k++] = ' ';
	k += fmt_addr(buf + k, inp->inp_faddr, inp->inp_fport);
	buf[k++] = ' ';
	enum tcp_state st = __atomic_load_n(&tp->t_state, __ATOMIC_RELAXED);
	const char *name = tcp_statenames[st < TCP_NSTATES ? st : TCPS_CLOSED];
	memcpy(buf + k, name, strlen(name));
	k += strlen(name);
	uint64 v[7] = { __atomic_load_n(&so->so_rcv.sb_cc, __ATOMIC_RELAXED),
			__atomic_load_n(&so->so_snd.sb_cc, __ATOMIC_RELAXED),
			tp->snd_cwnd, tp->snd_ssthresh, (uint64)(tp->t_srtt >> 3),
			(uint64)tp->t_rto, (uint64)tp->t_cpu };
	for (int i = 0; i < 7; i++) {
		buf[k++] = ' ';
		k += fmt_u(buf + k, v[i]);
	}
	buf[k++] = ' ';
	k += tcp_pcbopts(tp, buf + k);
	buf[k++] = '\n';
	return k;
}

int tcp_pcblist(sysctl_emit_t emit, void *ctx)
{
	char line[160];
	int n = 0, err = 0;
	net_lock_acquire(&tcbinfo.ipi_lock);
	for (struct inpcb *inp = tcbinfo.ipi_all; inp && n < TCP_PCBLIST_MAX; inp = inp->inp_next) {
		if (inp->inp_ppcb == NULL)
			continue;
		if ((err = emit(ctx, line, tcp_pcbline(inp, line))) < 0)
			break;
		n++;
	}
	net_lock_release(&tcbinfo.ipi_lock);
	return err;
}
NET_SYSCTL_STRPROC(tcp_pcblist, "net.inet.tcp.pcblist", tcp_pcblist,
		   "one line per TCP connection: addresses, state, queues, cwnd, rtt, cpu");

void tcp_subr_init(void)
{
	tcp_isn_init();
}
