// mbuf: packet buffers -- allocation, reference-counted clusters, and the
// chain helpers every protocol uses. Types and contracts: net/mbuf.h.
//
// Problem
//   Packets grow at the front (each layer prepends a header), shrink at
//   both ends (each layer strips its header; Ethernet pads short frames),
//   are scattered over several buffers, and are sometimes needed twice
//   (TCP keeps what it sent until it is acknowledged, and hands a copy to
//   IP). Copying bytes for each of these would cost more than the rest of
//   the stack.
//
// Idea
//   A chain of small fixed-size buffers with a movable data pointer: room
//   is left in front so headers are prepended in place (M_PREPEND), and
//   trimming only moves m_data / m_len (m_adj). Big data sits in a 2 KiB
//   cluster that copies share instead of duplicating (m_copym): the
//   cluster has a reference count and is freed by its last user.
//   Page clusters: the bulk of a large packet -- a 64 KB socket write, a
//   TSO packet collapsed by the e1000 -- goes into 4 KiB clusters, one
//   page each (m_getspace, net.mbuf.page_clusters, as FreeBSD's sosend
//   takes MJUMPAGESIZE clusters). Every buffer costs an mbuf and an
//   allocation when it is filled, another mbuf in each TSO packet that
//   sends part of it (m_copym), and the frees when the ACKs drop it
//   (sbdrop); half as many buffers halve that work (docs/tcp.md, "Where
//   the time goes", per segment). A page is physically contiguous (the
//   kernel maps memory one to one), so it is still one DMA segment.
//
// Invariants
//   I1 m_data and m_data + m_len lie inside the mbuf's storage (m_dat, or
//      the cluster if M_EXT: ext_size bytes, MCLBYTES or MPAGEBYTES).
//   I2 If M_PKTHDR, m_pkthdr.ph_len == m_length(m) -- every helper here
//      keeps it, except m_cat (documented; callers add the length).
//   I3 A cluster's count (*ext_refp) equals the number of live mbufs
//      pointing at it. The count lives in the first mbuf that got the
//      cluster (its "home"); if the home is freed while copies remain it
//      is kept as a zombie (M_ZOMBIE) and freed with the cluster.
//   I4 mbstat.mbs_inuse / mbs_clusters_inuse / mbs_pages_inuse count
//      allocated objects, so after every packet is freed they return to
//      their earlier values.
//
// Locking
//   None: an mbuf belongs to one thread. The refcount is changed with
//   atomic operations, since copies may be freed on different CPUs.
//
// Races (named), and where each is handled
//   "last two frees": two CPUs free the last two users of a cluster at the
//     same time. The atomic fetch-and-decrement in ext_release gives
//     exactly one of them the old value 1; only that one frees the cluster
//     (and the zombie home).
//   "write to a shared cluster": a protocol writes into data that a copy
//     also sees. m_writable / m_leadingspace / m_trailingspace report no
//     room in a shared cluster, so M_PREPEND and m_copyback allocate
//     instead of scribbling.
//
// Life of a packet
//   e1000 RX: the NIC DMAs the frame into the driver's own receive buffer
//   -> m_devget copies it into a fresh chain (a packet-header mbuf, with
//   clusters when it is larger than MHLEN) and the buffer goes back to the
//   ring -> netisr_dispatch(m) -> ether_input m_adj(m, 14) -> ip_input
//   m_pullup(m, 20) ... -> socket buffer -> m_freem after copyout.
//   TX: M_PREPEND for each header -> ifq_enqueue -> driver start routine
//   -> m_freem when the descriptor is done.
//
// Cost
//   Every received frame allocates an mbuf and a cluster (the e1000's ring
//   refill) and the reader frees both: mbufs and 2 KiB clusters come from
//   their kmalloc class directly (net_malloc_mbuf / net_malloc_cluster and
//   the frees, net/shim.h), without kmalloc's size lookup or kfree's page
//   lookup; m_get zeroes the header field by field.
//
// Testing
//   make hosttest (tests/host/test_mbuf.c): counts back to zero, prepend,
//   adj, pullup, copydata/copyback, copym sharing and refcounts, chains,
//   m_getspace's buffers with page clusters on and off.
//   In the kernel: sysctl net.mbuf (netstat -m) before and after a run.
//
// References
//   McKusick et al., The Design and Implementation of the FreeBSD OS,
//   ch. 12 (memory management in the network stack); FreeBSD
//   sys/kern/kern_mbuf.c and uipc_mbuf.c (the model; not copied).
#include "net/mbuf.h"

struct mbstat mbstat;

NET_SYSCTL_UINT64(mbuf_inuse, "net.mbuf.inuse", SYSCTL_RD, &mbstat.mbs_inuse,
		  "mbufs allocated now");
NET_SYSCTL_UINT64(mbuf_peak, "net.mbuf.peak", SYSCTL_RD, &mbstat.mbs_peak,
		  "most mbufs allocated at once");
NET_SYSCTL_UINT64(mbuf_cl_inuse, "net.mbuf.clusters_inuse", SYSCTL_RD,
		  &mbstat.mbs_clusters_inuse, "2 KiB clusters allocated now");
NET_SYSCTL_UINT64(mbuf_cl_peak, "net.mbuf.clusters_peak", SYSCTL_RD,
		  &mbstat.mbs_clusters_peak, "most clusters allocated at once");
NET_SYSCTL_UINT64(mbuf_pg_inuse, "net.mbuf.pages_inuse", SYSCTL_RD,
		  &mbstat.mbs_pages_inuse, "4 KiB page clusters allocated now");
NET_SYSCTL_UINT64(mbuf_pg_peak, "net.mbuf.pages_peak", SYSCTL_RD,
		  &mbstat.mbs_pages_peak, "most page clusters allocated at once");
NET_SYSCTL_UINT64(mbuf_failed, "net.mbuf.failed", SYSCTL_RD,
		  &mbstat.mbs_failed, "mbuf/cluster allocations that failed");

int mbuf_page_clusters = 1;   // [a]
NET_SYSCTL_INT_RANGE(mbuf_page_clusters, "net.mbuf.page_clusters", SYSCTL_RW,
		     &mbuf_page_clusters, 0, 1,
		     "1: m_getspace puts data beyond 2 KiB into 4 KiB page clusters "
		     "(a 64 KB write: 16 buffers, not 32); 0: 2 KiB clusters only");

_Static_assert(sizeof(struct mbuf) + 64 <= MSIZE, "mbuf header too big");
_Static_assert(MPAGEBYTES <= NET_MALLOC_MAX, "a page cluster is one net_malloc");

int mbuf_init(void)
{
	return 0;   // nothing to set up: mbufs come straight from kmalloc
}

// Count one more object in *inuse and raise *peak if needed.
static void stat_inc(uint64 *inuse, uint64 *peak)
{
	uint64 n = __atomic_add_fetch(inuse, 1, __ATOMIC_RELAXED);
	uint64 p = __atomic_load_n(peak, __ATOMIC_RELAXED);
	while (n > p && !__atomic_compare_exchange_n(peak, &p, n, false,
						     __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

static void stat_dec(uint64 *inuse)
{
	__atomic_sub_fetch(inuse, 1, __ATOMIC_RELAXED);
}

static void stat_failed(void)
{
	__atomic_add_fetch(&mbstat.mbs_failed, 1, __ATOMIC_RELAXED);
}

// ---- allocation ---------------------------------------------------------------

// Every field zero but m_data, except m_ext: it is read only with M_EXT,
// which m_clget (or m_copym) sets after filling it. Field by field: a
// memset of the whole 144 bytes was a call and ~50 instructions for
// every frame received (the e1000 refills its ring with m_getcl).
struct mbuf *m_get(void)
{
	_Static_assert(MSIZE == 256, "net_malloc_mbuf's size");
	struct mbuf *m = net_malloc_mbuf();
	if (m == NULL) {
		stat_failed();
		return NULL;
	}
	stat_inc(&mbstat.mbs_inuse, &mbstat.mbs_peak);
	m->m_next = m->m_nextpkt = NULL;
	m->m_data = m->m_dat;
	m->m_len = 0;
	m->m_flags = 0;
	m->m_pkthdr = (struct m_pkthdr){ .ph_rcvif = NULL };   // stores, no call
	return m;
}

struct mbuf *m_gethdr(void)
{
	struct mbuf *m = m_get();
	if (m == NULL)
		return NULL;
	m->m_flags = M_PKTHDR;
	lwkt_initmsg(&m->m_pkthdr.ph_msg, NULL, NULL, 0);
	return m;
}

// Attach fresh external storage of size bytes (MCLBYTES or MPAGEBYTES)
// to m. 0 or -ENOBUFS.
static int ext_get(struct mbuf *m, int size)
{
	KASSERT((m->m_flags & M_EXT) == 0);
	// A 2 KiB cluster straight from its class (net/shim.h); a page cluster
	// through net_malloc.
	_Static_assert(MCLBYTES == 2048, "net_malloc_cluster's size");
	char *buf = size == MCLBYTES ? net_malloc_cluster() : net_malloc(size);
	if (buf == NULL) {
		stat_failed();
		return -ENOBUFS;
	}
	if (size == MPAGEBYTES)
		stat_inc(&mbstat.mbs_pages_inuse, &mbstat.mbs_pages_peak);
	else
		stat_inc(&mbstat.mbs_clusters_inuse, &mbstat.mbs_clusters_peak);
	m->m_flags |= M_EXT;
	m->m_ext.ext_buf = buf;
	m->m_ext.ext_size = size;
	m->m_ext.ext_ref = 1;
	m->m_ext.ext_refp = &m->m_ext.ext_ref;
	m->m_ext.ext_home = m;
	m->m_data = buf;
	return 0;
}

int m_clget(struct mbuf *m)
{
	return ext_get(m, MCLBYTES);
}

int m_pageget(struct mbuf *m)
{
	return ext_get(m, MPAGEBYTES);
}

struct mbuf *m_getcl(int flags)
{
	struct mbuf *m = (flags & M_PKTHDR) ? m_gethdr() : m_get();
	if (m == NULL)
		return NULL;
	if (m_clget(m) < 0) {
		m_free(m);
		return NULL;
	}
	return m;
}

// Give the raw memory of m back.
static void mbuf_release(struct mbuf *m)
{
	stat_dec(&mbstat.mbs_inuse);
	net_free_mbuf(m);
}

// m stops using its cluster. Returns true if m itself must be kept as the
// zombie home of the count (copies still use the cluster).
//
// Race "home freed while the last copy is freed": the home marks itself a
// zombie BEFORE it gives up its reference. Once its decrement is visible,
// a copy on another CPU (or in the TX-completion interrupt on this one)
// may drop the count to 0 and release the home, so the home must already
// be ready for that; the release/acquire pair on the count makes the flag
// visible to that last freer.
static bool ext_release(struct mbuf *m)
{
	struct mbuf *home = m->m_ext.ext_home;
	bool is_home = home == m;
	if (is_home) {
		m->m_flags = M_ZOMBIE | M_EXT;
		m->m_next = m->m_nextpkt = NULL;
	}
	// Race "last two frees": exactly one caller sees the old value 1.
	int old = __atomic_fetch_sub(m->m_ext.ext_refp, 1, __ATOMIC_ACQ_REL);
	KASSERT(old >= 1);
	if (old > 1)
		return is_home;   // I3: the zombie home keeps the count alive
	if (m->m_ext.ext_size == MCLBYTES)
		net_free_cluster(m->m_ext.ext_buf);
	else
		net_free(m->m_ext.ext_buf);
	stat_dec(m->m_ext.ext_size == MPAGEBYTES ? &mbstat.mbs_pages_inuse :
		 &mbstat.mbs_clusters_inuse);
	if (!is_home) {
		KASSERT(home->m_flags & M_ZOMBIE);
		mbuf_release(home);
	}
	return false;   // the caller releases m itself
}

struct mbuf *m_free(struct mbuf *m)
{
	struct mbuf *next = m->m_next;
	KASSERT((m->m_flags & M_ZOMBIE) == 0);   // double free
	if ((m->m_flags & M_EXT) && ext_release(m))
		return next;    // kept as the zombie home until the last copy goes
	mbuf_release(m);
	return next;
}

void m_freem(struct mbuf *m)
{
	while (m != NULL)
		m = m_free(m);
}

// ---- space ---------------------------------------------------------------------

int m_refcount(struct mbuf *m)
{
	if ((m->m_flags & M_EXT) == 0)
		return 1;
	return __atomic_load_n(m->m_ext.ext_refp, __ATOMIC_ACQUIRE);
}

bool m_writable(struct mbuf *m)
{
	return m_refcount(m) == 1;
}

static char *m_start(struct mbuf *m)
{
	return (m->m_flags & M_EXT) ? m->m_ext.ext_buf : m->m_dat;
}

static int m_size(struct mbuf *m)
{
	return (m->m_flags & M_EXT) ? m->m_ext.ext_size : MLEN;
}

int m_leadingspace(struct mbuf *m)
{
	if (!m_writable(m))
		return 0;   // race "write to a shared cluster"
	return m->m_data - m_start(m);
}

int m_trailingspace(struct mbuf *m)
{
	if (!m_writable(m))
		return 0;
	return m_start(m) + m_size(m) - (m->m_data + m->m_len);
}

// Move the packet header from `from` to `to` (a new head).
static void m_move_pkthdr(struct mbuf *to, struct mbuf *from)
{
	KASSERT(from->m_flags & M_PKTHDR);
	to->m_pkthdr = from->m_pkthdr;
	to->m_flags |= M_PKTHDR;
	from->m_flags &= ~M_PKTHDR;
}

// ---- chain helpers -----------------------------------------------------------

int m_length(struct mbuf *m)
{
	int len = 0;
	for (; m != NULL; m = m->m_next)
		len += m->m_len;
	return len;
}

struct mbuf *m_prepend(struct mbuf *m, int len)
{
	KASSERT(len >= 0 && len <= MHLEN);
	struct mbuf *n = m_get();
	if (n == NULL) {
		m_freem(m);
		return NULL;
	}
	if (m->m_flags & M_PKTHDR)
		m_move_pkthdr(n, m);
	n->m_next = m;
	// Put the new bytes at the end of n so a later M_PREPEND fits too.
	n->m_data = n->m_dat + MLEN - len;
	n->m_len = len;
	if (n->m_flags & M_PKTHDR)
		n->m_pkthdr.ph_len += len;
	return n;
}

// Trim from the head: whole mbufs become empty (kept in the chain, as in
// BSD, so the packet header stays where it is).
static void m_adj_head(struct mbuf *m, int len)
{
	struct mbuf *head = m;
	int left = len;
	for (; m != NULL && left > 0; m = m->m_next) {
		int n = MIN(left, m->m_len);
		m->m_data += n;
		m->m_len -= n;
		left -= n;
	}
	if (head->m_flags & M_PKTHDR)
		head->m_pkthdr.ph_len -= len - left;
}

// Trim len bytes from the tail: keep the first (total - len) bytes.
static void m_adj_tail(struct mbuf *m, int len)
{
	struct mbuf *head = m;
	int total = m_length(m);
	int keep = total > len ? total - len : 0;
	for (; m != NULL; m = m->m_next) {
		if (m->m_len >= keep) {
			m->m_len = keep;
			keep = 0;
			// Free nothing: the rest becomes empty, callers
			// that care free it (BSD frees; empty is simpler).
			for (struct mbuf *r = m->m_next; r; r = r->m_next)
				r->m_len = 0;
			break;
		}
		keep -= m->m_len;
	}
	if (head->m_flags & M_PKTHDR)
		head->m_pkthdr.ph_len = m_length(head);
}

void m_adj(struct mbuf *m, int len)
{
	if (m == NULL || len == 0)
		return;
	if (len > 0)
		m_adj_head(m, len);
	else
		m_adj_tail(m, -len);
}

struct mbuf *m_pullup(struct mbuf *m, int len)
{
	KASSERT(len >= 0 && len <= MHLEN);
	if (m->m_len >= len)
		return m;
	int total = (m->m_flags & M_PKTHDR) ? m->m_pkthdr.ph_len : m_length(m);
	if (total < len)
		goto drop;   // a short packet: the caller drops it, no panic
	struct mbuf *n = m, *src = m->m_next;
	if (m->m_flags & M_EXT) {
		// Never write into a cluster (it may be shared): a fresh mbuf
		// goes in front and takes the packet header.
		n = m_get();
		if (n == NULL)
			goto drop;
		if (m->m_flags & M_PKTHDR)
			m_move_pkthdr(n, m);
		src = m;
	} else if (m->m_dat + MLEN - m->m_data < len) {
		// Internal storage holds MLEN >= len bytes once compacted.
		memmove(m->m_dat, m->m_data, m->m_len);
		m->m_data = m->m_dat;
	}
	// Move bytes from the following mbufs into n until it holds len.
	while (n->m_len < len) {
		KASSERT(src != NULL);   // total >= len
		int c = MIN(len - n->m_len, src->m_len);
		memcpy(n->m_data + n->m_len, src->m_data, c);
		n->m_len += c;
		src->m_data += c;
		src->m_len -= c;
		if (src->m_len == 0)
			src = m_free(src);   // emptied: free it, go on
	}
	n->m_next = src;
	return n;
drop:
	m_freem(m);
	return NULL;
}

int m_copydata(struct mbuf *m, int off, int len, void *buf)
{
	char *p = buf;
	if (off < 0 || len < 0)
		return -EINVAL;
	while (m != NULL && off >= m->m_len) {
		off -= m->m_len;
		m = m->m_next;
	}
	while (len > 0) {
		if (m == NULL)
			return -EINVAL;
		int c = MIN(len, m->m_len - off);
		memcpy(p, m->m_data + off, c);
		p += c;
		len -= c;
		off = 0;
		m = m->m_next;
	}
	return 0;
}

const void *m_peek(struct mbuf *m, int off, int len, int align, void *buf)
{
	if (off >= 0 && len >= 0 && off + len <= m->m_len) {
		const char *p = m->m_data + off;
		if (((uint64)p & (align - 1)) == 0)
			return p;
	}
	return m_copydata(m, off, len, buf) < 0 ? NULL : buf;
}

// Grow chain m by need zero bytes at its end. 0 or -ENOBUFS (the chain
// may then have grown by less).
static int m_extend(struct mbuf *m, int need)
{
	while (m->m_next != NULL)
		m = m->m_next;
	while (need > 0) {
		int g = MIN(m_trailingspace(m), need);
		if (g > 0) {
			memset(m->m_data + m->m_len, 0, g);
			m->m_len += g;
			need -= g;
			continue;
		}
		struct mbuf *n = m_get();
		if (n == NULL)
			return -ENOBUFS;
		m->m_next = n;
		m = n;
	}
	return 0;
}

int m_copyback(struct mbuf *m0, int off, int len, const void *buf)
{
	const char *p = buf;
	struct mbuf *m = m0;
	if (off < 0 || len < 0)
		return -EINVAL;
	if (len == 0)
		return 0;
	int total = m_length(m0), err = 0;
	if (total < off + len)
		err = m_extend(m0, off + len - total);
	if (m0->m_flags & M_PKTHDR)
		m0->m_pkthdr.ph_len = m_length(m0);
	if (err < 0)
		return err;
	while (off >= m->m_len) {
		off -= m->m_len;
		m = m->m_next;
	}
	while (len > 0) {
		KASSERT(m_writable(m));   // caller's duty: no shared cluster
		int c = MIN(len, m->m_len - off);
		memcpy(m->m_data + off, p, c);
		p += c;
		len -= c;
		off = 0;
		m = m->m_next;
	}
	return 0;
}

// Copy the part [off, off+len) of one mbuf m into a new mbuf.
static struct mbuf *m_copy_one(struct mbuf *m, int off, int len)
{
	struct mbuf *n = m_get();
	if (n == NULL)
		return NULL;
	if (m->m_flags & M_EXT) {
		// Share the cluster: I3, one more user.
		__atomic_add_fetch(m->m_ext.ext_refp, 1, __ATOMIC_ACQ_REL);
		n->m_ext = m->m_ext;
		n->m_ext.ext_ref = 0;   // not the home: the count is elsewhere
		n->m_flags |= M_EXT;
		n->m_data = m->m_data + off;
	} else {
		memcpy(n->m_data, m->m_data + off, len);
	}
	n->m_len = len;
	return n;
}

struct mbuf *m_copym(struct mbuf *m, int off, int len)
{
	struct mbuf *top = NULL, **np = &top, *head = m;
	int copyall = len == M_COPYALL;
	KASSERT(off >= 0 && (len >= 0 || copyall));
	while (m != NULL && off > 0 && off >= m->m_len) {
		off -= m->m_len;
		m = m->m_next;
	}
	while (m != NULL && (copyall || len > 0)) {
		int c = copyall ? m->m_len - off : MIN(len, m->m_len - off);
		struct mbuf *n = m_copy_one(m, off, c);
		if (n == NULL)
			goto nospace;
		*np = n;
		np = &n->m_next;
		if (!copyall)
			len -= c;
		off = 0;
		m = m->m_next;
	}
	if (!copyall && len > 0)
		goto nospace;   // chain shorter than asked: caller's bug or packet
	if (top != NULL && (head->m_flags & M_PKTHDR)) {
		top->m_pkthdr = head->m_pkthdr;
		lwkt_initmsg(&top->m_pkthdr.ph_msg, NULL, NULL, 0);
		top->m_flags |= M_PKTHDR;
		top->m_pkthdr.ph_len = m_length(top);
	}
	return top;
nospace:
	m_freem(top);
	return NULL;
}

void m_cat(struct mbuf *m, struct mbuf *n)
{
	while (m->m_next != NULL)
		m = m->m_next;
	while (n != NULL) {
		// Small internal data: copy into m's room and free n.
		if ((n->m_flags & M_EXT) || m_trailingspace(m) < n->m_len) {
			m->m_next = n;
			return;
		}
		memcpy(m->m_data + m->m_len, n->m_data, n->m_len);
		m->m_len += n->m_len;
		n = m_free(n);
	}
}

// ---- whole packets -------------------------------------------------------------

// One buffer of a new chain that is to hold want more bytes (room of them
// left free in front): an mbuf (with the packet header if hdr) whose own
// storage fits them, else one with a page cluster while more than
// MCLBYTES are wanted (if page clusters are on), else a 2 KiB cluster.
static struct mbuf *m_getspace_one(int want, bool hdr, bool pages)
{
	struct mbuf *m = hdr ? m_gethdr() : m_get();
	if (m == NULL || want <= MHLEN)
		return m;
	int err = pages && want > MCLBYTES ? m_pageget(m) : m_clget(m);
	if (err < 0) {
		m_free(m);
		return NULL;
	}
	return m;
}

struct mbuf *m_getspace(int len, int lead)
{
	if (len < 0 || lead < 0 || lead > MHLEN)
		return NULL;
	bool pages = __atomic_load_n(&mbuf_page_clusters, __ATOMIC_RELAXED);
	struct mbuf *top = NULL, **tail = &top;
	int left = len, room = lead;
	do {
		struct mbuf *m = m_getspace_one(left + room, top == NULL, pages);
		if (m == NULL) {
			m_freem(top);
			return NULL;
		}
		m->m_data += room;
		m->m_len = MIN(left, m_size(m) - room);
		left -= m->m_len;
		*tail = m;
		tail = &m->m_next;
		room = 0;
	} while (left > 0);
	top->m_pkthdr.ph_len = len;
	return top;
}

struct mbuf *m_devget(const void *buf, int len, struct ifnet *ifp)
{
	struct mbuf *m = m_getspace(len, M_DEVGET_LEAD);
	if (m == NULL)
		return NULL;
	const char *p = buf;
	for (struct mbuf *n = m; n; n = n->m_next) {
		memcpy(n->m_data, p, n->m_len);
		p += n->m_len;
	}
	m->m_pkthdr.ph_rcvif = ifp;
	return m;
}
