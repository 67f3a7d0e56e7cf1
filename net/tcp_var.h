// TCP: the connection block (struct tcpcb), the segment being processed,
// the statistics, and the functions the tcp_*.c files share. Design
// essay and pictures: docs/tcp.md; per-file headers say which RFC
// sections each file implements.
//
// Ownership (the rule every field below follows): a connection belongs
// to exactly one netisr, the one netisr_hashcpu(netisr_hash_ipv4(faddr,
// laddr, IPPROTO_TCP, fport, lport)) picks (host order; the hash is
// symmetric, so it is also the netisr its received segments arrive on).
// Only that thread reads or writes the tcpcb: segment input, socket
// requests (LWKT messages, net/protosw.h), timers (a callout that sends a
// message to that netisr, net/tcp_timer.c) and the end-of-batch rollup
// (delayed ACKs). A listening tcpcb belongs to the netisr its socket was
// created on; a SYN for it is handled on the netisr of the new
// connection's hash, which touches only the listening SOCKET (its
// accept queue, under so_qlock: net/so_accept.c), never its tcpcb.
//
// Lock legend (kernel/lock.h): [i] set before the tcpcb is published,
// read-only after; [o] the owning netisr only; [r] written by the owner,
// read without a lock by the pcblist sysctl for a statistics snapshot
// (a torn or stale value there is harmless and documented); [a] atomic.
#pragma once
#include "net/shim.h"
#include "net/mbuf.h"
#include "net/lwkt_msg.h"
#include "net/tcp_seq.h"
#include "net/tcp_fsm.h"
#include "net/protosw.h"

struct socket;
struct inpcb;
struct sockopt;

// ---- wire format -------------------------------------------------------------

struct tcphdr {
	uint16 th_sport;   // network order
	uint16 th_dport;
	uint32 th_seq;
	uint32 th_ack;
	uint8 th_off;      // data offset in 32-bit words, in the high 4 bits
	uint8 th_flags;
	uint16 th_win;
	uint16 th_sum;
	uint16 th_urp;
} __attribute__((packed));

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PUSH 0x08
#define TH_ACK 0x10
#define TH_URG 0x20

#define TCP_HDR_LEN 20
#define TCP_MAXOLEN 40            // options: at most 40 bytes
#define TCP_TSO_MAXPKT 65535      // largest IP packet a TSO packet may be
#define TCP_MAXWIN 65535          // largest unscaled window (th_win is 16 bits)
#define TCP_MAX_WINSHIFT 14       // RFC 7323 2.3: shift counts above 14 are taken as 14
#define TCP_MSS_DEFAULT 536       // RFC 9293 3.7.1 / RFC 1122 4.2.2.6
#define TCP_MSS_MIN 64            // never segment smaller than this

// Options (RFC 9293 3.1, 3.2; RFC 7323; RFC 2018). net/tcp_options.c
// parses them into struct tcpopt and builds the options of every segment
// we send (tcp_addoptions).
#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2
#define TCPOPT_WSCALE 3
#define TCPOPT_SACK_PERMITTED 4
#define TCPOPT_SACK 5
#define TCPOPT_TIMESTAMP 8

#define TOF_MSS 0x01
#define TOF_WSCALE 0x02
#define TOF_SACKPERM 0x04
#define TOF_SACK 0x08
#define TOF_TS 0x10

#define TCPOLEN_MSS 4
#define TCPOLEN_WSCALE 3
#define TCPOLEN_SACK_PERMITTED 2
#define TCPOLEN_TIMESTAMP 10
#define TCPOLEN_TSTAMP_APPA 12    // NOP NOP + timestamps (RFC 7323 Appendix A layout)
#define TCPOLEN_SACK_BLOCK 8      // one SACK block: left edge, right edge

struct tcpopt {
	uint32 to_flags;        // TOF_* present
	uint16 to_mss;
	uint8 to_wscale;
	uint8 to_nsacks;
	uint32 to_tsval, to_tsecr;
	uint32 to_sacks[4][2];  // start, end (host order), up to 4 blocks
};

// One received segment as the input functions pass it along (no hidden
// globals between them). Addresses and numbers are host order.
struct tcp_seg {
	struct mbuf *sg_m;      // [o] the packet (IP header first) or NULL
	int sg_hdroff;          // [o] bytes of IP + TCP header in sg_m
	tcp_seq sg_seq;         // SEG.SEQ
	tcp_seq sg_ack;         // SEG.ACK
	uint32 sg_len;          // SEG.LEN without SYN and FIN: data bytes
	uint32 sg_win;          // SEG.WND
	uint8 sg_flags;         // TH_*
	uint32 sg_src, sg_dst;  // IP addresses
	uint16 sg_sport, sg_dport;
	struct tcpopt sg_opt;
	tcp_seq sg_tw_iss;      // TIME_WAIT reuse: the new ISS must exceed this (0: none)
	struct tcpcb *sg_tw;    // TIME_WAIT reuse: the connection to close once the
				// syncache takes this SYN (NULL: none)
	// Receive coalescing (net/tcp_lro.c): a segment merged from
	// sg_nsegs in-order segments (0 or 1: an original one), whose data
	// bytes were sg_seglens[0 .. sg_nsegs-1] (NULL for an original).
	uint32 sg_nsegs;
	const uint32 *sg_seglens;
};

// ---- the connection ----------------------------------------------------------

enum tcp_timer_kind {
	TCPT_REXMT,      // retransmission (RFC 6298); SYN and FIN too
	TCPT_PERSIST,    // zero-window probe (RFC 9293 3.8.6.1)
	TCPT_KEEP,       // connection establishment limit, then keepalive
	TCPT_2MSL,       // TIME_WAIT, and the FIN_WAIT_2 idle limit
	TCPT_DELACK,     // delayed ACK (RFC 1122 4.2.3.2)
	TCPT_PTO,        // tail loss probe (RFC 8985 7.2): stands in for TCPT_REXMT
	TCPT_NTIMERS
};

// t_flags
#define TF_ACKNOW     0x0001  // send an ACK at the next tcp_output
#define TF_DELACK     0x0002  // an ACK is owed; TCPT_DELACK runs
#define TF_NODELAY    0x0004  // TCP_NODELAY: no Nagle
#define TF_SENTFIN    0x0008  // our FIN has been sent (at snd_max - 1)
#define TF_NEEDFIN    0x0010  // user closed: FIN follows the queued data
#define TF_ONROLLUP   0x0020  // on the netisr's end-of-batch output list
#define TF_INRECOVERY 0x0040  // NewReno fast recovery (RFC 6582)
#define TF_PASSIVE    0x0080  // created from a listener's SYN
#define TF_FORCEDATA  0x0100  // persist probe: send one byte past the window
#define TF_NOFDREF    0x0200  // the socket's file is closed
#define TF_RCVD_MSS   0x0400  // the peer's SYN carried an MSS option
#define TF_WAKEREADER 0x0800  // data was delivered: wake the reader at the rollup
// Negotiated options (net/tcp_options.c). REQ: we offer it in our SYN;
// RCVD: the peer's SYN carried it. An option is in use only with both.
#define TF_REQ_SCALE  0x1000  // RFC 7323 2: we send a window scale option
#define TF_RCVD_SCALE 0x2000  // the peer's SYN carried one
#define TF_REQ_TSTMP  0x4000  // RFC 7323 3: we send timestamps
#define TF_RCVD_TSTMP 0x8000  // the peer's SYN carried them
#define TF_REQ_SACK   0x10000 // RFC 2018 2: we send SACK-permitted
#define TF_SACK_PERMIT 0x20000 // both SYNs carried SACK-permitted
#define TF_BOTH_SCALE (TF_REQ_SCALE | TF_RCVD_SCALE)
#define TF_BOTH_TSTMP (TF_REQ_TSTMP | TF_RCVD_TSTMP)
#define TF_SACKRECOVERY 0x40000 // the recovery in progress is RFC 6675's (with TF_INRECOVERY)

struct tcp_reass_ent;   // net/tcp_reass.c
struct tcp_sackboard;   // net/tcp_sack.h
#define TCP_SACK_HIST 4 // receiver: recent out-of-order segments remembered

// The reassembly queue: out-of-order segments sorted by sequence number,
// never overlapping (new data is trimmed against what is queued). A SACK
// scoreboard (RFC 2018 receiver side) walks it with tcp_reass_first/next.
struct tcp_reass {
	struct tcp_reass_ent *tr_head;   // [o] lowest sequence first
	struct tcp_reass_ent *tr_tail;   // [o] highest entry (NULL iff tr_head is)
	int tr_nseg;                     // [o] entries
	uint32 tr_bytes;                 // [o] data bytes held
};

struct tcpcb {
	struct inpcb *t_inp;          // [i] addresses (inp_* fields, host order)
	struct socket *t_socket;      // [i]
	enum tcp_state t_state;       // [r] RFC 9293 3.3.2
	int t_cpu;                    // [o] owning netisr (= so_cpu once set)
	uint32 t_flags;               // [o] TF_* (pcblist reads the option bits: [r] there)

	// Send sequence space (RFC 9293 3.3.1, Figure 3).
	tcp_seq iss;                  // [o] initial send sequence number
	tcp_seq snd_una;              // [o] oldest unacknowledged
	tcp_seq snd_nxt;              // [o] next to send
	tcp_seq snd_max;              // [o] highest sent + 1 (snd_nxt may back up)
	uint32 snd_wnd;               // [o] peer's window
	uint32 t_maxsndwnd;           // [o] largest window the peer offered (sender SWS)
	tcp_seq snd_wl1, snd_wl2;     // [o] seq/ack of the last window update
	uint32 t_maxseg;              // [r] MSS we send with (peer's, our MTU)

	// Receive sequence space (RFC 9293 3.3.1, Figure 4).
	tcp_seq irs;                  // [o] initial receive sequence number
	tcp_seq rcv_nxt;              // [o] next expected
	tcp_seq rcv_adv;              // [o] rcv_nxt + the window last advertised
	uint32 t_ourmss;              // [o] MSS we offered (from the MTU)

	// RFC 7323 (net/tcp_options.c). Shifts are 0 unless both SYNs
	// carried a window scale option (TF_BOTH_SCALE).
	uint8 snd_scale;              // [o] peer's shift: SND.WND = SEG.WND << this
	uint8 rcv_scale;              // [o] our shift: we send window >> this
	uint8 request_r_scale;        // [o] the shift our SYN offers
	uint32 t_ts_offset;           // [o] added to the ms clock in TSval (RFC 7323 7.1)
	uint32 ts_recent;             // [o] TS.Recent: the TSval to echo (RFC 7323 4.3)
	uint64 ts_recent_age;         // [o] net_now_ms() when ts_recent was set (PAWS 24 days)
	tcp_seq last_ack_sent;        // [o] Last.ACK.sent: the ACK field we last sent

	// Receive-buffer autotuning (net/tcp_rcvbuf.c): bytes received in
	// order since the measurement began at our TSval t_rfbuf_ts.
	uint32 t_rfbuf_ts;            // [o] TSval at the start, 0: not measuring
	uint32 t_rfbuf_cnt;           // [o] bytes received since

	// Congestion control (RFC 5681, RFC 6582, RFC 6928): net/tcp_cc.c.
	uint32 snd_cwnd;              // [r]
	uint32 snd_ssthresh;          // [r]
	tcp_seq snd_recover;          // [o] NewReno "recover"
	int t_dupacks;                // [o] consecutive duplicate ACKs
	uint32 t_bytes_acked;         // [o] CA: bytes acked since cwnd grew
	uint64 t_sndtime;             // [o] when data was last sent (0: never): RFC 5681 4.1

	// Round-trip time (RFC 6298): net/tcp_timer.c.
	int t_srtt;                   // [r] smoothed RTT, ms << 3; 0: none yet
	int t_rttvar;                 // [r] RTT variance, ms << 2
	int t_rto;                    // [r] current RTO in ms (before backoff)
	int t_rxtshift;               // [o] retransmissions of snd_una so far
	tcp_seq t_rtseq;              // [o] sequence being timed
	uint64 t_rtttime;             // [o] when it was sent; 0: none timed
	int t_persist_shift;          // [o] persist backoff step

	// Timers: absolute deadlines (net_now_ms), 0 = not running. One
	// callout per tcpcb fires at the earliest and sends t_timermsg to
	// the owning netisr (net/tcp_timer.c).
	uint64 t_timer[TCPT_NTIMERS]; // [o]
	struct net_callout t_callout; // [o] armed on the owner's CPU only
	uint64 t_callout_at;          // [o] deadline it is armed for, 0: none
	struct lwkt_msg t_timermsg;   // [o] callout -> netisr (see tcp_timer.c)
	struct lwkt_msg t_connmsg;    // [o] connect: old owner -> new owner (tcp_usrreq.c)
	uint64 t_rcvtime;             // [o] last segment received (keepalive)
	int t_keepprobes;             // [o] keepalives sent without answer
	int t_persistprobes;          // [o] zero-window probes sent without answer

	uint32 t_unacked_bytes;       // [o] in-order data received since our last ACK
	uint32 t_segs_unacked;        // [o] in-order segments received since our last ACK
	tcp_seq t_ooonxt;             // [o] rcv_nxt when t_oooacks started (tcp_sackdelay.c)
	uint32 t_oooacks;             // [o] immediate ACKs for out-of-order data at t_ooonxt
	int t_softerror;              // [o] last ICMP soft error (-Exxx), reported on timeout
	struct tcp_reass t_reass;     // [o] out-of-order data
	struct tcpcb *t_rollnext;     // [o] netisr's rollup list (TF_ONROLLUP)
	tcp_seq t_last_rcvnxt;        // [o] TIME_WAIT reuse: final rcv_nxt
	uint64 t_badack_time;         // [o] last ACK sent for an unacceptable segment

	// SACK (net/tcp_sack.c).
	struct tcp_sackboard *t_sack; // [o] sender's scoreboard; NULL until a block arrives
	tcp_seq t_sackhist[TCP_SACK_HIST]; // [o] receiver: newest out-of-order segments first
	uint8 t_nsackhist;            // [o] entries in t_sackhist
	tcp_seq t_dsack[2];           // [o] receiver: a duplicate range to report (RFC 2883)
	bool t_dsack_on;              // [o] t_dsack is owed, in the next ACK

	// Tail loss probe (net/tcp_tlp.c, RFC 8985 7).
	uint8 t_tlp_state;            // [o] TLP_* (0: no probe episode)
	tcp_seq t_tlp_seq;            // [o] the probe's first sequence number
	tcp_seq t_tlp_end;            // [o] RFC 8985 TLP.end_seq: snd_max after the probe
	tcp_seq t_tlp_rxtuna;         // [o] in SACK recovery: snd_una when the PTO was armed
};

#define intotcpcb(inp) ((struct tcpcb *)(inp)->inp_ppcb)
#define sototcpcb(so) ((so)->so_pcb ? intotcpcb((struct inpcb *)(so)->so_pcb) : NULL)

// ---- statistics: net.inet.tcp.* (netstat -s prints them all) ------------------
struct tcpstat {
	uint64 tcps_sndtotal;       // segments sent
	uint64 tcps_sndpack;        // data segments sent
	uint64 tcps_sndbyte;        // data bytes sent
	uint64 tcps_sndrexmitpack;  // data segments retransmitted
	uint64 tcps_sndrexmitbyte;  // data bytes retransmitted
	uint64 tcps_sndacks;        // pure ACKs sent
	uint64 tcps_sndprobe;       // window probes sent
	uint64 tcps_sndwinup;       // window updates sent
	uint64 tcps_sndctrl;        // SYN/FIN/RST-only segments sent
	uint64 tcps_rcvtotal;       // segments received
	uint64 tcps_rcvpack;        // in-sequence data segments
	uint64 tcps_rcvbyte;        // in-sequence data bytes
	uint64 tcps_rcvbadsum;      // bad checksum
	uint64 tcps_rcvbadoff;      // bad data offset
	uint64 tcps_rcvshort;       // shorter than a header
	uint64 tcps_rcvduppack;     // completely duplicate data segments
	uint64 tcps_rcvpartduppack; // partly duplicate
	uint64 tcps_rcvoopack;      // out-of-order segments queued
	uint64 tcps_rcvoobyte;
	uint64 tcps_rcvafterwin;    // data beyond the window (trimmed)
	uint64 tcps_rcvafterclose;  // data after the socket was closed (RST)
	uint64 tcps_rcvdupack;      // duplicate ACKs
	uint64 tcps_rcvacktoomuch;  // ACK for data not yet sent
	uint64 tcps_rcvackpack;     // ACKs that acknowledged new data
	uint64 tcps_rcvackbyte;
	uint64 tcps_rcvwinprobe;
	uint64 tcps_rcvwinupd;
	uint64 tcps_connattempt;    // active opens (SYN sent)
	uint64 tcps_accepts;        // passive opens established
	uint64 tcps_connects;       // connections established
	uint64 tcps_drops;          // established connections dropped
	uint64 tcps_conndrops;      // embryonic connections dropped
	uint64 tcps_closed;         // tcpcbs freed
	uint64 tcps_timeoutdrop;    // dropped: retransmission limit
	uint64 tcps_keepdrops;      // dropped: keepalive unanswered
	uint64 tcps_persistdrop;    // dropped: zero-window probes unanswered
	uint64 tcps_idlerestart;    // cwnd restarted from IW after an idle RTO
	uint64 tcps_keepprobe;      // keepalive probes sent
	uint64 tcps_keeptimeo;      // keepalive timer expiries
	uint64 tcps_persisttimeo;   // persist timer expiries
	uint64 tcps_rexmttimeo;     // retransmission timer expiries
	uint64 tcps_delack;         // delayed ACKs sent by the timer
	uint64 tcps_rstsent;        // RSTs sent
	uint64 tcps_rstrcvd;        // RSTs accepted
	uint64 tcps_rstignored;     // RSTs out of window, ignored
	uint64 tcps_rstchallenge;   // in-window RST not at rcv_nxt: challenge ACK (RFC 5961 3.2)
	uint64 tcps_synchallenge;   // SYN on a synchronized connection: challenge ACK (RFC 5961 4.2)
	uint64 tcps_rcvackold;      // ACK below SND.UNA - MAX.SND.WND: dropped (RFC 5961 5.2)
	uint64 tcps_challenge_sent; // challenge ACKs sent
	uint64 tcps_challenge_limited; // challenge ACKs suppressed by a rate limit
	uint64 tcps_fastrexmt;      // fast retransmits (3 dup ACKs)
	uint64 tcps_newreno_partial;// NewReno partial ACKs
	uint64 tcps_recovery;       // fast recovery episodes
	uint64 tcps_rttupdated;     // RTT samples taken
	uint64 tcps_listendrop;     // SYNs dropped: accept queue full
	uint64 tcps_drop_nopcb;     // dropped: no connection (RST answered)
	uint64 tcps_drop_badseq;    // dropped: unacceptable sequence (ACK sent)
	uint64 tcps_drop_badack;    // dropped: unacceptable ACK
	uint64 tcps_drop_noack;     // dropped: no ACK bit in a synchronized state
	uint64 tcps_drop_badsyn;    // dropped: SYN where none belongs
	uint64 tcps_drop_nomem;     // dropped: out of memory
	uint64 tcps_twreuse;        // TIME_WAIT connections reused by a SYN
	uint64 tcps_pawsdrop;       // dropped: PAWS (old timestamp, RFC 7323 5)
	uint64 tcps_tsmissing;      // dropped: no timestamp though negotiated (RFC 7323 3.2)
	uint64 tcps_tsrtt;          // RTT samples taken from TSecr (RFC 7323 4)
	uint64 tcps_rcvbufgrow;     // receive buffers grown by autotuning
	uint64 tcps_sndbufgrow;     // send buffers grown by autotuning (tcp_sndbuf.c)
	uint64 tcps_ooo_ackwait;    // out-of-order segments whose ACK waited (tcp_sackdelay.c)
	uint64 tcps_reass_steps;    // reassembly entries visited by walks of the queue
	uint64 tcps_icmp_hard;      // connections aborted by an ICMP error
	uint64 tcps_icmp_soft;      // ICMP errors kept as a soft error
	uint64 tcps_icmp_mtu;       // segment size lowered by "fragmentation needed"
	uint64 tcps_icmp_badseq;    // ICMP errors ignored: quoted sequence not in flight
	uint64 tcps_pcbs;           // tcpcbs allocated now
	uint64 tcps_sack_recovery;  // SACK (RFC 6675) recovery episodes
	uint64 tcps_sack_rcvblocks; // SACK blocks received (valid)
	uint64 tcps_sack_rcvbad;    // SACK blocks ignored: outside snd_una..snd_max
	uint64 tcps_sack_sndblocks; // SACK blocks sent
	uint64 tcps_sack_rexmitbyte;// bytes retransmitted by SACK recovery
	uint64 tcps_sack_lostbyte;  // bytes the scoreboard marked lost
	uint64 tcps_sack_rescue;    // rescue retransmissions (RFC 6675 NextSeg rule 4)
	uint64 tcps_sack_sboverflow;// SACK blocks dropped: scoreboard full
	uint64 tcps_sack_limited;   // new segments sent by limited transmit (RFC 6675 5 (3))
	uint64 tcps_tlp_probe;      // tail loss probes sent (RFC 8985 7.3)
	uint64 tcps_tlp_probe_rexmt;// of them: retransmissions of the last segment
	uint64 tcps_tlp_recovered;  // losses a probe's retransmission repaired alone (7.4)
	uint64 tcps_tlp_recovery;   // recoveries started by the SACK of a probe
	uint64 tcps_tlp_rack;       // recoveries started at the probe timeout (SACKed data above a hole)
	uint64 tcps_tlp_lostrexmt;  // SACK recovery: a lost retransmission resent at the PTO
	uint64 tcps_prr_recovery;   // SACK recoveries paced by PRR (RFC 6937, net/tcp_prr.c)
};
extern struct tcpstat tcpstat;
#define TCPSTAT_INC(f) __atomic_add_fetch(&tcpstat.f, 1, __ATOMIC_RELAXED)
#define TCPSTAT_ADD(f, n) __atomic_add_fetch(&tcpstat.f, (n), __ATOMIC_RELAXED)

// ---- tunables (sysctl net.inet.tcp.*), all [a] ----------------------------------
extern int tcp_msl_ms;            // MSL; TIME_WAIT lasts 2 * this
extern int tcp_rto_min_ms, tcp_rto_max_ms, tcp_rto_init_ms;
extern int tcp_rexmt_max;         // retransmissions of one segment, then drop
extern int tcp_syn_rexmt_max;     // retransmissions of a SYN, then drop
extern int tcp_keepidle_ms, tcp_keepintvl_ms, tcp_keepcnt, tcp_keepinit_ms;
extern int tcp_delack_ms;
extern int tcp_ack_batch_max;   // net.inet.tcp.ack_batch_max (net/tcp_input_sync.c) [a]
// In-order bytes one deferred ACK may cover: MAX(ack_batch_max, MSS).
uint32 tcp_ack_batch_limit(struct tcpcb *tp);
extern int tcp_fin_wait_2_ms;     // orphaned FIN_WAIT_2 idle limit
extern int tcp_iw_segs;           // initial window in segments (RFC 6928)
extern int tcp_invalid_ratelimit_ms; // ACKs answering unacceptable segments: at most 1 per
extern int tcp_challenge_ack_limit; // challenge ACKs per second, all connections
extern int tcp_do_wscale;         // RFC 7323 window scale offered (net.inet.tcp.wscale)
extern int tcp_do_timestamps;     // RFC 7323 timestamps offered (net.inet.tcp.timestamps)
extern int tcp_recvbuf_auto;      // receive-buffer autotuning (net.inet.tcp.recvbuf_auto)
extern int tcp_recvbuf_max;       // its ceiling in bytes (net.inet.tcp.recvbuf_max)
extern int tcp_minmss;            // floor of an ICMP-lowered t_maxseg

// ---- tcp_subr.c ------------------------------------------------------------------
// A new tcpcb for socket so (pcb inp), state CLOSED, on netisr cpu.
// NULL if out of memory. Owning netisr.
struct tcpcb *tcp_newtcpcb(struct socket *so, struct inpcb *inp, int cpu);
// The fields tcp_newtcpcb sets before timers and accounting (state
// CLOSED, MSS defaults, RTO, the options we offer): also the syncache's
// scratch tcpcb (net/tcp_syncache.c), which must offer what a real one would.
void tcp_tcpcb_setup(struct tcpcb *tp, struct socket *so, struct inpcb *inp, int cpu);
// Close the connection and free the tcpcb and its pcb; release the
// socket's protocol reference. Returns NULL (tp is gone). Owning netisr.
struct tcpcb *tcp_close(struct tcpcb *tp);
// Abort: send a RST if synchronized, record err (-ECONNRESET, -ETIMEDOUT,
// ...) on the socket, close. Returns NULL. Owning netisr.
struct tcpcb *tcp_drop(struct tcpcb *tp, int err);
// The peer reset us / we gave up: as tcp_drop without sending a RST.
struct tcpcb *tcp_drop_quiet(struct tcpcb *tp, int err);
// SipHash-2-4 of (m0, m1) under the boot-time secret key: for values an
// attacker must not predict (ISNs, SYN cookies, rate-limit budgets).
uint64 tcp_keyed_hash(uint64 m0, uint64 m1);
// SipHash-2-4 of (m0, m1) under key.
uint64 tcp_siphash(const uint64 key[2], uint64 m0, uint64 m1);
// RFC 6528 initial sequence number for the 4-tuple (host order).
tcp_seq tcp_new_isn(uint32 laddr, uint16 lport, uint32 faddr, uint16 fport);
// RFC 7323 7.1: the offset of the 4-tuple's timestamp clock (a keyed
// hash, the same for every incarnation of the 4-tuple).
uint32 tcp_ts_offset_for(uint32 laddr, uint16 lport, uint32 faddr, uint16 fport);
// The MSS to offer on a connection to faddr: the route's MTU - 40.
uint32 tcp_mss_for(uint32 faddr);
// Send a control segment not tied to a tcpcb's queue: RST or ACK with
// (seq, ack, flags) from laddr:lport to faddr:fport (host order), window
// win. 0 or -Exxx. Any netisr.
int tcp_respond(uint32 laddr, uint16 lport, uint32 faddr, uint16 fport,
		tcp_seq seq, tcp_seq ack, uint8 flags, uint32 win);
// The same for a segment of connection tp outside its queue (keepalive
// probes): with tp's options (timestamps) and its scaled window.
int tcp_respond_tcb(struct tcpcb *tp, tcp_seq seq, tcp_seq ack, uint8 flags);
// RFC 9293 3.10.7.1: the RST answering segment sg that found no
// connection (or a connection that must refuse it). Never for a RST.
void tcp_reset_for(const struct tcp_seg *sg);
// The owning netisr of the 4-tuple (host order).
int tcp_tuplecpu(uint32 laddr, uint16 lport, uint32 faddr, uint16 fport);
// Move tp to state s (the one place t_state changes; traces if enabled).
void tcp_setstate(struct tcpcb *tp, enum tcp_state s);
// The state's pcb table (net/tcp_subr.c).
extern struct inpcbinfo tcbinfo;
// Checksum of len TCP bytes at offset off of m with the pseudo-header.
uint16 tcp_cksum(struct mbuf *m, int off, int len, uint32 src, uint32 dst);
// The pseudo-header's one's-complement sum (RFC 9293 3.1), folded, not
// complemented, as th_sum holds it for checksum offload (PH_CSUM_TCP);
// len 0 for a TSO packet (the interface adds each frame's length).
uint16 tcp_phdr_sum(uint32 src, uint32 dst, uint32 len);

// The pcblist sysctl's generator (format: net/tcp_subr.c) and boot setup.
int tcp_pcblist(sysctl_emit_t emit, void *ctx);
void tcp_subr_init(void);

// ---- tcp_output.c ----------------------------------------------------------------
// Send what the state, the windows, Nagle and the flags allow. 0 or
// -Exxx. Owning netisr.
int tcp_output(struct tcpcb *tp);
// Queue tp for an ACK at the end of this netisr's input batch (the
// rollup), so several segments of one batch get one ACK.
void tcp_ack_later(struct tcpcb *tp);
// An ACK answering an unacceptable segment (out of window, acking the
// future, challenge ACKs): sent at most once per tcp_invalid_ratelimit_ms,
// so two ends that disagree cannot ACK each other for ever.
void tcp_ack_invalid(struct tcpcb *tp);
// ---- tcp_challenge.c (RFC 5961) ---------------------------------------------------
// A challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT> for a segment that may be a
// blind attack (an in-window RST, a SYN, an unacceptable ACK), within the
// per-connection and the global limits; counted either way.
void tcp_challenge_ack(struct tcpcb *tp);
// The per-connection limit: true if tp answered an unacceptable segment
// less than tcp_invalid_ratelimit_ms ago (else records now, returns false).
bool tcp_invalid_limited(struct tcpcb *tp);
// Queue tp for the rollup without asking for an ACK (a reader to wake).
void tcp_rollup_add(struct tcpcb *tp);
// The rollup hook (netisr_register_rollup): for every tcpcb queued on
// this cpu, wake its reader (TF_WAKEREADER) and send what it owes.
void tcp_rollup(int cpu);
// Unlink tp from its netisr's rollup list (before freeing it).
void tcp_rollup_remove(struct tcpcb *tp);
// Window we can advertise now (receive buffer space, SWS-avoided).
uint32 tcp_rcvwin(struct tcpcb *tp);
// The window a segment with flags advertises, in bytes (a multiple of
// 2^rcv_scale unless SYN): tcp_rcvwin, but never left of rcv_adv.
uint32 tcp_output_win(struct tcpcb *tp, uint8 flags);
// Start the retransmission timer if it is not running.
void tcp_rexmt_arm(struct tcpcb *tp);
// Send one segment of at most len bytes of sequence space from seq
// (snd_una <= seq <= snd_max: a retransmission, or new data at snd_max)
// whatever cwnd says: SACK recovery counted it in pipe. Returns the
// sequence space sent (0: nothing could go) or -Exxx. Owning netisr.
int tcp_output_at(struct tcpcb *tp, tcp_seq seq, uint32 len);

// ---- tcp_options.c --------------------------------------------------------------------
// Parse the options area (len bytes at cp) into *to. Never fails: a
// malformed option ends the parse (RFC 9293 3.1: a TCP must be robust).
void tcp_dooptions(struct tcpopt *to, const uint8 *cp, int len, bool syn);
// Write the options of a segment with flags (TH_*) into cp, at most
// room bytes (<= TCP_MAXOLEN); returns their length, a multiple of 4.
// SYN: MSS, timestamps, window scale, SACK-permitted as TF_REQ_* says;
// other segments: timestamps once negotiated, then SACK blocks (they
// take what room is left: tcp_sack_addopt). Owning netisr.
int tcp_addoptions(struct tcpcb *tp, uint8 flags, uint8 *cp, int room);
// The options' length tcp_addoptions would write for a non-SYN segment
// without SACK blocks (the fixed part a data segment always carries).
int tcp_optlen_fixed(struct tcpcb *tp);
// Exactly the length tcp_addoptions(tp, flags, ., TCP_MAXOLEN) would
// return now, without writing the options in the common case (no SYN,
// RST or SACK block): what tcp_output's decision needs. Owning netisr.
int tcp_optlen(struct tcpcb *tp, uint8 flags);
// The data of one full-sized segment: t_maxseg less tcp_optlen_fixed
// (RFC 9293 3.7.1's Eff.snd.MSS, RFC 5681's SMSS; 1448 with timestamps
// on a 1460 MSS). What "one segment" of cwnd or of a retransmission is.
uint32 tcp_smss(struct tcpcb *tp);
// SACK blocks (RFC 2018 3) for a non-SYN segment into cp (room bytes
// left): their length. Filled by the SACK code; 0 when none.
int tcp_sack_addopt(struct tcpcb *tp, uint8 *cp, int room);
// Before our SYN: set TF_REQ_* from the sysctls and choose our window
// shift from the receive buffer. Owning netisr.
void tcp_options_request(struct tcpcb *tp);
// The peer's SYN (or SYN,ACK) options *to: decide what is in use
// (RFC 7323 2.2, 3.2; RFC 2018 2). Call after tcp_options_request.
void tcp_options_syn(struct tcpcb *tp, const struct tcpopt *to, uint32 now_ms);
// Our timestamp clock for tp: TSval now (ms, RFC 7323 5.4).
uint32 tcp_ts_now(struct tcpcb *tp);
// Per-segment RFC 7323 checks on a synchronized connection before the
// sequence check: unscale SEG.WND, drop a segment without timestamps,
// PAWS (5.3 R1). false: drop the segment (an ACK may be owed: done).
bool tcp_options_input(struct tcpcb *tp, struct tcp_seg *sg);
// After sg was found acceptable: update TS.Recent (RFC 7323 4.3 (2)).
void tcp_ts_update(struct tcpcb *tp, const struct tcp_seg *sg);
// sg acknowledges new data: an RTT sample from its TSecr (RFC 7323 4.1)
// into the RFC 6298 estimator. true if one was taken.
bool tcp_ts_rtt(struct tcpcb *tp, const struct tcp_seg *sg);

// ---- tcp_rcvbuf.c ----------------------------------------------------------------------
// Receive-buffer autotuning: count len in-order bytes of segment sg and
// grow so_rcv when a full buffer arrived within one round trip.
void tcp_rcvbuf_autotune(struct tcpcb *tp, const struct tcp_seg *sg, uint32 len);
// The largest receive buffer tp's socket may reach (SO_RCVBUF, or the
// autotuning ceiling): what the window shift must cover.
uint32 tcp_rcvbuf_ceiling(struct tcpcb *tp);

// ---- tcp_sndbuf.c ----------------------------------------------------------------------
// Send-buffer autotuning: after an append, double so_snd (up to
// net.inet.tcp.sendbuf_max) if it is nearly full and the usable window
// is larger than it.
void tcp_sndbuf_autotune(struct tcpcb *tp);
extern int tcp_sendbuf_auto;   // net.inet.tcp.sendbuf_auto [a]
extern int tcp_sendbuf_max;    // net.inet.tcp.sendbuf_max [a]

// ---- tcp_sackdelay.c -------------------------------------------------------------------
// Acknowledge segment sg (len data bytes), just queued out of order or
// filling a hole (rcv_nxt was onxt and the queue had onseg blocks
// before): at once, or, if it only extended the highest SACK block after
// three immediate ACKs, like in-order data (sack_delack=2: batch end or
// tcp_ack_batch_limit) or every second segment (sack_delack=1).
void tcp_sackdelay_ack(struct tcpcb *tp, const struct tcp_seg *sg, uint32 len,
		       tcp_seq onxt, uint32 onseg);
// Receive coalescing behind a hole (net/tcp_lro.c): may a run of
// segments from seq on, each continuing the one before, reach TCP as one
// although out of order? true if one by one each part would only extend
// the highest block with its ACK waiting; *limit is then the bytes
// unacknowledged after which one by one the ACK would leave. Owning netisr.
bool tcp_sackdelay_run(struct tcpcb *tp, tcp_seq seq, uint32 *limit);

// ---- tcp_input.c / tcp_input_sync.c ------------------------------------------------
void tcp_input(struct mbuf *m, int hlen);
// Find the connection (or listener) of the parsed segment sg and hand it
// over: what tcp_input does after parsing. Consumes sg->sg_m. Owning netisr.
void tcp_input_demux(struct tcp_seg *sg);
// The connected tcpcb of sg's 4-tuple if this netisr owns it and it is
// not CLOSED, else NULL (a listener too). No side effects. Owning netisr.
struct tcpcb *tcp_input_conn(const struct tcp_seg *sg);
// Segment processing for every state after SYN_SENT (RFC 9293 3.10.7.4).
// Consumes sg->sg_m. Owning netisr.
void tcp_input_sync(struct tcpcb *tp, struct tcp_seg *sg);
// The passive side's option negotiation for a peer's SYN (tp in CLOSED,
// t_inp and t_socket set): the send MSS (RFC 9293 3.7.1), then
// tcp_options_request and tcp_options_syn. The syncache calls it twice
// per connection: on a scratch tcpcb to build the SYN,ACK's options, and
// on the real child with the SYN replayed from its entry or cookie -- so
// everything a SYN,ACK offers must follow from tcp_tcpcb_setup and these
// calls alone.
void tcp_passive_options(struct tcpcb *tp, const struct tcp_seg *syn);
// A child tcpcb for socket so (a sonewconn child), owning the 4-tuple of
// sg on netisr cpu, state CLOSED. NULL on failure (so's queue reference
// is then dropped).
struct tcpcb *tcp_listen_child(struct socket *so, const struct tcp_seg *sg, int cpu);
// Deliver in-order data m (consumed; headers already trimmed; nsegs
// segments as they arrived, > 1 for a coalesced one: counted in rcvpack)
// to the socket's receive buffer and wake the reader. (Data for a socket
// nobody reads any more was refused before: tcp_input_sync.)
void tcp_deliver(struct tcpcb *tp, struct mbuf *m, uint32 nsegs);

// ---- tcp_lro.c (receive coalescing) -------------------------------------------------
extern int tcp_lro_on;   // net.inet.tcp.lro [a]
// A parsed, checksummed segment sg before demultiplexing: true if LRO
// holds it (consumed: it reaches TCP, perhaps merged with the following
// segments of its flow, by the end of this netisr batch); false: the
// caller processes it now (after any segments of its flow held before).
// Owning netisr.
bool tcp_lro_input(struct tcp_seg *sg);
// The rollup hook: hand every held run of cpu's netisr to TCP. Must run
// before tcp_rollup (the batch's ACKs and wakeups).
void tcp_lro_rollup(int cpu);

// ---- tcp_reass.c ---------------------------------------------------------------------
// Queue out-of-order data m (consumed; len bytes at seq, fin: a FIN
// follows it). Then move what has become in order to the socket. Returns
// the TH_FIN flag if a FIN became in order, else 0. Owning netisr.
int tcp_reass(struct tcpcb *tp, tcp_seq seq, uint32 len, struct mbuf *m, bool fin);
// Hand in-order data after rcv_nxt to the socket; returns TH_FIN if a
// queued FIN became in order.
int tcp_reass_pull(struct tcpcb *tp);
void tcp_reass_flush(struct tcpcb *tp);
// Walk the queue (SACK scoreboard, tests): first / next entry and its
// range [*start, *end).
struct tcp_reass_ent *tcp_reass_first(struct tcpcb *tp, tcp_seq *start, tcp_seq *end);
struct tcp_reass_ent *tcp_reass_next(struct tcp_reass_ent *e, tcp_seq *start, tcp_seq *end);
// The highest entry and its range, without a walk (NULL if empty).
struct tcp_reass_ent *tcp_reass_last(struct tcpcb *tp, tcp_seq *start, tcp_seq *end);
// Would data at seq continue the highest entry (one with data, no FIN)?
bool tcp_reass_extends_tail(struct tcpcb *tp, tcp_seq seq);

// ---- tcp_cc.c -----------------------------------------------------------------------
void tcp_cc_init(struct tcpcb *tp);
// About to send with nothing in flight: after more than an RTO without
// sending data, cwnd = min(cwnd, IW) (RFC 5681 4.1).
void tcp_cc_idle_restart(struct tcpcb *tp);
// New data acked (acked bytes) outside recovery.
void tcp_cc_ack(struct tcpcb *tp, uint32 acked);
// A duplicate ACK: count it; on the third, fast retransmit (RFC 5681 3.2).
void tcp_cc_dupack(struct tcpcb *tp);
// An ACK that advances snd_una during recovery (RFC 6582 3.2 step 3).
// Returns true if recovery continues (partial ACK).
bool tcp_cc_recovery_ack(struct tcpcb *tp, tcp_seq ack, uint32 acked);
// The retransmission timer fired (RFC 5681 3.1 equation 4).
void tcp_cc_rto(struct tcpcb *tp);
// Enter fast recovery: count it, ssthresh = max(FlightSize / 2, 2 SMSS),
// recover = snd_max, TF_INRECOVERY (NewReno and RFC 6675 both).
void tcp_cc_recovery_start(struct tcpcb *tp);

// ---- tcp_tlp.c (RFC 8985 7) -------------------------------------------------------
extern int tcp_do_tlp;            // net.inet.tcp.tlp [a]
extern int tcp_tlp_wcdelack_ms;   // net.inet.tcp.tlp_wcdelack_ms [a]
// New data was sent, or an ACK acknowledged new data: (re)start the
// probe timer in place of the retransmission timer, if a probe may go.
void tcp_tlp_arm(struct tcpcb *tp);
// An ACK acknowledged new data (after the RTO and recovery updates):
// restart the probe timer, or stop it (nothing outstanding, recovery).
void tcp_tlp_newack(struct tcpcb *tp);
// The probe timer fired: send the probe (or start recovery), then run
// the retransmission timer.
void tcp_tlp_fire(struct tcpcb *tp);
// An acceptable ACK (after tcp_sack_update, before snd_una moves):
// follow the probe episode (RFC 8985 7.4).
void tcp_tlp_ack(struct tcpcb *tp, const struct tcp_seg *sg, uint32 sacked);
// SACK recovery began, or its ACK moved snd_una: run the PTO to find a
// lost retransmission of the segment at snd_una.
void tcp_tlp_recovery_arm(struct tcpcb *tp);
// The retransmission timer fired: no probe, no episode.
void tcp_tlp_reset(struct tcpcb *tp);
// During a probe episode, has the probe been SACKed above the hole at
// snd_una (so the hole is lost, RFC 8985 6.2)? Ends the episode if so.
bool tcp_tlp_marks_lost(struct tcpcb *tp);

// ---- tcp_timer.c --------------------------------------------------------------------
void tcp_timer_init(struct tcpcb *tp);
// Set timer t to fire ms from now (ms <= 0: stop it).
void tcp_timer_set(struct tcpcb *tp, enum tcp_timer_kind t, int ms);
bool tcp_timer_active(struct tcpcb *tp, enum tcp_timer_kind t);
void tcp_timer_stopall(struct tcpcb *tp);
// Stop the callout and withdraw a queued timer message (before free).
void tcp_timer_teardown(struct tcpcb *tp);
// An RTT sample of rtt ms (RFC 6298 2.2, 2.3).
void tcp_rtt_update(struct tcpcb *tp, int rtt);
// The RTO in ms with the current backoff, clamped.
int tcp_rexmt_ms(struct tcpcb *tp);
// The handshake completed: RFC 6298 5.7 (RTO 3 s if our SYN or SYN,ACK
// timed out and no RTT sample was taken). Before t_rxtshift is cleared.
void tcp_rto_after_handshake(struct tcpcb *tp);
#define TCP_RTO_SYN_FALLBACK_MS 3000
// Enter TIME_WAIT: stop other timers, run 2 MSL.
void tcp_timewait_start(struct tcpcb *tp);

// ---- tcp_icmp.c ------------------------------------------------------------------
struct icmp_ctl;
// An ICMP error quoting one of our segments (icmp_ctl_register's
// handler): hard/soft error or a smaller MSS, on the owning netisr.
void tcp_ctlinput(const struct icmp_ctl *ctl);

// ---- tcp_usrreq.c (tcp_usrreqs, tcp_init, tcp_attach_cpu: net/protosw.h) ----
// The user closed (or shut down) the sending side: the state moves on
// and a FIN is queued (RFC 9293 3.10.4). May free tp: returns it or NULL.
struct tcpcb *tcp_usrclosed(struct tcpcb *tp);
// The connection reached ESTABLISHED: wake the connector or queue the
// passive child for accept.
void tcp_established(struct tcpcb *tp);
