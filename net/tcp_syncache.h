// The SYN cache and SYN cookies (net/tcp_syncache.c): half-open passive
// connections kept as small entries, apart from the accept queue, and
// stateless cookies once the cache is full. Design: the header of
// net/tcp_syncache.c and docs/tcp.md.
//
// Lock legend (kernel/lock.h): [o] the owning netisr (each netisr has
// its own cache; an entry is owned by the netisr its 4-tuple hashes
// to); [a] atomic.
#pragma once
#include "net/tcp_var.h"

// net.inet.tcp.syncache.* counters (netstat -s prints them). All [a].
struct syncache_stat {
	uint64 scs_count;          // entries now (every netisr)
	uint64 scs_added;          // entries created by a SYN
	uint64 scs_completed;      // entries that became connections
	uint64 scs_retransmitted;  // SYN,ACKs sent again by the timer
	uint64 scs_expired;        // entries dropped: SYN,ACK retransmissions ran out
	uint64 scs_overflowed;     // SYNs that found the cache full
	uint64 scs_dupsyn;         // SYNs for a 4-tuple already cached
	uint64 scs_reset;          // entries dropped by a RST
	uint64 scs_listendrop;     // third ACKs dropped: the accept queue was full
	uint64 scs_listenergone;   // third ACKs reset: the SYN's listener had closed
	uint64 scs_cookiessent;    // SYN,ACKs carrying a cookie
	uint64 scs_cookiesaccepted;// connections made from a returned cookie
	uint64 scs_cookiesrejected;// ACKs whose cookie did not verify
};
extern struct syncache_stat syncache_stat;

// Tunables (sysctl net.inet.tcp.syncache.*), all [a].
extern int tcp_syncache_limit;       // entries per netisr
extern int tcp_syncache_rexmtlimit;  // SYN,ACK retransmissions, then expire
extern int tcp_syncookies;           // 1: cookies when the cache is full

// Boot (tcp_init): every netisr's cache, callout and timer message.
void tcp_syncache_init(void);
// A SYN for listener lso (referenced by the caller), on the netisr of the
// new connection's 4-tuple: remember it and answer SYN,ACK (or a cookie,
// or drop it). Consumes sg->sg_m. Returns 0 if an entry holds the SYN
// (a new one, or the one this SYN repeats), -ENOBUFS if it was dropped or
// answered by a cookie (no state kept).
int tcp_syncache_syn(struct socket *lso, struct tcp_seg *sg);
// A segment with ACK (and no SYN, no RST) for listener lso: if it
// completes a cached handshake or carries a valid cookie, create the
// connection and return its tcpcb in SYN_RECEIVED (the caller hands sg to
// tcp_input_sync, which makes it ESTABLISHED): 0. -ENOENT: neither (the
// caller answers with a RST). -ENOBUFS: memory or accept queue full
// (drop; the peer retransmits). Does not consume sg.
int tcp_syncache_ack(struct socket *lso, struct tcp_seg *sg, struct tcpcb **tpp);
// A RST for a listener: drop the cached entry it exactly matches (RFC
// 5961 3.2: sequence number = IRS + 1). Does not consume sg.
void tcp_syncache_rst(const struct tcp_seg *sg);

// ---- net/tcp_syncookie.c -------------------------------------------------------
// The ISN for a SYN,ACK answering syn without keeping state: a cookie
// (MAC, MSS, window scale, SACK-permitted, period). This netisr.
tcp_seq tcp_syncookie_make(const struct tcp_seg *syn);
// Does ack (an ACK for a listener) return a cookie of ours? 0 and *to
// (the SYN's options as far as the cookie kept them); -ENOENT (no cookie
// sent lately: not a candidate); -EINVAL (it does not verify).
int tcp_syncookie_check(const struct tcp_seg *ack, struct tcpopt *to);
