// Small-object allocator: kmalloc(n) / kfree(p) by size class.
//
// Problem: the network stack allocates many small objects (mbufs, pcbs,
// messages), 2 KiB clusters and page-size clusters (large socket writes,
// net/mbuf.c); a whole page for each small one wastes memory, and a
// general-purpose heap is more than a teaching kernel needs.
// Idea: slabs. Each size class (32 ... 4096 bytes) carves whole pages
// into equal objects. What class a page belongs to, and its free objects,
// are kept in a side table indexed by page number (slabinfo[]), so the
// objects themselves carry no header and a 2048-byte class fits two to a
// page. The largest class (KM_PAGECLASS, 2049 ... 4096 bytes) is a slab
// of one object, the page itself: it goes through the same per-CPU caches
// (kernel/kmcache.c) as the small classes, so an mbuf page cluster costs
// what a 2 KiB cluster does, not a kalloc and a kfree_page each.
// Empty slabs: a class keeps up to vm.kmalloc.keep_empty slabs whose
// objects are all free (default: no limit) instead of giving the page
// straight back, so allocating and freeing one size again and again does
// not cost a kalloc, a kfree_page and a re-carving each time. The kept
// pages still count as free memory: kalloc_free_pages() (sysctl
// vm.pages_free, which the usertests memory check compares) adds
// kmalloc_empty_pages(), and a kalloc that finds no free page calls
// kmalloc_reclaim() to release them before it gives up.
// Why no limit: a TCP receiver's clusters come and go in waves as large
// as its socket buffer (Linux -> guest over the e1000: up to ~1,700
// clusters, ~870 pages, in use at the peak, ~250 at the trough); with 2
// slabs kept, about every second cluster came from a freshly carved page
// and went back to kalloc when its slab emptied: 0.48 slabs carved per
// 1460 B received, ~6% of the receiver's instructions
// (bench/icountab.py --dir l2g, one -icount boot: keep_empty 2 -> no
// limit: 5,564 / 5,547 -> 5,238 / 5,233 instructions per 1460 B; 32 had
// given only 0.6% less: the wave is larger). The pages are not lost to
// the rest of the kernel: kalloc takes them back when its lists run dry.
//
// Invariants: a page is in at most one class; a slab is on its class's
// partial list iff it has at least one free object; si_inuse counts the
// allocated objects of a slab; kcls[c].nempty counts the slabs of class c
// with si_inuse == 0 (all on the partial list), at most kmalloc_keep_empty
// after a kmslab_free (lowering the limit takes effect at the next one).
// Locking: kcls[c].lock protects class c's partial list, counters, and the
// slabinfo entries of its slabs [s]. Never held with another class lock.
// Any context, never sleeps.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/riscv.h"
#include "kernel/lock.h"
#include "kernel/printf.h"
#include "kernel/string.h"
#include "kernel/kalloc.h"
#include "kernel/sysctl.h"
#include "kernel/kmcache.h"

#define NCLASS KM_NCLASS  // 32, 64, 128, 256, 512, 1024, 2048, 4096
#define CLASS_NONE 0xff   // page not owned by kmalloc
#define NPAGES ((PHYSTOP - KERNBASE) / PGSIZE)
#define KMALLOC_KEEP_EMPTY_MAX (NPAGES)  // "no limit": more than RAM holds

struct slabinfo {
	uint8 si_class;          // [s] CLASS_NONE or a class
	uint16 si_inuse;         // [s] allocated objects in this slab
	void *si_free;           // [s] free objects, linked through their first word
	struct slabinfo *si_next, *si_prev;  // [s] class's partial list
};

static struct slabinfo slabinfo[NPAGES];

static struct kclass {
	struct spinlock lock;
	struct slabinfo *partial;  // [s] slabs with a free object
	uint64 inuse;              // [s] objects allocated
	uint64 pages;              // [s] pages held by this class
	uint64 nempty;             // [s] slabs with no object allocated
	uint64 carved;             // [s] slabs made from a fresh page, ever
} kcls[NCLASS];

static uint64 kmalloc_failed;  // [a]
static int kmalloc_keep_empty = KMALLOC_KEEP_EMPTY_MAX;  // [a] vm.kmalloc.keep_empty

SYSCTL_INT_RANGE(kmalloc_keep, "vm.kmalloc.keep_empty", SYSCTL_RW, &kmalloc_keep_empty,
		 0, KMALLOC_KEEP_EMPTY_MAX,
		 "empty slabs a size class keeps (counted as free; kalloc takes them back "
		 "when it runs dry); the maximum: no limit");

static inline size_t class_size(int c) { return (size_t)32 << c; }

static struct slabinfo *page_info(void *p)
{
	return &slabinfo[((uint64)p - KERNBASE) / PGSIZE];
}

static void *info_page(struct slabinfo *si)
{
	return (void *)(KERNBASE + (uint64)(si - slabinfo) * PGSIZE);
}

void kmalloc_init(void)
{
	for (int c = 0; c < NCLASS; c++)
		initlock(&kcls[c].lock, "kmalloc");
	for (uint64 i = 0; i < NPAGES; i++)
		slabinfo[i].si_class = CLASS_NONE;
}

static void list_remove(struct kclass *k, struct slabinfo *si)
{
	if (si->si_prev)
		si->si_prev->si_next = si->si_next;
	else
		k->partial = si->si_next;
	if (si->si_next)
		si->si_next->si_prev = si->si_prev;
	si->si_next = si->si_prev = NULL;
}

static void list_push(struct kclass *k, struct slabinfo *si)
{
	si->si_prev = NULL;
	si->si_next = k->partial;
	if (k->partial)
		k->partial->si_prev = si;
	k->partial = si;
}

// Carve a fresh page into objects of class c. Caller holds kcls[c].lock.
static void slab_add(int c, char *page)
{
	struct slabinfo *si = page_info(page);
	size_t sz = class_size(c);
	si->si_class = c;
	si->si_inuse = 0;
	si->si_free = NULL;
	for (size_t off = PGSIZE; off >= sz; off -= sz) {
		void **obj = (void **)(page + off - sz);
		*obj = si->si_free;
		si->si_free = obj;
	}
	kcls[c].pages++;
	kcls[c].nempty++;
	kcls[c].carved++;
	list_push(&kcls[c], si);
}

// Take an empty slab si off class k and return its page, for the caller
// to kfree_page once it has dropped k->lock. Caller holds k->lock.
static void *slab_release(struct kclass *k, struct slabinfo *si)
{
	list_remove(k, si);
	si->si_class = CLASS_NONE;
	k->pages--;
	return info_page(si);
}

// Give back to kalloc the pages of a list slab_release's callers built
// (each page's first word links the next) once k->lock is dropped; how
// many.
static int free_page_list(void **pages)
{
	int n = 0;
	while (pages) {
		void **next = *pages;
		kfree_page(pages);
		pages = next;
		n++;
	}
	return n;
}

// The smallest class that holds n bytes: 32 << c >= n, i.e. c is the
// bit length of (n - 1) / 32, looked up in a table for n <= 2048 (the
// ISA has no count-leading-zeros instruction without Zbb: libgcc's
// __clzdi2 cost more than the rest of kmalloc's fast path).
static const uint8 class_of[64] = {
	[0] = 0, [1] = 1, [2 ... 3] = 2, [4 ... 7] = 3,
	[8 ... 15] = 4, [16 ... 31] = 5, [32 ... 63] = 6,
};

static int size_class(size_t n)
{
	if (n <= 32)
		return 0;
	if (n > 2048)
		return KM_PAGECLASS;
	return class_of[(n - 1) >> 5];
}

// Take up to n objects of class c (c < NCLASS) off the slabs into v[];
// returns how many (0: memory exhausted). Carves a fresh page only when no
// slab has a free object, so it may return fewer than n: the page class
// (a slab is one object) gets its kept empty slabs and one fresh page at
// most, so a CPU that needs one page does not take half a cache of them.
// Any context.
int kmslab_alloc(int c, void **v, int n)
{
	struct kclass *k = &kcls[c];
	acquire(&k->lock);
	if (k->partial == NULL) {
		release(&k->lock);
		char *page = kalloc();  // outside the lock: kalloc may steal
		if (page == NULL)
			return 0;
		acquire(&k->lock);
		slab_add(c, page);
	}
	int got = 0;
	while (got < n && k->partial != NULL) {
		struct slabinfo *si = k->partial;
		void **obj = si->si_free;
		si->si_free = *obj;
		if (si->si_inuse++ == 0)
			k->nempty--;
		if (si->si_free == NULL)
			list_remove(k, si);
		v[got++] = obj;
	}
	k->inuse += got;
	release(&k->lock);
	return got;
}

// Put n objects of class c back on their slabs. Slabs that become empty
// beyond the vm.kmalloc.keep_empty kept ones go back to kalloc, after the
// lock is dropped (linked through their first word meanwhile). Any
// context.
void kmslab_free(int c, void **v, int n)
{
	struct kclass *k = &kcls[c];
	void **pages = NULL;
	uint64 keep = (uint64)__atomic_load_n(&kmalloc_keep_empty, __ATOMIC_RELAXED);
	acquire(&k->lock);
	k->inuse -= n;
	for (int i = 0; i < n; i++) {
		void *p = v[i];
		struct slabinfo *si = page_info(p);
		KASSERT(si->si_class == c);
		KASSERT(((uint64)p - (uint64)info_page(si)) % class_size(c) == 0);
		if (si->si_free == NULL)
			list_push(k, si);   // was full, has a free object now
		*(void **)p = si->si_free;
		si->si_free = p;
		if (--si->si_inuse == 0) {
			if (k->nempty < keep) {
				k->nempty++;  // keep it for the next kmalloc
			} else {
				void **page = slab_release(k, si);
				*page = pages;
				pages = page;
			}
		}
	}
	release(&k->lock);
	free_page_list(pages);
}

// Allocate n bytes (n <= PGSIZE). Returns NULL if n is too large or
// memory is exhausted. Contents are junk; see kzalloc. Objects come from
// this CPU's cache of their class (kernel/kmcache.c); 2049 ... 4096 bytes
// is a whole page, page-aligned.
void *kmalloc(size_t n)
{
	if (n > PGSIZE)
		goto fail;
	void *obj = kmcache_get(size_class(n));
	if (obj == NULL)
		goto fail;
	return obj;

fail:
	__atomic_add_fetch(&kmalloc_failed, 1, __ATOMIC_RELAXED);
	return NULL;
}

// kernel/kalloc.h: an object of class c from this CPU's cache, as kmalloc
// does once it has the class.
void *kmalloc_class(int c)
{
	void *obj = kmcache_get(c);
	if (obj == NULL)
		__atomic_add_fetch(&kmalloc_failed, 1, __ATOMIC_RELAXED);
	return obj;
}

void kfree_class(int c, void *p)
{
	kmcache_put(c, p);
}

void *kzalloc(size_t n)
{
	void *p = kmalloc(n);
	if (p)
		memset(p, 0, n);
	return p;
}

// Free an object from kmalloc. kfree(NULL) does nothing.
void kfree(void *p)
{
	if (p == NULL)
		return;
	if ((uint64)p < KERNBASE || (uint64)p >= PHYSTOP)
		panic("kfree: bad pointer %p", p);
	struct slabinfo *si = page_info(p);
	int c = si->si_class;   // stable: the object is ours until freed
	if (c == CLASS_NONE)
		panic("kfree: %p not from kmalloc", p);
	KASSERT(((uint64)p - (uint64)info_page(si)) % class_size(c) == 0);
	kmcache_put(c, p);
}

// Pages held in empty slabs (free memory kmalloc keeps for itself). Any
// context; a snapshot.
uint64 kmalloc_empty_pages(void)
{
	uint64 n = 0;
	for (int c = 0; c < NCLASS; c++)
		n += __atomic_load_n(&kcls[c].nempty, __ATOMIC_RELAXED);
	return n;
}

static int sysctl_carved(struct sysctl_oid *oid, int64 *val, bool write)
{
	*val = kmalloc_slabs_carved();
	return 0;
}

static int sysctl_empty(struct sysctl_oid *oid, int64 *val, bool write)
{
	kmcache_drain_local();
	*val = kmalloc_empty_pages();
	return 0;
}

// Slabs carved from fresh pages since boot, all classes: with empty
// slabs kept, a steady alloc/free of one size stops adding to it.
uint64 kmalloc_slabs_carved(void)
{
	uint64 n = 0;
	for (int c = 0; c < NCLASS; c++)
		n += __atomic_load_n(&kcls[c].carved, __ATOMIC_RELAXED);
	return n;
}

// Give every empty slab back to kalloc; returns how many pages it freed.
// Called by kalloc when it finds no free page. Any context; takes the
// class locks one at a time, and none while calling kfree_page. One walk
// of each class's partial list collects its empty slabs (linked through
// their pages' first word): with no limit on kept slabs there may be
// hundreds, between slabs that are in use.
uint64 kmalloc_reclaim(void)
{
	uint64 freed = 0;
	kmcache_drain_local();   // other CPUs drain theirs when idle
	for (int c = 0; c < NCLASS; c++) {
		struct kclass *k = &kcls[c];
		void **pages = NULL;
		acquire(&k->lock);
		for (struct slabinfo *si = k->partial, *next; si; si = next) {
			next = si->si_next;
			if (si->si_inuse == 0) {
				k->nempty--;
				void **page = slab_release(k, si);
				*page = pages;
				pages = page;
			}
		}
		release(&k->lock);
		freed += free_page_list(pages);
	}
	return freed;
}

// Pages of slabs that hold at least one object, all classes. How objects
// are spread over pages moves with the order of frees (an e1000 RX ring
// refilled while the stack frees the clusters it handed up may end with
// one cluster per page), so a leak check compares vm.pages_free plus this
// (and every class's inuse), not vm.pages_free alone.
static int sysctl_busy_pages(struct sysctl_oid *oid, int64 *val, bool write)
{
	kmcache_drain_local();
	uint64 n = 0;
	for (int c = 0; c < NCLASS; c++)
		n += __atomic_load_n(&kcls[c].pages, __ATOMIC_RELAXED);
	*val = n - kmalloc_empty_pages();
	return 0;
}
SYSCTL_PROC(kmalloc_busy, "vm.kmalloc.busy_pages", SYSCTL_RD, sysctl_busy_pages,
	    "pages of slabs holding at least one object (and whole-page objects)");
SYSCTL_PROC(kmalloc_empty, "vm.kmalloc.empty_pages", SYSCTL_RD, sysctl_empty,
	    "pages kept in empty slabs (counted in vm.pages_free)");
SYSCTL_PROC(kmalloc_carved, "vm.kmalloc.slabs_carved", SYSCTL_RD, sysctl_carved,
	    "slabs made from a fresh page since boot, all classes");
// Objects of one class allocated now: taken off the slabs, less those
// sitting free in the per-CPU caches (a snapshot).
static int sysctl_inuse(struct sysctl_oid *oid, int64 *val, bool write)
{
	kmcache_drain_local();
	struct kclass *k = oid->ptr;
	int c = k - kcls;
	uint64 n = __atomic_load_n(&k->inuse, __ATOMIC_RELAXED);
	uint64 cached = kmcache_cached(c);
	*val = n > cached ? n - cached : 0;
	return 0;
}
#define KMALLOC_INUSE(id, nm, c, d) SYSCTL_OID(id, nm, SYSCTL_K_PROC, SYSCTL_RD, &kcls[c], sysctl_inuse, 0, 0, d)
KMALLOC_INUSE(kmalloc_32, "vm.kmalloc.32.inuse", 0, "32-byte objects allocated");
KMALLOC_INUSE(kmalloc_64, "vm.kmalloc.64.inuse", 1, "64-byte objects allocated");
KMALLOC_INUSE(kmalloc_128, "vm.kmalloc.128.inuse", 2, "128-byte objects allocated");
KMALLOC_INUSE(kmalloc_256, "vm.kmalloc.256.inuse", 3, "256-byte objects allocated");
KMALLOC_INUSE(kmalloc_512, "vm.kmalloc.512.inuse", 4, "512-byte objects allocated");
KMALLOC_INUSE(kmalloc_1024, "vm.kmalloc.1024.inuse", 5, "1024-byte objects allocated");
KMALLOC_INUSE(kmalloc_2048, "vm.kmalloc.2048.inuse", 6, "2048-byte objects allocated");
KMALLOC_INUSE(kmalloc_page, "vm.kmalloc.page.inuse", KM_PAGECLASS, "whole-page (2049-4096 byte) objects allocated");
SYSCTL_UINT64(kmalloc_fail, "vm.kmalloc.failed", SYSCTL_RD, &kmalloc_failed, "kmalloc calls that returned NULL");
