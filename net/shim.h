// The shim: the few kernel services the network stack uses, behind one
// interface, so that net/ compiles both into the kernel and on the host.
//
// Problem: TCP and the five mechanisms need fast, deterministic unit tests
// (and fuzzing) on Linux, yet the same source must run in the kernel. An
// #ifdef in every function would make both versions hard to read.
//
// Idea: net/*.c include only this header (plus other net/ headers) for
// kernel services. Each service has one name here; its implementation
// lives in one of two files:
//   kernel: net/shim_kernel.h (types, macros) + net/shim_kernel.c
//   host:   tests/host/shim_host.h + tests/host/shim_host.c (pthreads, a
//           virtual clock the tests advance, a fake interface)
// The choice is made once, below, by __STDC_HOSTED__ (the kernel is built
// -ffreestanding, like kernel/types.h). No #if appears anywhere else in
// net/ (docs/conventions.md rule 8).
//
// What each platform header must provide (types and macros):
//   struct net_lock       a spinlock (kernel) / mutex (host)
//   struct net_sysctl     storage for one run-time sysctl knob
//   struct net_callout    a timed call (see net_callout_reset)
//   printf, panic, KASSERT(cond)
//   memset, memcpy, memmove, memcmp, strlen
//   NET_SYSCTL_INT(id, name, SYSCTL_RD, int *ptr, descr)
//   NET_SYSCTL_INT_RANGE(id, name, SYSCTL_RW, int *ptr, min, max, descr)
//   NET_SYSCTL_UINT32_RANGE(id, name, SYSCTL_RW, uint32 *ptr, min, max, descr)
//   NET_SYSCTL_UINT64(id, name, SYSCTL_RD, uint64 *ptr, descr)
//   NET_SYSCTL_PROC(id, name, SYSCTL_RD, fn, descr)
//   NET_SYSCTL_PROC_RANGE(id, name, SYSCTL_RW, fn, min, max, descr)
//   NET_SYSCTL_STRPROC(id, name, sysctl_strfn_t fn, descr)  (read-only)
//     static knobs, declared next to their variable (see kernel/sysctl.h):
//     a writable knob must declare the range of values it accepts (a
//     write outside is EINVAL), or it does not compile.
// and the functions declared below.
#pragma once
#include "kernel/types.h"
#include "kernel/errno.h"
#include "kernel/sysctl.h"   // SYSCTL_RD, SYSCTL_RW

#if __STDC_HOSTED__
#include "tests/host/shim_host.h"
#else
#include "net/shim_kernel.h"
#endif

// ---- memory ---------------------------------------------------------------
// Never sleep; NULL when memory is exhausted. net_malloc(2048) comes from
// the kernel's 2048-byte kmalloc class (mbuf clusters rely on that).
// Requests above NET_MALLOC_MAX (one page, kmalloc's limit) return NULL on
// both platforms: bigger structures are built from page-sized pieces.
#define NET_MALLOC_MAX 4096
void *net_malloc(size_t n);
void net_free(void *p);
// The two sizes every packet allocates and frees (net/mbuf.c: a 256-byte
// mbuf, MSIZE, and a 2048-byte cluster, MCLBYTES). The kernel takes them
// from their kmalloc class directly: no size lookup, and the free does
// not look up the page's class (four calls per received segment; ~3% of
// its instructions went to those lookups). What net_malloc_mbuf gave
// must go back through net_free_mbuf, a cluster through
// net_free_cluster. (A platform header may define them as macros, as
// the kernel's does.)
void *(net_malloc_mbuf)(void);
void (net_free_mbuf)(void *p);
void *(net_malloc_cluster)(void);
void (net_free_cluster)(void *p);

// ---- locks ----------------------------------------------------------------
// A spinlock in the kernel: interrupts are off on this CPU while it is
// held, and it must not be held across net_sleep (except the one passed).
// The name given to net_lock_init is the lock's class: its place in the
// one lock order (LOCK_ORDER in kernel/lock.h), which the kernel checks.
// The names in parentheses: a platform header may also define them as
// macros, so the hot paths call the lock directly (the kernel's do: two
// calls per lock instead of four, about 50 locks per loopback ping).
void net_lock_init(struct net_lock *lk, const char *name);
void (net_lock_acquire)(struct net_lock *lk);
void (net_lock_release)(struct net_lock *lk);
bool (net_lock_held)(struct net_lock *lk);   // by this CPU/thread
// Is lk held by anyone right now? A racy peek, for statistics only.
bool net_lock_busy(struct net_lock *lk);
// net_lock_acquire that also counts contention: if lk was busy when we
// arrived, adds 1 to *waits and the microseconds spent waiting (spinning,
// in the kernel) to *wait_us. Both counters are relaxed atomics. Costs one
// load when the lock is free. Shows what a lock-avoiding mechanism saves
// (net.ifq.<if>.waits, net.inet.udp.sbwaits ...). One definition for the
// kernel and the host tests (net_now_us is declared below).
uint64 net_now_us(void);
static inline void net_lock_acquire_counted(struct net_lock *lk, uint64 *waits,
					    uint64 *wait_us)
{
	if (!net_lock_busy(lk)) {
		net_lock_acquire(lk);
		return;
	}
	uint64 t0 = net_now_us();
	net_lock_acquire(lk);
	__atomic_add_fetch(wait_us, net_now_us() - t0, __ATOMIC_RELAXED);
	__atomic_add_fetch(waits, 1, __ATOMIC_RELAXED);
}

// ---- waiting --------------------------------------------------------------
// xv6 sleep/wakeup: net_sleep atomically releases lk and waits until
// net_wakeup(chan); it reacquires lk before returning. Wakeups may be
// spurious: callers loop on their condition. Thread context only.
void net_sleep(void *chan, struct net_lock *lk);
// As net_sleep, but returns -ETIMEDOUT after ms milliseconds, else 0.
int net_sleep_timeout(void *chan, struct net_lock *lk, int ms);
void net_wakeup(void *chan);
// As net_wakeup, but a thread woken onto the caller's CPU does not preempt
// the caller (kernel: wakeup_lazy); net_hurry(thread) lets such a thread
// preempt its CPU after all (a message that must not wait came).
void net_wakeup_lazy(void *chan);
void net_hurry(void *thread);
// Let other threads run (used by polling waits such as ifq_barrier).
void net_yield(void);

// ---- threads and CPUs -----------------------------------------------------
// Start fn(arg) in a new kernel thread, pinned to cpu (cpu < 0: any).
// Returns a positive id, or -ENOMEM / -EAGAIN / -EINVAL.
int net_kthread_create(const char *name, void (*fn)(void *), void *arg, int cpu);
// The running thread, as an opaque pointer (identity only).
void *net_curthread(void);
int net_cpuid(void);   // CPU this code runs on (may change unless pinned)
int net_ncpu(void);    // number of CPUs, >= 1

// ---- time -----------------------------------------------------------------
// Milliseconds since boot (kernel), or the virtual clock (host tests).
uint64 net_now_ms(void);
// Microseconds since boot (kernel: the time CSR), or the virtual clock x
// 1000 (host tests). For statistics.
uint64 net_now_us(void);

// ---- callouts ---------------------------------------------------------------
// A one-shot timed call: fn(arg) runs once, ms milliseconds after
// net_callout_reset, on the CPU that armed it -- in interrupt context in
// the kernel (kernel/callout.c), in the test thread at host_callout_run()
// on the host. fn must not sleep; TCP's only sends a message to its
// netisr. Reset re-arms a pending callout; stop returns whether it was
// pending, and on return fn is not running (unless stop is called by fn).
// struct net_callout comes from the platform header.
void net_callout_init(struct net_callout *c);
void net_callout_reset(struct net_callout *c, int ms, void (*fn)(void *), void *arg);
bool net_callout_stop(struct net_callout *c);

// ---- user memory, signals, poll ---------------------------------------------
// A uio names the user's buffer of one read/write/sendto/recvfrom: the
// socket layer copies through it and never sees a user pointer itself.
// Kernel: uio_user -> copyin/copyout of the current process (a bad address
// gives -EFAULT), else uio_addr is a kernel address. Host: uio_addr is
// always a plain pointer (memcpy). Each move advances uio_addr and
// decrements uio_resid by n. A uio lives for one system call; initialise
// the fields after uio_user to zero.
struct uio {
	uint64 uio_addr;     // [o] where the next byte goes / comes from
	size_t uio_resid;    // [o] bytes still to move
	bool uio_user;       // [o] uio_addr is a user address
	// Kernel, net_uiomove_out: the user page written last and its
	// physical address (uio_pgpa 0: none yet), so that the next mbuf
	// copied into the same page needs no page-table walk. Host: unused.
	uint64 uio_pgva, uio_pgpa;   // [o]
};
// Copy n bytes from kernel src to the uio / from the uio to kernel dst.
// 0 or -EFAULT (nothing advanced then). Does not sleep: may be called
// holding a net_lock.
int net_uiomove_out(const void *src, size_t n, struct uio *uio);
int net_uiomove_in(void *dst, size_t n, struct uio *uio);
// Has the current thread been killed (a blocking wait returns -EINTR)?
// Host: always false.
bool net_curthread_killed(void);
// Something a poll(2) may be waiting for changed (data arrived, room
// appeared, a socket closed): kernel/sys_poll.c poll_notify(). Any context,
// any net lock held except the leaves (arp, ipq, icmp): it takes poll_lock
// and p->locks, which come after every other net lock. Host: a counter.
void net_poll_notify(void);
// The same, waking only thread t (a net_curthread() value) if it polls.
void net_poll_notify_one(void *t);

// ---- sysctl knobs created at run time ---------------------------------------
// Register *p under name (copied into ns; at most NET_SYSCTL_NAMELEN-1
// chars). ns must stay allocated until net_sysctl_del(ns).
#define NET_SYSCTL_NAMELEN 48
int net_sysctl_add_u64(struct net_sysctl *ns, const char *name, uint64 *p,
		       const char *descr);
void net_sysctl_del(struct net_sysctl *ns);
// Read a knob by name (tests and kernel code). 0 or -ENOENT.
int net_sysctl_read(const char *name, int64 *val);
