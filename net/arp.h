// ARP (RFC 826): IPv4 address -> Ethernet address, with a bounded cache.
// Design, locking and races: the header of net/arp.c.
//
// Lock legend (kernel/lock.h): [s] arp_lock (one lock for the whole
// table), [a] atomic, [i] set at init.
#pragma once
#include "net/shim.h"
#include "net/mbuf.h"
#include "net/if.h"

#define ARP_NENTRIES 32          // cache size; a full cache evicts the oldest
#define ARP_MAXHOLD 4            // packets waiting per unresolved entry
#define ARP_MAXTRIES 5           // requests before giving up on an address
#define ARP_RETRY_MS 1000        // between requests while resolving
#define ARP_TIMEOUT_MS (300 * 1000)   // life of a resolved entry
#define ARP_REFRESH_MS (30 * 1000)    // re-ask this long before expiry
#define ARP_DOWN_MS (20 * 1000)  // after giving up: fail fast this long

struct arpstat {
	uint64 as_rcv;            // [a] ARP packets received
	uint64 as_badlen;         // [a] too short or wrong hardware/protocol sizes
	uint64 as_rcvrequests;    // [a] requests for our address
	uint64 as_rcvreplies;     // [a] replies received
	uint64 as_txrequests;     // [a] requests sent (incl. gratuitous)
	uint64 as_txreplies;      // [a] replies sent
	uint64 as_dupaddr;        // [a] someone else claims our address
	uint64 as_dropped;        // [a] held packets dropped (queue full / gave up)
	uint64 as_timeouts;       // [a] addresses given up on
	uint64 as_evicted;        // [a] entries evicted from a full cache
	uint64 as_entries;        // [a] entries in use now
};
extern struct arpstat arpstat;

int arp_init(void);

// Input of one ARP packet (Ethernet header removed). Runs in netisr 0
// (ARP frames hash to 0), but is correct on any thread. Consumes m.
void arp_input(struct mbuf *m);

// Find the link address of IPv4 address addr (host order) on ifp.
// 0: resolved, dst filled, m untouched (the caller sends it).
// -EINPROGRESS: m is held until the reply comes (ARP sends it then).
// -Exxx (-ENOBUFS: pending queue full, -EHOSTDOWN: recently gave up,
// -ENOMEM): m freed and counted. Any thread; never sleeps.
int arp_resolve(struct ifnet *ifp, uint32 addr, struct mbuf *m, uint8 *dst);

// Gratuitous ARP: a request for our own address (RFC 5227 2.3 style
// announcement), sent when the interface comes up or changes address.
void arp_announce(struct ifnet *ifp);

// Periodic work (the net timer thread, or a test with the virtual clock):
// retries, give-ups, expiry. Any thread.
void arp_tick(void);

// The cached address of addr, for tests and `sysctl net.link.ether.arp.dump`.
// 0 if resolved (mac filled), -ENOENT otherwise.
int arp_lookup(uint32 addr, uint8 *mac);
// Print the table on the console.
void arp_dump(void);
// Forget everything (tests). Frees held packets.
void arp_flush(void);
