// The SYN cache and SYN cookies: a listener's half-open connections kept
// as small entries, apart from the accept queue, and no state at all once
// the cache is full.
//
// Problem: a SYN costs the sender one packet, nothing more: it can come
// from any (spoofed) address. If every SYN made a socket and a tcpcb (a
// few KB, and a place on the listen backlog) until the handshake timed
// out, some hundred SYNs a second from random addresses would fill the
// backlog, and a few thousand would exhaust memory: the SYN flood. No
// legitimate client could then connect.
//
// Idea (the BSD syncache, Jonathan Lemon, "Resisting SYN flood DoS
// attacks with a SYN cache", BSDCon 2002; SYN cookies, D. J. Bernstein,
// 1996): a SYN makes only a small entry (about 100 bytes: addresses,
// sequence numbers, the SYN's options), in a bounded table that is not
// the accept queue; the SYN,ACK is sent from the entry and retransmitted
// a few times by the table's timer, then the entry expires. Only the
// third segment of the handshake, which proves the peer receives at its
// address, creates the socket and the tcpcb. When the table is full, the
// SYN,ACK carries a *cookie* as its sequence number: a keyed hash of the
// 4-tuple and the peer's ISN, plus the peer's MSS (and, as far as 8
// bits allow, its window scale and SACK-permitted) in a few bits. Nothing
// is kept; the ACK returns cookie + 1, which is checked and decoded, and
// the connection is made from it. A spoofed SYN costs us one SYN,ACK.
//
// What a cookie connection loses (docs/tcp.md): the MSS is rounded down
// to an entry of an 8-entry table; the peer's window scale to one of 7
// values (rounded down: we may under-use its window, never overrun it);
// the window of its SYN (the ACK's window is used); the RTT sample of the
// handshake; SYN,ACK retransmission (if our SYN,ACK is lost, the peer
// must resend its SYN); and a connection whose third ACK is lost but
// whose data arrives (seq > IRS + 1) cannot be verified and gets a RST.
// Timestamps are not encoded: if the ACK carries one, the peer saw our
// offer of them, so they are on.
//
// Ownership: a SYN is handled on the netisr its 4-tuple hashes to -- the
// netisr that will own the connection -- and every later segment of the
// handshake (the third ACK, a RST, a repeated SYN) hashes there too. So
// each netisr has its own cache (tcp_syncaches[cpu]) that only it
// touches: no lock. Its timer is one callout per netisr, armed there
// (so it fires on that CPU), which only sends the cache's embedded
// message to that netisr (as TCP's timers do, net/tcp_timer.c). The
// cookie secrets are per netisr too: the netisr that made a cookie is
// the one its ACK comes back to.
//
// Message type (docs/conventions.md rule 11): sc_timermsg
//   sender: syncache_callout (callout, interrupt context, the cache's
//   CPU); target: that CPU's netisr; reply port: none (the handler
//   replies first to mark it DONE); freed by: nobody (static).
//
// Invariants:
//   I1 An entry is in exactly one cache (its 4-tuple's netisr), in one
//      bucket; sc_count and syncache_stat.scs_count count them.
//   I2 sc_count <= tcp_syncache_limit (a limit lowered at run time:
//      the excess expires, nothing new is added until below).
//   I3 Every entry has a deadline; the callout is armed (or the handler
//      will re-arm) for a time <= the earliest.
//   I4 An entry is freed by exactly one of: completion (the connection
//      exists), expiry, a RST, or a newer SYN replacing its ISN (that
//      keeps the entry).
//   I5 A cookie verifies only under a secret of the current or the
//      previous period on the same netisr (periods of 2^15 ms:
//      net/tcp_syncookie.c).
//
// Locking: none ([o] per netisr); counters [a]; tunables [a].
//
// Races:
//   - "SYN vs listener close": the entry remembers which listener the
//     SYN reached (sce_lso, compared, never dereferenced); the third ACK
//     looks the listener up again, and if that is another socket (the
//     SYN's listener closed: no listener now, or a sibling of its
//     SO_REUSEPORT group) the handshake is reset, as the closed
//     listener's accept queue is (net/so_accept.c): a client never has
//     its connection moved to a listener its SYN did not pick. sonewconn
//     checks SS_ACCEPTCONN under so_qlock for a close in between.
//     Entries of a closed listener retransmit until they expire or
//     their ACK comes. A cookie names no listener: its ACK goes to
//     whichever listener the lookup finds.
//   - "accept queue full at the third ACK": the entry stays, the ACK is
//     dropped (scs_listendrop); the next SYN,ACK retransmission draws
//     another ACK, by when accept may have made room (as Linux).
//   - "callout vs handler": as net/tcp_timer.c: the message is sent only
//     when DONE; the handler replies first, then walks, then re-arms.
//
// Life of a handshake: netisr N: tcp_input -> tcp_input_demux (listener)
// -> tcp_input_listener -> tcp_syncache_syn -> syncache_insert ->
// syncache_respond (SYN,ACK) ... [timer: syncache_timer -> respond again
// or expire] ... ACK: tcp_input_listener -> tcp_syncache_ack ->
// syncache_lookup (or syncache_cookie_check) -> syncache_newconn
// (sonewconn, tcpcb in SYN_RECEIVED) -> tcp_input_sync -> ESTABLISHED ->
// soqcomplete -> accept(2).
//
// A bad third segment (decided, RFC 9293 3.10.7.4): an entry is a
// connection in SYN-RECEIVED that has sent exactly one thing, its SYN, so
// the only acceptable ACK is ISS + 1. "Fifth, check the ACK field ...
// SYN-RECEIVED STATE ... If the segment acknowledgment is not acceptable,
// form a reset segment <SEQ=SEG.ACK><CTL=RST> and send it": an ACK that is
// not ISS + 1 -- early, late, or from another incarnation -- gets that RST
// and changes nothing (the entry keeps waiting for the right ACK; that
// RST cannot reset a real peer that has our SYN,ACK: its RCV.NXT is
// ISS + 1, not SEG.ACK, and RFC 5961 3.2 wants an exact match). The
// RFC 5961 5 ACK check (challenge ACK instead) is for the synchronized
// states' own ACK range and does not replace this rule; FreeBSD's syncache
// and Linux's request sockets answer the same way. A sequence number
// outside the window we offered is treated alike (RST), where the RFC's
// first check would send an ACK: the entry has no tcpcb to send one from
// but the SYN,ACK itself, and a peer that lost its state answers our RST
// by connecting again. Test: tcp_syncache_bad_ack_gets_rst.
//
// Options: the SYN,ACK offers what RFC 7323 / RFC 2018 negotiation on a
// scratch tcpcb chose (tcp_passive_options + tcp_addoptions, the same
// calls the child makes when the SYN is replayed into it), so both
// agree; a retransmission refreshes its TSval.
//
// Testing: make hosttest (tcp_syncache_handshake, tcp_syncache_expire,
// tcp_syncache_rst_dupsyn, tcp_syncache_bad_ack_gets_rst, tcp_syncache_rfc7323, tcp_syncookie_connect,
// tcp_syncookie_forged, tcp_syncookie_off, tcp_syncookie_encoding,
// tcp_listen_backlog);
// tests/test_synflood.py (20,000 spoofed SYNs from Linux while a real
// client connects). gdb: break tcp_syncache_syn, syncache_newconn,
// syncache_cookie_check.
//
// References: RFC 4987 (TCP SYN flooding attacks and common
// mitigations: 3.3 SYN cache, 3.6 SYN cookies); RFC 9293 3.10.7.2
// (LISTEN), 3.10.7.4 (SYN-RECEIVED), 3.5 (handshake); J. Lemon, BSDCon 2002; D. J. Bernstein,
// "SYN cookies" (cr.yp.to/syncookies.html).
#include "net/tcp_syncache.h"
#include "net/in_pcb.h"
#include "net/socket.h"
#include "net/so_accept.h"
#include "net/ip.h"
#include "net/netisr.h"
#include "net/byteorder.h"

#define SYNCACHE_NBUCKETS 64        // per netisr; a power of two

struct syncache_stat syncache_stat;
int tcp_syncache_limit = 256;
int tcp_syncache_rexmtlimit = 3;
int tcp_syncookies = 1;

NET_SYSCTL_INT_RANGE(tcp_sc_limit, "net.inet.tcp.syncache.limit", SYSCTL_RW,
		     &tcp_syncache_limit, 1, 65536, "half-open connections cached per netisr");
NET_SYSCTL_INT_RANGE(tcp_sc_rexmtlimit, "net.inet.tcp.syncache.rexmtlimit", SYSCTL_RW,
		     &tcp_syncache_rexmtlimit, 0, 8,
		     "SYN,ACK retransmissions before a cached entry expires");
NET_SYSCTL_INT_RANGE(tcp_sc_cookies, "net.inet.tcp.syncache.cookies", SYSCTL_RW,
		     &tcp_syncookies, 0, 1, "1: answer with SYN cookies when the cache is full");

#define SCSTAT_OID(id, f, d) \
	NET_SYSCTL_UINT64(tcp_sc_##id, "net.inet.tcp.syncache." #id, SYSCTL_RD, &syncache_stat.f, d)
SCSTAT_OID(count, scs_count, "entries now");
SCSTAT_OID(added, scs_added, "entries added by a SYN");
SCSTAT_OID(completed, scs_completed, "entries that became connections");
SCSTAT_OID(retransmitted, scs_retransmitted, "SYN,ACKs retransmitted");
SCSTAT_OID(expired, scs_expired, "entries expired (retransmissions ran out)");
SCSTAT_OID(overflowed, scs_overflowed, "SYNs that found the cache full");
SCSTAT_OID(dupsyn, scs_dupsyn, "SYNs for a cached 4-tuple");
SCSTAT_OID(reset, scs_reset, "entries dropped by a RST");
SCSTAT_OID(listendrop, scs_listendrop, "handshakes held back: accept queue full");
SCSTAT_OID(listenergone, scs_listenergone, "third ACKs reset: their SYN's listener had closed");
SCSTAT_OID(cookiessent, scs_cookiessent, "SYN cookies sent");
SCSTAT_OID(cookiesaccepted, scs_cookiesaccepted, "connections made from a SYN cookie");
SCSTAT_OID(cookiesrejected, scs_cookiesrejected, "ACKs whose cookie did not verify");
#define SCSTAT_INC(f) __atomic_add_fetch(&syncache_stat.f, 1, __ATOMIC_RELAXED)

// One half-open connection. Host order throughout.
struct syncache_ent {
	struct syncache_ent *sce_next;  // [o] bucket chain
	uint32 sce_laddr, sce_faddr;    // [o]
	uint16 sce_lport, sce_fport;    // [o]
	tcp_seq sce_iss;                // [o] our ISN
	tcp_seq sce_irs;                // [o] the peer's ISN
	uint32 sce_peerwin;             // [o] window of the SYN
	uint32 sce_ourwin;              // [o] window our SYN,ACK offers
	struct tcpopt sce_opt;          // [o] the SYN's options
	uint8 sce_synackopt[TCP_MAXOLEN]; // [o] our SYN,ACK's options
	uint8 sce_synackoptlen;         // [o] bytes in it
	uint32 sce_tsoffset;            // [o] TSval = ms clock + this (RFC 7323 7.1)
	uint64 sce_sent;                // [o] first SYN,ACK (ms)
	uint64 sce_deadline;            // [o] next retransmission or expiry (ms)
	int sce_rxmits;                 // [o] SYN,ACKs retransmitted
	bool sce_cookie;                // [o] decoded from a cookie (not cached)
	const struct socket *sce_lso;   // [o] the listener the SYN reached; compared only
};

// One netisr's cache (index = cpu).
struct syncache {
	struct syncache_ent *sc_bucket[SYNCACHE_NBUCKETS];  // [o]
	int sc_count;                   // [o] entries (I1)
	int sc_cpu;                     // [i]
	uint64 sc_hashkey[2];           // [i] bucket hash key
	struct net_callout sc_callout;  // [o] armed on sc_cpu only
	uint64 sc_callout_at;           // [o] 0: not armed
	struct lwkt_msg sc_timermsg;    // [o] callout -> netisr
};
static struct syncache tcp_syncaches[NETISR_MAXCPU];

static int sc_knob(int *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static struct syncache *syncache_mine(void)
{
	return &tcp_syncaches[net_cpuid()];
}

static struct syncache_ent **syncache_bucket(struct syncache *sc, const struct tcp_seg *sg)
{
	uint64 h = tcp_siphash(sc->sc_hashkey, (uint64)sg->sg_src << 32 | sg->sg_dst,
			       (uint64)sg->sg_sport << 16 | sg->sg_dport);
	return &sc->sc_bucket[h & (SYNCACHE_NBUCKETS - 1)];
}

// The entry of sg's 4-tuple, or NULL; *prevp: the link pointing at it.
static struct syncache_ent *syncache_lookup(struct syncache *sc, const struct tcp_seg *sg,
					    struct syncache_ent ***prevp)
{
	struct syncache_ent **pp = syncache_bucket(sc, sg);
	for (; *pp != NULL; pp = &(*pp)->sce_next) {
		struct syncache_ent *e = *pp;
		if (e->sce_faddr == sg->sg_src && e->sce_fport == sg->sg_sport &&
		    e->sce_laddr == sg->sg_dst && e->sce_lport == sg->sg_dport) {
			if (prevp)
				*prevp = pp;
			return e;
		}
	}
	return NULL;
}

static void syncache_free(struct syncache *sc, struct syncache_ent **pp)
{
	struct syncache_ent *e = *pp;
	*pp = e->sce_next;
	sc->sc_count--;
	__atomic_sub_fetch(&syncache_stat.scs_count, 1, __ATOMIC_RELAXED);   // I1
	net_free(e);
}

// ---- the SYN,ACK -----------------------------------------------------------------

// Scratch tcpcbs (one per netisr, [o]) on which the SYN,ACK's options
// are negotiated exactly as they will be on the real child.
static struct tcpcb syncache_scratch_tp[NETISR_MAXCPU];
static struct inpcb syncache_scratch_inp[NETISR_MAXCPU];

// Our SYN,ACK's options for syn, into e (RFC 7323, RFC 2018: we offer
// what the SYN offered and we do). lso: the listener (its buffer sets
// our window scale, as it will the child's).
static void syncache_options(struct socket *lso, const struct tcp_seg *syn,
			     struct syncache_ent *e)
{
	int cpu = net_cpuid();
	struct tcpcb *tp = &syncache_scratch_tp[cpu];
	struct inpcb *inp = &syncache_scratch_inp[cpu];
	memset(inp, 0, sizeof(*inp));
	inp->inp_laddr = e->sce_laddr, inp->inp_lport = e->sce_lport;
	inp->inp_faddr = e->sce_faddr, inp->inp_fport = e->sce_fport;
	tcp_tcpcb_setup(tp, lso, inp, cpu);   // as the child's tcp_newtcpcb will
	tp->t_ourmss = tcp_mss_for(e->sce_faddr);
	tcp_passive_options(tp, syn);
	e->sce_synackoptlen = (uint8)tcp_addoptions(tp, TH_SYN | TH_ACK, e->sce_synackopt,
						    TCP_MAXOLEN);
	e->sce_tsoffset = tp->t_ts_offset;
}

// A retransmitted SYN,ACK carries a fresh TSval (the ACK's echo of it
// times the round trip).
static void syncache_ts_refresh(struct syncache_ent *e)
{
	uint8 *o = e->sce_synackopt;
	for (int i = 0; i + 1 < e->sce_synackoptlen;) {
		if (o[i] == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (o[i] == TCPOPT_TIMESTAMP && o[i + 1] == TCPOLEN_TIMESTAMP &&
		    i + TCPOLEN_TIMESTAMP <= e->sce_synackoptlen) {
			uint32 v = (uint32)net_now_ms() + e->sce_tsoffset;
			o[i + 2] = (uint8)(v >> 24), o[i + 3] = (uint8)(v >> 16);
			o[i + 4] = (uint8)(v >> 8), o[i + 5] = (uint8)v;
			return;
		}
		if (o[i] == TCPOPT_EOL || o[i + 1] < 2)
			return;
		i += o[i + 1];
	}
}

// Send <SEQ=ISS><ACK=IRS+1><CTL=SYN,ACK> with the options syncache_options
// chose. 0 or -Exxx.
static int syncache_respond(struct syncache_ent *e)
{
	int hlen = TCP_HDR_LEN + e->sce_synackoptlen;
	struct mbuf *m = m_getspace(hlen, 64);
	if (m == NULL)
		return -ENOBUFS;
	struct tcphdr *th = mtod(m, struct tcphdr *);
	memset(th, 0, TCP_HDR_LEN);
	th->th_sport = hton16(e->sce_lport);
	th->th_dport = hton16(e->sce_fport);
	th->th_seq = hton32(e->sce_iss);
	th->th_ack = hton32(e->sce_irs + 1);
	th->th_off = (uint8)((hlen / 4) << 4);
	th->th_flags = TH_SYN | TH_ACK;
	// RFC 7323 2.2: the window of a SYN is never scaled.
	th->th_win = hton16((uint16)MIN(e->sce_ourwin, (uint32)TCP_MAXWIN));
	syncache_ts_refresh(e);
	memcpy(th + 1, e->sce_synackopt, e->sce_synackoptlen);
	th->th_sum = tcp_cksum(m, 0, hlen, e->sce_laddr, e->sce_faddr);
	TCPSTAT_INC(tcps_sndtotal);
	TCPSTAT_INC(tcps_sndctrl);
	return ip_output(m, e->sce_laddr, e->sce_faddr, IPPROTO_TCP, 0, 0);
}

// The window our SYN,ACK offers: the listener's receive buffer (the child
// inherits it, net/so_accept.c so_clone).
static uint32 syncache_ourwin(struct socket *lso)
{
	net_lock_acquire(&lso->so_rcv.sb_lock);
	uint32 w = lso->so_rcv.sb_hiwat;
	net_lock_release(&lso->so_rcv.sb_lock);
	return MIN(w, (uint32)TCP_MAXWIN);
}

// ---- the timer -------------------------------------------------------------------

static void syncache_callout(void *arg)
{
	struct syncache *sc = arg;   // interrupt context on sc_cpu: the message only
	if (lwkt_msg_done(&sc->sc_timermsg))
		lwkt_sendmsg(netisr_cpuport(sc->sc_cpu), &sc->sc_timermsg);
}

// Arm the callout for deadline unless armed earlier (I3). Owning netisr.
static void syncache_arm(struct syncache *sc, uint64 deadline)
{
	if (sc->sc_callout_at != 0 && sc->sc_callout_at <= deadline)
		return;
	uint64 now = net_now_ms();
	sc->sc_callout_at = deadline;
	net_callout_reset(&sc->sc_callout, deadline > now ? (int)(deadline - now) : 0,
			  syncache_callout, sc);
}

// The wait after SYN,ACK number n (0: the first): the initial RTO doubled.
static uint64 syncache_backoff(int n)
{
	return (uint64)sc_knob(&tcp_rto_init_ms) << (n < 8 ? n : 8);
}

// One entry's deadline came: retransmit, or expire. Returns false if freed.
static bool syncache_timeout(struct syncache *sc, struct syncache_ent **pp, uint64 now)
{
	struct syncache_ent *e = *pp;
	if (e->sce_rxmits >= sc_knob(&tcp_syncache_rexmtlimit) ||
	    sc->sc_count > sc_knob(&tcp_syncache_limit)) {
		SCSTAT_INC(scs_expired);
		syncache_free(sc, pp);
		return false;
	}
	e->sce_rxmits++;
	SCSTAT_INC(scs_retransmitted);
	syncache_respond(e);
	e->sce_deadline = now + syncache_backoff(e->sce_rxmits);
	return true;
}

// Handler of sc_timermsg in the cache's netisr (message type above).
static void syncache_timer(struct lwkt_msg *msg)
{
	struct syncache *sc = container_of(msg, struct syncache, sc_timermsg);
	lwkt_replymsg(msg, 0);   // DONE first: the callout may send it again
	sc->sc_callout_at = 0;
	uint64 now = net_now_ms(), next = 0;
	for (int b = 0; b < SYNCACHE_NBUCKETS; b++) {
		struct syncache_ent **pp = &sc->sc_bucket[b];
		while (*pp != NULL) {
			struct syncache_ent *e = *pp;
			if (e->sce_deadline <= now && !syncache_timeout(sc, pp, now))
				continue;   // freed: *pp is the next one already
			if (next == 0 || e->sce_deadline < next)
				next = e->sce_deadline;
			pp = &e->sce_next;
		}
	}
	if (next != 0)
		syncache_arm(sc, next);
}

void tcp_syncache_init(void)
{
	for (int c = 0; c < NETISR_MAXCPU; c++) {
		struct syncache *sc = &tcp_syncaches[c];
		memset(sc, 0, sizeof(*sc));
		sc->sc_cpu = c;
		sc->sc_hashkey[0] = tcp_keyed_hash(c, 0x73796e6361636865ull);
		sc->sc_hashkey[1] = tcp_keyed_hash(0x6275636b657473ull, c);
		net_callout_init(&sc->sc_callout);
		lwkt_initmsg(&sc->sc_timermsg, NULL, syncache_timer, 0);
	}
}

// ---- a SYN -----------------------------------------------------------------------

// Fill a new entry from the SYN.
static void syncache_fill(struct syncache_ent *e, struct socket *lso, const struct tcp_seg *sg,
			  uint32 ourwin)
{
	memset(e, 0, sizeof(*e));
	e->sce_lso = lso;
	e->sce_laddr = sg->sg_dst;
	e->sce_lport = sg->sg_dport;
	e->sce_faddr = sg->sg_src;
	e->sce_fport = sg->sg_sport;
	e->sce_irs = sg->sg_seq;
	e->sce_peerwin = sg->sg_win;
	e->sce_ourwin = ourwin;
	e->sce_opt = sg->sg_opt;
	e->sce_iss = tcp_new_isn(sg->sg_dst, sg->sg_dport, sg->sg_src, sg->sg_sport);
	if (sg->sg_tw_iss != 0 && SEQ_LEQ(e->sce_iss, sg->sg_tw_iss))
		e->sce_iss = sg->sg_tw_iss + (1u << 17);   // RFC 9293 3.6.1 reuse rule (1)
	e->sce_sent = net_now_ms();
	e->sce_deadline = e->sce_sent + syncache_backoff(0);
	syncache_options(lso, sg, e);
}

// The cache is full: answer with a cookie (no state), or drop the SYN.
static void syncache_overflow(struct socket *lso, const struct tcp_seg *sg, uint32 ourwin)
{
	SCSTAT_INC(scs_overflowed);
	// A TIME_WAIT reuse needs an ISS above the old connection's, which a
	// cookie cannot promise: drop, the peer retransmits.
	if (!sc_knob(&tcp_syncookies) || sg->sg_tw_iss != 0)
		return;
	struct syncache_ent e;
	syncache_fill(&e, lso, sg, ourwin);
	e.sce_iss = tcp_syncookie_make(sg);
	SCSTAT_INC(scs_cookiessent);
	syncache_respond(&e);
}

int tcp_syncache_syn(struct socket *lso, struct tcp_seg *sg)
{
	struct syncache *sc = syncache_mine();
	struct syncache_ent *e = syncache_lookup(sc, sg, NULL);
	int r = -ENOBUFS;
	if (soqfull(lso)) {
		// Nobody accepts: do not even answer; the peer retransmits
		// (BSD and Linux drop here too).
		TCPSTAT_INC(tcps_listendrop);
		goto drop;
	}
	if (e != NULL) {
		// The peer's SYN again: our SYN,ACK was lost or is slow. Send
		// it again, echoing this SYN's options (its TSval). A SYN with
		// another ISN changes nothing (RFC 5961 4: a blind attacker who
		// guessed the 4-tuple must not move IRS, or the real third ACK
		// would fail); a peer that really restarted answers our SYN,ACK
		// with a RST at exactly IRS + 1 (RFC 9293 3.10.7.3: <SEQ=SEG.ACK>),
		// which frees the entry (tcp_syncache_rst), and retries.
		SCSTAT_INC(scs_dupsyn);
		if (sg->sg_seq == e->sce_irs) {
			e->sce_opt = sg->sg_opt;
			e->sce_peerwin = sg->sg_win;
			syncache_options(lso, sg, e);
		}
		syncache_respond(e);
		r = 0;
		goto drop;
	}
	uint32 ourwin = syncache_ourwin(lso);
	if (sc->sc_count >= sc_knob(&tcp_syncache_limit) ||
	    (e = net_malloc(sizeof(*e))) == NULL) {   // I2
		syncache_overflow(lso, sg, ourwin);
		goto drop;
	}
	syncache_fill(e, lso, sg, ourwin);
	struct syncache_ent **bp = syncache_bucket(sc, sg);
	e->sce_next = *bp;
	*bp = e;
	sc->sc_count++;
	__atomic_add_fetch(&syncache_stat.scs_count, 1, __ATOMIC_RELAXED);   // I1
	SCSTAT_INC(scs_added);
	syncache_respond(e);
	syncache_arm(sc, e->sce_deadline);
	r = 0;
drop:
	m_freem(sg->sg_m);
	sg->sg_m = NULL;
	return r;
}

void tcp_syncache_rst(const struct tcp_seg *sg)
{
	struct syncache *sc = syncache_mine();
	struct syncache_ent **pp, *e = syncache_lookup(sc, sg, &pp);
	// RFC 5961 3.2 for SYN_RECEIVED: only exactly RCV.NXT (= IRS + 1).
	if (e == NULL || sg->sg_seq != e->sce_irs + 1)
		return;
	SCSTAT_INC(scs_reset);
	syncache_free(sc, pp);
}

// ---- the third segment: the connection ------------------------------------------

// A child socket and tcpcb for the connection e describes, in
// SYN_RECEIVED as if its SYN,ACK had just been sent from a tcpcb. sg is
// the ACK (its 4-tuple is e's). NULL: accept queue full or no memory.
static struct tcpcb *syncache_newconn(struct socket *lso, const struct tcp_seg *sg,
				      const struct syncache_ent *e)
{
	int cpu = net_cpuid();
	struct socket *so = sonewconn(lso, cpu);
	if (so == NULL) {
		TCPSTAT_INC(tcps_listendrop);
		SCSTAT_INC(scs_listendrop);
		return NULL;
	}
	struct tcpcb *tp = tcp_listen_child(so, sg, cpu);
	if (tp == NULL)
		return NULL;
	// The SYN replayed from the entry: the same negotiation that built
	// our SYN,ACK's options (tcp_passive_options), so both ends agree.
	struct tcp_seg syn = { .sg_seq = e->sce_irs, .sg_win = e->sce_peerwin,
			       .sg_flags = TH_SYN, .sg_src = e->sce_faddr, .sg_dst = e->sce_laddr,
			       .sg_sport = e->sce_fport, .sg_dport = e->sce_lport,
			       .sg_opt = e->sce_opt };
	tp->t_flags |= TF_PASSIVE;
	tp->t_ourmss = tcp_mss_for(e->sce_faddr);
	tcp_passive_options(tp, &syn);
	tp->irs = e->sce_irs;
	tp->rcv_nxt = e->sce_irs + 1;
	tp->rcv_adv = tp->rcv_nxt + e->sce_ourwin;
	tp->last_ack_sent = tp->rcv_nxt;   // RFC 7323 4.3: our SYN,ACK acked IRS + 1
	tp->iss = e->sce_iss;
	tp->snd_una = tp->snd_recover = e->sce_iss;
	tp->snd_nxt = tp->snd_max = e->sce_iss + 1;   // our SYN is out
	tp->snd_wnd = tp->t_maxsndwnd = e->sce_peerwin;
	tp->snd_wl1 = e->sce_irs;
	tp->snd_wl2 = e->sce_iss;
	if (e->sce_rxmits == 0 && !e->sce_cookie) {   // Karn: sent once, an RTT sample
		tp->t_rtttime = e->sce_sent | 1;
		tp->t_rtseq = e->sce_iss;
	}
	// RFC 6298 5.7 (tcp_rto_after_handshake): a SYN,ACK that timed out
	// means an RTO of 3 s once the handshake completes.
	tp->t_rxtshift = e->sce_rxmits;
	tp->t_rcvtime = net_now_ms();
	tcp_setstate(tp, TCPS_SYN_RECEIVED);
	tcp_rexmt_arm(tp);   // should the ACK not complete it after all
	return tp;
}

// A cookie came back in sg: a temporary entry decoded from it.
static int syncache_from_cookie(struct socket *lso, const struct tcp_seg *sg,
				struct syncache_ent *e)
{
	struct tcpopt to;
	int err = tcp_syncookie_check(sg, &to);
	if (err < 0)
		return err;
	memset(e, 0, sizeof(*e));
	e->sce_laddr = sg->sg_dst;
	e->sce_lport = sg->sg_dport;
	e->sce_faddr = sg->sg_src;
	e->sce_fport = sg->sg_sport;
	e->sce_irs = sg->sg_seq - 1;
	e->sce_iss = sg->sg_ack - 1;
	e->sce_peerwin = sg->sg_win;   // the SYN's is lost: the ACK's
	e->sce_ourwin = syncache_ourwin(lso);
	e->sce_opt = to;
	e->sce_cookie = true;   // no RTT sample: when the SYN,ACK left is not known
	return 0;
}

int tcp_syncache_ack(struct socket *lso, struct tcp_seg *sg, struct tcpcb **tpp)
{
	struct syncache *sc = syncache_mine();
	struct syncache_ent **pp, *e = syncache_lookup(sc, sg, &pp), ce;
	if (e != NULL) {
		// RFC 9293 3.10.7.4, SYN-RECEIVED: the ACK must be ISS + 1, the
		// sequence number within the window we offered.
		if (sg->sg_ack != e->sce_iss + 1 ||
		    !seq_in(sg->sg_seq, e->sce_irs + 1, e->sce_irs + 1 + MAX(e->sce_ourwin, 1u)))
			return -ENOENT;
		if (e->sce_lso != lso) {   // Races: "SYN vs listener close"
			SCSTAT_INC(scs_listenergone);
			syncache_free(sc, pp);
			return -ENOENT;
		}
	} else {
		int err = syncache_from_cookie(lso, sg, &ce);
		if (err == -EINVAL)
			SCSTAT_INC(scs_cookiesrejected);
		if (err < 0)
			return -ENOENT;
	}
	struct tcpcb *tp = syncache_newconn(lso, sg, e ? e : &ce);
	if (tp == NULL)
		return -ENOBUFS;   // the entry stays (Races: accept queue full)
	if (e != NULL) {
		SCSTAT_INC(scs_completed);
		syncache_free(sc, pp);   // I4
	} else {
		SCSTAT_INC(scs_cookiesaccepted);
	}
	*tpp = tp;
	return 0;
}
