// mbufs: the network stack's packet buffers (BSD style, written anew).
//
// A packet is a chain of mbufs linked by m_next; the first carries the
// packet header (M_PKTHDR: total length, receiving interface, flow hash,
// and the LWKT message that carries the packet to a netisr). Packets are
// linked into lists (queues) by m_nextpkt of their first mbuf. Small data
// lives inside the mbuf (m_dat); bigger data in an external cluster
// (M_EXT) that several mbufs may share, counted by a reference count: 2 KiB
// (MCLBYTES), or a 4 KiB page (MPAGEBYTES) for the bulk of a large packet
// or socket write (m_getspace).
// m_data points at the first valid byte, m_len is the count in this mbuf.
//
// Allocation never sleeps: every allocator returns NULL on failure and
// counts it (net.mbuf.failed). The callers' rule: a function that
// "consumes m" frees it on every path, including errors.
//
// Lock legend (kernel/lock.h): an mbuf is owned by one thread at a time
// ([o]): whoever holds the pointer. The only shared field is a cluster's
// reference count ([a]), because copies of one packet may be freed on
// different CPUs. Read-only sharing of cluster data is safe; writing
// requires M_WRITABLE(m).
//
// Design, invariants and races: the header of net/mbuf.c.
#pragma once
#include "net/shim.h"
#include "net/lwkt_msg.h"

#define MSIZE 256        // bytes per mbuf (one kmalloc 256-byte object)
#define MCLBYTES 2048    // bytes per cluster (one kmalloc 2048-byte object)
#define MPAGEBYTES 4096  // bytes per page cluster (one kmalloc 4096-byte
                         // object: a page, page-aligned, so one DMA segment)
#define M_COPYALL (-1)   // m_copym: to the end of the chain

struct ifnet;

// Packet header: valid in the first mbuf of a packet (M_PKTHDR).
struct m_pkthdr {
	struct lwkt_msg ph_msg;   // [o] carries the packet to a netisr
	struct ifnet *ph_rcvif;   // [o] interface it arrived on, or NULL
	int ph_len;               // [o] total bytes in the chain
	uint32 ph_flowhash;       // [o] valid if PH_HASHVALID
	uint32 ph_flags;          // [o] PH_*
	int ph_proto;             // [o] netisr protocol (NETISR_*)
	uint32 ph_tso_mss;        // [o] PH_TSO: TCP payload bytes per frame
};

#define PH_HASHVALID 0x01   // ph_flowhash is set
#define PH_BCAST     0x02   // link-level broadcast
#define PH_MCAST     0x04   // link-level multicast
#define PH_LOOP      0x08   // came through loopback
// Checksum offload (ip_output, docs/e1000.md): the TCP header's th_sum
// holds only the pseudo-header sum; the interface (IFCAP_TXCSUM) or
// ip_output (in software) computes the rest. With PH_TSO the packet is
// larger than the MTU: the interface (IFCAP_TSO) cuts it into frames of
// ph_tso_mss payload bytes, and th_sum's seed has no length in it.
#define PH_CSUM_TCP  0x10
#define PH_TSO       0x20

// External storage: valid if M_EXT.
struct m_ext {
	char *ext_buf;            // [o] start of the cluster
	int ext_size;             // [i] MCLBYTES or MPAGEBYTES
	int *ext_refp;            // -> [a] count of mbufs using ext_buf
	struct mbuf *ext_home;    // [i] mbuf whose ext_ref is *ext_refp: set
	                          //     when the cluster is attached (or the
	                          //     copy made), never changed after
	int ext_ref;              // [a] the count, in the first user's mbuf
};

struct mbuf {
	struct mbuf *m_next;      // [o] next mbuf of this packet
	struct mbuf *m_nextpkt;   // [o] next packet in a queue
	char *m_data;             // [o] first valid byte
	int m_len;                // [o] valid bytes in this mbuf
	int m_flags;              // [o] M_*
	struct m_pkthdr m_pkthdr; // [o] valid if M_PKTHDR
	struct m_ext m_ext;       // valid if M_EXT
	char m_dat[];             // internal storage, up to MSIZE
};

#define M_PKTHDR 0x01   // m_pkthdr is valid: first mbuf of a packet
#define M_EXT    0x02   // data is in an external cluster
#define M_ZOMBIE 0x04   // freed, kept only as a cluster's refcount home

// Internal storage: the same for every mbuf (simpler than BSD's union).
#define MLEN ((int)(MSIZE - sizeof(struct mbuf)))
#define MHLEN MLEN

#define mtod(m, t) ((t)((m)->m_data))

// Statistics (sysctl net.mbuf.*). Updated atomically.
struct mbstat {
	uint64 mbs_inuse;          // [a] mbufs allocated now
	uint64 mbs_peak;           // [a] most ever at once
	uint64 mbs_clusters_inuse; // [a] 2 KiB clusters allocated now
	uint64 mbs_clusters_peak;  // [a]
	uint64 mbs_pages_inuse;    // [a] page clusters allocated now
	uint64 mbs_pages_peak;     // [a]
	uint64 mbs_failed;         // [a] allocations that returned NULL
};
extern struct mbstat mbstat;

int mbuf_init(void);

// Allocation. Never sleeps; NULL on failure (counted). m_getcl: an mbuf
// with a 2 KiB cluster attached; flags M_PKTHDR or 0.
struct mbuf *m_get(void);
struct mbuf *m_gethdr(void);
struct mbuf *m_getcl(int flags);
// Attach a fresh 2 KiB cluster / page cluster to m (which must not have
// one). 0 or -ENOBUFS.
int m_clget(struct mbuf *m);
int m_pageget(struct mbuf *m);
// net.mbuf.page_clusters: whether m_getspace uses page clusters.
extern int mbuf_page_clusters;

// Free one mbuf, return its m_next. Free a whole chain (not m_nextpkt).
struct mbuf *m_free(struct mbuf *m);
void m_freem(struct mbuf *m);

// Space in front of / behind the data that may be written.
int m_leadingspace(struct mbuf *m);
int m_trailingspace(struct mbuf *m);
// May m's data be written (not a shared cluster)?
bool m_writable(struct mbuf *m);

// Room for len more bytes in front of the data: in place if possible,
// else a new mbuf at the front (gets the packet header). Consumes m;
// returns the new head, or NULL (m freed) on failure. len <= MHLEN.
struct mbuf *m_prepend(struct mbuf *m, int len);
#define M_PREPEND(m, plen)                                          \
	do {                                                        \
		if (m_leadingspace(m) >= (plen)) {                  \
			(m)->m_data -= (plen);                      \
			(m)->m_len += (plen);                       \
			if ((m)->m_flags & M_PKTHDR)                \
				(m)->m_pkthdr.ph_len += (plen);     \
		} else {                                            \
			(m) = m_prepend((m), (plen));               \
		}                                                   \
	} while (0)

// Trim len bytes from the head (len > 0) or the tail (len < 0).
void m_adj(struct mbuf *m, int len);
// Make the first len bytes contiguous in the first mbuf. Consumes m;
// returns the (maybe new) head, or NULL (m freed) if the packet is
// shorter than len or memory ran out. len <= MHLEN.
struct mbuf *m_pullup(struct mbuf *m, int len);
// Copy len bytes at offset off of the chain into buf / from buf into the
// chain (m_copyback extends the chain if needed). 0, -EINVAL (out of
// range) or -ENOBUFS. Borrows m.
int m_copydata(struct mbuf *m, int off, int len, void *buf);
int m_copyback(struct mbuf *m, int off, int len, const void *buf);
// Read len header bytes at offset off of the chain without copying them
// when it can: a pointer into the first mbuf if it holds all of them at an
// address that is a multiple of align (a power of 2: the alignment of the
// struct the caller reads through), else the bytes copied into buf (len
// bytes). NULL if the chain is shorter. The caller only reads through it,
// and only while it borrows m. Every received segment's headers are read
// so (ether_input, tcp_input): a copy of them cost ~5% of a segment.
const void *m_peek(struct mbuf *m, int off, int len, int align, void *buf);
// New chain with bytes [off, off+len) of m (len may be M_COPYALL). Data in
// clusters is shared (reference counted), not copied. Borrows m.
struct mbuf *m_copym(struct mbuf *m, int off, int len);
// Append chain n to chain m (consumes n). Does not update m's ph_len.
void m_cat(struct mbuf *m, struct mbuf *n);
// Bytes in the chain (sum of m_len).
int m_length(struct mbuf *m);
// Memory one mbuf stands for, for the limits on what a socket or the
// reassembly queue may hold: MSIZE, plus its cluster's size (a shared
// cluster counts in full for each mbuf that points into it).
static inline int m_storage(struct mbuf *m)
{
	return MSIZE + ((m->m_flags & M_EXT) ? m->m_ext.ext_size : 0);
}
// Cluster reference count of m (1 if not shared), for tests and asserts.
int m_refcount(struct mbuf *m);

// A new packet with room for len bytes of data (not initialised; m_len of
// each mbuf set, ph_len = len) and lead free bytes in front of them for
// headers to be prepended (lead <= MHLEN). Clusters are used for anything
// that does not fit one mbuf, so a 1500-byte packet is one cluster; while
// more than MCLBYTES remain, page clusters (net.mbuf.page_clusters), so a
// 64 KB socket write is 16 pages and an mbuf, not 32 clusters and an
// mbuf. NULL if memory ran out (counted in net.mbuf.failed). Any context.
struct mbuf *m_getspace(int len, int lead);
// A driver's receive copy: a new packet with the len bytes of frame buf,
// ph_rcvif = ifp. NULL when memory ran out: the caller counts the frame
// as an input drop (if_iqdrops). Borrows buf. Any context (interrupts).
#define M_DEVGET_LEAD 2    // so the IP header after 14 bytes is 4-aligned
struct mbuf *m_devget(const void *buf, int len, struct ifnet *ifp);
