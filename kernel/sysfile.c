// File-system system calls: argument checking, then calls into file.c
// (open files), dir.c (names) and fs.c (inodes).
//
// Every call here returns 0 or a count on success and -Exxx on failure
// (kernel/errno.h); nothing a user passes may panic the kernel. Pointer
// arguments are only addresses here: argstr() and copyin()/copyout() check
// them and give -EFAULT. Descriptors are checked by argfd() (-EBADF).
//
// Every call that may change the disk, or may drop the last reference to
// an inode (path lookups do), runs inside begin_op()/end_op(), and takes
// begin_op() before any inode lock (lock order: log -> inode -> buffer).
//
// Locking: p->ofile[] is private to the process ([o] in proc.h), so the
// descriptor table needs no lock. The rest is locked by the layers below.
//
// Testing: usertests (one test per error case listed in each function's
// comment). gdb: break sys_open.
// References: xv6-riscv sysfile.c; POSIX open(2), link(2), unlink(2),
// dup2(2), lseek(2), fcntl(2).
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/fcntl.h"
#include "kernel/stat.h"
#include "kernel/lock.h"
#include "kernel/proc.h"
#include "kernel/string.h"
#include "kernel/vm.h"
#include "kernel/sysarg.h"
#include "kernel/devsw.h"
#include "kernel/fs.h"
#include "kernel/inode.h"
#include "kernel/file.h"
#include "kernel/pipe.h"

#define NLINK_MAX 32767   // di_nlink is an int16

// Fetch argument n as a descriptor of the current process. Returns 0 and
// the descriptor/file (either pointer may be NULL), or -EBADF.
static int argfd(int n, int *pfd, struct file **pf)
{
	int fd = argint(n);
	struct file *f;

	if (fd < 0 || fd >= NOFILE)
		return -EBADF;
	f = myproc()->ofile[fd];
	if (f == NULL)
		return -EBADF;
	if (pfd != NULL)
		*pfd = fd;
	if (pf != NULL)
		*pf = f;
	return 0;
}

// Fetch argument n as a path into buf (MAXPATH bytes). Returns 0, -EFAULT,
// -ENAMETOOLONG, or -ENOENT for the empty path.
static int argpath(int n, char *buf)
{
	int len = argstr(n, buf, MAXPATH);

	if (len < 0)
		return len;
	return len == 0 ? -ENOENT : 0;
}

long sys_read(void)
{
	struct file *f;
	int err = argfd(0, NULL, &f);

	if (err < 0)
		return err;
	return fileread(f, argaddr(1), (size_t)argaddr(2));
}

long sys_write(void)
{
	struct file *f;
	int err = argfd(0, NULL, &f);

	if (err < 0)
		return err;
	return filewrite(f, argaddr(1), (size_t)argaddr(2));
}

long sys_close(void)
{
	struct file *f;
	int fd, err = argfd(0, &fd, &f);

	if (err < 0)
		return err;
	myproc()->ofile[fd] = NULL;
	fileclose(f);
	return 0;
}

long sys_dup(void)
{
	struct file *f;
	int fd, err = argfd(0, NULL, &f);

	if (err < 0)
		return err;
	fd = fdalloc(f);
	if (fd < 0)
		return fd;
	filedup(f);
	return fd;
}

// dup2(oldfd, newfd): make newfd refer to oldfd's file, closing whatever
// newfd referred to. Returns newfd, or -EBADF (oldfd not open, newfd out of
// range). dup2(fd, fd) just returns fd.
long sys_dup2(void)
{
	struct proc *p = myproc();
	struct file *f, *old;
	int oldfd, newfd, err = argfd(0, &oldfd, &f);

	if (err < 0)
		return err;
	newfd = argint(1);
	if (newfd < 0 || newfd >= NOFILE)
		return -EBADF;
	if (newfd == oldfd)
		return newfd;
	old = p->ofile[newfd];
	p->ofile[newfd] = filedup(f);
	if (old != NULL)
		fileclose(old);
	return newfd;
}

// pipe(int fds[2]): fds[0] reads, fds[1] writes. Returns 0, -ENFILE,
// -ENOMEM, -EMFILE, or -EFAULT (both descriptors closed again).
long sys_pipe(void)
{
	struct proc *p = myproc();
	uint64 fdarray = argaddr(0);
	struct file *rf, *wf;
	int fds[2], err;

	err = pipealloc(&rf, &wf);
	if (err < 0)
		return err;
	fds[0] = fdalloc(rf);
	if (fds[0] < 0) {
		err = fds[0];
		goto out_close;
	}
	fds[1] = fdalloc(wf);
	if (fds[1] < 0) {
		err = fds[1];
		goto out_free_fd0;
	}
	if (copyout(p->pagetable, fdarray, fds, sizeof(fds)) < 0) {
		err = -EFAULT;
		p->ofile[fds[1]] = NULL;
		goto out_free_fd0;
	}
	return 0;

out_free_fd0:
	p->ofile[fds[0]] = NULL;
out_close:
	fileclose(rf);
	fileclose(wf);
	return err;
}

long sys_fstat(void)
{
	struct file *f;
	int err = argfd(0, NULL, &f);

	if (err < 0)
		return err;
	return filestat(f, argaddr(1));
}

// chdir(path): -ENOENT, -ENOTDIR, -EFAULT, -ENAMETOOLONG.
long sys_chdir(void)
{
	struct proc *p = myproc();
	char path[MAXPATH];
	struct inode *ip;
	int err = argpath(0, path);

	if (err < 0)
		return err;
	begin_op();
	err = path_lookup(path, &ip);
	if (err < 0)
		goto out_end;
	ilock(ip);
	if (ip->i_type != T_DIR) {
		iunlockput(ip);
		err = -ENOTDIR;
		goto out_end;
	}
	iunlock(ip);
	iput(p->cwd);
	p->cwd = ip;
out_end:
	end_op();
	return err;
}

// Create path as a new inode of the given type, or (unless excl) return the
// inode that already has the name. Returns 0 with *ipp referenced and
// LOCKED, or -EEXIST (excl), -ENOENT (parent missing or removed),
// -ENOTDIR, -ENAMETOOLONG, -ENOSPC, -ENFILE. A failure after the inode was
// allocated frees it again (nlink 0, iput). Caller is inside a
// transaction. Sleeps.
static int create(const char *path, short type, short major, short minor,
		  bool excl, struct inode **ipp)
{
	char name[DIRSIZ + 1];
	struct inode *dp, *ip;
	int err = path_parent(path, name, &dp);

	if (err < 0)
		return err;
	ilock(dp);
	err = dirlookup(dp, name, NULL, &ip);
	if (err == 0) {
		iunlockput(dp);        // before ilock(ip): ip may be dp (".")
		if (excl) {
			iput(ip);
			return -EEXIST;
		}
		ilock(ip);
		*ipp = ip;
		return 0;
	}
	if (err != -ENOENT)
		goto out_dp;
	if (dp->i_nlink == 0) {        // dp was unlinked (someone's cwd)
		err = -ENOENT;
		goto out_dp;
	}
	err = ialloc(dp->i_dev, type, &ip);
	if (err < 0)
		goto out_dp;
	ilock(ip);
	ip->i_major = major;
	ip->i_minor = minor;
	ip->i_nlink = type == T_DIR ? 2 : 1;   // a directory's "." counts
	iupdate(ip);
	if (type == T_DIR) {
		err = dirlink(ip, ".", ip->i_inum);
		if (err == 0)
			err = dirlink(ip, "..", dp->i_inum);
		if (err < 0)
			goto out_free_ip;
	}
	err = dirlink(dp, name, ip->i_inum);
	if (err < 0)
		goto out_free_ip;
	if (type == T_DIR) {
		dp->i_nlink++;             // the new directory's ".."
		iupdate(dp);
	}
	iunlockput(dp);
	*ipp = ip;
	return 0;

out_free_ip:
	ip->i_nlink = 0;               // iput() frees the inode and its blocks
	iupdate(ip);
	iunlockput(ip);
out_dp:
	iunlockput(dp);
	return err;
}

// May ip (locked) be opened with these flags? 0, -EISDIR (a directory for
// writing, or with O_CREAT), -ENXIO (a device without a driver).
static int open_check(struct inode *ip, int flags)
{
	if (ip->i_type == T_DIR &&
	    ((flags & O_ACCMODE) != O_RDONLY || (flags & O_CREAT)))
		return -EISDIR;
	if (ip->i_type == T_DEVICE &&
	    (ip->i_major < 0 || ip->i_major >= NDEV ||
	     (devsw[ip->i_major].read == NULL && devsw[ip->i_major].write == NULL)))
		return -ENXIO;
	return 0;
}

// Fill a newly allocated file (FD_NONE) for inode ip opened with flags.
static void open_fill(struct file *f, struct inode *ip, int flags)
{
	int acc = flags & O_ACCMODE;

	f->f_type = ip->i_type == T_DEVICE ? FD_DEVICE : FD_INODE;
	f->f_major = ip->i_major;
	f->f_ip = ip;
	f->f_off = 0;
	f->f_readable = acc != O_WRONLY;
	f->f_writable = acc != O_RDONLY;
	file_setfl(f, flags);
}

// open(path, flags). Returns a descriptor, or -EINVAL (access mode 3),
// -ENOENT, -ENOTDIR, -EEXIST (O_CREAT|O_EXCL), -EISDIR, -ENXIO, -ENFILE,
// -EMFILE, -ENOSPC, -EFAULT, -ENAMETOOLONG.
long sys_open(void)
{
	char path[MAXPATH];
	int flags = argint(1);
	struct inode *ip;
	struct file *f;
	int fd, err = argpath(0, path);

	if (err < 0)
		return err;
	if ((flags & O_ACCMODE) == O_ACCMODE)
		return -EINVAL;
	begin_op();
	if (flags & O_CREAT) {
		err = create(path, T_FILE, 0, 0, flags & O_EXCL, &ip);
	} else {
		err = path_lookup(path, &ip);
		if (err == 0)
			ilock(ip);
	}
	if (err < 0)
		goto out_end;
	err = open_check(ip, flags);
	if (err < 0)
		goto out_put;
	f = filealloc();
	if (f == NULL) {
		err = -ENFILE;
		goto out_put;
	}
	fd = fdalloc(f);
	if (fd < 0) {
		err = fd;
		goto out_free_file;
	}
	open_fill(f, ip, flags);     // f now owns our reference to ip
	if ((flags & O_TRUNC) && ip->i_type == T_FILE && f->f_writable)
		itrunc(ip);
	iunlock(ip);
	end_op();
	return fd;

out_free_file:
	fileclose(f);                // still FD_NONE: frees the entry only
out_put:
	iunlockput(ip);
out_end:
	end_op();
	return err;
}

// mknod(path, major, minor): a device inode. -EINVAL for a major outside
// devsw[], -EEXIST, and the errors of create().
long sys_mknod(void)
{
	char path[MAXPATH];
	int major = argint(1), minor = argint(2);
	struct inode *ip;
	int err = argpath(0, path);

	if (err < 0)
		return err;
	if (major < 0 || major >= NDEV || minor < -32768 || minor > 32767)
		return -EINVAL;
	begin_op();
	err = create(path, T_DEVICE, major, minor, true, &ip);
	if (err == 0)
		iunlockput(ip);
	end_op();
	return err;
}

// mkdir(path): -EEXIST and the errors of create().
long sys_mkdir(void)
{
	char path[MAXPATH];
	struct inode *ip;
	int err = argpath(0, path);

	if (err < 0)
		return err;
	begin_op();
	err = create(path, T_DIR, 0, 0, true, &ip);
	if (err == 0)
		iunlockput(ip);
	end_op();
	return err;
}

// unlink(path): remove a name; a directory must be empty. -EINVAL for "."
// and "..", -ENOTEMPTY, -ENOENT, -ENOTDIR. The inode itself is freed by
// the last iput(), maybe only when the last open file closes.
long sys_unlink(void)
{
	char path[MAXPATH], name[DIRSIZ + 1];
	struct inode *dp, *ip;
	uint off;
	int err = argpath(0, path);

	if (err < 0)
		return err;
	begin_op();
	err = path_parent(path, name, &dp);
	if (err < 0)
		goto out_end;
	ilock(dp);
	if (dirisdot(name)) {
		err = -EINVAL;
		goto out_dp;
	}
	err = dirlookup(dp, name, &off, &ip);
	if (err < 0)
		goto out_dp;
	ilock(ip);                   // a child of dp: parent before child
	if (ip->i_type == T_DIR && !dirisempty(ip)) {
		err = -ENOTEMPTY;
		goto out_ip;
	}
	err = dirunlink(dp, off);
	if (err < 0)
		goto out_ip;
	if (ip->i_type == T_DIR) {
		dp->i_nlink--;           // the removed directory's ".."
		iupdate(dp);
		ip->i_nlink = 0;         // its entry in dp and its own "."
	} else {
		ip->i_nlink--;
	}
	iupdate(ip);
out_ip:
	iunlockput(ip);
out_dp:
	iunlockput(dp);
out_end:
	end_op();
	return err;
}

// link(old, new): a second name for a file. -EPERM if old is a directory,
// -EEXIST if new exists, -EMLINK, -EXDEV, -ENOENT, -ENOTDIR, -ENOSPC.
long sys_link(void)
{
	char old[MAXPATH], new[MAXPATH], name[DIRSIZ + 1];
	struct inode *dp, *ip;
	int err = argpath(0, old);

	if (err == 0)
		err = argpath(1, new);
	if (err < 0)
		return err;
	begin_op();
	err = path_lookup(old, &ip);
	if (err < 0)
		goto out_end;
	ilock(ip);
	if (ip->i_type == T_DIR) {
		err = -EPERM;
		goto out_ip;
	}
	if (ip->i_nlink >= NLINK_MAX) {
		err = -EMLINK;
		goto out_ip;
	}
	// Count the new name first, so ip cannot be freed while unlocked.
	ip->i_nlink++;
	iupdate(ip);
	iunlock(ip);

	err = path_parent(new, name, &dp);
	if (err < 0)
		goto out_undo;
	ilock(dp);
	if (dp->i_dev != ip->i_dev)
		err = -EXDEV;
	else if (dp->i_nlink == 0)
		err = -ENOENT;
	else
		err = dirlink(dp, name, ip->i_inum);
	iunlockput(dp);
	if (err < 0)
		goto out_undo;
	iput(ip);
	end_op();
	return 0;

out_undo:
	ilock(ip);
	ip->i_nlink--;
	iupdate(ip);
out_ip:
	iunlockput(ip);
out_end:
	end_op();
	return err;
}

// fcntl(fd, cmd, arg): F_GETFL, F_SETFL (O_APPEND, O_NONBLOCK); other
// commands -EINVAL.
long sys_fcntl(void)
{
	struct file *f;
	int err = argfd(0, NULL, &f);

	if (err < 0)
		return err;
	switch (argint(1)) {
	case F_GETFL:
		return file_getfl(f);
	case F_SETFL:
		file_setfl(f, (int)argraw(2));
		return 0;
	}
	return -EINVAL;
}

// lseek(fd, off, whence): the new offset, -ESPIPE (pipe, device), -EINVAL.
long sys_lseek(void)
{
	struct file *f;
	int err = argfd(0, NULL, &f);

	if (err < 0)
		return err;
	return fileseek(f, argraw(1), argint(2));
}
