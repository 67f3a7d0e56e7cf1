// Open files: the system-wide file table and the type dispatch behind
// read, write, fstat, lseek and close.
//
// Problem: a descriptor may name a regular file, a directory, a device, a
// pipe or (later) a socket; several descriptors, in one process or after
// fork() in many, may share one open file and its offset.
//
// Idea: a table of NFILE struct file (file.h), each with a reference count
// and a type. filedup()/fileclose() count references; the last close
// releases what is behind the file (iput, pipeclose). Every operation is a
// switch on f_type.
//
// Writes to inodes are split into transactions of at most FILEWRITE_BLOCKS
// data blocks, so that a write of any size fits the log (log.c): see
// inode_write() for the arithmetic. A big write is therefore atomic per
// chunk, not as a whole (as in xv6 and most Unix file systems).
//
// Invariants: f_type != FD_NONE iff f_ref > 0; an FD_INODE/FD_DEVICE file
// holds one reference to its inode, an FD_PIPE file one end of its pipe.
//
// Locking: ftable.lock guards f_ref and f_type of all entries. An inode
// file's offset is guarded by the inode's sleeplock, so concurrent
// writers through one shared file do not lose each other's offsets.
// f_flags is read and written atomically (fcntl may change it any time).
//
// Races:
//   - close in one process while another reads through the same file: the
//     reader's descriptor table holds its own reference (fork/dup), so
//     the file stays until the last fileclose().
//
// Testing: usertests (shared offsets after fork, O_APPEND, lseek, huge
// counts, bad addresses). gdb: break fileclose.
// References: xv6-riscv file.c; Linux fs/read_write.c (lseek semantics).
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/fcntl.h"
#include "kernel/lock.h"
#include "kernel/proc.h"
#include "kernel/printf.h"
#include "kernel/string.h"
#include "kernel/stat.h"
#include "kernel/vm.h"
#include "kernel/devsw.h"
#include "kernel/fs.h"
#include "kernel/inode.h"
#include "kernel/pipe.h"
#include "kernel/file.h"
#include "kernel/sys_socket.h"

// Bytes one device read/write call moves at most (devsw takes an int).
#define DEV_IO_MAX ((size_t)1 << 30)

// Data blocks per filewrite transaction. One writei() of k data blocks
// also changes, at worst: the inode's block (1); blocks of addresses (3:
// the indirect block, the doubly-indirect block and one block under it,
// when the range crosses into the doubly-indirect part; or the
// doubly-indirect block and two under it); bitmap blocks (one per bitmap
// block the allocations land in, at most 3 while FSSIZE <= 3 * BPB).
// k + 1 + 3 + 3 <= MAXOPBLOCKS. The chunks are block-aligned, so k data
// blocks means exactly k.
#define FILEWRITE_BLOCKS (MAXOPBLOCKS - 1 - 3 - 3)
_Static_assert(FILEWRITE_BLOCKS >= 1, "MAXOPBLOCKS too small for filewrite");
_Static_assert(FSSIZE <= 3 * BPB, "more bitmap blocks: fix FILEWRITE_BLOCKS");

static struct {
	struct spinlock lock;
	struct file file[NFILE];
} ftable;

void fileinit(void)
{
	initlock(&ftable.lock, "ftable");
}

// Allocate a file table entry with one reference and type FD_NONE; the
// caller sets the rest. Returns NULL if the table is full.
struct file *filealloc(void)
{
	struct file *f;

	acquire(&ftable.lock);
	for (f = ftable.file; f < ftable.file + NFILE; f++) {
		if (f->f_ref == 0) {
			memset(f, 0, sizeof(*f));
			f->f_ref = 1;
			f->f_type = FD_NONE;
			release(&ftable.lock);
			return f;
		}
	}
	release(&ftable.lock);
	return NULL;
}

// Take another reference to f (dup, fork). Returns f.
struct file *filedup(struct file *f)
{
	acquire(&ftable.lock);
	KASSERT(f->f_ref > 0);
	f->f_ref++;
	release(&ftable.lock);
	return f;
}

// Drop a reference to f; the last one releases what is behind it. May
// sleep (an inode's last iput() can free its blocks).
void fileclose(struct file *f)
{
	struct file ff;

	acquire(&ftable.lock);
	KASSERT(f->f_ref > 0);
	if (--f->f_ref > 0) {
		release(&ftable.lock);
		return;
	}
	ff = *f;            // copy: the entry is free once we unlock
	f->f_type = FD_NONE;
	release(&ftable.lock);

	switch (ff.f_type) {
	case FD_NONE:       // pipealloc() undoing a half-made pipe
		break;
	case FD_PIPE:
		pipeclose(ff.f_pipe, ff.f_writable);
		break;
	case FD_INODE:
	case FD_DEVICE:
		begin_op();
		iput(ff.f_ip);
		end_op();
		break;
	case FD_SOCKET:
		sockfile_close(ff.f_socket);
		break;
	}
}

// Copy f's metadata to the user's struct stat at addr. Returns 0, -EFAULT.
int filestat(struct file *f, uint64 addr)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	switch (f->f_type) {
	case FD_INODE:
	case FD_DEVICE:
		ilock(f->f_ip);
		stati(f->f_ip, &st);
		iunlock(f->f_ip);
		break;
	case FD_PIPE:
		st.type = T_PIPE;
		break;
	case FD_SOCKET:
		st.type = T_SOCK;
		break;
	case FD_NONE:
		return -EBADF;
	}
	return copyout(myproc()->pagetable, addr, &st, sizeof(st));
}

// Read from an inode file at its offset. Sleeps.
static long inode_read(struct file *f, uint64 addr, size_t n)
{
	struct inode *ip = f->f_ip;
	long r = 0;

	ilock(ip);
	if (f->f_off < MAXFILESIZE) {
		r = readi(ip, true, addr, f->f_off, MIN(n, (size_t)1 << 30));
		if (r > 0)
			f->f_off += r;
	}
	iunlock(ip);
	return r;
}

// Read up to n bytes from f into user address addr. Returns the count (0 at
// end of file) or -Exxx. Sleeps.
long fileread(struct file *f, uint64 addr, size_t n)
{
	struct devsw *dev;

	if (!f->f_readable)
		return -EBADF;
	if (n == 0)
		return 0;
	switch (f->f_type) {
	case FD_PIPE:
		return piperead(f->f_pipe, addr, n,
				file_getfl(f) & O_NONBLOCK);
	case FD_DEVICE:
		dev = &devsw[f->f_major];
		if (dev->read == NULL)
			return -EINVAL;
		return dev->read(true, addr, MIN(n, DEV_IO_MAX));
	case FD_INODE:
		return inode_read(f, addr, n);
	case FD_SOCKET:
		return sockfile_read(f, addr, n);
	case FD_NONE:
		break;
	}
	return -EBADF;
}

// Write to an inode file, one transaction per chunk of at most
// FILEWRITE_BLOCKS blocks (see the top of the file). With O_APPEND each
// chunk goes to the end of the file as it is then. Returns the count
// written, or -Exxx if nothing was. Sleeps.
static long inode_write(struct file *f, uint64 addr, size_t n)
{
	struct inode *ip = f->f_ip;
	size_t tot = 0, m = 0;
	long r = 0;

	while (tot < n) {
		if (killed(myproc())) {
			r = -EINTR;
			break;
		}
		begin_op();
		ilock(ip);
		if (file_getfl(f) & O_APPEND)
			f->f_off = ip->i_size;
		if (f->f_off >= MAXFILESIZE) {
			r = -EFBIG;
		} else {
			m = MIN(n - tot, FILEWRITE_BLOCKS * BSIZE - f->f_off % BSIZE);
			r = writei(ip, true, addr + tot, f->f_off, m);
			if (r > 0)
				f->f_off += r;
		}
		iunlock(ip);
		end_op();
		if (r <= 0)
			break;
		tot += r;
		if ((size_t)r < m)
			break;      // disk full or bad address: stop short
	}
	return tot > 0 ? (long)tot : r;
}

// Write up to n bytes from user address addr to f. Returns the count
// written (maybe short) or -Exxx. Sleeps.
long filewrite(struct file *f, uint64 addr, size_t n)
{
	struct devsw *dev;

	if (!f->f_writable)
		return -EBADF;
	if (n == 0)
		return 0;
	switch (f->f_type) {
	case FD_PIPE:
		return pipewrite(f->f_pipe, addr, n,
				 file_getfl(f) & O_NONBLOCK);
	case FD_DEVICE:
		dev = &devsw[f->f_major];
		if (dev->write == NULL)
			return -EINVAL;
		return dev->write(true, addr, MIN(n, DEV_IO_MAX));
	case FD_INODE:
		return inode_write(f, addr, n);
	case FD_SOCKET:
		return sockfile_write(f, addr, n);
	case FD_NONE:
		break;
	}
	return -EBADF;
}

// Move f's offset (lseek). Only inode files have one; pipes, devices and
// sockets give -ESPIPE. Returns the new offset, or -EINVAL for a bad whence
// or a negative (or overflowing) result. Sleeps.
long fileseek(struct file *f, long off, int whence)
{
	struct inode *ip = f->f_ip;
	long base, newoff;

	if (f->f_type != FD_INODE)
		return -ESPIPE;
	ilock(ip);
	switch (whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = f->f_off;
		break;
	case SEEK_END:
		base = ip->i_size;
		break;
	default:
		newoff = -EINVAL;
		goto out_unlock;
	}
	if (__builtin_add_overflow(base, off, &newoff) || newoff < 0) {
		newoff = -EINVAL;
		goto out_unlock;
	}
	f->f_off = newoff;
out_unlock:
	iunlock(ip);
	return newoff;
}

// F_GETFL: the access mode and the status flags.
int file_getfl(struct file *f)
{
	int mode = O_RDONLY;

	if (f->f_readable && f->f_writable)
		mode = O_RDWR;
	else if (f->f_writable)
		mode = O_WRONLY;
	return mode | __atomic_load_n(&f->f_flags, __ATOMIC_RELAXED);
}

// F_SETFL: change O_APPEND and O_NONBLOCK; other bits are ignored.
void file_setfl(struct file *f, int flags)
{
	__atomic_store_n(&f->f_flags, flags & FILE_SETFL_MASK, __ATOMIC_RELAXED);
}

int fdalloc(struct file *f)
{
	struct proc *p = myproc();
	int fd;

	for (fd = 0; fd < NOFILE; fd++) {
		if (p->ofile[fd] == NULL) {
			p->ofile[fd] = f;
			return fd;
		}
	}
	return -EMFILE;
}
