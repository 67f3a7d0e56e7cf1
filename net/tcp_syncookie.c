// SYN cookies: a SYN,ACK whose sequence number is the only memory of the
// SYN it answers.
//
// Problem: when the SYN cache (net/tcp_syncache.c) is full -- a flood
// from spoofed addresses fills any table -- a new SYN either pushes out
// an entry or is dropped, and a real client among the flood loses either
// way. We want to answer every SYN and remember none.
//
// Idea (D. J. Bernstein, 1996): choose our ISN so that the third ACK,
// which must carry ISN + 1, proves we sent it and tells us what the SYN
// said. The 32 bits of the ISN:
//
//    31                                   8   7   6 5 4   3 2 1   0
//   +--------------------------------------+----+-------+-------+----+
//   | MAC: 24 bits of SipHash(secret,      |SACK| wscale|  MSS  |per.|
//   |  4-tuple, peer ISN, the low 8 bits)  |perm| index | index |par.|
//   +--------------------------------------+----+-------+-------+----+
//
// The secret changes every 2^15 ms (a period); the bit "per. par." says
// which of the last two periods' secrets made it, so a cookie is good
// for 33 to 66 s (I5 of net/tcp_syncache.c). MSS is rounded down to an
// 8-entry table; the peer's window-scale shift (if it offered one) to a
// 7-entry table (index 0: none), rounded down so we never believe a
// larger window than the peer offers; SACK-permitted is one bit. An
// attacker who does not see our SYN,ACK must guess 24 bits per try.
//
// Invariants:
//   I1 A cookie verifies only on the netisr that made it (its 4-tuple's),
//      under a secret of the current or previous period (I5 there).
//   I2 Cookies are checked only if this netisr sent one within the last
//      two periods: a stray ACK to a listener in quiet times gets the
//      ordinary RST, not a 24-bit guess.
//
// Locking: [o] per netisr (the secrets and the last-cookie time), like
// the syncache. No lock.
//
// Races: none: each netisr's state is its own.
//
// Life: tcp_syncache_syn (cache full) -> syncache_overflow ->
// tcp_syncookie_make ... ACK -> tcp_syncache_ack -> syncache_from_cookie
// -> tcp_syncookie_check -> syncache_newconn.
//
// Testing: make hosttest (tcp_syncookie_connect, tcp_syncookie_forged,
// tcp_syncookie_encoding); tests/test_synflood.py.
// gdb: break tcp_syncookie_check.
//
// References: D. J. Bernstein, "SYN cookies" (cr.yp.to/syncookies.html);
// RFC 4987 3.6; Aumasson and Bernstein, "SipHash" (2012).
#include "net/tcp_syncache.h"
#include "net/netisr.h"

#define COOKIE_PERIOD_SHIFT 15   // 2^15 ms per secret

// Peer MSS values a cookie can express (largest <= the offered MSS).
static const uint16 cookie_mss[8] = { 256, 536, 1024, 1220, 1380, 1440, 1452, 1460 };
// Peer window-scale shifts (index 0: no window scale option).
static const int8 cookie_wscale[8] = { -1, 0, 1, 2, 4, 6, 7, 9 };

struct syncookie_state {
	uint64 ck_secret[2][2];    // [o] by period parity
	uint32 ck_period[2];       // [o] the period + 1 each secret is for (0: none)
	uint64 ck_lastsent;        // [o] ms + 1 of the last cookie made (0: never)
	uint64 ck_gen;             // [o] secrets made (mixed into the next)
};
static struct syncookie_state tcp_syncookies_st[NETISR_MAXCPU];

static uint32 cookie_period(void)
{
	return (uint32)(net_now_ms() >> COOKIE_PERIOD_SHIFT);
}

// The secret of period p, made now if this netisr has none for it.
static const uint64 *cookie_secret(struct syncookie_state *ck, uint32 p, bool make)
{
	int i = p & 1;
	if (ck->ck_period[i] == p + 1)
		return ck->ck_secret[i];
	if (!make)
		return NULL;
	// No entropy source: derive from the boot key, the period, the
	// netisr's own count and the clock. Older secrets cannot be
	// recomputed, only remembered (two at a time).
	uint64 t = net_now_ms() ^ ((uint64)net_cpuid() << 56);
	ck->ck_secret[i][0] = tcp_keyed_hash(p, ++ck->ck_gen ^ t);
	ck->ck_secret[i][1] = tcp_keyed_hash(t, ck->ck_secret[i][0]);
	ck->ck_period[i] = p + 1;
	return ck->ck_secret[i];
}

// The 24-bit MAC of a cookie with low bits lo, for segment addresses as
// seen in the SYN (src = peer). irs: the peer's ISN.
static uint32 cookie_mac(const uint64 *key, uint32 peer, uint32 us, uint16 pport, uint16 uport,
			 tcp_seq irs, uint32 lo)
{
	uint64 h = tcp_siphash(key, (uint64)peer << 32 | us,
			       (uint64)pport << 48 | (uint64)uport << 32 | irs);
	h = tcp_siphash(key, h, lo);
	return (uint32)h & 0xffffff00u;
}

// The low 8 bits for the SYN's options and period parity par.
static uint32 cookie_bits(const struct tcpopt *to, uint32 par)
{
	int mi = 0, wi = 0;
	uint32 mss = (to->to_flags & TOF_MSS) ? to->to_mss : TCP_MSS_DEFAULT;
	for (int i = 0; i < 8; i++)
		if (cookie_mss[i] <= mss)
			mi = i;
	if (to->to_flags & TOF_WSCALE)
		for (int i = 1; i < 8; i++)
			if (cookie_wscale[i] <= to->to_wscale)
				wi = i;
	bool sack = (to->to_flags & TOF_SACKPERM) != 0;
	return (sack ? 0x80u : 0) | (uint32)wi << 4 | (uint32)mi << 1 | (par & 1);
}

tcp_seq tcp_syncookie_make(const struct tcp_seg *syn)
{
	struct syncookie_state *ck = &tcp_syncookies_st[net_cpuid()];
	uint32 p = cookie_period();
	const uint64 *key = cookie_secret(ck, p, true);
	uint32 lo = cookie_bits(&syn->sg_opt, p);
	ck->ck_lastsent = net_now_ms() + 1;
	return cookie_mac(key, syn->sg_src, syn->sg_dst, syn->sg_sport, syn->sg_dport, syn->sg_seq,
			  lo) | lo;
}

int tcp_syncookie_check(const struct tcp_seg *ack, struct tcpopt *to)
{
	struct syncookie_state *ck = &tcp_syncookies_st[net_cpuid()];
	uint64 now = net_now_ms();
	uint64 window = 2ull << COOKIE_PERIOD_SHIFT;
	if (ck->ck_lastsent == 0 || now - (ck->ck_lastsent - 1) > window)
		return -ENOENT;   // I2: we sent none lately
	tcp_seq cookie = ack->sg_ack - 1;
	uint32 lo = cookie & 0xff, p = cookie_period();
	if ((p & 1) != (lo & 1))
		p--;   // the previous period's
	const uint64 *key = cookie_secret(ck, p, false);
	if (key == NULL || cookie_mac(key, ack->sg_src, ack->sg_dst, ack->sg_sport, ack->sg_dport,
				      ack->sg_seq - 1, lo) != (cookie & 0xffffff00u))
		return -EINVAL;   // I1
	memset(to, 0, sizeof(*to));
	to->to_flags = TOF_MSS;
	to->to_mss = cookie_mss[(lo >> 1) & 7];
	int wi = (lo >> 4) & 7;
	if (wi != 0) {
		to->to_flags |= TOF_WSCALE;
		to->to_wscale = (uint8)cookie_wscale[wi];
	}
	if (lo & 0x80)
		to->to_flags |= TOF_SACKPERM;
	if (ack->sg_opt.to_flags & TOF_TS) {
		// The peer sends timestamps only if our SYN,ACK offered them.
		to->to_flags |= TOF_TS;
		to->to_tsval = ack->sg_opt.to_tsval;
		to->to_tsecr = ack->sg_opt.to_tsecr;
	}
	return 0;
}
