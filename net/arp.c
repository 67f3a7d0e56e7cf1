// ARP: resolve IPv4 next hops to Ethernet addresses (RFC 826), answer
// requests for our addresses, announce our address (gratuitous ARP).
//
// Problem: ether_output, running on any netisr, needs the link address of
// its next hop now, or a promise to send the packet once it is known; the
// table must stay bounded whatever the network sends us, and an address
// that never answers must not keep packets forever.
//
// Idea: one table of ARP_NENTRIES entries, each FREE, INCOMPLETE
// (request sent, up to ARP_MAXHOLD packets waiting on la_hold), RESOLVED
// (address known until la_expire) or DOWN (gave up after ARP_MAXTRIES
// requests; packets fail fast until la_expire). A periodic tick
// (arp_tick, from the net timer thread) retries requests, gives up and
// expires entries. A resolved entry used within ARP_REFRESH_MS of its
// expiry sends a fresh request, so a busy entry never goes INCOMPLETE.
//
// Invariants:
//   I1 la_nhold <= ARP_MAXHOLD and la_hold is non-empty only when
//      INCOMPLETE; the table never grows: a full table evicts its oldest
//      RESOLVED/DOWN entry, or refuses if all are INCOMPLETE.
//   I2 No packet, request or reply is sent while arp_lock is held:
//      packets to send are unlinked under the lock and sent afterwards
//      (ether_send takes ifq locks and may run the driver's start routine).
//
// Locking: all table state is [s] arp_lock, a spinlock, not netisr
// ownership: ARP input runs on netisr 0 (non-IPv4 frames hash to 0), but
// arp_resolve runs on whichever netisr sends the packet and arp_tick on the
// timer thread. Lock order (kernel/lock.h): arp_lock is a leaf of the
// network stack: no other lock is taken while it is held (I2; arp_dump
// copies an entry out before printing it).
//
// Races:
//   "reply while resolving on another CPU": arp_input sets RESOLVED and
//     takes la_hold under arp_lock; a concurrent arp_resolve then sees
//     RESOLVED and returns the address, so no packet is held after the
//     hold list was flushed.
//   "entry reused while its packets are sent": held packets are unlinked
//     with the address copied, then sent, so eviction cannot touch them.
//
// Life of a packet:
//   miss: ether_output -> arp_resolve (new INCOMPLETE entry, m on la_hold)
//     -> arp_request -> ether_send (broadcast).
//   reply: ether_input (netisr 0) -> arp_input -> RESOLVED, take la_hold
//     -> ether_send each held packet.
//   request for us: arp_input -> arp_reply (unicast to the asker).
//
// Testing: make hosttest (tests/host/test_arp.c: reply to a request, miss
// then reply flushes the hold queue, hold queue bound, give-up after
// retries, expiry, malformed packets). Guest: `sysctl net.link.ether.arp`,
// `sysctl net.link.ether.arp.dump=1` prints the table. gdb: break
// arp_input, arp_resolve.
//
// References: RFC 826 ("Packet Reception" algorithm), RFC 1122 2.3.2.1
// (flooding limit: at most one request per second per address), RFC 5227
// 2.3 (announcement), RFC 5227 2.4 (conflict detection, only counted here).
#include "net/arp.h"
#include "net/ether.h"
#include "net/byteorder.h"

#define ARPHRD_ETHER 1
#define ARPOP_REQUEST 1
#define ARPOP_REPLY 2

struct arphdr {
	uint16 ar_hrd;                 // hardware type (1 = Ethernet)
	uint16 ar_pro;                 // protocol type (0x0800)
	uint8 ar_hln, ar_pln;          // 6, 4
	uint16 ar_op;
	uint8 ar_sha[ETHER_ADDR_LEN];
	uint8 ar_spa[4];
	uint8 ar_tha[ETHER_ADDR_LEN];
	uint8 ar_tpa[4];
} __attribute__((packed));

enum arp_state { ARP_FREE = 0, ARP_INCOMPLETE, ARP_RESOLVED, ARP_DOWN };

struct arp_entry {
	enum arp_state la_state;       // [s]
	uint32 la_addr;                // [s] host order
	uint8 la_mac[ETHER_ADDR_LEN];  // [s] valid if RESOLVED
	struct ifnet *la_ifp;          // [s]
	uint64 la_expire;              // [s] RESOLVED/DOWN: ms when it goes
	uint64 la_next;                // [s] INCOMPLETE: ms of the next request
	int la_asked;                  // [s] requests sent while INCOMPLETE
	bool la_refreshing;            // [s] refresh request sent
	struct mbuf *la_hold;          // [s] packets waiting (m_nextpkt list)
	int la_nhold;                  // [s]
};

static struct net_lock arp_lock;
static struct arp_entry arp_table[ARP_NENTRIES];   // [s]
struct arpstat arpstat;

#define ARPSTAT(id, field, d) \
	NET_SYSCTL_UINT64(arp_##id, "net.link.ether.arp." #id, SYSCTL_RD, &arpstat.field, d)
ARPSTAT(received, as_rcv, "ARP packets received");
ARPSTAT(bad, as_badlen, "malformed ARP packets");
ARPSTAT(requests_received, as_rcvrequests, "requests for our address");
ARPSTAT(replies_received, as_rcvreplies, "replies received");
ARPSTAT(requests_sent, as_txrequests, "requests sent");
ARPSTAT(replies_sent, as_txreplies, "replies sent");
ARPSTAT(dup_address, as_dupaddr, "others claiming our address");
ARPSTAT(dropped, as_dropped, "held packets dropped");
ARPSTAT(timeouts, as_timeouts, "addresses given up on");
ARPSTAT(evicted, as_evicted, "entries evicted from a full table");
ARPSTAT(entries, as_entries, "entries in use");
// Printed synchronously, in the context of the process that writes the
// knob, so the table is on the console before sysctl returns (printing it
// later from the timer thread interleaved with the shell's prompt).
static int arp_dump_sysctl(int64 *val, bool write)
{
	if (!write) {
		*val = 0;
		return 0;
	}
	if (*val != 1)
		return -EINVAL;
	arp_dump();
	return 0;
}
NET_SYSCTL_PROC_RANGE(arp_dump, "net.link.ether.arp.dump", SYSCTL_RW | SYSCTL_ACT,
		      arp_dump_sysctl, 1, 1,
		"write 1: print the ARP table on the console");

#define STAT(f) __atomic_add_fetch(&arpstat.f, 1, __ATOMIC_RELAXED)

int arp_init(void)
{
	net_lock_init(&arp_lock, "arp");
	return 0;
}

static uint32 get32(const uint8 *p)
{
	return (uint32)p[0] << 24 | (uint32)p[1] << 16 | (uint32)p[2] << 8 | p[3];
}

static void put32(uint8 *p, uint32 v)
{
	p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
}

// Build and send one ARP packet on ifp. Caller must not hold arp_lock (I2).
static int arp_send(struct ifnet *ifp, int op, const uint8 *tha, uint32 tpa,
		    const uint8 *edst)
{
	struct mbuf *m = m_gethdr();
	if (m == NULL)
		return -ENOBUFS;
	// Leave room for the Ethernet header in front (M_PREPEND in place).
	m->m_data += ETHER_HDR_LEN;
	struct arphdr *ah = mtod(m, struct arphdr *);
	m->m_len = m->m_pkthdr.ph_len = sizeof(*ah);
	ah->ar_hrd = hton16(ARPHRD_ETHER);
	ah->ar_pro = hton16(ETHERTYPE_IP);
	ah->ar_hln = ETHER_ADDR_LEN;
	ah->ar_pln = 4;
	ah->ar_op = hton16(op);
	memcpy(ah->ar_sha, ifp->if_lladdr, ETHER_ADDR_LEN);
	put32(ah->ar_spa, ifp->if_addr);
	memcpy(ah->ar_tha, tha, ETHER_ADDR_LEN);
	put32(ah->ar_tpa, tpa);
	if (op == ARPOP_REQUEST)
		STAT(as_txrequests);
	else
		STAT(as_txreplies);
	return ether_send(ifp, m, edst, ETHERTYPE_ARP);
}

static int arp_request(struct ifnet *ifp, uint32 addr)
{
	static const uint8 zero[ETHER_ADDR_LEN];
	return arp_send(ifp, ARPOP_REQUEST, zero, addr, ether_broadcast);
}

void arp_announce(struct ifnet *ifp)
{
	// RFC 5227 2.3: an announcement is a request with sender and target
	// protocol address both ours.
	arp_request(ifp, ifp->if_addr);
}

// Caller holds arp_lock.
static struct arp_entry *arp_find(uint32 addr)
{
	KASSERT(net_lock_held(&arp_lock));
	for (int i = 0; i < ARP_NENTRIES; i++)
		if (arp_table[i].la_state != ARP_FREE && arp_table[i].la_addr == addr)
			return &arp_table[i];
	return NULL;
}

// Unlink e's held packets (returned) and free the entry. Caller holds arp_lock.
static struct mbuf *arp_free_entry(struct arp_entry *e)
{
	KASSERT(net_lock_held(&arp_lock));
	struct mbuf *hold = e->la_hold;
	memset(e, 0, sizeof(*e));   // ARP_FREE
	__atomic_sub_fetch(&arpstat.as_entries, 1, __ATOMIC_RELAXED);
	return hold;
}

static void arp_drop_list(struct mbuf *m)
{
	while (m) {
		struct mbuf *next = m->m_nextpkt;
		m->m_nextpkt = NULL;
		STAT(as_dropped);
		m_freem(m);
		m = next;
	}
}

// A free entry for addr: a FREE slot, else the RESOLVED/DOWN entry that
// expires first (I1); NULL if every entry is INCOMPLETE. Evicted packets
// go to *drop. Caller holds arp_lock.
static struct arp_entry *arp_alloc(uint32 addr, struct ifnet *ifp, struct mbuf **drop)
{
	struct arp_entry *victim = NULL;
	for (int i = 0; i < ARP_NENTRIES; i++) {
		struct arp_entry *e = &arp_table[i];
		if (e->la_state == ARP_FREE) {
			victim = e;
			break;
		}
		if (e->la_state != ARP_INCOMPLETE &&
		    (victim == NULL || e->la_expire < victim->la_expire))
			victim = e;
	}
	if (victim == NULL)
		return NULL;
	if (victim->la_state != ARP_FREE) {
		STAT(as_evicted);
		*drop = arp_free_entry(victim);
	}
	victim->la_addr = addr;
	victim->la_ifp = ifp;
	__atomic_add_fetch(&arpstat.as_entries, 1, __ATOMIC_RELAXED);
	return victim;
}

int arp_resolve(struct ifnet *ifp, uint32 addr, struct mbuf *m, uint8 *dst)
{
	struct mbuf *drop = NULL;
	bool ask = false;
	int err;
	uint64 now = net_now_ms();

	net_lock_acquire(&arp_lock);
	struct arp_entry *e = arp_find(addr);
	if (e && e->la_state == ARP_RESOLVED) {
		memcpy(dst, e->la_mac, ETHER_ADDR_LEN);
		if (now + ARP_REFRESH_MS >= e->la_expire && !e->la_refreshing)
			ask = e->la_refreshing = true;
		err = 0;
		goto out_unlock;
	}
	if (e && e->la_state == ARP_DOWN) {
		err = -EHOSTDOWN;
		goto out_drop;
	}
	if (e == NULL) {
		if ((e = arp_alloc(addr, ifp, &drop)) == NULL) {
			err = -ENOMEM;
			goto out_drop;
		}
		e->la_state = ARP_INCOMPLETE;
		e->la_asked = 1;
		e->la_next = now + ARP_RETRY_MS;   // RFC 1122 2.3.2.1: <= 1/s
		ask = true;
	}
	if (e->la_nhold >= ARP_MAXHOLD) {
		err = -ENOBUFS;   // I1: bounded pending queue
		goto out_drop;
	}
	m->m_nextpkt = NULL;
	struct mbuf **pp = &e->la_hold;
	while (*pp)
		pp = &(*pp)->m_nextpkt;
	*pp = m;
	e->la_nhold++;
	err = -EINPROGRESS;
out_unlock:
	net_lock_release(&arp_lock);
	arp_drop_list(drop);
	if (ask)
		arp_request(ifp, addr);   // I2: after the unlock
	return err;
out_drop:
	net_lock_release(&arp_lock);
	arp_drop_list(drop);
	STAT(as_dropped);
	m_freem(m);
	if (ask)
		arp_request(ifp, addr);
	return err;
}

// Send the packets that waited for mac (outside arp_lock, I2).
static void arp_send_held(struct ifnet *ifp, struct mbuf *m, const uint8 *mac)
{
	while (m) {
		struct mbuf *next = m->m_nextpkt;
		m->m_nextpkt = NULL;
		ether_send(ifp, m, mac, ETHERTYPE_IP);
		m = next;
	}
}

// RFC 826 "Packet Reception": update the sender if known (merge); if the
// target is us, add the sender when new. Returns the packets released by
// a resolution. Caller holds arp_lock.
static struct mbuf *arp_update(struct ifnet *ifp, uint32 spa, const uint8 *sha,
			       bool for_us, struct mbuf **drop)
{
	struct arp_entry *e = arp_find(spa);
	if (e == NULL && for_us)
		e = arp_alloc(spa, ifp, drop);
	if (e == NULL)
		return NULL;
	struct mbuf *hold = e->la_hold;
	e->la_hold = NULL;
	e->la_nhold = 0;
	e->la_state = ARP_RESOLVED;
	e->la_ifp = ifp;
	memcpy(e->la_mac, sha, ETHER_ADDR_LEN);
	e->la_expire = net_now_ms() + ARP_TIMEOUT_MS;
	e->la_refreshing = false;
	return hold;
}

void arp_input(struct mbuf *m)
{
	struct ifnet *ifp = m->m_pkthdr.ph_rcvif;
	struct arphdr ah;
	struct mbuf *hold = NULL, *drop = NULL;

	STAT(as_rcv);
	if (ifp == NULL || m_copydata(m, 0, sizeof(ah), &ah) < 0 ||
	    ntoh16(ah.ar_hrd) != ARPHRD_ETHER || ntoh16(ah.ar_pro) != ETHERTYPE_IP ||
	    ah.ar_hln != ETHER_ADDR_LEN || ah.ar_pln != 4) {
		STAT(as_badlen);
		goto out;
	}
	uint32 spa = get32(ah.ar_spa), tpa = get32(ah.ar_tpa), me = ifp->if_addr;
	int op = ntoh16(ah.ar_op);
	if (me == 0 || memcmp(ah.ar_sha, ifp->if_lladdr, ETHER_ADDR_LEN) == 0)
		goto out;                  // no address yet, or our own packet
	if (ah.ar_sha[0] & 1)
		goto out;                  // RFC 1812 3.3.2: ignore a multicast sender
	if (spa == me) {
		STAT(as_dupaddr);          // RFC 5227 2.4: conflict; just count
		goto out;
	}
	bool for_us = tpa == me;
	if (op == ARPOP_REPLY && for_us)
		STAT(as_rcvreplies);
	if (spa != 0) {                // RFC 5227 probes have sender 0: no entry
		net_lock_acquire(&arp_lock);
		hold = arp_update(ifp, spa, ah.ar_sha, for_us, &drop);
		net_lock_release(&arp_lock);
	}
	arp_drop_list(drop);
	arp_send_held(ifp, hold, ah.ar_sha);
	if (op == ARPOP_REQUEST && for_us) {
		// RFC 826: swap sender and target, fill in our address, reply.
		STAT(as_rcvrequests);
		arp_send(ifp, ARPOP_REPLY, ah.ar_sha, spa, ah.ar_sha);
	}
out:
	m_freem(m);
}

#define ARP_TICK_MAXASK 8   // requests one tick sends at most

void arp_tick(void)
{
	struct { struct ifnet *ifp; uint32 addr; } ask[ARP_TICK_MAXASK];
	int nask = 0;
	struct mbuf *drop = NULL;
	uint64 now = net_now_ms();

	net_lock_acquire(&arp_lock);
	for (int i = 0; i < ARP_NENTRIES; i++) {
		struct arp_entry *e = &arp_table[i];
		if ((e->la_state == ARP_RESOLVED || e->la_state == ARP_DOWN) &&
		    now >= e->la_expire) {
			arp_free_entry(e);
		} else if (e->la_state == ARP_INCOMPLETE && now >= e->la_next) {
			if (e->la_asked >= ARP_MAXTRIES) {
				// Give up: drop what waits, fail fast for a while.
				STAT(as_timeouts);
				struct mbuf *h = e->la_hold;
				while (h && h->m_nextpkt)
					h = h->m_nextpkt;
				if (h) {
					h->m_nextpkt = drop;
					drop = e->la_hold;
				}
				e->la_hold = NULL;
				e->la_nhold = 0;
				e->la_state = ARP_DOWN;
				e->la_expire = now + ARP_DOWN_MS;
			} else if (nask < ARP_TICK_MAXASK) {
				e->la_asked++;
				e->la_next = now + ARP_RETRY_MS;
				ask[nask].ifp = e->la_ifp;
				ask[nask++].addr = e->la_addr;
			}
		}
	}
	net_lock_release(&arp_lock);
	arp_drop_list(drop);
	for (int i = 0; i < nask; i++)
		arp_request(ask[i].ifp, ask[i].addr);
}

int arp_lookup(uint32 addr, uint8 *mac)
{
	int err = -ENOENT;
	net_lock_acquire(&arp_lock);
	struct arp_entry *e = arp_find(addr);
	if (e && e->la_state == ARP_RESOLVED) {
		memcpy(mac, e->la_mac, ETHER_ADDR_LEN);
		err = 0;
	}
	net_lock_release(&arp_lock);
	return err;
}

void arp_dump(void)
{
	static const char *states[] = { "free", "incomplete", "resolved", "down" };
	uint64 now = net_now_ms();
	// One entry at a time, copied under arp_lock and printed after it is
	// released: printf takes the console's lock, and arp_lock is a leaf.
	for (int i = 0; i < ARP_NENTRIES; i++) {
		net_lock_acquire(&arp_lock);
		struct arp_entry e = arp_table[i];
		net_lock_release(&arp_lock);
		if (e.la_state == ARP_FREE)
			continue;
		uint8 *a = e.la_mac;
		printf("arp: %d.%d.%d.%d at %02x:%02x:%02x:%02x:%02x:%02x on %s %s, %d s left\n",
		       IPV4_PRINT(e.la_addr), a[0], a[1], a[2], a[3], a[4], a[5],
		       e.la_ifp ? e.la_ifp->if_name : "?", states[e.la_state],
		       e.la_expire > now ? (int)((e.la_expire - now) / 1000) : 0);
	}
}

void arp_flush(void)
{
	struct mbuf *drop = NULL;
	net_lock_acquire(&arp_lock);
	for (int i = 0; i < ARP_NENTRIES; i++) {
		if (arp_table[i].la_state == ARP_FREE)
			continue;
		struct mbuf *h = arp_free_entry(&arp_table[i]);
		while (h) {
			struct mbuf *n = h->m_nextpkt;
			h->m_nextpkt = drop;
			drop = h;
			h = n;
		}
	}
	net_lock_release(&arp_lock);
	arp_drop_list(drop);
}
