// procinfo(2): the process table for ps.
//
// Problem: ps needs, for every process and kernel thread, what the kernel
// alone knows (state, CPU, parent, run time), without a /proc file system
// and without handing user space kernel pointers.
//
// Idea: one system call copies out a fixed-size struct procinfo per slot
// in use (kernel/procinfo.h). Each entry is a snapshot taken under that
// slot's p->lock (and wait_lock for the parent link, taken first: the lock
// order in kernel/lock.h puts wait_lock before p->lock); nothing is held
// while copying out, so a bad user pointer costs nothing but EFAULT. The
// table may change between two entries: ps shows a moment per process,
// not one moment for all, as BSD's kvm_getprocs does too.
//
// Testing: usertests procinfo badprocinfo (user/ut/proc.c, badptr.c);
// tests/test_ps.py runs ps.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/lock.h"
#include "kernel/proc.h"
#include "kernel/string.h"
#include "kernel/sysarg.h"
#include "kernel/vm.h"
#include "kernel/procinfo.h"

extern struct spinlock wait_lock;

// The hart running p now, or -1. Read without locks: a hint for ps.
static int running_on(struct proc *p)
{
	for (int i = 0; i < ncpu; i++)
		if (__atomic_load_n(&cpus[i].proc, __ATOMIC_RELAXED) == p)
			return i;
	return -1;
}

// Fill *pi from slot p; false if the slot is unused. Takes wait_lock,
// then p->lock.
static bool snapshot(struct proc *p, struct procinfo *pi)
{
	memset(pi, 0, sizeof(*pi));
	acquire(&wait_lock);
	acquire(&p->lock);
	bool used = p->state != UNUSED;
	if (used) {
		pi->pi_pid = p->pid;
		pi->pi_ppid = p->parent ? p->parent->pid : 0;  // pid read racily: a hint
		pi->pi_state = p->state;
		pi->pi_flags = (p->kthread ? PI_KTHREAD : 0) | (killed(p) ? PI_KILLED : 0);
		pi->pi_home = p->cpu;
		pi->pi_affinity = p->affinity;
		pi->pi_sz = p->kthread ? 0 : p->sz;
		pi->pi_runtime_us = p->runtime / (TIMEBASE / 1000000);
		memmove(pi->pi_name, p->name, sizeof(pi->pi_name));
		pi->pi_name[sizeof(pi->pi_name) - 1] = 0;
	}
	release(&p->lock);
	release(&wait_lock);
	if (used)
		pi->pi_cpu = pi->pi_state == PI_RUNNING ? running_on(p) : -1;
	return used;
}

long sys_procinfo(void)
{
	uint64 buf = argaddr(0);
	int max = argint(1), n = 0;
	pagetable_t pt = myproc()->pagetable;
	if (max < 0)
		return -EINVAL;
	for (struct proc *p = proc; p < &proc[NPROC]; p++) {
		struct procinfo pi;
		if (!snapshot(p, &pi))
			continue;
		if (n < max && copyout(pt, buf + (uint64)n * sizeof(pi), &pi, sizeof(pi)) < 0)
			return -EFAULT;
		n++;
	}
	return n;
}
