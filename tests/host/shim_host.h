// Host side of the shim (net/shim.h): types and macros for building net/
// on Linux with gcc and pthreads. Functions: tests/host/shim_host.c.
// Extra test-only services (virtual clock, fake CPUs, fake interface) are
// declared at the end; net/ code must not use them.
#pragma once
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include "kernel/types.h"

struct net_lock {
	pthread_mutex_t nl_mu;
	pthread_t nl_owner;      // valid while nl_held
	int nl_held;             // [a]
	const char *nl_name;
	int nl_level, nl_flags;  // [i] from kernel/lock.h LOCK_ORDER (0: not there)
};

enum host_sysctl_kind { HOST_SYSCTL_INT, HOST_SYSCTL_UINT32, HOST_SYSCTL_UINT64 };

struct host_sysctl {
	const char *hs_name;
	enum host_sysctl_kind hs_kind;
	void *hs_ptr;
	int hs_flags;            // SYSCTL_RD / SYSCTL_RW (| SYSCTL_ACT)
	int64 hs_min, hs_max;    // writable: the range host_sysctl_write accepts
	struct host_sysctl *hs_next;
};

struct net_sysctl {
	struct host_sysctl ns_hs;
	char ns_name[48];
	bool ns_added;
};

// A callout on the host: a list entry fired by host_callout_run().
struct net_callout {
	struct net_callout *nc_next;   // host_callouts list while pending
	uint64 nc_when;                // virtual-clock deadline
	void (*nc_fn)(void *);
	void *nc_arg;
	bool nc_pending;
};

void host_panic(const char *file, int line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));
#define panic(...) host_panic(__FILE__, __LINE__, __VA_ARGS__)
#define KASSERT(cond)                                                    \
	do {                                                             \
		if (!(cond))                                             \
			panic("assertion \"%s\" failed", #cond);         \
	} while (0)

void host_sysctl_register(struct host_sysctl *hs);
// Calls of net_wakeup so far (tests count the wakeups a path costs).
extern uint64 host_wakeups;
extern uint64 host_hurries;
// Calls of net_malloc so far (tests count the allocations a path costs).
extern uint64 host_mallocs;
extern bool host_malloc_fail;   // while true, every net_malloc fails (ENOBUFS paths)
// The same compile-time checks as the kernel's macros (kernel/sysctl.h).
#define HOST_SYSCTL_(id, nm, kd, fl, p, lo, hi)                               \
	static struct host_sysctl host_sysctl_##id = { nm, kd, p, fl, lo, hi, NULL }; \
	__attribute__((constructor)) static void host_sysctl_reg_##id(void)  \
	{                                                                     \
		host_sysctl_register(&host_sysctl_##id);                      \
	}
#define NET_SYSCTL_INT(id, nm, fl, p, d)                                      \
	SYSCTL_ASSERT_RD(fl);                                                 \
	HOST_SYSCTL_(id, nm, HOST_SYSCTL_INT, fl, p, 0, 0)
#define NET_SYSCTL_INT_RANGE(id, nm, fl, p, lo, hi, d)                        \
	SYSCTL_ASSERT_RANGE(fl, lo, hi, -2147483648L, 2147483647L);           \
	HOST_SYSCTL_(id, nm, HOST_SYSCTL_INT, fl, p, lo, hi)
#define NET_SYSCTL_UINT32_RANGE(id, nm, fl, p, lo, hi, d)                     \
	SYSCTL_ASSERT_RANGE(fl, lo, hi, 0L, 0xffffffffL);                     \
	HOST_SYSCTL_(id, nm, HOST_SYSCTL_UINT32, fl, p, lo, hi)
#define NET_SYSCTL_UINT64(id, nm, fl, p, d)                                   \
	SYSCTL_ASSERT_RD(fl);                                                 \
	HOST_SYSCTL_(id, nm, HOST_SYSCTL_UINT64, fl, p, 0, 0)
// Handler knobs are not registered on the host: tests call the function.
#define NET_SYSCTL_STRPROC(id, nm, fn, d) \
	static const sysctl_strfn_t host_sysctl_strproc_##id __attribute__((unused)) = fn
#define NET_SYSCTL_PROC(id, nm, fl, fn, d)                                    \
	SYSCTL_ASSERT_RD(fl);                                                 \
	static int (*const host_sysctl_proc_##id)(int64 *, bool) __attribute__((unused)) = fn
#define NET_SYSCTL_PROC_RANGE(id, nm, fl, fn, lo, hi, d)                      \
	SYSCTL_ASSERT_RANGE(fl, lo, hi, -0x7fffffffffffffffL, 0x7fffffffffffffffL); \
	static int (*const host_sysctl_proc_##id)(int64 *, bool) __attribute__((unused)) = fn

// ---- test-only services ----------------------------------------------------
void host_clock_advance(uint64 ms);        // move the virtual clock
void host_set_ncpu(int n);                 // fake CPU count (default 2)
void host_set_cpuid(int cpu);              // fake CPU of this thread
// Write a registered knob: 0, -ENOENT, -EPERM (read-only) or -EINVAL
// (outside its declared range), as sysctl(2) in the kernel.
int host_sysctl_write(const char *name, int64 val);
// net_uiomove_out fails with -EFAULT on a copy that touches this address
// (0: never).
extern uint64 host_uio_fault_addr;
// Call fn on every registered knob (static and run-time ones).
void host_sysctl_foreach(void (*fn)(const struct host_sysctl *hs, void *arg), void *arg);
extern uint64 host_poll_notifies;          // net_poll_notify() calls so far
extern uint64 host_poll_notifies_one;      // of which net_poll_notify_one()
extern void *host_poll_notified;           // the thread the last of those named
// Fire every callout due at the virtual clock's time, earliest first, in
// the calling thread. Returns how many ran.
int host_callout_run(void);
// The earliest pending deadline, or 0 if none.
uint64 host_callout_next(void);
