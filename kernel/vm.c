// Virtual memory: Sv39 page tables for the kernel and for each process,
// and checked copies between kernel and user memory.
//
// Design choice (issue 2): the kernel has its own page table, a direct map
// of RAM and devices, and user processes run on page tables that map only
// the process plus two pages at the top: the trampoline (trampoline.S, the
// code that switches satp on every trap) and the process's trapframe. So a
// user address is never dereferenced directly in the kernel: copyin and
// copyout walk the user page table in software and refuse any address that
// is not mapped with PTE_U (and PTE_W for writes), returning -EFAULT. The
// cost is a satp switch per trap; the gain is that a bad user pointer can
// never make the kernel fault, which a teaching kernel values more.
//
// Locking: a user page table belongs to its process [o]; only that
// process (or its parent in fork/wait, when it cannot run) changes it.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/riscv.h"
#include "kernel/errno.h"
#include "kernel/printf.h"
#include "kernel/string.h"
#include "kernel/kalloc.h"
#include "kernel/proc.h"
#include "kernel/vm.h"

pagetable_t kernel_pagetable;

extern char etext[];       // kernel.ld: end of kernel text
extern char _trampoline[]; // trampoline.S

void proc_mapstacks(pagetable_t kpgtbl);

static pagetable_t kvmmake(void)
{
	pagetable_t kpgtbl = kalloc();
	KASSERT(kpgtbl != NULL);
	memset(kpgtbl, 0, PGSIZE);

	kvmmap(kpgtbl, SIFIVE_TEST, SIFIVE_TEST, PGSIZE, PTE_R | PTE_W);
	kvmmap(kpgtbl, ACLINT_SSWI, ACLINT_SSWI, ACLINT_SSWI_SIZE, PTE_R | PTE_W);
	kvmmap(kpgtbl, ACLINT_MTIMER, ACLINT_MTIMER, ACLINT_MTIMER_SIZE, PTE_R | PTE_W);
	kvmmap(kpgtbl, UART0, UART0, PGSIZE, PTE_R | PTE_W);
	kvmmap(kpgtbl, VIRTIO0, VIRTIO0, PGSIZE, PTE_R | PTE_W);
	kvmmap(kpgtbl, PLIC, PLIC, 0x400000, PTE_R | PTE_W);
	kvmmap(kpgtbl, PCIE_ECAM, PCIE_ECAM, PCIE_ECAM_MAPPED, PTE_R | PTE_W);
	kvmmap(kpgtbl, PCIE_MMIO, PCIE_MMIO, PCIE_MMIO_MAPPED, PTE_R | PTE_W);
	kvmmap(kpgtbl, KERNBASE, KERNBASE, (uint64)etext - KERNBASE, PTE_R | PTE_X);
	kvmmap(kpgtbl, (uint64)etext, (uint64)etext, PHYSTOP - (uint64)etext, PTE_R | PTE_W);
	kvmmap(kpgtbl, TRAMPOLINE, (uint64)_trampoline, PGSIZE, PTE_R | PTE_X);
	proc_mapstacks(kpgtbl);
	return kpgtbl;
}

void kvminit(void)
{
	kernel_pagetable = kvmmake();
}

// Switch this hart to the kernel page table and turn paging on.
void kvminithart(void)
{
	sfence_vma();
	CSR_WRITE(satp, MAKE_SATP(kernel_pagetable));
	sfence_vma();
}

// Return the address of the PTE for va, creating the page-table pages on
// the way if alloc. NULL if va is out of range or a page could not be had.
pte_t *walk(pagetable_t pt, uint64 va, int alloc)
{
	if (va >= MAXVA)
		return NULL;
	for (int level = 2; level > 0; level--) {
		pte_t *pte = &pt[PX(level, va)];
		if (*pte & PTE_V) {
			pt = (pagetable_t)PTE2PA(*pte);
			continue;
		}
		if (!alloc || (pt = kalloc()) == NULL)
			return NULL;
		memset(pt, 0, PGSIZE);
		*pte = PA2PTE(pt) | PTE_V;
	}
	return &pt[PX(0, va)];
}

// Physical address of a user page, or 0 if va is not mapped for user access.
uint64 walkaddr(pagetable_t pt, uint64 va)
{
	pte_t *pte = walk(pt, va, 0);
	if (pte == NULL || (*pte & PTE_V) == 0 || (*pte & PTE_U) == 0)
		return 0;
	return PTE2PA(*pte);
}

// Boot only: a failure here is a kernel bug.
void kvmmap(pagetable_t kpgtbl, uint64 va, uint64 pa, uint64 sz, int perm)
{
	if (mappages(kpgtbl, va, sz, pa, perm) != 0)
		panic("kvmmap");
}

// Map [va, va+size) to [pa, ...). va and size need not be page-aligned.
// Returns 0 or -ENOMEM (pages mapped before the failure stay mapped; the
// caller unmaps them).
int mappages(pagetable_t pt, uint64 va, uint64 size, uint64 pa, int perm)
{
	KASSERT(size != 0);
	uint64 a = PGROUNDDOWN(va);
	uint64 last = PGROUNDDOWN(va + size - 1);
	for (;; a += PGSIZE, pa += PGSIZE) {
		pte_t *pte = walk(pt, a, 1);
		if (pte == NULL)
			return -ENOMEM;
		if (*pte & PTE_V)
			panic("mappages: remap %p", (void *)a);
		*pte = PA2PTE(pa) | perm | PTE_V | PTE_A | PTE_D;
		if (a == last)
			break;
	}
	return 0;
}

// The leaf PTE for va if the page-table pages above it exist, else NULL.
// Either way *span is the size of the aligned region around va that the
// answer covers: PGSIZE for a leaf PTE, 2 MiB or 1 GiB for a missing page
// table, so a caller can step over a hole at once.
static pte_t *walk_existing(pagetable_t pt, uint64 va, uint64 *span)
{
	for (int level = 2; level > 0; level--) {
		pte_t *pte = &pt[PX(level, va)];
		if ((*pte & PTE_V) == 0) {
			*span = 1UL << (PGSHIFT + 9 * level);
			return NULL;
		}
		pt = (pagetable_t)PTE2PA(*pte);
	}
	*span = PGSIZE;
	return &pt[PX(0, va)];
}

// Remove npages of mappings starting at va (page-aligned). Pages that are
// not mapped are skipped (a process has holes: page 0, the stack guard),
// a whole missing page table at a time: the cost follows what is mapped,
// not the length of the range (a failed sbrk of 100 GiB undoes quickly).
void uvmunmap(pagetable_t pt, uint64 va, uint64 npages, bool do_free)
{
	KASSERT((va % PGSIZE) == 0);
	uint64 end = va + npages * PGSIZE;
	uint64 span;   // set by every walk_existing: the region its answer covers
	for (uint64 a = va; a < end && a < MAXVA; a = (a & ~(span - 1)) + span) {
		pte_t *pte = walk_existing(pt, a, &span);
		if (pte == NULL || (*pte & PTE_V) == 0)
			continue;
		if (PTE_FLAGS(*pte) == PTE_V)
			panic("uvmunmap: not a leaf");
		if (do_free)
			kfree_page((void *)PTE2PA(*pte));
		*pte = 0;
	}
}

pagetable_t uvmcreate(void)
{
	pagetable_t pt = kalloc();
	if (pt)
		memset(pt, 0, PGSIZE);
	return pt;
}

// Grow a process from oldsz to newsz bytes with zeroed pages mapped
// user-readable plus xperm. Returns 0, or -ENOMEM with nothing changed.
int uvmalloc(pagetable_t pt, uint64 oldsz, uint64 newsz, int xperm, uint64 *newszp)
{
	uint64 a;
	if (newsz >= TRAPFRAME)
		return -ENOMEM;
	for (a = PGROUNDUP(oldsz); a < newsz; a += PGSIZE) {
		char *mem = kalloc();
		if (mem == NULL)
			goto undo;
		memset(mem, 0, PGSIZE);
		if (mappages(pt, a, PGSIZE, (uint64)mem, PTE_R | PTE_U | xperm) != 0) {
			kfree_page(mem);
			goto undo;
		}
	}
	if (newszp)
		*newszp = newsz > oldsz ? newsz : oldsz;
	return 0;
undo:
	// Unmap what this call mapped, [oldsz, a): not up to newsz.
	uvmdealloc(pt, a, oldsz);
	return -ENOMEM;
}

// Shrink a process from oldsz to newsz; returns the new size.
uint64 uvmdealloc(pagetable_t pt, uint64 oldsz, uint64 newsz)
{
	if (newsz >= oldsz)
		return oldsz;
	if (PGROUNDUP(newsz) < PGROUNDUP(oldsz)) {
		uint64 n = (PGROUNDUP(oldsz) - PGROUNDUP(newsz)) / PGSIZE;
		uvmunmap(pt, PGROUNDUP(newsz), n, true);
	}
	return newsz;
}

// Free the page-table pages themselves; all leaves must be gone already.
static void freewalk(pagetable_t pt)
{
	for (int i = 0; i < 512; i++) {
		pte_t pte = pt[i];
		if ((pte & PTE_V) && (pte & (PTE_R | PTE_W | PTE_X)) == 0) {
			freewalk((pagetable_t)PTE2PA(pte));
			pt[i] = 0;
		} else if (pte & PTE_V) {
			panic("freewalk: leaf left");
		}
	}
	kfree_page(pt);
}

void uvmfree(pagetable_t pt, uint64 sz)
{
	if (sz > 0)
		uvmunmap(pt, 0, PGROUNDUP(sz) / PGSIZE, true);
	freewalk(pt);
}

// Copy the user memory [0, sz) of old into new (fork): page contents and
// permissions, skipping holes. Returns 0 or -ENOMEM (new is left empty).
int uvmcopy(pagetable_t old, pagetable_t new, uint64 sz)
{
	for (uint64 a = 0; a < sz; a += PGSIZE) {
		pte_t *pte = walk(old, a, 0);
		if (pte == NULL || (*pte & PTE_V) == 0)
			continue;
		char *mem = kalloc();
		if (mem == NULL)
			goto undo;
		memmove(mem, (void *)PTE2PA(*pte), PGSIZE);
		if (mappages(new, a, PGSIZE, (uint64)mem, PTE_FLAGS(*pte)) != 0) {
			kfree_page(mem);
			goto undo;
		}
	}
	return 0;
undo:
	uvmunmap(new, 0, PGROUNDUP(sz) / PGSIZE, true);
	return -ENOMEM;
}

// Make a page inaccessible to user mode (not used for the stack guard,
// which is simply left unmapped, but kept for later labs).
void uvmclear(pagetable_t pt, uint64 va)
{
	pte_t *pte = walk(pt, va, 0);
	if (pte)
		*pte &= ~PTE_U;
}

// Physical address backing user va, checking that the page is mapped for
// user access with all of perm. 0 if not.
static uint64 user_pa(pagetable_t pt, uint64 va, int perm)
{
	if (va >= MAXVA)
		return 0;
	pte_t *pte = walk(pt, va, 0);
	if (pte == NULL || (*pte & (PTE_V | PTE_U | perm)) != (PTE_V | PTE_U | perm))
		return 0;
	return PTE2PA(*pte) + (va & (PGSIZE - 1));
}

// Copy len bytes from src to user address dstva. 0 or -EFAULT (some bytes
// may have been copied).
int copyout(pagetable_t pt, uint64 dstva, const void *src, uint64 len)
{
	uint64 page;
	return copyout_page(pt, dstva, src, len, &page);
}

// copyout that also sets *pagepa to the physical address of the last user
// page it wrote to (when it returns 0 and len > 0).
int copyout_page(pagetable_t pt, uint64 dstva, const void *src, uint64 len, uint64 *pagepa)
{
	const char *s = src;
	while (len > 0) {
		uint64 pa = user_pa(pt, dstva, PTE_W);
		if (pa == 0)
			return -EFAULT;
		*pagepa = pa - (dstva & (PGSIZE - 1));
		uint64 n = MIN(PGSIZE - (dstva & (PGSIZE - 1)), len);
		memmove((void *)pa, s, n);
		len -= n;
		s += n;
		dstva += n;
	}
	return 0;
}

// Copy len bytes from user address srcva to dst. 0 or -EFAULT.
int copyin(pagetable_t pt, void *dst, uint64 srcva, uint64 len)
{
	char *d = dst;
	while (len > 0) {
		uint64 pa = user_pa(pt, srcva, PTE_R);
		if (pa == 0)
			return -EFAULT;
		uint64 n = MIN(PGSIZE - (srcva & (PGSIZE - 1)), len);
		memmove(d, (void *)pa, n);
		len -= n;
		d += n;
		srcva += n;
	}
	return 0;
}

// Copy a NUL-terminated string of at most max bytes (with the NUL) from
// user srcva. Returns its length, -EFAULT, or -ENAMETOOLONG if no NUL is
// found within max bytes.
int copyinstr(pagetable_t pt, char *dst, uint64 srcva, uint64 max)
{
	uint64 got = 0;
	while (got < max) {
		uint64 pa = user_pa(pt, srcva, PTE_R);
		if (pa == 0)
			return -EFAULT;
		uint64 n = MIN(PGSIZE - (srcva & (PGSIZE - 1)), max - got);
		const char *p = (const char *)pa;
		for (uint64 i = 0; i < n; i++, got++) {
			dst[got] = p[i];
			if (p[i] == 0)
				return got;
		}
		srcva += n;
	}
	return -ENAMETOOLONG;
}

int either_copyout(bool user_dst, uint64 dst, const void *src, uint64 len)
{
	if (user_dst)
		return copyout(myproc()->pagetable, dst, src, len);
	memmove((void *)dst, src, len);
	return 0;
}

int either_copyin(void *dst, bool user_src, uint64 src, uint64 len)
{
	if (user_src)
		return copyin(myproc()->pagetable, dst, src, len);
	memmove(dst, (void *)src, len);
	return 0;
}
