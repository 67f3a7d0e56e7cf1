// Physical page allocator (per-CPU free lists) and small-object allocator.
//
// kalloc() returns one 4096-byte page, or NULL when memory is exhausted.
// Each CPU has its own free list, so the common path takes only that CPU's
// lock; a CPU whose list is empty steals half of another CPU's list.
//
// kmalloc(n) returns n bytes (n <= PGSIZE) from a size class (32, 64, ...,
// 2048 bytes; larger requests get a whole page, the page class), or NULL. kfree(p) finds
// the class from the page the object lives in. Both may be called from any
// thread or interrupt handler; neither sleeps.
//
// Counters (sysctl vm.*): free pages, pages per CPU, steals, objects in use
// per size class, failed allocations.
// kalloc_junk (sysctl vm.junk_fill, default 1): fill freed and newly
// allocated pages with junk, so a use after free shows; make bench turns
// it off.
#pragma once
#include "kernel/types.h"

void kinit(void);
void *kalloc(void);
void kfree_page(void *pa);
void *kmalloc(size_t n);
void *kzalloc(size_t n);
void kfree(void *p);
// One size class directly, for objects allocated and freed for every
// packet (mbufs and clusters, net/shim.h net_malloc_mbuf ...): no size
// lookup in kmalloc_class, no page lookup or checks in kfree_class.
// c = KMALLOC_CLASS(n) for n <= PGSIZE; kfree_class(c, p) only for a p that
// kmalloc_class(c) returned (not checked). kfree(p) works on it too.
#define KMALLOC_CLASS(n) ((n) <= 32 ? 0 : (n) <= 64 ? 1 : (n) <= 128 ? 2 : (n) <= 256 ? 3 : \
			  (n) <= 512 ? 4 : (n) <= 1024 ? 5 : (n) <= 2048 ? 6 : 7)
void *kmalloc_class(int c);
void kfree_class(int c, void *p);
uint64 kalloc_free_pages(void);
void kmalloc_init(void);
// Pages kmalloc keeps in empty slabs, and giving them back to kalloc.
uint64 kmalloc_empty_pages(void);
uint64 kmalloc_reclaim(void);
uint64 kmalloc_slabs_carved(void);

extern int kalloc_junk;
