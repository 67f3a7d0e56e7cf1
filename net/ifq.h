// ifq: an interface's send queue and the serializer that runs the
// driver's start routine on one CPU at a time (OpenBSD, David Gwynne, 2015).
// The design essay (problem, races, life of a packet) is at the top of
// net/ifq.c; the student guide is docs/ifq.md.
//
// Use by a driver (drivers/e1000.c):
//   ifq_init(&sc->ifq, "e1000", 256, e1000_start, sc);   at attach
//   ifq_set_running(&sc->ifq, true);                      interface up
//   e1000_start(ifq, sc): while ((m = ifq_dequeue(ifq)) != NULL) ...
//                         (stop early when the TX ring is full, and call
//                          ifq_start from the TX-done interrupt)
//   ifq_set_running(&sc->ifq, false); ifq_barrier(&sc->ifq);  interface down
// Use by the stack (ip_output/ether_output):
//   err = ifq_enqueue(ifq, m);  (consumes m, even on error)
//   ifq_start(ifq);
//
// Lock legend (kernel/lock.h): [s] ifq_lock, [a] atomic, [i] set by
// ifq_init.
#pragma once
#include "net/shim.h"
#include "net/mbuf.h"

struct ifqueue;

// The driver's start routine: dequeue and transmit until the queue is
// empty or the hardware is full. Runs on one CPU at a time (the
// serializer), in thread or interrupt context; must not sleep.
// It must not call ifq_start itself (plain-lock mode would deadlock on
// ifq_start_lock); when the ring is full it returns, and the TX-done
// interrupt calls ifq_start later.
typedef void (*ifq_start_t)(struct ifqueue *ifq, void *softc);

struct ifq_stats {
	uint64 ifs_enqueued;    // [a] packets accepted by ifq_enqueue
	uint64 ifs_dropped;     // [a] packets refused: queue full or down
	uint64 ifs_dequeued;    // [a] packets handed to the driver
	uint64 ifs_starts;      // [a] ifq_start calls
	uint64 ifs_contended;   // [a] calls that found the serializer busy
	uint64 ifs_restarts;    // [a] extra passes the owner ran for others
	uint64 ifs_runs;        // [a] calls of the start routine
	uint64 ifs_run_us;      // [a] microseconds inside it (wall clock)
	uint64 ifs_waits;       // [a] plain lock: calls that found it taken
	uint64 ifs_wait_us;     // [a] plain lock: microseconds they spun
};

struct ifqueue {
	struct net_lock ifq_lock;   // protects the queue [s]
	struct mbuf *ifq_head;      // [s] packets linked by m_nextpkt
	struct mbuf *ifq_tail;      // [s]
	int ifq_len;                // [s] packets queued
	int ifq_maxlen;             // [i] bound: more are dropped, counted
	uint ifq_serializer;        // [a] 0 idle; n>0: owner + n-1 requests
	int ifq_running;            // [a] start routine may run (IFF_RUNNING)
	struct net_lock ifq_start_lock; // held around every start routine run
	ifq_start_t ifq_start_fn;   // [i]
	void *ifq_softc;            // [i]
	struct ifq_stats ifq_stats;
	char ifq_name[16];          // [i]
	struct net_sysctl ifq_oids[10]; // [i] net.ifq.<name>.*
};

// Global switch net.ifq.serializer: 1 = serializer (default), 0 = plain
// lock around the start routine (callers spin). Read at each ifq_start;
// safe to flip while packets flow (race "mode switch" in net/ifq.c).
extern int ifq_serializer_enabled;

int ifq_init(struct ifqueue *ifq, const char *name, int maxlen,
	     ifq_start_t start, void *softc);
// Unregister the sysctl knobs and free queued packets (after ifq_barrier).
void ifq_destroy(struct ifqueue *ifq);
// Free every queued packet (counted as dropped). Any context.
void ifq_purge(struct ifqueue *ifq);

// Queue m (a packet with M_PKTHDR) for transmission. Consumes m: on
// -ENOBUFS (queue full) or -ENETDOWN (not running) it is freed and
// counted. Any context; never sleeps.
int ifq_enqueue(struct ifqueue *ifq, struct mbuf *m);
// Take the first packet, or NULL. Normally only the start routine calls
// this. Any context; never sleeps.
struct mbuf *ifq_dequeue(struct ifqueue *ifq);
int ifq_len(struct ifqueue *ifq);
// Make sure the start routine runs for what is queued now: here, or on
// the CPU that is already running it. Any context; never sleeps; never
// spins in serializer mode.
void ifq_start(struct ifqueue *ifq);
// Interface up (true) / down (false). Down: call ifq_barrier next.
void ifq_set_running(struct ifqueue *ifq, bool running);
// Precondition: !running. On return the start routine is not running on
// any CPU and will not run until ifq_set_running(ifq, true). Thread
// context; may yield the CPU while it waits.
void ifq_barrier(struct ifqueue *ifq);
