// poll(2) over any mix of descriptors: pipes, the console, files, sockets.
//
// Problem: a program (nc, a server) waits for whichever of several
// descriptors becomes ready first, with a timeout, without a wait queue on
// every kind of object and without missing a change that happens between
// its check and its sleep.
//
// Idea: one global generation counter. Everything a poller may wait for
// (pipe reads/writes/closes, console input, every socket-buffer wakeup)
// calls poll_notify() after changing its state; poll_notify bumps
// poll_gen and, if anyone is polling, wakes the channel &poll_gen. poll()
// reads the generation, asks each descriptor "ready?" (pipe_poll,
// console_poll, sockfile_poll; files are always ready), and if nothing is
// ready sleeps until the generation differs from the one it read, or the
// timeout. Every change wakes every poller, which re-checks: a thundering
// herd, but simple and correct -- poll is for a handful of programs here.
// Two filters keep the herd small: a socket notifies only once poll has
// looked at it (sb_polled, net/sockbuf.c sbpollnotify), so a ping-pong on
// sockets nobody polls does not wake inetd on every packet; and a socket
// buffer records the one process that polled it (sb_poller, as BSD's
// selinfo records one selecting process, with its collision flag for
// several), so a change there wakes only that process (poll_notify_proc)
// -- not inetd, asleep in poll on sockets of its own, on another hart.
// Several pollers of one socket: every poller is woken, as before.
// Per-object wait queues (Linux wait queues) would be the full fix.
//
// Invariants: I1 every state change that can make a descriptor ready is
// followed by poll_notify(). I2 a poller sleeps only if poll_gen still
// equals the value read before its scan.
//
// Locking: poll_gen and poll_waiters [a]; poll_lock only orders the sleep
// against the wakeup. It is not a leaf: wakeup() takes p->lock under it,
// so it is the last lock before p->lock (kernel/lock.h). poll_notify may
// be called holding any lock that comes before it (pipe, console,
// sockbuf), and from interrupts, but never holding a p->lock.
//
// Races:
//   - "targeted wake misses a second poller": see net/sockbuf.c
//     sbpollrecord; a second poller of a socket turns its record into
//     "many" before it looks at the socket, so a notifier either sees
//     "many" (wakes all) or the poller sees the change (does not sleep).
//   - "recorded poller exited": its slot may hold another process that
//     sleeps in poll; it is woken for nothing and scans again. The
//     socket's new poller finds a different record and makes it "many".
//   - "change during the scan": the change bumps poll_gen after it
//     happens, so the generation the poller read is stale and it does not
//     sleep (I2), it scans again.
//   - "notifier skips the wakeup": the notifier increments poll_gen then
//     reads poll_waiters; the poller increments poll_waiters then reads
//     poll_gen (both sequentially consistent): at least one of them sees
//     the other, so either the poller does not sleep or the notifier
//     takes poll_lock and wakes it (the poller holds poll_lock from its
//     check until sleep releases it).
//   - "killed while polling": kill() makes the sleeper runnable; the loop
//     returns -EINTR.
//
// Testing: nettests (poll on a pipe, on a socket with data, timeouts,
// POLLNVAL, bad pointers); nc. gdb: break sys_poll, poll_notify.
// References: POSIX poll(2); McKusick et al., FreeBSD design, 6.4
// (select and the collision problem it solves differently).
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/lock.h"
#include "kernel/proc.h"
#include "kernel/vm.h"
#include "kernel/sysarg.h"
#include "kernel/callout.h"
#include "kernel/devsw.h"
#include "kernel/console.h"
#include "kernel/file.h"
#include "kernel/pipe.h"
#include "kernel/poll.h"
#include "kernel/sys_poll.h"
#include "kernel/sys_socket.h"

#define POLL_MAXFDS (NOFILE * 2)

static struct spinlock poll_lock = { .name = "poll" };
static uint64 poll_gen;        // [a] bumped by every poll_notify
static int poll_waiters;       // [a] pollers between their check and wakeup

void poll_notify(void)
{
	__atomic_add_fetch(&poll_gen, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&poll_waiters, __ATOMIC_SEQ_CST) == 0)
		return;
	acquire(&poll_lock);
	wakeup(&poll_gen);
	release(&poll_lock);
}

void poll_notify_proc(struct proc *p)
{
	__atomic_add_fetch(&poll_gen, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&poll_waiters, __ATOMIC_SEQ_CST) == 0)
		return;
	acquire(&poll_lock);
	wakeup_proc(p, &poll_gen);
	release(&poll_lock);
}

// Sleep until poll_gen differs from gen, a wakeup, or ms milliseconds
// (ms <= 0: no timeout).
static void poll_wait(uint64 gen, int ms)
{
	acquire(&poll_lock);
	__atomic_add_fetch(&poll_waiters, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&poll_gen, __ATOMIC_SEQ_CST) == gen)   // I2
		sleep_timeout(&poll_gen, &poll_lock, ms);
	__atomic_sub_fetch(&poll_waiters, 1, __ATOMIC_SEQ_CST);
	release(&poll_lock);
}

// Which of events hold for f now (plus POLLERR/POLLHUP). Does not sleep.
static int file_poll(struct file *f, int events)
{
	switch (f->f_type) {
	case FD_PIPE:
		return pipe_poll(f->f_pipe, f->f_writable, events);
	case FD_DEVICE:
		if (f->f_major == CONSOLE)
			return console_poll(events);
		return events & (POLLIN | POLLOUT);
	case FD_INODE:
		return events & (POLLIN | POLLOUT);   // files never block
	case FD_SOCKET:
		return sockfile_poll(f, events);
	case FD_NONE:
		break;
	}
	return POLLNVAL;
}

// Fill revents of every entry; returns how many have any.
static int poll_scan(struct pollfd *pf, int nfds)
{
	struct proc *p = myproc();
	int ready = 0;
	for (int i = 0; i < nfds; i++) {
		int fd = pf[i].fd;
		pf[i].revents = 0;
		if (fd < 0)
			continue;   // POSIX: ignored
		if (fd >= NOFILE || p->ofile[fd] == NULL)
			pf[i].revents = POLLNVAL;
		else
			pf[i].revents = file_poll(p->ofile[fd], pf[i].events);
		if (pf[i].revents)
			ready++;
	}
	return ready;
}

// poll(fds, nfds, timeout_ms): the number of entries with revents != 0,
// 0 on timeout, -EINVAL (nfds < 0 or > NOFILE*2), -EFAULT, -EINTR.
// timeout -1 (any negative): wait for ever; 0: do not wait.
long sys_poll(void)
{
	struct pollfd pf[POLL_MAXFDS];
	uint64 ufds = argaddr(0);
	int nfds = argint(1), timeout = argint(2);
	pagetable_t pt = myproc()->pagetable;
	uint64 deadline = uptime_ms() + (timeout > 0 ? timeout : 0);
	long n;

	if (nfds < 0 || nfds > POLL_MAXFDS)
		return -EINVAL;
	if (copyin(pt, pf, ufds, nfds * sizeof(pf[0])) < 0)
		return -EFAULT;
	for (;;) {
		uint64 gen = __atomic_load_n(&poll_gen, __ATOMIC_SEQ_CST);
		n = poll_scan(pf, nfds);
		if (n > 0 || timeout == 0)
			break;
		if (killed(myproc()))
			return -EINTR;
		int ms = 0;   // no timeout
		if (timeout > 0) {
			uint64 now = uptime_ms();
			if (now >= deadline)
				break;
			ms = (int)(deadline - now);
		}
		poll_wait(gen, ms);
	}
	if (copyout(pt, ufds, pf, nfds * sizeof(pf[0])) < 0)
		return -EFAULT;
	return n;
}
