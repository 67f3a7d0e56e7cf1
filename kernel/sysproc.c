// Process-related system calls: fork, exit, wait, kill, getpid, getppid,
// sbrk, sleep, uptime, sched_yield, halt.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/riscv.h"
#include "kernel/errno.h"
#include "kernel/lock.h"
#include "kernel/proc.h"
#include "kernel/printf.h"
#include "kernel/sysarg.h"
#include "kernel/callout.h"

extern struct spinlock wait_lock;

long sys_fork(void)
{
	return fork();
}

long sys_exit(void)
{
	exit(argint(0));
}

long sys_wait(void)
{
	return wait(argaddr(0));
}

long sys_kill(void)
{
	return kill(argint(0));
}

long sys_getpid(void)
{
	return myproc()->pid;
}

long sys_getppid(void)
{
	struct proc *p = myproc();
	acquire(&wait_lock);
	int ppid = p->parent ? p->parent->pid : 0;
	release(&wait_lock);
	return ppid;
}

// sbrk(n): returns the old break, or -ENOMEM / -EINVAL.
long sys_sbrk(void)
{
	long n = argraw(0);
	uint64 old = myproc()->sz;
	int r = growproc(n);
	return r < 0 ? r : (long)old;
}

// sleep(ms): sleeps at least ms milliseconds. -EINTR if killed meanwhile,
// -EINVAL for a negative time.
long sys_sleep(void)
{
	static struct spinlock sleep_lock = { .name = "sys_sleep" };
	int ms = argint(0);
	if (ms < 0)
		return -EINVAL;
	uint64 until = uptime_ms() + ms, now;
	struct proc *p = myproc();
	acquire(&sleep_lock);
	// Read the clock once per pass: the time left is then >= 1 ms. (Read
	// twice, the millisecond could turn between the test and the
	// subtraction, and sleep_timeout(0) means "no timeout": the process
	// slept for ever.)
	while ((now = uptime_ms()) < until) {
		if (killed(p)) {
			release(&sleep_lock);
			return -EINTR;
		}
		sleep_timeout(&sleep_lock, &sleep_lock, until - now);
	}
	release(&sleep_lock);
	return 0;
}

long sys_uptime(void)
{
	return uptime_ms();
}

long sys_sched_yield(void)
{
	yield();
	return 0;
}

// halt(code): power off (code 0) or make QEMU exit with status code
// (1..0xffff), through the sifive_test device. The file system needs no
// flush: every transaction is on disk when its system call returns.
long sys_halt(void)
{
	int code = argint(0);
	if (code < 0 || code > 0xffff)
		return -EINVAL;
	printf("halt: powering off\n");
	volatile uint32 *test = (volatile uint32 *)SIFIVE_TEST;
	if (code == 0)
		*test = SIFIVE_TEST_PASS;
	else
		*test = SIFIVE_TEST_FAIL | (code << 16);
	for (;;)
		asm volatile("wfi");
}
