// Pipes: a byte stream from one open file (the write end) to another (the
// read end), through a ring buffer in one kalloc'd page.
//
// Problem: a writer and a reader run at different speeds, maybe on
// different harts; the reader must wait for data, the writer for room, and
// each must learn when the other side has gone.
//
// Idea: struct pipe sits at the start of its page and the rest of the page
// is the ring (PIPESIZE bytes). pi_nread and pi_nwrite count all bytes ever
// read and written; they are 64-bit and never wrap in practice, so
// nwrite - nread is the amount buffered and n % PIPESIZE the ring index.
// A reader with nothing to read sleeps on &pi_nread; a writer with no room
// sleeps on &pi_nwrite; each wakes the other after moving bytes.
//
// Atomic writes (POSIX write(2)): a write of at most PIPE_BUF bytes is
// never interleaved with another writer's data. Such a writer waits until
// the ring has room for all of it and copies it in one go under pi_lock
// (two copies when it wraps, no sleep between them). Larger writes go in
// whatever room there is, as before, and may interleave.
//
// Invariants: 0 <= pi_nwrite - pi_nread <= PIPESIZE; PIPE_BUF <= PIPESIZE.
// The page is freed when both ends are closed, and not before.
//
// Locking: pi_lock (spinlock) guards everything in struct pipe. Data is
// copied to and from user memory with pi_lock held (copyin/copyout do not
// sleep). killed() takes p->lock inside pi_lock, as sleep() itself does;
// that is safe because no code holds a p->lock while taking a pipe lock.
//
// Races:
//   - the last writer closes while a reader sleeps: pipeclose() wakes
//     &pi_nread and the reader sees EOF (pi_writeopen false, no data).
//   - the reader closes while a writer sleeps: the writer wakes and gets
//     -EPIPE (or its partial count).
//   - a sleeping process is killed: kill() makes it runnable, the loop sees
//     killed() and returns -EINTR (or a partial count).
//
// Life of a byte: sys_write -> filewrite -> pipewrite -> copyin into the
// ring -> wakeup(&pi_nread) ... sys_read -> fileread -> piperead -> copyout.
//
// Testing: usertests pipe tests (EOF, EPIPE, O_NONBLOCK, large transfers,
// pipeatomic: several writers' PIPE_BUF records arrive whole);
// the shell's "|". gdb: break piperead.
// References: xv6-riscv pipe.c; POSIX write(2) on pipes.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/riscv.h"
#include "kernel/lock.h"
#include "kernel/proc.h"
#include "kernel/printf.h"
#include "kernel/kalloc.h"
#include "kernel/vm.h"
#include "kernel/file.h"
#include "kernel/pipe.h"
#include "kernel/poll.h"
#include "kernel/sys_poll.h"

struct pipe {
	struct spinlock pi_lock;
	uint64 pi_nread;          // [s] pi_lock: bytes read so far
	uint64 pi_nwrite;         // [s] pi_lock: bytes written so far
	bool pi_readopen;         // [s] pi_lock: the read end is open
	bool pi_writeopen;        // [s] pi_lock: the write end is open
	char pi_data[];           // [s] pi_lock: the ring, to the end of the page
};

#define PIPESIZE (PGSIZE - sizeof(struct pipe))

int pipealloc(struct file **rf, struct file **wf)
{
	struct pipe *pi;
	int err = -ENFILE;

	*rf = filealloc();
	if (*rf == NULL)
		goto out;
	*wf = filealloc();
	if (*wf == NULL)
		goto out_close_rf;
	pi = kalloc();
	if (pi == NULL) {
		err = -ENOMEM;
		goto out_close_wf;
	}
	initlock(&pi->pi_lock, "pipe");
	pi->pi_nread = 0;
	pi->pi_nwrite = 0;
	pi->pi_readopen = true;
	pi->pi_writeopen = true;

	(*rf)->f_type = FD_PIPE;
	(*rf)->f_readable = true;
	(*rf)->f_writable = false;
	(*rf)->f_pipe = pi;
	(*wf)->f_type = FD_PIPE;
	(*wf)->f_readable = false;
	(*wf)->f_writable = true;
	(*wf)->f_pipe = pi;
	return 0;

out_close_wf:
	fileclose(*wf);   // still FD_NONE: just frees the entry
out_close_rf:
	fileclose(*rf);
out:
	return err;
}

// Close one end; free the pipe when both are closed. Does not sleep.
void pipeclose(struct pipe *pi, bool writable)
{
	bool free_it;

	acquire(&pi->pi_lock);
	if (writable) {
		pi->pi_writeopen = false;
		wakeup(&pi->pi_nread);    // readers see EOF
	} else {
		pi->pi_readopen = false;
		wakeup(&pi->pi_nwrite);   // writers see EPIPE
	}
	free_it = !pi->pi_readopen && !pi->pi_writeopen;
	poll_notify();
	release(&pi->pi_lock);
	if (free_it)
		kfree_page(pi);
}

// Write up to n bytes from user address addr. Blocks while the pipe is full
// (for n <= PIPE_BUF: until there is room for all n, which then go in at
// once) unless nonblock. Returns the count written (possibly short, if the
// reader went away, the process was killed or the buffer became
// unreadable), or -EPIPE, -EINTR, -EAGAIN, -EFAULT if nothing was written.
// Sleeps.
long pipewrite(struct pipe *pi, uint64 addr, size_t n, bool nonblock)
{
	struct proc *pr = myproc();
	size_t tot = 0, m;
	long err = 0;
	uint64 room, idx;
	// Room needed before copying: all of a small write, else any.
	uint64 need = n <= PIPE_BUF ? n : 1;

	_Static_assert(PIPE_BUF <= PIPESIZE, "PIPE_BUF must fit the ring");
	acquire(&pi->pi_lock);
	while (tot < n) {
		if (!pi->pi_readopen) {
			err = -EPIPE;
			break;
		}
		if (killed(pr)) {
			err = -EINTR;
			break;
		}
		room = PIPESIZE - (pi->pi_nwrite - pi->pi_nread);
		// A small write copies only once all of it fits (tot == 0 until
		// then; after its first copy the rest fits by construction).
		if (room == 0 || (tot == 0 && room < need)) {
			if (nonblock) {
				err = -EAGAIN;
				break;
			}
			wakeup(&pi->pi_nread);
			sleep(&pi->pi_nwrite, &pi->pi_lock);
			continue;
		}
		// Copy the part up to the end of the ring; loop for the rest.
		idx = pi->pi_nwrite % PIPESIZE;
		m = MIN(MIN(n - tot, room), PIPESIZE - idx);
		if (copyin(pr->pagetable, &pi->pi_data[idx], addr + tot, m) < 0) {
			err = -EFAULT;
			break;
		}
		pi->pi_nwrite += m;
		tot += m;
	}
	wakeup(&pi->pi_nread);
	poll_notify();
	release(&pi->pi_lock);
	return tot > 0 ? (long)tot : err;
}

// Read up to n bytes into user address addr. Blocks while the pipe is empty
// and a writer exists, unless nonblock. Returns the count read, 0 at end of
// file, or -EAGAIN, -EINTR, -EFAULT. Sleeps.
long piperead(struct pipe *pi, uint64 addr, size_t n, bool nonblock)
{
	struct proc *pr = myproc();
	size_t tot = 0;
	long err = 0;

	acquire(&pi->pi_lock);
	while (pi->pi_nread == pi->pi_nwrite && pi->pi_writeopen) {
		if (nonblock) {
			err = -EAGAIN;
			goto out_unlock;
		}
		if (killed(pr)) {
			err = -EINTR;
			goto out_unlock;
		}
		sleep(&pi->pi_nread, &pi->pi_lock);
	}
	/* LAB kernel BEGIN: exercise 1, copy out of the ring */
	while (tot < n && pi->pi_nread != pi->pi_nwrite) {
		uint64 idx = pi->pi_nread % PIPESIZE;
		size_t m = MIN(MIN(n - tot, pi->pi_nwrite - pi->pi_nread),
			       PIPESIZE - idx);
		if (copyout(pr->pagetable, addr + tot, &pi->pi_data[idx], m) < 0) {
			err = -EFAULT;
			break;
		}
		pi->pi_nread += m;
		tot += m;
	}
	/* LAB kernel STUB
	(void)addr;
	   LAB kernel END */
	wakeup(&pi->pi_nwrite);
	poll_notify();
out_unlock:
	release(&pi->pi_lock);
	return tot > 0 ? (long)tot : err;
}

int pipe_poll(struct pipe *pi, bool writable, int events)
{
	int rev = 0;

	acquire(&pi->pi_lock);
	if (!writable) {
		if ((events & POLLIN) &&
		    (pi->pi_nread != pi->pi_nwrite || !pi->pi_writeopen))
			rev |= POLLIN;
		if (!pi->pi_writeopen)
			rev |= POLLHUP;
	} else {
		if ((events & POLLOUT) && pi->pi_nwrite - pi->pi_nread < PIPESIZE)
			rev |= POLLOUT;
		if (!pi->pi_readopen)
			rev |= POLLERR;
	}
	release(&pi->pi_lock);
	return rev;
}
