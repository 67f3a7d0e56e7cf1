// Virtual memory: the kernel page table and per-process user page tables,
// and copying between kernel and user space.
//
// copyin/copyout/copyinstr check every user address: an address that is
// not mapped, not user-accessible, or (for copyout) not writable gives
// -EFAULT, never a fault in the kernel.
#pragma once
#include "kernel/types.h"

void kvminit(void);
void kvminithart(void);
void kvmmap(pagetable_t kpgtbl, uint64 va, uint64 pa, uint64 sz, int perm);
int mappages(pagetable_t pt, uint64 va, uint64 size, uint64 pa, int perm);
pte_t *walk(pagetable_t pt, uint64 va, int alloc);
uint64 walkaddr(pagetable_t pt, uint64 va);
pagetable_t uvmcreate(void);
int uvmalloc(pagetable_t pt, uint64 oldsz, uint64 newsz, int xperm, uint64 *newszp);
uint64 uvmdealloc(pagetable_t pt, uint64 oldsz, uint64 newsz);
int uvmcopy(pagetable_t old, pagetable_t new, uint64 sz);
void uvmfree(pagetable_t pt, uint64 sz);
void uvmunmap(pagetable_t pt, uint64 va, uint64 npages, bool do_free);
void uvmclear(pagetable_t pt, uint64 va);
int copyout(pagetable_t pt, uint64 dstva, const void *src, uint64 len);
int copyout_page(pagetable_t pt, uint64 dstva, const void *src, uint64 len, uint64 *pagepa);
int copyin(pagetable_t pt, void *dst, uint64 srcva, uint64 len);
int copyinstr(pagetable_t pt, char *dst, uint64 srcva, uint64 max);
// Copy to/from either a user address (user_dst/user_src true, in the
// current process) or a kernel address. Return 0 or -EFAULT.
int either_copyout(bool user_dst, uint64 dst, const void *src, uint64 len);
int either_copyin(void *dst, bool user_src, uint64 src, uint64 len);

extern pagetable_t kernel_pagetable;  // [i]
