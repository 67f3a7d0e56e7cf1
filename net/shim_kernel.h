// Kernel side of the shim (net/shim.h): types and macros. The functions
// are in net/shim_kernel.c. Included only through net/shim.h.
#pragma once
#include "kernel/types.h"
#include "kernel/lock.h"
#include "kernel/riscv.h"   // intr_get
#include "kernel/printf.h"   // printf, panic, KASSERT
#include "kernel/string.h"   // memset, memcpy, memmove, memcmp, strlen
#include "kernel/sysctl.h"
#include "kernel/callout.h"
#include "kernel/kalloc.h"   // kmalloc_class

// A net_lock is a kernel spinlock (interrupts off while held).
struct net_lock {
	struct spinlock nl_lk;
};
// The lock calls straight to the spinlock (the functions of the same
// names in shim_kernel.c remain, for gdb and function pointers).
// net_lock_held: a CPU holding a spinlock has interrupts off, so with
// them on the answer is "no" without calling holding().
#define net_lock_acquire(lk) acquire(&(lk)->nl_lk)
#define net_lock_release(lk) release(&(lk)->nl_lk)
#define net_lock_held(lk) (!intr_get() && holding(&(lk)->nl_lk))

// mbufs and clusters straight from their kmalloc class (net/shim.h; the
// functions of the same names in shim_kernel.c remain).
#define net_malloc_mbuf() kmalloc_class(KMALLOC_CLASS(256))
#define net_free_mbuf(p) kfree_class(KMALLOC_CLASS(256), (p))
#define net_malloc_cluster() kmalloc_class(KMALLOC_CLASS(2048))
#define net_free_cluster(p) kfree_class(KMALLOC_CLASS(2048), (p))

// A callout is a kernel callout (per-CPU lists, fired by the timer
// interrupt of the CPU that armed it).
struct net_callout {
	struct callout nc_co;
};

// One run-time sysctl knob: the kernel descriptor plus its name.
struct net_sysctl {
	struct sysctl_oid ns_oid;          // [i] on sysctl's dynamic list
	char ns_name[48];                  // [i] NET_SYSCTL_NAMELEN
	bool ns_added;                     // [i]
};

#define NET_SYSCTL_INT(id, nm, fl, p, d) SYSCTL_INT(id, nm, fl, p, d)
#define NET_SYSCTL_INT_RANGE(id, nm, fl, p, lo, hi, d) \
	SYSCTL_INT_RANGE(id, nm, fl, p, lo, hi, d)
#define NET_SYSCTL_UINT32_RANGE(id, nm, fl, p, lo, hi, d) \
	SYSCTL_UINT32_RANGE(id, nm, fl, p, lo, hi, d)
#define NET_SYSCTL_UINT64(id, nm, fl, p, d) SYSCTL_UINT64(id, nm, fl, p, d)
#define NET_SYSCTL_STRPROC(id, nm, fn, d) SYSCTL_STRPROC(id, nm, fn, d)
// fn(int64 *val, bool write) -> 0 or -Exxx: runs in the caller's context
// (the process doing the sysctl), may print and may sleep.
#define NET_SYSCTL_PROC(id, nm, fl, fn, d)                                  \
	static int net_sysctl_proc_##id(struct sysctl_oid *oid, int64 *val, \
					bool write)                           \
	{                                                                     \
		return fn(val, write);                                        \
	}                                                                     \
	SYSCTL_PROC(id, nm, fl, net_sysctl_proc_##id, d)
#define NET_SYSCTL_PROC_RANGE(id, nm, fl, fn, lo, hi, d)                    \
	static int net_sysctl_proc_##id(struct sysctl_oid *oid, int64 *val, \
					bool write)                           \
	{                                                                     \
		return fn(val, write);                                        \
	}                                                                     \
	SYSCTL_PROC_RANGE(id, nm, fl, net_sysctl_proc_##id, lo, hi, d)
