// Physical page allocator with one free list per CPU.
//
// Problem: one global free list under one lock makes every hart queue up
// behind every other one on each fork, pipe, and (later) mbuf cluster.
// Idea: each CPU frees to and allocates from its own list under its own
// lock; only a CPU whose list is empty touches another CPU's list, and
// then it steals half of it, so the next allocations are local again.
//
// Debugging: with vm.junk_fill=1 (the default, so `make qemu` and `make
// test` run with it) every page is filled with junk when it is freed (1s)
// and when it is handed out (5s), so a use after free or a read of memory
// never written shows up as garbage at once. Filling costs 2 x 4 KiB of
// stores per page; `make bench` sets vm.junk_fill=0 before it measures.
//
// Invariants: a free page is on exactly one list; kmem[c].nfree is the
// length of list c; the sum over CPUs plus the pages in use equals
// pages_total.
// Locking: kmem[c].lock protects list c and its counters [s]. No code
// holds two of these locks at once (stealing drops its own first), so
// there is no order to respect among them. Interrupts are off while a
// lock is held, so handlers may allocate.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/riscv.h"
#include "kernel/lock.h"
#include "kernel/proc.h"
#include "kernel/printf.h"
#include "kernel/string.h"
#include "kernel/kalloc.h"
#include "kernel/kmcache.h"
#include "kernel/sysctl.h"
#include "kernel/errno.h"

extern char end[];  // first address after the kernel, from kernel.ld

struct run {
	struct run *next;
};

static struct kmem {
	struct spinlock lock;
	struct run *freelist;  // [s]
	uint64 nfree;          // [s]
	uint64 nsteal;         // [s] times this cpu stole from another
	char pad[64];          // keep each CPU's lock on its own cache line
} kmem[NCPU];

int kalloc_junk = 1;          // [a] vm.junk_fill; see above

static int sysctl_junk(struct sysctl_oid *oid, int64 *val, bool write)
{
	if (!write) {
		*val = __atomic_load_n(&kalloc_junk, __ATOMIC_RELAXED);
		return 0;
	}
	__atomic_store_n(&kalloc_junk, (int)*val, __ATOMIC_RELAXED);
	return 0;
}
SYSCTL_PROC_RANGE(vm_junk_fill, "vm.junk_fill", SYSCTL_RW, sysctl_junk, 0, 1,
		  "1: fill pages with junk in kalloc and kfree_page (catches use after free); 0: off, for benchmarks");

static uint64 pages_total;    // [i]
static uint64 alloc_failed;   // [a]

// Pages on all the free lists. Changed by kalloc and kfree_page only, not
// by steal(): summing the per-CPU nfree counts while a steal moved pages
// from one list to another could count the moved pages twice (read the
// victim before its decrement, the thief after its increment), and a
// usertests run then reported pages "lost" that were never missing.
static uint64 kalloc_nfree;   // [a]

static void push_page(struct kmem *k, void *pa)
{
	struct run *r = pa;
	r->next = k->freelist;
	k->freelist = r;
	k->nfree++;
}

void kinit(void)
{
	for (int i = 0; i < NCPU; i++)
		initlock(&kmem[i].lock, "kmem");
	for (char *p = (char *)PGROUNDUP((uint64)end); p + PGSIZE <= (char *)PHYSTOP; p += PGSIZE) {
		kfree_page(p);
		pages_total++;
	}
}

// Give page pa back to this CPU's list. Any context; does not sleep.
void kfree_page(void *pa)
{
	if (((uint64)pa % PGSIZE) != 0 || (char *)pa < end || (uint64)pa >= PHYSTOP)
		panic("kfree_page: bad address %p", pa);
	if (kalloc_junk)
		memset(pa, 1, PGSIZE);  // junk, so use-after-free shows up quickly

	push_off();
	struct kmem *k = &kmem[cpuid()];
	acquire(&k->lock);
	push_page(k, pa);
	release(&k->lock);
	pop_off();
	__atomic_add_fetch(&kalloc_nfree, 1, __ATOMIC_RELAXED);
}

// Move half of another CPU's free pages to CPU me. Called with no kmem
// lock held; returns true if it found any.
static bool steal(int me)
{
	for (int i = 1; i < NCPU; i++) {
		struct kmem *v = &kmem[(me + i) % NCPU];
		acquire(&v->lock);
		uint64 n = (v->nfree + 1) / 2;
		struct run *first = v->freelist, *last = NULL;
		for (uint64 j = 0; j < n; j++) {
			last = v->freelist;
			v->freelist = last->next;
		}
		v->nfree -= n;
		release(&v->lock);
		if (n == 0)
			continue;
		struct kmem *k = &kmem[me];
		acquire(&k->lock);
		last->next = k->freelist;
		k->freelist = first;
		k->nfree += n;
		k->nsteal++;
		release(&k->lock);
		return true;
	}
	return false;
}

// Allocate one zeroed-or-junk 4096-byte page. Returns NULL when memory is
// exhausted (the caller returns -ENOMEM). Any context; does not sleep.
void *kalloc(void)
{
	push_off();
	int me = cpuid();
	struct kmem *k = &kmem[me];
	struct run *r;
	for (int tries = 0; tries < 2; tries++) {
		acquire(&k->lock);
		r = k->freelist;
		if (r) {
			k->freelist = r->next;
			k->nfree--;
		}
		release(&k->lock);
		if (r || !steal(me))
			break;
	}
	pop_off();
	if (r != NULL)
		__atomic_sub_fetch(&kalloc_nfree, 1, __ATOMIC_RELAXED);
	if (r == NULL && kmalloc_reclaim() > 0)
		return kalloc();  // pages kmalloc kept in empty slabs
	if (r == NULL) {
		__atomic_add_fetch(&alloc_failed, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	if (kalloc_junk)
		memset(r, 5, PGSIZE);  // junk: nobody may rely on zeroes
	return r;
}

// Free pages: on the free lists, and kept by kmalloc in empty slabs
// (kmalloc_reclaim gives those back when the lists run dry). The lists are
// read first: a reclaimed slab leaves kmalloc's count before it reaches
// the lists, so in this order it is never counted twice (at worst, for a
// moment, not at all).
uint64 kalloc_free_pages(void)
{
	uint64 n = __atomic_load_n(&kalloc_nfree, __ATOMIC_SEQ_CST);
	return n + kmalloc_empty_pages();
}

static int sysctl_pages_free(struct sysctl_oid *oid, int64 *val, bool write)
{
	kmcache_drain_local();   // this CPU's cached objects are free
	*val = kalloc_free_pages();
	return 0;
}

static int sysctl_steals(struct sysctl_oid *oid, int64 *val, bool write)
{
	*val = 0;
	for (int i = 0; i < NCPU; i++)
		*val += kmem[i].nsteal;
	return 0;
}

SYSCTL_PROC(vm_pages_free, "vm.pages_free", SYSCTL_RD, sysctl_pages_free,
	    "free physical pages, all CPUs");
SYSCTL_UINT64(vm_pages_total, "vm.pages_total", SYSCTL_RD, &pages_total,
	      "physical pages managed by the allocator");
SYSCTL_PROC(vm_page_steals, "vm.page_steals", SYSCTL_RD, sysctl_steals,
	    "times a CPU refilled its free list from another CPU's");
SYSCTL_UINT64(vm_page_failed, "vm.page_alloc_failed", SYSCTL_RD, &alloc_failed,
	      "page allocations that found no free memory");
