// The interface between kmalloc's slabs (kernel/kmalloc.c) and the
// per-CPU object caches in front of them (kernel/kmcache.c). Nothing
// outside those two files calls these; everyone else uses kmalloc/kfree
// (kernel/kalloc.h).
#pragma once
#include "kernel/types.h"

#define KM_NCLASS 8     // size classes: 32 << c bytes, c < KM_NCLASS
#define KM_PAGECLASS 7  // the largest: 4096 bytes, a slab of one object

// kmcache.c: one object of class c from this CPU's cache (refilled from
// the slabs when empty), or NULL when memory ran out; give one back.
void *kmcache_get(int c);
void kmcache_put(int c, void *p);
// Switch the caches on or off (vm.kmalloc.pcpu_cache); returns the old
// setting. Off: kmcache_get/put go to the slabs one object at a time.
bool kmcache_enable(bool on);
// Objects of class c sitting in the caches of all CPUs (a snapshot).
uint64 kmcache_cached(int c);
// Give everything this CPU's caches hold back to the slabs. Any context.
// The sysctls that count memory call it first, so a reader does not see
// its own CPU's cached objects (say, of the command that reads) as used.
void kmcache_drain_local(void);
// From the timer interrupt: drain this CPU's caches once they have not
// been used for a while (KMC_IDLE_TICKS).
void kmcache_tick(void);

// kmalloc.c: move objects between the slabs of class c and v[] in one
// lock hold. kmslab_alloc returns how many it took (1..n), 0 if memory
// ran out.
int kmslab_alloc(int c, void **v, int n);
void kmslab_free(int c, void **v, int n);
