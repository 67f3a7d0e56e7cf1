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
};

enum host_sysctl_kind { HOST_SYSCTL_INT, HOST_SYSCTL_UINT64 };

struct host_sysctl {
	const char *hs_name;
	enum host_sysctl_kind hs_kind;
	void *hs_ptr;
	struct host_sysctl *hs_next;
};

struct net_sysctl {
	struct host_sysctl ns_hs;
	char ns_name[48];
	bool ns_added;
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
#define HOST_SYSCTL_(id, nm, kd, p)                                          \
	static struct host_sysctl host_sysctl_##id = { nm, kd, p, NULL };    \
	__attribute__((constructor)) static void host_sysctl_reg_##id(void)  \
	{                                                                     \
		host_sysctl_register(&host_sysctl_##id);                      \
	}
#define NET_SYSCTL_INT(id, nm, fl, p, d) HOST_SYSCTL_(id, nm, HOST_SYSCTL_INT, p)
#define NET_SYSCTL_UINT64(id, nm, fl, p, d) HOST_SYSCTL_(id, nm, HOST_SYSCTL_UINT64, p)
// Handler knobs are not registered on the host: tests call the function.
#define NET_SYSCTL_PROC(id, nm, fl, fn, d) \
	static int (*const host_sysctl_proc_##id)(int64 *, bool) __attribute__((unused)) = fn

// ---- test-only services ----------------------------------------------------
void host_clock_advance(uint64 ms);        // move the virtual clock
void host_set_ncpu(int n);                 // fake CPU count (default 2)
void host_set_cpuid(int cpu);              // fake CPU of this thread
int host_sysctl_write(const char *name, int64 val);
extern uint64 host_poll_notifies;          // net_poll_notify() calls so far
