// System-call dispatch and argument fetching.
//
// usertrap() calls syscall() with the process's registers in its
// trapframe: the number in a7, arguments in a0..a5. The handler's return
// value, >= 0 or -Exxx, goes back in a0. Handlers fetch their arguments
// with argint/argaddr/argstr and touch user memory only through
// copyin/copyout, which check the addresses.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/lock.h"
#include "kernel/proc.h"
#include "kernel/printf.h"
#include "kernel/string.h"
#include "kernel/syscall.h"
#include "kernel/sysarg.h"
#include "kernel/vm.h"
#include "kernel/sysctl.h"

// 0 or -EFAULT; reads one 8-byte word at user address addr.
int fetchaddr(uint64 addr, uint64 *ip)
{
	return copyin(myproc()->pagetable, ip, addr, sizeof(*ip));
}

int fetchstr(uint64 addr, char *buf, int max)
{
	return copyinstr(myproc()->pagetable, buf, addr, max);
}

long argraw(int n)
{
	if (n < 0 || n > 5)
		panic("argraw: %d", n);
	// a0..a5 are consecutive in struct trapframe (offsets 112..152).
	return (&myproc()->trapframe->a0)[n];
}

int argint(int n)
{
	return (int)argraw(n);
}

uint64 argaddr(int n)
{
	return argraw(n);
}

int argstr(int n, char *buf, int max)
{
	return fetchstr(argaddr(n), buf, max);
}

#define SYSCALLS(X)                                             \
	X(fork) X(exit) X(wait) X(pipe) X(read) X(kill) X(exec)  \
	X(fstat) X(chdir) X(dup) X(getpid) X(sbrk) X(sleep)      \
	X(uptime) X(open) X(write) X(mknod) X(unlink) X(link)    \
	X(mkdir) X(close) X(sysctl) X(sysctlnext) X(halt)        \
	X(fcntl) X(dup2) X(lseek) X(getppid) X(sched_yield)      \
	X(sysctlinfo) X(procinfo)                                \
	X(socket) X(bind) X(connect) X(listen) X(accept)         \
	X(sendto) X(recvfrom) X(shutdown) X(setsockopt)          \
	X(getsockopt) X(getsockname) X(getpeername) X(poll)      \
	X(ioctl)

#define DECLARE(name) long sys_##name(void);
SYSCALLS(DECLARE)

#define ENTRY(name) [SYS_##name] = { sys_##name, #name },
static const struct {
	long (*fn)(void);
	const char *name;
} syscalls[NSYSCALL] = { SYSCALLS(ENTRY) };

// Trace system calls on the console when kern.syscall_trace is nonzero.
static int syscall_trace;
SYSCTL_INT_RANGE(kern_syscall_trace, "kern.syscall_trace", SYSCTL_RW, &syscall_trace, 0, 1,
		 "print every system call and its result on the console");

// Never inlined: `break syscall` is the first breakpoint the README and
// the gdb tests set in the optimised kernel, and with link-time
// optimisation usertrap would otherwise swallow it (no symbol at all).
__attribute__((noinline)) void syscall(void)
{
	struct proc *p = myproc();
	uint64 num = p->trapframe->a7;
	long r;
	if (num < NSYSCALL && syscalls[num].fn) {
		r = syscalls[num].fn();
	} else {
		r = -ENOSYS;
	}
	if (syscall_trace)
		printf("[%d %s] %s -> %ld\n", p->pid, p->name,
		       num < NSYSCALL && syscalls[num].name ? syscalls[num].name : "?", r);
	p->trapframe->a0 = r;
}
