// System-call numbers, shared by the kernel (kernel/syscall.c dispatches on
// them) and user space (user/usys.S is generated from this file by the
// Makefile: one stub per "#define SYS_name N" line, so keep that form).
//
// Calling convention: arguments in a0..a5, number in a7, `ecall`; the
// result comes back in a0: >= 0 on success, -Exxx (kernel/errno.h) on error.
// Numbers 40 and up are reserved for the network stack (sockets, poll).
#pragma once

#define SYS_fork 1        // int fork(void)
#define SYS_exit 2        // void exit(int status)
#define SYS_wait 3        // int wait(int *status)
#define SYS_pipe 4        // int pipe(int fds[2])
#define SYS_read 5        // ssize_t read(int fd, void *buf, size_t n)
#define SYS_kill 6        // int kill(int pid)
#define SYS_exec 7        // int exec(const char *path, char **argv)
#define SYS_fstat 8       // int fstat(int fd, struct stat *st)
#define SYS_chdir 9       // int chdir(const char *path)
#define SYS_dup 10        // int dup(int fd)
#define SYS_getpid 11     // int getpid(void)
#define SYS_sbrk 12       // char *sbrk(long n)
#define SYS_sleep 13      // int sleep(int ms): milliseconds
#define SYS_uptime 14     // long uptime(void): milliseconds since boot
#define SYS_open 15       // int open(const char *path, int flags)
#define SYS_write 16      // ssize_t write(int fd, const void *buf, size_t n)
#define SYS_mknod 17      // int mknod(const char *path, short major, short minor)
#define SYS_unlink 18     // int unlink(const char *path)
#define SYS_link 19       // int link(const char *old, const char *new)
#define SYS_mkdir 20      // int mkdir(const char *path)
#define SYS_close 21      // int close(int fd)
#define SYS_sysctl 22     // int sysctl(const char *name, void *old, size_t *oldlen, const void *new, size_t newlen)
#define SYS_sysctlnext 23 // int sysctlnext(const char *name, char *next, size_t len): type of next name, 0 at end
#define SYS_halt 24       // int halt(int code): power off (code 0) or exit QEMU with code
#define SYS_fcntl 25      // int fcntl(int fd, int cmd, long arg)
#define SYS_dup2 26       // int dup2(int oldfd, int newfd)
#define SYS_lseek 27      // long lseek(int fd, long off, int whence)
#define SYS_getppid 28    // int getppid(void)
#define SYS_sched_yield 29 // int sched_yield(void)
#define SYS_sysctlinfo 30 // int sysctlinfo(const char *name, struct sysctl_info *info)
#define SYS_procinfo 31   // int procinfo(struct procinfo *buf, int max): kernel/procinfo.h

#define NSYSCALL 64       // size of the dispatch table

// Sockets (net/socket.c, net/sys_socket.c). Values >= 0 or -Exxx.
#define SYS_socket 40      // int socket(int domain, int type, int protocol)
#define SYS_bind 41        // int bind(int s, const struct sockaddr *a, socklen_t len)
#define SYS_connect 42     // int connect(int s, const struct sockaddr *a, socklen_t len)
#define SYS_listen 43      // int listen(int s, int backlog)
#define SYS_accept 44      // int accept(int s, struct sockaddr *a, socklen_t *len)
#define SYS_sendto 45      // ssize_t sendto(int s, const void *b, size_t n, int flags, const struct sockaddr *a, socklen_t len)
#define SYS_recvfrom 46    // ssize_t recvfrom(int s, void *b, size_t n, int flags, struct sockaddr *a, socklen_t *len)
#define SYS_shutdown 47    // int shutdown(int s, int how)
#define SYS_setsockopt 48  // int setsockopt(int s, int level, int opt, const void *v, socklen_t len)
#define SYS_getsockopt 49  // int getsockopt(int s, int level, int opt, void *v, socklen_t *len)
#define SYS_getsockname 50 // int getsockname(int s, struct sockaddr *a, socklen_t *len)
#define SYS_getpeername 51 // int getpeername(int s, struct sockaddr *a, socklen_t *len)
#define SYS_poll 52        // int poll(struct pollfd *fds, int nfds, int timeout_ms)
#define SYS_ioctl 53       // int ioctl(int fd, unsigned long cmd, void *arg)
