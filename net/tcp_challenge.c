// TCP challenge ACKs (RFC 5961): the answer to a segment that would
// change a synchronized connection's fate if it were believed, but that
// a blind attacker could have forged.
//
// Problem: an attacker off the path who knows a connection's 4-tuple
// (a BGP session, an ssh login) can guess sequence numbers. Before RFC
// 5961, any RST whose sequence number fell anywhere in the receive
// window killed the connection: with a 64 KB window, about 2^32 / 2^16
// = 65,536 guesses suffice. A SYN in the window did the same (RFC 793
// reset the connection), and data with any ACK value in a wide range
// was accepted.
//
// Idea (RFC 5961): narrow what is believed and make the rest cost the
// attacker nothing but an ACK that goes to the real peer.
//   - RST: only a sequence number exactly RCV.NXT resets (section 3.2);
//     one elsewhere in the window draws a "challenge ACK"
//     <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. A real peer that did reset
//     (it lost its state) answers that ACK with a RST at exactly the
//     right number, and the connection ends one round trip later.
//   - SYN on a synchronized connection: always a challenge ACK, whatever
//     the sequence number (section 4). A peer that restarted answers
//     with a RST as above.
//   - ACK: acceptable only in [SND.UNA - MAX.SND.WND, SND.NXT]
//     (section 5.2); outside, the segment (with its data) is dropped
//     and an ACK sent, so injected data must also guess the ACK field.
// Each challenge ACK is rate limited twice: per connection (at most one
// per net.inet.tcp.invalid_ratelimit_ms, so two desynchronized ends
// cannot ACK each other for ever) and globally (RFC 5961 section 7: at
// most about net.inet.tcp.challenge_ack_limit per second, so an
// attacker cannot turn us into an ACK cannon).
//
// The global limit is itself a side channel (Cao et al., "Off-Path TCP
// Exploits: Global Rate Limit Considered Dangerous", USENIX Security
// 2016, CVE-2016-5696): an attacker who exhausts the budget with his own
// connection and counts the challenge ACKs he still gets learns whether
// his guess at someone else's connection drew one. As Linux did, the
// budget of each second is drawn at random from [limit/2, 3 limit/2),
// so the count he sees no longer tells.
//
// Invariants:
//   I1 Every challenge is counted once: sent (challenge_sent) or not
//      (challenge_limited).
//   I2 The global budget of second s is spent at most once: the word
//      tcp_chal_state holds (s, budget left) and changes only by CAS.
//
// Locking: [o] for the tcpcb (t_badack_time); the global state is one
// atomic 64-bit word [a], shared by every netisr.
//
// Races:
//   - "two netisrs start a new second": both try to CAS the word from
//     the old second to (new second, budget); one wins, the other
//     re-reads and spends from the winner's budget.
//
// Life of a challenge: tcp_input_sync -> tcp_input_rst / tcp_input_syn /
// tcp_input_ack -> tcp_challenge_ack -> tcp_ack_later -> (end of batch)
// tcp_rollup -> tcp_output: a pure ACK.
//
// Testing: make hosttest (tcp_rst_in_window, tcp_challenge_syn,
// tcp_challenge_ack_old, tcp_challenge_ack_future, tcp_challenge_limit);
// tests/test_rfc5961.py (a blind RST from Linux with scapy).
// gdb: break tcp_challenge_ack.
//
// References: RFC 5961 sections 3 (RST), 4 (SYN), 5 (ACK), 7 (rate
// limiting); RFC 9293 3.10.7.4 (which folds these in); Cao et al.,
// USENIX Security 2016.
#include "net/tcp_var.h"

int tcp_challenge_ack_limit = 1000;   // per second, as Linux did after CVE-2016-5696
NET_SYSCTL_INT_RANGE(tcp_challenge_ack_limit, "net.inet.tcp.challenge_ack_limit", SYSCTL_RW,
		     &tcp_challenge_ack_limit, 1, 1000000,
		     "challenge ACKs per second, all connections (RFC 5961 7; randomised +-50%)");

// ((second + 1) << 32) | budget left in that second (0: never used). [a]
static uint64 tcp_chal_state;

// The budget of second s: uniform in [limit/2, limit/2 + limit), keyed so
// an attacker cannot predict it -- and at least 1: with limit 1 the range
// would be [0, 1), no challenge ACK at all.
static uint32 tcp_chal_budget(uint32 s)
{
	uint32 lim = (uint32)__atomic_load_n(&tcp_challenge_ack_limit, __ATOMIC_RELAXED);
	uint32 b = lim / 2 + (uint32)(tcp_keyed_hash(s, 0x6368616c6c656e67ull) % lim);
	return b > 0 ? b : 1;
}

// Take one challenge ACK from the global budget. false: none left.
static bool tcp_chal_take(void)
{
	uint32 now = (uint32)(net_now_ms() / 1000) + 1;
	uint64 old = __atomic_load_n(&tcp_chal_state, __ATOMIC_RELAXED);
	for (;;) {
		uint32 s = (uint32)(old >> 32), left = (uint32)old;
		if (s != now) {
			s = now;
			left = tcp_chal_budget(now);
		}
		if (left == 0)
			return false;
		uint64 nw = (uint64)s << 32 | (left - 1);
		if (__atomic_compare_exchange_n(&tcp_chal_state, &old, nw, false,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return true;   // I2; on failure old holds the winner's word
	}
}

bool tcp_invalid_limited(struct tcpcb *tp)
{
	uint64 now = net_now_ms();
	int lim = __atomic_load_n(&tcp_invalid_ratelimit_ms, __ATOMIC_RELAXED);
	// t_badack_time holds the time + 1 (0: never).
	if (tp->t_badack_time != 0 && now - (tp->t_badack_time - 1) < (uint64)lim)
		return true;
	tp->t_badack_time = now + 1;
	return false;
}

void tcp_challenge_ack(struct tcpcb *tp)
{
	// Per connection first (as Linux): a flood on one connection should
	// not eat the budget of the others.
	if (tcp_invalid_limited(tp) || !tcp_chal_take()) {
		TCPSTAT_INC(tcps_challenge_limited);   // I1
		return;
	}
	TCPSTAT_INC(tcps_challenge_sent);
	tcp_ack_later(tp);
}
