// Per-CPU object caches in front of kmalloc's slabs.
//
// Problem: every packet allocates and frees a handful of small objects
// (mbufs: 256 bytes, clusters: 2048 bytes, messages; a large socket
// write page clusters, 4096 bytes, the page class): each kmalloc and
// kfree took its size class's spinlock, so a loopback ping spent about a
// tenth of its instructions in the allocator, most of it in acquire,
// release and the interrupt bookkeeping around them, and two CPUs
// allocating mbufs at once queued on one lock.
// Idea: each CPU keeps, per size class, a small stack of free objects
// (a "magazine"). kmalloc pops from it and kfree pushes onto it with
// interrupts off on this CPU and no lock: nobody else touches this CPU's
// stack. Only an empty stack (refill) or a full one (drain) goes to the
// slabs, half a cache (vm.kmalloc.pcpu_max / 2) in one lock hold.
//
// Honest counters: an object in a cache is free. The slabs count it as
// taken (kcls[c].inuse, and its slab is not empty), so
// vm.kmalloc.<size>.inuse subtracts kmcache_cached(). A cache that was
// not used for KMC_IDLE_TICKS timer ticks (50 ms) is drained back to the
// slabs by the tick (kmcache_tick), and a sysctl that reports memory
// drains the reader's own CPU first, so once the system is quiet every
// object is back on its slab and vm.pages_free / vm.kmalloc.busy_pages
// read as without the caches (the leak checks of usertests and the
// tests wait for that).
// A kalloc that finds no free page drains this CPU's caches too
// (kmalloc_reclaim). vm.kmalloc.pcpu_cache=0 bypasses the caches (each
// kmalloc/kfree goes to the slabs, as before), for comparison.
//
// Invariants: 0 <= kmc[cpu].n[c] <= KMC_CAP; obj[c][0 .. n[c]-1] are free
// objects of class c, each counted in kcls[c].inuse, and on no slab's
// free list.
// Locking: kmc[cpu] is touched only by cpu itself, with interrupts off
// [p] (so an interrupt handler that allocates cannot interleave with a
// thread on the same CPU). kmcache_cached() reads other CPUs' counts
// without a lock: a snapshot. Refill and drain take the class lock
// inside (kmslab_*), never while holding another.
// Races: "migration": a thread preempted between reading cpuid() and
// touching the cache would use another CPU's stack; interrupts are off
// from the read to the last touch, so it cannot be preempted there.
// "reclaim inside refill": refill -> kmslab_alloc -> kalloc ->
// kmalloc_reclaim -> kmcache_drain_local runs while class c's stack is
// being refilled; it is empty then (refill runs only on empty), and
// refill stores the count only after kmslab_alloc returns.
//
// Testing: tests/test_kmalloc.py (counts come back after traffic, the
// switch); every leak check of the suite (usertests' memory line,
// test_tcp's resources, test_hostile's pages) runs with the caches on.
// Cost: bench/icount.py's lo0 rows (netbench rtt / udprtt).
// References: Jeff Bonwick and Jonathan Adams, "Magazines and Vmem:
// Extending the Slab Allocator to Many CPUs and Arbitrary Resources",
// USENIX 2001 (the magazine layer); FreeBSD's UMA per-CPU buckets.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/lock.h"
#include "kernel/proc.h"
#include "kernel/sysctl.h"
#include "kernel/kmcache.h"

// Sized for TCP's bursts: a 64 KB write or read allocates or frees ~45
// clusters at once, which a 16-object stack turned into six slab trips
// (bench/run.py --only icounttcp, CPUS=1: 16/8 -> 64/32 took TCP over lo0
// from 2.406 to 2.198 instructions per byte, Linux -> guest over the
// e1000 from 6,467 to 6,401 per 1460 B). A sender frees them an ACK at
// a time (docs/tcp.md "Where the time goes on a clean e1000 link").
// A CPU keeps at most vm.kmalloc.pcpu_max (<= KMC_CAP) objects of each
// class, for at most KMC_IDLE_TICKS; a refill or a drain moves half of
// that in one lock hold.
#define KMC_CAP 128
// A CPU whose cache saw no get or put for this many ticks (ms) in a row
// drains it. Not at the first idle tick: a ping every 10 ms would then
// empty and re-carve slabs between every two packets.
#define KMC_IDLE_TICKS 50

static struct kmcache {
	int n[KM_NCLASS];              // [p] objects in obj[c]
	uint64 ops;                    // [p] gets and puts, ever
	uint64 ops_seen;               // [p] ops at the last tick
	int idle;                      // [p] ticks in a row without ops
	void *obj[KM_NCLASS][KMC_CAP]; // [p] free objects, top at n - 1
} __attribute__((aligned(64))) kmc[NCPU];

static int kmc_on = 1;             // [a] vm.kmalloc.pcpu_cache
static int kmc_max = KMC_CAP;      // [a] vm.kmalloc.pcpu_max

SYSCTL_INT_RANGE(kmalloc_pcpu, "vm.kmalloc.pcpu_cache", SYSCTL_RW, &kmc_on, 0, 1,
		 "1: per-CPU caches of free objects in front of kmalloc's slabs; 0: bypass them");
SYSCTL_INT_RANGE(kmalloc_pcpu_max, "vm.kmalloc.pcpu_max", SYSCTL_RW, &kmc_max, 2, KMC_CAP,
		 "free objects a CPU's cache keeps per size class (half move to or from the slabs at once)");

// Give the n oldest objects of class c back to the slabs. Interrupts off.
static void drain(struct kmcache *kc, int c, int n)
{
	kmslab_free(c, kc->obj[c], n);
	kc->n[c] -= n;
	for (int i = 0; i < kc->n[c]; i++)
		kc->obj[c][i] = kc->obj[c][i + n];
}

void *kmcache_get(int c)
{
	void *p = NULL;
	if (!__atomic_load_n(&kmc_on, __ATOMIC_RELAXED))
		return kmslab_alloc(c, &p, 1) ? p : NULL;
	bool on = intr_save();
	struct kmcache *kc = &kmc[cpuid()];
	void **stack = kc->obj[c];
	int n = kc->n[c];
	if (n == 0)
		n = kmslab_alloc(c, stack, __atomic_load_n(&kmc_max, __ATOMIC_RELAXED) / 2);
	if (n > 0)
		p = stack[--n];
	kc->n[c] = n;
	kc->ops++;
	intr_restore(on);
	return p;
}

void kmcache_put(int c, void *p)
{
	if (!__atomic_load_n(&kmc_on, __ATOMIC_RELAXED)) {
		kmslab_free(c, &p, 1);
		return;
	}
	bool on = intr_save();
	struct kmcache *kc = &kmc[cpuid()];
	int max = __atomic_load_n(&kmc_max, __ATOMIC_RELAXED);
	if (kc->n[c] >= max)   // (>=: the limit may have been lowered)
		drain(kc, c, kc->n[c] - max / 2);
	int n = kc->n[c];
	kc->obj[c][n] = p;
	kc->n[c] = n + 1;
	kc->ops++;
	intr_restore(on);
}

bool kmcache_enable(bool on)
{
	return __atomic_exchange_n(&kmc_on, on ? 1 : 0, __ATOMIC_RELAXED) != 0;
}

uint64 kmcache_cached(int c)
{
	uint64 n = 0;
	for (int i = 0; i < NCPU; i++)
		n += __atomic_load_n(&kmc[i].n[c], __ATOMIC_RELAXED);
	return n;
}

void kmcache_drain_local(void)
{
	bool on = intr_save();
	struct kmcache *kc = &kmc[cpuid()];
	for (int c = 0; c < KM_NCLASS; c++)
		if (kc->n[c] > 0)
			drain(kc, c, kc->n[c]);
	intr_restore(on);
}

void kmcache_tick(void)
{
	struct kmcache *kc = &kmc[cpuid()];   // timer interrupt: interrupts off
	if (kc->ops != kc->ops_seen)
		kc->idle = 0;
	else if (++kc->idle == KMC_IDLE_TICKS)
		kmcache_drain_local();
	kc->ops_seen = kc->ops;
}

static int sysctl_cached(struct sysctl_oid *oid, int64 *val, bool write)
{
	kmcache_drain_local();
	*val = 0;
	for (int c = 0; c < KM_NCLASS; c++)
		*val += kmcache_cached(c);
	return 0;
}
SYSCTL_PROC(kmalloc_cached, "vm.kmalloc.cached", SYSCTL_RD, sysctl_cached,
	    "free objects held in the per-CPU caches (drained after 50 idle ticks)");
