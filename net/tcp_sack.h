// TCP selective acknowledgment (RFC 2018) and SACK-based loss recovery
// (RFC 6675): the receiver's SACK blocks, the sender's scoreboard, and
// the recovery that uses it. The design essay is net/tcp_sack.c's header;
// docs/tcp.md has the pictures.
//
// Lock legend (kernel/lock.h): [o] the owning netisr only (net/tcp_var.h).
#pragma once
#include "net/tcp_var.h"

#define TCP_SACK_DUPTHRESH 3     // RFC 6675 2: DupThresh
#define TCP_SACK_MAXBLKS 60      // scoreboard ranges (the board fits 512 bytes)
#define TCP_SACK_NOLIMIT 0xffffffffu

// One SACKed range [sb_start, sb_end) of our send sequence space.
struct tcp_sackblk {
	tcp_seq sb_start;
	tcp_seq sb_end;
};

// The sender's scoreboard (RFC 6675 2 "scoreboard"): what the peer has
// told us it holds above snd_una. Allocated at the first SACK block that
// arrives (tcp_sack_update), freed by tcp_close.
struct tcp_sackboard {
	int sb_n;                                  // [o] ranges in sb_blk
	struct tcp_sackblk sb_blk[TCP_SACK_MAXBLKS]; // [o] sorted, disjoint, never adjacent,
						   //     inside (snd_una, snd_max]
	tcp_seq sb_highrxt;    // [o] RFC 6675 HighRxt, as the end (exclusive) of
			       //     the highest retransmission of this recovery
	tcp_seq sb_rescuerxt;  // [o] RFC 6675 RescueRxt (valid if sb_rescue_set)
	bool sb_rescue_set;    // [o]
	tcp_seq sb_lostcount;  // [o] lost bytes below this are counted in sack_lostbyte
	uint32 sb_delivered;   // [o] RFC 6937 DeliveredData of the last ACK (tcp_sack_update)
	// RFC 6937 proportional rate reduction in this recovery (net/tcp_prr.c).
	bool sb_prr_on;            // [o] PRR governs this recovery's sending
	uint32 sb_prr_delivered;   // [o] prr_delivered: bytes delivered since it began
	uint32 sb_prr_out;         // [o] prr_out: bytes sent since it began
	uint32 sb_prr_recoverfs;   // [o] RecoverFS: FlightSize when it began
};

// ---- negotiation (RFC 2018 2) ---------------------------------------------------
// tcp_newtcpcb sets TF_REQ_SACK when this is on; tcp_options_syn
// (net/tcp_options.c) sets TF_SACK_PERMIT when both SYNs carried it.
extern int tcp_do_sack;          // net.inet.tcp.sack [a]: offer SACK-permitted

// ---- receiver (RFC 2018 4) --------------------------------------------------------
// Out-of-order data starting at seq was just queued: it becomes the most
// recent block, reported first.
void tcp_sack_rcvd(struct tcpcb *tp, tcp_seq seq);
// Duplicate data [seq, seq + len) arrived below rcv_nxt: report it as a
// D-SACK block (RFC 2883 4) first in the next ACK. A sender learns from
// it that a retransmission was not needed (net/tcp_tlp.c).
void tcp_sack_dsack(struct tcpcb *tp, tcp_seq seq, uint32 len);
// A segment carrying an ACK was sent: the D-SACK block went with it.
void tcp_sack_acked(struct tcpcb *tp);
// (tcp_sack_addopt, net/tcp_var.h, writes the option: NOP, NOP, kind 5,
// the blocks that fit in its room, at most 4.)

// ---- sender: scoreboard (RFC 6675 2, 4 Update) --------------------------------------
// Take an acceptable ACK's cumulative point ack and SACK blocks (to):
// forget what ack covers, add the valid blocks. Returns the bytes newly
// SACKed (RFC 6675's definition of a duplicate ACK: > 0). Owning netisr.
uint32 tcp_sack_update(struct tcpcb *tp, const struct tcpopt *to, tcp_seq ack);
void tcp_sack_free(struct tcpcb *tp);
// RFC 6675 IsLost(seq), Pipe; predicates and queries on the board.
bool tcp_sack_islost(struct tcpcb *tp, tcp_seq seq);
uint32 tcp_sack_pipe(struct tcpcb *tp);
// RFC 6675 NextSeg(): the next range to send in recovery. Returns the
// rule that chose it (1-4), 0 if none; *seq/*len the range.
int tcp_sack_nextseg(struct tcpcb *tp, tcp_seq *seq, uint32 *len);

// ---- sender: recovery (RFC 6675 5) ----------------------------------------------------
// Is tp using RFC 6675 for this ACK (SACK on and a scoreboard exists)?
bool tcp_sack_on(struct tcpcb *tp);
// An ACK brought new SACK information outside recovery: count it as a
// duplicate ACK and enter recovery on DupThresh or IsLost(snd_una).
void tcp_sack_dupack(struct tcpcb *tp);
// Enter recovery now, the hole at snd_una taken as lost (the probe
// timeout found SACKed data above it: net/tcp_tlp.c). false if not
// possible (no SACKed data, in recovery, before RecoveryPoint).
bool tcp_sack_enter_lost(struct tcpcb *tp);
// An ACK during SACK recovery (after tcp_sack_update, and after snd_una
// moved if it was cumulative): end recovery at the recovery point (A), or
// send what cwnd - pipe allows (B, C).
void tcp_sack_recovery_ack(struct tcpcb *tp);
// The retransmission timer fired (RFC 6675 5.1): forget the board.
void tcp_sack_rto(struct tcpcb *tp);
// ---- sender: proportional rate reduction (RFC 6937, net/tcp_prr.c) --------------------
extern int tcp_do_prr;           // net.inet.tcp.prr [a]
// Recovery begins (tcp_sack_enter): delivered is DeliveredData of the ACK
// that starts it (0 from a timer). Reads the switch for this recovery.
void tcp_prr_start(struct tcpcb *tp, uint32 delivered);
// An ACK in recovery: prr_delivered += its DeliveredData (sb_delivered).
void tcp_prr_ack(struct tcpcb *tp);
// bytes were sent (or resent) in recovery: prr_out += bytes.
void tcp_prr_sent(struct tcpcb *tp, uint32 bytes);
// Recovery ends (or a timeout ends it).
void tcp_prr_end(struct tcpcb *tp);
// How far pipe may grow now: pipe + sndcnt with PRR, else cwnd.
uint32 tcp_prr_window(struct tcpcb *tp, uint32 pipe);

// Go-back-N after a timeout: if snd_nxt (< snd_max) is inside a SACKed
// range, move it past; returns the bytes from snd_nxt to the next SACKed
// range (TCP_SACK_NOLIMIT: none).
uint32 tcp_sack_skip(struct tcpcb *tp);
