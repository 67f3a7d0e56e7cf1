// Network interfaces (struct ifnet): what the stack knows about each
// interface -- name, flags, MTU, link address, its one IPv4 address, its
// send queue and output function, counters -- and the interface list.
// Design notes: the header of net/if.c; overview: docs/network.md.
//
// Lock legend (kernel/lock.h): [i] set at attach, before the interface is
// published, read-only afterwards; [a] atomic (or a single aligned word
// written under if_lock and read without a lock); [s] if_lock of the
// ifnet; [q] the send queue's own lock (net/ifq.h); [c] written only by
// the holder of the configuration sleep lock (if_cfgbusy: if_up, if_down,
// if_setaddr), under if_lock as well.
#pragma once
#include "net/shim.h"
#include "net/mbuf.h"
#include "net/ifq.h"

#define IFNAMSIZ 16
#define IF_MAX 8              // interfaces at most
#define ETHER_ADDR_LEN 6

// if_flags
#define IFF_UP        0x01    // administratively up
#define IFF_BROADCAST 0x02    // broadcast-capable link (Ethernet)
#define IFF_LOOPBACK  0x04    // lo0
#define IFF_RUNNING   0x08    // driver resources allocated, may send

// if_hwassist bits (mbuf.h: PH_CSUM_TCP, PH_TSO).
#define IFCAP_TXCSUM  0x01    // computes the TCP checksum of a packet it sends
#define IFCAP_TSO     0x02    // cuts a TCP packet larger than the MTU (TSO)

struct ifnet;

// Send IPv4 packet m (M_PKTHDR, IP header first) to next hop nexthop (host
// order) on ifp. Consumes m. 0 (sent or queued, including "waiting for
// ARP") or -Exxx (m freed, counted in if_oerrors). Any thread; no sleep.
typedef int (*if_output_t)(struct ifnet *ifp, struct mbuf *m, uint32 nexthop);
// Announce the interface's address on its link (gratuitous ARP).
typedef void (*if_announce_t)(struct ifnet *ifp);

struct if_counters {
	uint64 ifc_ipackets;   // [a] packets received and handed to a protocol
	uint64 ifc_ierrors;    // [a] bad frames
	uint64 ifc_iqdrops;    // [a] received, but no memory / no netisr
	uint64 ifc_opackets;   // [a] packets queued for the driver
	uint64 ifc_oerrors;    // [a] output failures (queue full, no route...)
	uint64 ifc_ibytes;     // [a]
	uint64 ifc_obytes;     // [a]
};
#define IF_NCOUNTERS 7

struct ifnet {
	char if_name[IFNAMSIZ];          // [i] "em0", "lo0"
	int if_index;                    // [i] 1.. (0 = none)
	int if_flags;                    // [a][c] IFF_*
	int if_mtu;                      // [i] largest IP packet
	int if_hwassist;                 // [a] IFCAP_*: work the interface does
	                                 //   for the stack (a sysctl may flip it)
	uint8 if_lladdr[ETHER_ADDR_LEN]; // [i] link address (zero for lo0)
	struct net_lock if_lock;         // orders single-word writes below
	int if_cfgbusy;                  // [s] configuration sleep lock held
	uint32 if_addr;                  // [a][c] IPv4 address, host order; 0 none
	uint32 if_netmask;               // [a][c] host order
	uint32 if_broadaddr;             // [a][c] subnet broadcast, host order
	struct ifqueue if_snd;           // [q] send queue; the driver inits it
	if_output_t if_output;           // [i]
	if_announce_t if_announce;       // [i] NULL: nothing to announce
	void *if_softc;                  // [i] the driver's state
	struct if_counters if_data;      // [a]
	struct net_sysctl if_oids[IF_NCOUNTERS]; // [i] net.link.<name>.*
};

// Count one event in a counter of ifp (atomic).
#define IF_COUNT(ifp, field, n) \
	__atomic_add_fetch(&(ifp)->if_data.field, (n), __ATOMIC_RELAXED)

// Register ifp (name, mtu, output, if_snd already set up by the driver).
// Boot or thread context, before traffic; not concurrently with another
// if_attach. 0, -ENOSPC (too many), -EEXIST (name taken).
int if_attach(struct ifnet *ifp);
// Lookups. Any context; no lock (interfaces are never detached).
struct ifnet *if_byname(const char *name);
struct ifnet *if_byindex(int index);
// The interface that has address addr (host order), or NULL.
struct ifnet *if_byaddr(uint32 addr);
// The up, non-loopback interface whose subnet contains addr, or NULL.
struct ifnet *if_bysubnet(uint32 addr);
// Interface number i (0-based) for walks; NULL past the end.
struct ifnet *if_get(int i);
bool if_islocal(uint32 addr);  // addr is one of our interface addresses
// addr (host order) is 255.255.255.255 or the subnet broadcast of a
// broadcast-capable interface (sending there needs SO_BROADCAST).
bool if_isbroadcast(uint32 addr);

// Configuration changes. Each runs whole under ifp's configuration sleep
// lock, so two of them never interleave (two processes toggling one
// interface, an address change during a down). Thread context: they may
// sleep waiting for that lock. Never from an interrupt or a netisr.
// Up: set UP|RUNNING, start the queue, announce. Down: clear RUNNING, then
// ifq_barrier (on return the driver's start routine is idle), then clear
// UP. Either is a no-op if the interface is already in that state. 0.
int if_up(struct ifnet *ifp);
int if_down(struct ifnet *ifp);
// Set address and netmask (host order); the broadcast address follows.
// Announces the new address if the interface is up. 0 or -EINVAL.
int if_setaddr(struct ifnet *ifp, uint32 addr, uint32 netmask);
// Set only the address / only the netmask, keeping the other as it is at
// that moment (read under the configuration lock). 0 or -EINVAL.
int if_setinaddr(struct ifnet *ifp, uint32 addr);
int if_setnetmask(struct ifnet *ifp, uint32 netmask);
// Announce every up interface (net_init, once the protocols are ready).
void if_announce_all(void);

// net/if_loop.c: attach lo0 (127.0.0.1/8, MTU 16384) and bring it up.
int loop_attach(void);
