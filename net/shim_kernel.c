// Kernel implementation of the network shim (net/shim.h): each function
// maps one-to-one onto a kernel service in kernel/*.h. The host build
// replaces this file by tests/host/shim_host.c, so keep it thin: no
// network logic belongs here. Invariants and locking are those of the
// kernel service each function wraps (kernel/lock.h legend); this file
// adds no state of its own beyond what its comments name.
#include "net/shim.h"
#include "kernel/param.h"
#include "kernel/proc.h"
#include "kernel/kalloc.h"
#include "kernel/callout.h"
#include "kernel/vm.h"
#include "kernel/sys_poll.h"

void *net_malloc(size_t n)
{
	return kmalloc(n);
}

void net_free(void *p)
{
	kfree(p);
}

void *(net_malloc_mbuf)(void)
{
	return kmalloc_class(KMALLOC_CLASS(256));
}

void (net_free_mbuf)(void *p)
{
	kfree_class(KMALLOC_CLASS(256), p);
}

void *(net_malloc_cluster)(void)
{
	return kmalloc_class(KMALLOC_CLASS(2048));
}

void (net_free_cluster)(void *p)
{
	kfree_class(KMALLOC_CLASS(2048), p);
}

void net_lock_init(struct net_lock *lk, const char *name)
{
	initlock(&lk->nl_lk, name);
}

void (net_lock_acquire)(struct net_lock *lk)
{
	acquire(&lk->nl_lk);
}

void (net_lock_release)(struct net_lock *lk)
{
	release(&lk->nl_lk);
}

bool net_lock_busy(struct net_lock *lk)
{
	return __atomic_load_n(&lk->nl_lk.locked, __ATOMIC_RELAXED) != 0;
}

// holding() compares with mycpu(), which needs interrupts off. A CPU
// holding a spinlock has interrupts off, so with them on the answer is
// "no" without looking (and without push_off/pop_off).
bool (net_lock_held)(struct net_lock *lk)
{
	if (intr_get())
		return false;
	return holding(&lk->nl_lk);
}

void net_sleep(void *chan, struct net_lock *lk)
{
	sleep(chan, &lk->nl_lk);
}

int net_sleep_timeout(void *chan, struct net_lock *lk, int ms)
{
	return sleep_timeout(chan, &lk->nl_lk, ms);
}

void net_wakeup(void *chan)
{
	wakeup(chan);
}

void net_wakeup_lazy(void *chan)
{
	wakeup_lazy(chan);
}

void net_hurry(void *thread)
{
	sched_hurry(thread);
}

void net_yield(void)
{
	yield();
}

int net_kthread_create(const char *name, void (*fn)(void *), void *arg, int cpu)
{
	return kthread_create(name, fn, arg, cpu);
}

void *net_curthread(void)
{
	return myproc();
}

// Interrupts off only around the read of tp (so the thread cannot move
// between the read and the return): intr_save/intr_restore are a CSR
// access each, where push_off/pop_off were two calls with their
// bookkeeping; the receive path asks several times per segment (2% of
// its instructions).
int net_cpuid(void)
{
	bool on = intr_save();
	int id = cpuid();
	intr_restore(on);
	return id;
}

int net_ncpu(void)
{
	return ncpu;
}

uint64 net_now_ms(void)
{
	return uptime_ms();
}

uint64 net_now_us(void)
{
	return r_time() / (TIMEBASE / 1000000);
}

int net_sysctl_add_u64(struct net_sysctl *ns, const char *name, uint64 *p,
		       const char *descr)
{
	strlcpy(ns->ns_name, name, sizeof(ns->ns_name));
	ns->ns_oid = (struct sysctl_oid){
		.name = ns->ns_name, .descr = descr, .kind = SYSCTL_K_UINT64,
		.flags = SYSCTL_RD, .ptr = p,
	};
	ns->ns_added = true;
	return sysctl_add(&ns->ns_oid);
}

void net_sysctl_del(struct net_sysctl *ns)
{
	if (ns->ns_added)
		sysctl_remove(&ns->ns_oid);
	ns->ns_added = false;
}

int net_sysctl_read(const char *name, int64 *val)
{
	return sysctl_read_int(name, val);
}

// A read copies one mbuf at a time (a segment's 1448 bytes, ~3 per page
// of the user's buffer); each went through copyout's page-table walk. The
// page written last is remembered in the uio, and an mbuf that falls
// inside it is copied there directly: 2% of a Linux -> guest segment's
// instructions (bench/icountab.py --dir l2g, one boot, temporary switch:
// 4,767 / 4,756 -> 4,665 / 4,665 per 1460 B). Why the translation stays
// valid for the uio's life (one system call): a process has one thread,
// and its page table changes only in its own system calls (sbrk, exec)
// and when it exits -- never while it is inside this read; the kernel
// has no copy-on-write, paging out or mmap that could move the page.
int net_uiomove_out(const void *src, size_t n, struct uio *uio)
{
	KASSERT(n <= uio->uio_resid);
	uint64 va = uio->uio_addr, off = va & (PGSIZE - 1);
	if (!uio->uio_user || n == 0) {
		if (either_copyout(uio->uio_user, va, src, n) < 0)
			return -EFAULT;
	} else if (uio->uio_pgpa != 0 && va - off == uio->uio_pgva && off + n <= PGSIZE) {
		memmove((void *)(uio->uio_pgpa + off), src, n);
	} else {
		uint64 page = 0;
		if (copyout_page(myproc()->pagetable, va, src, n, &page) < 0)
			return -EFAULT;
		uio->uio_pgva = (va + n - 1) & ~(uint64)(PGSIZE - 1);
		uio->uio_pgpa = page;
	}
	uio->uio_addr += n;
	uio->uio_resid -= n;
	return 0;
}

int net_uiomove_in(void *dst, size_t n, struct uio *uio)
{
	KASSERT(n <= uio->uio_resid);
	if (either_copyin(dst, uio->uio_user, uio->uio_addr, n) < 0)
		return -EFAULT;
	uio->uio_addr += n;
	uio->uio_resid -= n;
	return 0;
}

bool net_curthread_killed(void)
{
	return killed(myproc());
}

void net_poll_notify(void)
{
	poll_notify();
}

void net_poll_notify_one(void *t)
{
	poll_notify_proc(t);
}

void net_callout_init(struct net_callout *c)
{
	callout_init(&c->nc_co);
}

void net_callout_reset(struct net_callout *c, int ms, void (*fn)(void *), void *arg)
{
	callout_reset(&c->nc_co, ms, fn, arg);
}

bool net_callout_stop(struct net_callout *c)
{
	return callout_stop(&c->nc_co);
}
