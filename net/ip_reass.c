// IPv4 fragment reassembly (RFC 791 3.2), with a timeout and memory caps.
//
// Problem: fragments arrive in any order, duplicated, overlapping, or not
// at all; an attacker can send endless first fragments. Reassembly must
// rebuild exactly the datagram that was sent, bound its memory, and give
// up on incomplete datagrams.
//
// Idea: one queue (struct ipq) per datagram, keyed by (src, dst, id,
// protocol) (RFC 791 3.2), holding the fragments' data sorted by offset.
// Each fragment is stripped of its header; its byte offset is kept in
// m_pkthdr.ph_flowhash (reused: the hash is meaningless here) and its
// length is ph_len. Overlaps keep the data that arrived first: the new
// fragment is trimmed against its neighbours, and a new fragment that
// covers a queued one completely replaces it. The datagram is complete
// when the pieces are contiguous from 0 and the last one (MF clear) is
// there. The first fragment's header (20 bytes, options dropped) becomes
// the header of the result.
//
// What a hostile sender can pin: memory is the mbuf STORAGE held, not the
// data: an 8-byte fragment still holds a whole 256-byte mbuf, so a cap on
// data bytes alone let 20,000 never-completed 8-byte fragments pin 5 MB.
// So storage is counted (m_storage: MSIZE per mbuf, plus its cluster), and the
// fragments of one datagram and of all of them are bounded in number; a
// datagram that needs more than IP_REASS_MAXFRAGS pieces is given up
// whole (as FreeBSD's maxfragsperpacket does): no real sender on
// Ethernet needs more than 45 for the largest datagram.
//
// Invariants:
//   I1 Fragments of a queue are sorted by offset and do not overlap.
//   I2 ipq_mem (storage of the fragments held) <= IP_REASS_MAXMEM,
//      ipq_nfrags <= IP_REASS_MAXFRAGS_TOTAL, and at most IP_REASS_MAXQ
//      queues exist: a new fragment that would exceed a cap first frees
//      the oldest other queues; if it still does not fit it is refused
//      (counted in fragdropped).
//   I3 A queue lives at most IP_REASS_TIMEOUT_MS after its first fragment.
//   I4 A queue holds at most IP_REASS_MAXFRAGS fragments; the fragment
//      that would be one more frees the whole queue (fragtoomany).
//   I5 Work per fragment is bounded: a walk of at most IP_REASS_MAXQ
//      table slots and IP_REASS_MAXFRAGS list entries (I4), plus freeing
//      fragments, each of which is freed once (paid for by its arrival).
//
// Locking: every queue and the totals are [q] ipq_lock, a spinlock.
// Fragments of one datagram hash to one netisr (addresses only), but
// ip_reass_tick runs on the timer thread, so a lock is needed anyway.
//
// Races: "tick frees a queue a fragment is joining": both under ipq_lock.
//
// Life of a packet: ip_input -> ip_reass -> (complete) -> back to ip_input
// -> protocol input.
//
// Testing: make hosttest (tests/host/test_ip.c: in order, out of order,
// overlapping, duplicate, timeout via host_clock_advance, cap).
//
// References: RFC 791 3.2 (reassembly procedure), RFC 815 (hole
// descriptors; we sort instead), RFC 1122 3.3.2 (timeout; MAY send
// ICMP time exceeded -- not done here).
#include "net/ip.h"
#include "net/byteorder.h"

struct ipq {
	bool q_used;              // [q]
	uint32 q_src, q_dst;      // [q] key, host order
	uint16 q_id;              // [q]
	uint8 q_proto;            // [q]
	uint64 q_expire;          // [q] ms (I3)
	int q_total;              // [q] data length once the last fragment came, else -1
	bool q_have_first;        // [q] offset-0 fragment seen (q_hdr valid)
	struct ip q_hdr;          // [q] header of the first fragment
	struct mbuf *q_frags;     // [q] sorted by offset, linked by m_nextpkt (I1)
	int q_nfrags;             // [q] fragments held (I4)
	int q_mem;                // [q] their storage
};

static struct net_lock ipq_lock;
static struct ipq ipq_table[IP_REASS_MAXQ];   // [q]
static int ipq_mem;                           // [q] storage held (I2)
static int ipq_nfrags;                        // [q] fragments held (I2)
NET_SYSCTL_INT(ip_reass_mem, "net.inet.ip.reass_mem", SYSCTL_RD, &ipq_mem,
	       "storage bytes (mbufs + clusters) held by reassembly now");
NET_SYSCTL_INT(ip_reass_frags, "net.inet.ip.reass_frags", SYSCTL_RD, &ipq_nfrags,
	       "fragments held by reassembly now");

#define FRAG_OFF(m) ((int)(m)->m_pkthdr.ph_flowhash)
#define FRAG_END(m) (FRAG_OFF(m) + (m)->m_pkthdr.ph_len)

// Storage of fragment m's chain (the chain does not change while queued).
static int frag_mem(struct mbuf *m)
{
	int sz = 0;
	for (; m != NULL; m = m->m_next)
		sz += m_storage(m);
	return sz;
}

// Account fragment m entering (sign 1) or leaving (-1) q. Holds ipq_lock.
static void ipq_count(struct ipq *q, struct mbuf *m, int sign)
{
	int sz = frag_mem(m);
	q->q_nfrags += sign;
	q->q_mem += sign * sz;
	ipq_nfrags += sign;
	ipq_mem += sign * sz;
}

void ip_reass_init(void)
{
	net_lock_init(&ipq_lock, "ipq");
}

// Free queue q and its fragments (counted as dropped). Caller holds ipq_lock.
static void ipq_free(struct ipq *q, bool count)
{
	KASSERT(net_lock_held(&ipq_lock));
	struct mbuf *m = q->q_frags;
	while (m) {
		struct mbuf *next = m->m_nextpkt;
		if (count)
			IPSTAT_INC(ips_fragdropped);
		ipq_count(q, m, -1);
		m_freem(m);
		m = next;
	}
	KASSERT(q->q_nfrags == 0 && q->q_mem == 0);
	memset(q, 0, sizeof(*q));
}

// The queue of this datagram, or a new one (freeing the oldest queue if
// the table is full). Caller holds ipq_lock.
static struct ipq *ipq_lookup(const struct ip *ip)
{
	uint32 src = ntoh32(ip->ip_src), dst = ntoh32(ip->ip_dst);
	uint16 id = ntoh16(ip->ip_id);
	struct ipq *free = NULL, *oldest = NULL;
	for (int i = 0; i < IP_REASS_MAXQ; i++) {
		struct ipq *q = &ipq_table[i];
		if (!q->q_used) {
			free = free ? free : q;
			continue;
		}
		if (q->q_src == src && q->q_dst == dst && q->q_id == id && q->q_proto == ip->ip_p)
			return q;
		if (oldest == NULL || q->q_expire < oldest->q_expire)
			oldest = q;
	}
	if (free == NULL) {
		ipq_free(oldest, true);   // I2: table full, drop the oldest
		free = oldest;
	}
	free->q_used = true;
	free->q_src = src, free->q_dst = dst, free->q_id = id, free->q_proto = ip->ip_p;
	free->q_expire = net_now_ms() + IP_REASS_TIMEOUT_MS;
	free->q_total = -1;
	return free;
}

// Make room for one more fragment of storage need (I2) by freeing the
// oldest queues other than keep. false if it cannot. Caller holds ipq_lock.
static bool ipq_make_room(struct ipq *keep, int need)
{
	while (ipq_mem + need > IP_REASS_MAXMEM || ipq_nfrags + 1 > IP_REASS_MAXFRAGS_TOTAL) {
		struct ipq *oldest = NULL;
		for (int i = 0; i < IP_REASS_MAXQ; i++) {
			struct ipq *q = &ipq_table[i];
			if (q->q_used && q != keep && (oldest == NULL || q->q_expire < oldest->q_expire))
				oldest = q;
		}
		if (oldest == NULL)
			return false;
		ipq_free(oldest, true);
	}
	return true;
}

// Insert fragment m (header stripped, FRAG_OFF set) into q, trimming
// overlaps (I1). Returns false if m was wholly a duplicate (m freed).
// Caller holds ipq_lock.
static bool ipq_insert(struct ipq *q, struct mbuf *m)
{
	struct mbuf **pp = &q->q_frags, *prev = NULL;
	while (*pp && FRAG_OFF(*pp) < FRAG_OFF(m)) {
		prev = *pp;
		pp = &(*pp)->m_nextpkt;
	}
	// Overlap with the previous fragment: drop our front (first data wins).
	if (prev && FRAG_END(prev) > FRAG_OFF(m)) {
		int cut = FRAG_END(prev) - FRAG_OFF(m);
		if (cut >= m->m_pkthdr.ph_len)
			goto dup;
		m_adj(m, cut);
		m->m_pkthdr.ph_flowhash += cut;
	}
	// Following fragments: remove those we cover completely, then trim our
	// tail against the first one we overlap.
	while (*pp && FRAG_OFF(*pp) < FRAG_END(m)) {
		struct mbuf *n = *pp;
		if (FRAG_END(n) <= FRAG_END(m) && FRAG_OFF(n) >= FRAG_OFF(m)) {
			*pp = n->m_nextpkt;
			ipq_count(q, n, -1);
			IPSTAT_INC(ips_fragdropped);
			m_freem(n);
			continue;
		}
		int cut = FRAG_END(m) - FRAG_OFF(n);
		if (cut >= m->m_pkthdr.ph_len)
			goto dup;
		m_adj(m, -cut);
		break;
	}
	m->m_nextpkt = *pp;
	*pp = m;
	ipq_count(q, m, 1);
	return true;
dup:
	IPSTAT_INC(ips_fragdropped);
	m_freem(m);
	return false;
}

// If q is complete, unlink its fragments and return the datagram (a new
// header mbuf + the data), else NULL. Caller holds ipq_lock.
static struct mbuf *ipq_complete(struct ipq *q)
{
	if (q->q_total < 0 || !q->q_have_first)
		return NULL;
	int next = 0;
	for (struct mbuf *m = q->q_frags; m; m = m->m_nextpkt) {
		if (FRAG_OFF(m) != next)
			return NULL;   // a hole
		next = FRAG_END(m);
	}
	if (next != q->q_total)
		return NULL;
	struct mbuf *h = m_gethdr();
	if (h == NULL)
		return NULL;   // try again with the next fragment or time out
	h->m_data = h->m_dat + MHLEN - IP_HDR_LEN;
	h->m_len = h->m_pkthdr.ph_len = IP_HDR_LEN;
	h->m_pkthdr.ph_rcvif = q->q_frags->m_pkthdr.ph_rcvif;
	struct ip *ip = mtod(h, struct ip *);
	*ip = q->q_hdr;
	ip->ip_vhl = IPVERSION << 4 | IP_HDR_LEN >> 2;
	ip->ip_len = hton16(IP_HDR_LEN + q->q_total);
	ip->ip_off = 0;
	ip->ip_sum = 0;
	ip->ip_sum = in_cksum_buf(ip, IP_HDR_LEN);
	for (struct mbuf *m = q->q_frags, *n; m; m = n) {
		n = m->m_nextpkt;
		ipq_count(q, m, -1);
		m->m_nextpkt = NULL;
		m->m_flags &= ~M_PKTHDR;   // a middle mbuf now
		m_cat(h, m);
	}
	h->m_pkthdr.ph_len += q->q_total;
	q->q_frags = NULL;
	ipq_free(q, false);
	IPSTAT_INC(ips_reassembled);
	return h;
}

struct mbuf *ip_reass(struct mbuf *m, int hlen)
{
	struct ip hdr = *mtod(m, struct ip *);
	int offflags = ntoh16(hdr.ip_off);
	int off = (offflags & IP_OFFMASK) << 3;
	int len = m->m_pkthdr.ph_len - hlen;
	bool more = offflags & IP_MF;
	// RFC 791 3.2: every fragment but the last carries a multiple of 8
	// bytes; the datagram may not exceed 65535 bytes.
	if ((more && (len & 7)) || len <= 0 || off + len + IP_HDR_LEN > IP_MAXPACKET) {
		IPSTAT_INC(ips_fragdropped);
		m_freem(m);
		return NULL;
	}
	m_adj(m, hlen);
	m->m_pkthdr.ph_flowhash = off;
	m->m_pkthdr.ph_flags &= ~PH_HASHVALID;

	net_lock_acquire(&ipq_lock);
	struct ipq *q = ipq_lookup(&hdr);
	if (q->q_nfrags >= IP_REASS_MAXFRAGS) {
		IPSTAT_INC(ips_fragtoomany);   // I4: give the datagram up
		IPSTAT_INC(ips_fragdropped);
		m_freem(m);
		ipq_free(q, true);
		net_lock_release(&ipq_lock);
		return NULL;
	}
	if (!ipq_make_room(q, frag_mem(m))) {
		IPSTAT_INC(ips_fragdropped);   // I2: refuse
		m_freem(m);
		if (q->q_frags == NULL)
			ipq_free(q, false);
		net_lock_release(&ipq_lock);
		return NULL;
	}
	if (!more) {
		if (q->q_total >= 0 && q->q_total != off + len)
			goto bad_unlock;   // two different ends: a broken datagram
		q->q_total = off + len;
	}
	if (off == 0) {
		q->q_hdr = hdr;
		q->q_have_first = true;
	}
	struct mbuf *done = NULL;
	if (ipq_insert(q, m))
		done = ipq_complete(q);
	net_lock_release(&ipq_lock);
	return done;
bad_unlock:
	IPSTAT_INC(ips_fragdropped);
	m_freem(m);
	ipq_free(q, true);
	net_lock_release(&ipq_lock);
	return NULL;
}

void ip_reass_tick(void)
{
	uint64 now = net_now_ms();
	net_lock_acquire(&ipq_lock);
	for (int i = 0; i < IP_REASS_MAXQ; i++) {
		struct ipq *q = &ipq_table[i];
		if (q->q_used && now >= q->q_expire) {
			IPSTAT_INC(ips_fragtimeout);   // I3
			ipq_free(q, true);
		}
	}
	net_lock_release(&ipq_lock);
}

void ip_reass_flush(void)
{
	net_lock_acquire(&ipq_lock);
	for (int i = 0; i < IP_REASS_MAXQ; i++)
		if (ipq_table[i].q_used)
			ipq_free(&ipq_table[i], false);
	net_lock_release(&ipq_lock);
}
