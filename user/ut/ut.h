// usertests: what the test files share.
//
// usertests is one program built from user/usertests.c, which #includes
// the test files in user/ut/ (the Makefile builds every user/*.c into a
// program of its own, so a program cannot have several .c files). Each
// test is a void function that runs in a forked child, in the scratch
// directory /utmp; it returns if the kernel behaved, and calls fail()
// (which exits the child) as soon as something is wrong. Tests leave no
// files and no processes behind, and remove stale files of a previous
// run before they start.
#pragma once
#include "user/user.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/fsformat.h"

#define PGSIZE 4096

// Report why the test failed (printf format) and end the test.
void fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#define CHECK(cond, ...)                  \
	do {                              \
		if (!(cond))              \
			fail(__VA_ARGS__); \
	} while (0)

// call must fail with -1 and errno err.
#define EXPECT_ERR(err, call) \
	expect_err(__LINE__, #call, (long)(call), (err))
// call must succeed (>= 0); evaluates to its result.
#define EXPECT_OK(call) expect_ok(__LINE__, #call, (long)(call))

void expect_err(int line, const char *what, long r, int err);
long expect_ok(int line, const char *what, long r);

// Helpers that fail the test when the system call fails.
int xfork(void);
void xpipe(int fds[2]);
int xopen(const char *path, int flags);
// Wait for child pid (which must be the next child to exit, or the only
// one); returns its exit status.
int xwait(int pid);
// Create path with n bytes of data (truncating an existing file).
void write_file(const char *path, const void *data, size_t n);
// Read up to max bytes of path; returns the count.
size_t read_file(const char *path, void *buf, size_t max);
// Run path with argv, its stdout into buf (NUL-terminated, at most max-1
// bytes); returns its exit status.
int run_capture(const char *path, char **argv, char *buf, size_t max);
// Does the child running fn die (killed by the kernel) rather than exit?
bool dies(void (*fn)(void));
// An address that was mapped and is not any more (an sbrk'ed and
// released page).
uint64 freed_addr(void);
// Current value of an integer sysctl knob; fails the test if unreadable.
int64 sysctl_int(const char *name);
