// struct procinfo, as returned by procinfo(2): one entry per process or
// kernel thread, a snapshot for ps. Shared with user space.
#pragma once
#include "kernel/types.h"

// pi_state: the kernel's enum procstate (kernel/proc.h), in that order.
#define PI_UNUSED 0
#define PI_USED 1        // being created (fork, kthread_create)
#define PI_SLEEPING 2
#define PI_RUNNABLE 3
#define PI_RUNNING 4
#define PI_ZOMBIE 5

#define PI_KTHREAD 0x1   // a kernel thread (no user memory)
#define PI_KILLED 0x2    // kill() was called; it exits at its next check

struct procinfo {
	int pi_pid;
	int pi_ppid;          // 0: none (init, or not yet linked)
	int pi_state;         // PI_*
	int pi_flags;         // PI_KTHREAD | PI_KILLED
	int pi_cpu;           // hart running it now, or -1
	int pi_home;          // CPU whose run queue it joins
	int pi_affinity;      // CPU it is pinned to, or -1
	uint64 pi_sz;         // user memory in bytes (0 for a kernel thread)
	uint64 pi_runtime_us; // time it has run, in microseconds, until its
	                      // last switch out
	char pi_name[16];
};

// int procinfo(struct procinfo *buf, int max): fills buf with up to max
// entries, one per slot in use, in slot order, and returns how many slots
// are in use (may exceed max: call again with a larger buf). max 0 (buf
// ignored) only counts. -EINVAL if max < 0, -EFAULT if buf is not the
// caller's writable memory.
