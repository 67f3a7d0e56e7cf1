// Socket system calls: argument fetching and descriptors; the work is done
// by the socket layer (net/socket.c), which never sees a user pointer.
//
// Problem: every socket call takes user pointers (addresses, lengths,
// buffers, option values) and descriptors that may be bad, closed, or not
// sockets; none of that may panic the kernel (docs/design.md 7).
//
// Idea: each sys_* fetches its arguments with argint/argaddr, checks the
// descriptor (argsock: -EBADF, -ENOTSOCK), copies sockaddrs and option
// values into kernel buffers (copyin/copyout: -EFAULT), validates lengths
// and families (-EINVAL, -EAFNOSUPPORT), and calls one so* function.
// Buffers of data go to the socket layer as a struct uio (net/shim.h), so
// the copy happens under the socket-buffer lock without a bounce buffer.
// The interface ioctls (SIOC*, kernel/sockio.h) work on any socket and go
// straight to net/if.c.
//
// Locking: p->ofile[] is private to the process; the rest is locked below.
//
// Testing: nettests (socket tests with bad fds, pointers, lengths,
// options), ping, ifconfig. gdb: break sys_sendto, sys_recvfrom.
// References: POSIX socket(2) .. getsockopt(2); Linux netdevice(7) for
// the ioctls.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/fcntl.h"
#include "kernel/lock.h"
#include "kernel/proc.h"
#include "kernel/vm.h"
#include "kernel/sysarg.h"
#include "kernel/file.h"
#include "kernel/sys_socket.h"
#include "kernel/sockio.h"
#include "net/socket.h"
#include "net/so_accept.h"
#include "net/if.h"
#include "net/byteorder.h"

#define SOCKADDR_MAXLEN 128   // larger lengths are nonsense: -EINVAL

// Argument n as a socket descriptor: -EBADF, -ENOTSOCK, or 0 and *sop.
static int argsock(int n, struct socket **sop, struct file **fp)
{
	int fd = argint(n);
	struct file *f;
	if (fd < 0 || fd >= NOFILE || (f = myproc()->ofile[fd]) == NULL)
		return -EBADF;
	if (f->f_type != FD_SOCKET)
		return -ENOTSOCK;
	*sop = f->f_socket;
	if (fp)
		*fp = f;
	return 0;
}

static bool file_nonblock(struct file *f)
{
	return (file_getfl(f) & O_NONBLOCK) != 0;
}

// Copy a user sockaddr_in in: -EINVAL (length), -EFAULT, -EAFNOSUPPORT.
static int sockaddr_in_fetch(uint64 uaddr, uint64 len, struct sockaddr_in *sin)
{
	if (len < sizeof(*sin) || len > SOCKADDR_MAXLEN)
		return -EINVAL;
	if (copyin(myproc()->pagetable, sin, uaddr, sizeof(*sin)) < 0)
		return -EFAULT;
	if (sin->sin_family != AF_INET)
		return -EAFNOSUPPORT;
	return 0;
}

// Read the user's socklen_t at ulenp: 0 or -EFAULT / -EINVAL (negative).
static int socklen_fetch(uint64 ulenp, socklen_t *len)
{
	if (copyin(myproc()->pagetable, len, ulenp, sizeof(*len)) < 0)
		return -EFAULT;
	return (int)*len < 0 ? -EINVAL : 0;
}

// Copy sin out, truncated to the user's length *ulenp; store the full
// length back (as BSD and Linux do). 0 or -EFAULT.
static int sockaddr_in_store(uint64 uaddr, uint64 ulenp, socklen_t len,
			     const struct sockaddr_in *sin)
{
	pagetable_t pt = myproc()->pagetable;
	if (copyout(pt, uaddr, sin, MIN(len, (socklen_t)sizeof(*sin))) < 0)
		return -EFAULT;
	len = sizeof(*sin);
	return copyout(pt, ulenp, &len, sizeof(len));
}

// A descriptor for socket so, new or accepted (its reference passes to
// the file). fd or -Exxx (so closed then).
static int sock_fdalloc(struct socket *so)
{
	struct file *f = filealloc();
	int fd;
	if (f == NULL) {
		soclose(so);
		return -ENFILE;
	}
	f->f_type = FD_SOCKET;
	f->f_readable = true;
	f->f_writable = true;
	f->f_socket = so;
	if ((fd = fdalloc(f)) < 0)
		fileclose(f);   // soclose through sockfile_close
	return fd;
}

long sys_socket(void)
{
	int domain = argint(0), type = argint(1), protocol = argint(2);
	struct socket *so;
	int err;

	if (domain != AF_INET)
		return -EAFNOSUPPORT;
	if ((err = socreate(type, protocol, &so)) < 0)
		return err;
	return sock_fdalloc(so);
}

// bind and connect: (s, addr, len).
static long sys_addrcall(int (*fn)(struct socket *, const struct sockaddr_in *))
{
	struct socket *so;
	struct sockaddr_in sin;
	int err = argsock(0, &so, NULL);
	if (err < 0)
		return err;
	if ((err = sockaddr_in_fetch(argaddr(1), (uint64)(uint32)argint(2), &sin)) < 0)
		return err;
	return fn(so, &sin);
}

long sys_bind(void)
{
	return sys_addrcall(sobind);
}

// connect: blocking unless the file is O_NONBLOCK (then -EINPROGRESS for
// a stream whose handshake is under way: poll POLLOUT, then SO_ERROR).
long sys_connect(void)
{
	struct socket *so;
	struct file *f;
	struct sockaddr_in sin;
	int err = argsock(0, &so, &f);
	if (err < 0)
		return err;
	if ((err = sockaddr_in_fetch(argaddr(1), (uint64)(uint32)argint(2), &sin)) < 0)
		return err;
	return soconnect(so, &sin, file_nonblock(f));
}

long sys_listen(void)
{
	struct socket *so;
	int err = argsock(0, &so, NULL);
	if (err < 0)
		return err;
	return solisten(so, argint(1));
}

// accept(s, addr, alenp): the oldest established connection of a
// listening socket as a new descriptor; the peer's address into addr
// (if not 0). Blocks unless O_NONBLOCK (-EAGAIN). Datagram and raw
// sockets: -EOPNOTSUPP; not listening: -EINVAL. The user's length is
// read before a connection is taken, so a bad pointer loses nothing;
// a failed address store closes the new connection (-EFAULT).
long sys_accept(void)
{
	struct socket *so, *nso;
	struct file *f;
	struct sockaddr_in sin;
	socklen_t alen = 0;
	int err = argsock(0, &so, &f);
	if (err < 0)
		return err;
	if (!(so->so_proto->pr_flags & PR_LISTEN))
		return -EOPNOTSUPP;
	uint64 uaddr = argaddr(1), ulenp = argaddr(2);
	if (uaddr != 0 && (err = socklen_fetch(ulenp, &alen)) < 0)
		return err;
	if ((err = soaccept(so, file_nonblock(f), &nso)) < 0)
		return err;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (uaddr != 0) {
		sogetpeername(nso, &sin);   // a child reset meanwhile: zeros
		if (sockaddr_in_store(uaddr, ulenp, alen, &sin) < 0) {
			soclose(nso);
			return -EFAULT;
		}
	}
	return sock_fdalloc(nso);
}

// sendto(s, buf, n, flags, addr, alen); addr 0: connected peer.
long sys_sendto(void)
{
	struct socket *so;
	struct file *f;
	struct sockaddr_in sin, *to = NULL;
	int err = argsock(0, &so, &f);
	if (err < 0)
		return err;
	uint64 uaddr = argaddr(4);
	if (uaddr != 0) {
		err = sockaddr_in_fetch(uaddr, (uint64)(uint32)argint(5), &sin);
		if (err < 0)
			return err;
		to = &sin;
	}
	struct uio uio = { argaddr(1), (size_t)argaddr(2), true };
	return sosend(so, &uio, to, argint(3), file_nonblock(f));
}

// recvfrom(s, buf, n, flags, addr, alenp); addr 0: sender not wanted.
long sys_recvfrom(void)
{
	struct socket *so;
	struct file *f;
	struct sockaddr_in sin;
	socklen_t alen = 0;
	int err = argsock(0, &so, &f);
	if (err < 0)
		return err;
	uint64 uaddr = argaddr(4), ulenp = argaddr(5);
	if (uaddr != 0 && (err = socklen_fetch(ulenp, &alen)) < 0)
		return err;   // checked before any data is taken
	memset(&sin, 0, sizeof(sin));
	struct uio uio = { argaddr(1), (size_t)argaddr(2), true };
	long n = soreceive(so, &uio, uaddr ? &sin : NULL, argint(3), file_nonblock(f));
	if (n >= 0 && uaddr != 0 && sockaddr_in_store(uaddr, ulenp, alen, &sin) < 0)
		return -EFAULT;
	return n;
}

long sys_shutdown(void)
{
	struct socket *so;
	int err = argsock(0, &so, NULL);
	if (err < 0)
		return err;
	return soshutdown(so, argint(1));
}

// setsockopt(s, level, name, val, len): at most SOPT_MAXLEN bytes of val
// are read.
long sys_setsockopt(void)
{
	struct socket *so;
	char buf[SOPT_MAXLEN];
	int err = argsock(0, &so, NULL);
	if (err < 0)
		return err;
	int len = argint(4);
	if (len < 0)
		return -EINVAL;
	struct sockopt sopt = { argint(1), argint(2), false, buf, MIN(len, SOPT_MAXLEN) };
	if (copyin(myproc()->pagetable, buf, argaddr(3), sopt.sopt_valsize) < 0)
		return -EFAULT;
	return sosetopt(so, &sopt);
}

// getsockopt(s, level, name, val, lenp).
long sys_getsockopt(void)
{
	struct socket *so;
	char buf[SOPT_MAXLEN];
	socklen_t len;
	int err = argsock(0, &so, NULL);
	if (err < 0)
		return err;
	uint64 uval = argaddr(3), ulenp = argaddr(4);
	if ((err = socklen_fetch(ulenp, &len)) < 0)
		return err;
	memset(buf, 0, sizeof(buf));
	struct sockopt sopt = { argint(1), argint(2), true, buf, MIN(len, SOPT_MAXLEN) };
	if ((err = sogetopt(so, &sopt)) < 0)
		return err;
	pagetable_t pt = myproc()->pagetable;
	if (copyout(pt, uval, buf, sopt.sopt_valsize) < 0 ||
	    copyout(pt, ulenp, &sopt.sopt_valsize, sizeof(socklen_t)) < 0)
		return -EFAULT;
	return 0;
}

static long sys_namecall(int (*fn)(struct socket *, struct sockaddr_in *))
{
	struct socket *so;
	struct sockaddr_in sin;
	socklen_t len;
	int err = argsock(0, &so, NULL);
	if (err < 0)
		return err;
	uint64 uaddr = argaddr(1), ulenp = argaddr(2);
	if ((err = socklen_fetch(ulenp, &len)) < 0)
		return err;
	memset(&sin, 0, sizeof(sin));
	if ((err = fn(so, &sin)) < 0)
		return err;
	return sockaddr_in_store(uaddr, ulenp, len, &sin);
}

long sys_getsockname(void)
{
	return sys_namecall(sogetsockname);
}

long sys_getpeername(void)
{
	return sys_namecall(sogetpeername);
}

// ---- interface ioctls ------------------------------------------------------

static void ifr_putaddr(struct ifreq *ifr, uint32 a)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = hton32(a) };
	memmove(&ifr->ifr_addr, &sin, sizeof(sin));
}

static int ifr_getaddr(struct ifreq *ifr, uint32 *a)
{
	struct sockaddr_in sin;
	memmove(&sin, &ifr->ifr_addr, sizeof(sin));
	if (sin.sin_family != AF_INET)
		return -EAFNOSUPPORT;
	*a = ntoh32(sin.sin_addr.s_addr);
	return 0;
}

// One SIOC* command on ifp. Returns 1 if ifr must be copied back, 0, or
// -Exxx.
static int if_ioctl(struct ifnet *ifp, unsigned long cmd, struct ifreq *ifr)
{
	uint32 a;
	int err;
	switch (cmd) {
	case SIOCGIFINDEX:
		ifr->ifr_index = ifp->if_index;
		return 1;
	case SIOCGIFFLAGS:
		ifr->ifr_flags = __atomic_load_n(&ifp->if_flags, __ATOMIC_RELAXED) &
				 (IFF_UP | IFF_BROADCAST | IFF_LOOPBACK | IFF_RUNNING);
		return 1;
	case SIOCSIFFLAGS:
		// Each is a no-op in the state it asks for, and decides that
		// under the interface's configuration lock (net/if.c I4).
		if (ifr->ifr_flags & IFF_UP)
			return if_up(ifp);
		return if_down(ifp);
	case SIOCGIFADDR:
		ifr_putaddr(ifr, __atomic_load_n(&ifp->if_addr, __ATOMIC_RELAXED));
		return 1;
	case SIOCGIFNETMASK:
		ifr_putaddr(ifr, __atomic_load_n(&ifp->if_netmask, __ATOMIC_RELAXED));
		return 1;
	case SIOCGIFBRDADDR:
		ifr_putaddr(ifr, __atomic_load_n(&ifp->if_broadaddr, __ATOMIC_RELAXED));
		return 1;
	case SIOCSIFADDR:
		if ((err = ifr_getaddr(ifr, &a)) < 0)
			return err;
		return if_setinaddr(ifp, a);
	case SIOCSIFNETMASK:
		if ((err = ifr_getaddr(ifr, &a)) < 0)
			return err;
		return if_setnetmask(ifp, a);
	case SIOCGIFMTU:
		ifr->ifr_mtu = ifp->if_mtu;
		return 1;
	case SIOCGIFHWADDR:
		memmove(ifr->ifr_hwaddr, ifp->if_lladdr, ETHER_ADDR_LEN);
		return 1;
	}
	return -ENOTTY;
}

static bool ioctl_known(unsigned long cmd)
{
	switch (cmd) {
	case SIOCGIFNAME: case SIOCGIFINDEX: case SIOCGIFFLAGS: case SIOCSIFFLAGS:
	case SIOCGIFADDR: case SIOCSIFADDR: case SIOCGIFNETMASK: case SIOCSIFNETMASK:
	case SIOCGIFBRDADDR: case SIOCGIFMTU: case SIOCGIFHWADDR:
		return true;
	}
	return false;
}

// ioctl(fd, cmd, arg): the interface requests of kernel/sockio.h on any
// socket. -ENOTTY (not a socket, unknown command), -EFAULT, -ENODEV (no
// such interface), or what net/if.c says.
long sys_ioctl(void)
{
	struct socket *so;
	struct ifreq ifr;
	struct ifnet *ifp;
	int err = argsock(0, &so, NULL);
	unsigned long cmd = (unsigned long)argaddr(1);
	uint64 uarg = argaddr(2);
	pagetable_t pt = myproc()->pagetable;

	if (err == -EBADF)
		return err;
	if (err < 0 || !ioctl_known(cmd))
		return -ENOTTY;
	if (copyin(pt, &ifr, uarg, sizeof(ifr)) < 0)
		return -EFAULT;
	ifr.ifr_name[IFNAMSIZ - 1] = '\0';
	if (cmd == SIOCGIFNAME) {
		if ((ifp = if_byindex(ifr.ifr_index)) == NULL)
			return -ENODEV;
		memmove(ifr.ifr_name, ifp->if_name, IFNAMSIZ);
		err = 1;
	} else {
		if ((ifp = if_byname(ifr.ifr_name)) == NULL)
			return -ENODEV;
		err = if_ioctl(ifp, cmd, &ifr);
	}
	if (err == 1)
		err = copyout(pt, uarg, &ifr, sizeof(ifr)) < 0 ? -EFAULT : 0;
	return err;
}

// ---- socket files (kernel/file.c) -------------------------------------------

long sockfile_read(struct file *f, uint64 addr, size_t n)
{
	struct uio uio = { addr, n, true };
	return soreceive(f->f_socket, &uio, NULL, 0, file_nonblock(f));
}

long sockfile_write(struct file *f, uint64 addr, size_t n)
{
	struct uio uio = { addr, n, true };
	return sosend(f->f_socket, &uio, NULL, 0, file_nonblock(f));
}

void sockfile_close(struct socket *so)
{
	soclose(so);
}

int sockfile_poll(struct file *f, int events)
{
	return sopoll(f->f_socket, events);
}
