// The user-space interface: system calls and the small C library.
//
// Every user program includes this one header. The system calls are the
// stubs that the Makefile generates from kernel/syscall.h (user/lib/usys.S):
// each loads its number into a7, traps with ecall and tail-calls
// __syscall_ret, which turns a kernel result in [-4095, -1] into -1 with
// errno set. The library (user/lib/*.c) is freestanding: no libc headers,
// nothing hidden; read it when a function surprises you.
#pragma once
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "kernel/errno.h"
#include "kernel/sysctl.h"
#include "kernel/socket.h"
#include "kernel/in.h"
#include "kernel/poll.h"
#include "kernel/sockio.h"
#include "kernel/procinfo.h"

typedef __builtin_va_list va_list;
#define va_start(ap, last) __builtin_va_start(ap, last)
#define va_arg(ap, type) __builtin_va_arg(ap, type)
#define va_end(ap) __builtin_va_end(ap)
#define va_copy(d, s) __builtin_va_copy(d, s)

#define STDIN_FILENO 0
#define STDOUT_FILENO 1
#define STDERR_FILENO 2

// ---- system calls (kernel/syscall.h; -1 and errno on error) ------------
int fork(void);
void exit(int status) __attribute__((noreturn));
int wait(int *status);                  // pid of an exited child; status may be NULL
int pipe(int fds[2]);
ssize_t read(int fd, void *buf, size_t n);
ssize_t write(int fd, const void *buf, size_t n);
int kill(int pid);                      // no signals: the process just dies
int exec(const char *path, char **argv); // returns only on error
int fstat(int fd, struct stat *st);
int chdir(const char *path);
int dup(int fd);
int dup2(int oldfd, int newfd);
int getpid(void);
int getppid(void);
char *sbrk(long n);                     // old break; (char *)-1 on error
int sleep(int ms);                      // milliseconds
long uptime(void);                      // milliseconds since boot
int open(const char *path, int flags);
int mknod(const char *path, short major, short minor);
int unlink(const char *path);           // files and empty directories
int link(const char *old, const char *new);
int mkdir(const char *path);
int close(int fd);
int sysctl(const char *name, void *old, size_t *oldlen, const void *new,
	   size_t newlen);
int sysctlnext(const char *name, char *next, size_t len);
// Type, flags and declared range of a knob (kernel/sysctl.h).
int sysctlinfo(const char *name, struct sysctl_info *info);
// Clocks read from the hart's counters, no system call (user/lib/clock.c):
uint64 clock_us(void);      // microseconds since boot (time CSR)
uint64 clock_ticks(void);   // time CSR ticks since boot (TIMEBASE per second)
uint64 insn_count(void);    // instret: guest instructions under qemu -icount
uint64 clock_ns(void);      // nanoseconds since boot (time CSR, 100 ns steps)
uint64 clock_idle_ns(void); // kern.idle_ns: ns all harts spent idle (in wfi)
// Read an integer knob: 0, or -1 with errno (user/lib/sysctl.c).
int sysctl_getint(const char *name, int64 *v);
// Read a string knob into a malloc'd buffer, or NULL with errno.
char *sysctl_getstr(const char *name, size_t slack);
int halt(int code);                     // 0 powers off, else QEMU exits with code
int fcntl(int fd, int cmd, long arg);
long lseek(int fd, long off, int whence);
int sched_yield(void);
// The process table: up to max entries in buf; returns the number of
// processes (may be > max), or -1 with errno (kernel/procinfo.h).
int procinfo(struct procinfo *buf, int max);

// ---- sockets (kernel/socket.h, kernel/in.h, kernel/poll.h) -------------
int socket(int domain, int type, int protocol);
int bind(int s, const struct sockaddr *a, socklen_t len);
int connect(int s, const struct sockaddr *a, socklen_t len);
int listen(int s, int backlog);
int accept(int s, struct sockaddr *a, socklen_t *len);  // a, len may be NULL
ssize_t sendto(int s, const void *b, size_t n, int flags,
	       const struct sockaddr *a, socklen_t len);
ssize_t recvfrom(int s, void *b, size_t n, int flags, struct sockaddr *a,
		 socklen_t *len);
int shutdown(int s, int how);
int setsockopt(int s, int level, int opt, const void *v, socklen_t len);
int getsockopt(int s, int level, int opt, void *v, socklen_t *len);
int getsockname(int s, struct sockaddr *a, socklen_t *len);
int getpeername(int s, struct sockaddr *a, socklen_t *len);
int poll(struct pollfd *fds, int nfds, int timeout_ms);  // -1: no timeout
int ioctl(int fd, unsigned long cmd, void *arg);        // kernel/sockio.h
// Library forms (lib/socket.c): sendto/recvfrom without an address.
ssize_t send(int s, const void *b, size_t n, int flags);
ssize_t recv(int s, void *b, size_t n, int flags);

// ---- Internet addresses (lib/inet.c) -----------------------------------
// Addresses in struct in_addr are in network order. inet_aton accepts only
// the dotted quad a.b.c.d (each 0..255, decimal), returns 1 if valid, 0
// if not; inet_pton(AF_INET, ...) the same (-1 and EAFNOSUPPORT for
// another family). inet_ntoa formats into a static buffer (overwritten by
// the next call); inet_ntop into dst (INET_ADDRSTRLEN bytes suffice).
#define INET_ADDRSTRLEN 16
int inet_aton(const char *s, struct in_addr *a);
int inet_pton(int af, const char *s, void *dst);
char *inet_ntoa(struct in_addr a);
const char *inet_ntop(int af, const void *src, char *dst, socklen_t len);
// The Internet checksum (RFC 1071) of n bytes at p: the value to store in
// a header's checksum field (already in network order), or 0 when
// checking a packet whose checksum field is filled in and correct.
uint16 in_cksum(const void *p, size_t n);

// Headers seen on a raw ICMP socket (RFC 791, RFC 792): a received
// packet starts with the IP header (ip_vhl & 0xf 32-bit words long), the
// ICMP message follows; what is sent is the ICMP message alone (the
// kernel builds the IP header). Multi-byte fields are in network order.
struct ip_hdr {
	uint8 ip_vhl;    // version << 4 | header length in 32-bit words
	uint8 ip_tos;
	uint16 ip_len;   // total length, header included
	uint16 ip_id;
	uint16 ip_off;   // flags and fragment offset
	uint8 ip_ttl;
	uint8 ip_p;      // protocol (IPPROTO_ICMP)
	uint16 ip_sum;
	uint32 ip_src;
	uint32 ip_dst;
};

#define ICMP_ECHOREPLY 0
#define ICMP_UNREACH 3
#define ICMP_ECHO 8
#define ICMP_TIMXCEED 11

struct icmp_hdr {
	uint8 icmp_type;
	uint8 icmp_code;
	uint16 icmp_cksum;
	uint16 icmp_id;   // echo: identifier (ping uses its pid)
	uint16 icmp_seq;  // echo: sequence number
};

// ---- errors (lib/syscall.c, lib/strerror.c) -----------------------------
extern int errno;
long __syscall_ret(long r);
const char *strerror(int err);
void perror(const char *what);          // "what: message\n" on fd 2
// Print the message (printf format) and a newline on fd 2, then exit(1).
void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

// ---- formatted output (lib/printf.c) -----------------------------------
// Each call formats into a buffer and writes it with as few write()s as
// possible (one for output up to 512 bytes), so lines from concurrent
// processes do not interleave character by character.
// Conversions: %d %i %u %x %X %o %p %s %c %%; length hh h l ll z; flags
// '-' '0' '+' ' ' '#'; width and precision (for %s: at most that many
// bytes), also as *.
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int fprintf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int vfprintf(int fd, const char *fmt, va_list ap);
int snprintf(char *buf, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t n, const char *fmt, va_list ap);
// The text cut to fit, a newline, a NUL; returns the length with the newline.
int vsnprintln(char *buf, size_t n, const char *fmt, va_list ap);
int puts(const char *s);                // s and a newline on fd 1

// ---- line input (lib/getline.c) ----------------------------------------
// Read one line (with its '\n') from fd into buf, at most max-1 bytes,
// NUL-terminated; one byte per read() so no input past the line is
// consumed (a child started afterwards sees the rest). NULL at end of
// file or on error when nothing was read.
char *fgets(char *buf, int max, int fd);
char *gets(char *buf, int max);         // fgets from fd 0

// ---- memory (lib/malloc.c) ---------------------------------------------
void *malloc(size_t n);
void free(void *p);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t n);

// ---- strings (lib/string.c) --------------------------------------------
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strcpy(char *dst, const char *src);
char *strncpy(char *dst, const char *src, size_t n);
char *strcat(char *dst, const char *src);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
char *strstr(const char *hay, const char *needle);
char *strdup(const char *s);

// ---- conversions and character classes (lib/ctype.c) -------------------
int isdigit(int c);
int isspace(int c);
int isalpha(int c);
int isalnum(int c);
int isxdigit(int c);
int atoi(const char *s);
// Base 0 (decimal, 0x hex, 0 octal), 8, 10 or 16; *end (if end != NULL)
// points after the last digit used, or to s if there were none.
long strtol(const char *s, char **end, int base);
