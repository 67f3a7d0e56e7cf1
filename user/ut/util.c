// usertests: helpers shared by the tests (see ut.h).
#include "user/ut/ut.h"

int ut_reason_fd = -1;  // where fail() writes its reason (a pipe to the driver)

void
fail(const char *fmt, ...)
{
	char buf[300];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintln(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	write(ut_reason_fd >= 0 ? ut_reason_fd : 2, buf, n);
	exit(1);
}

void
expect_err(int line, const char *what, long r, int err)
{
	int got = errno;

	if (r == -1 && got == err)
		return;
	if (r == -1)
		fail("line %d: %s: %s, want %s", line, what, strerror(got),
		     strerror(err));
	fail("line %d: %s returned %ld, want -1 (%s)", line, what, r,
	     strerror(err));
}

long
expect_ok(int line, const char *what, long r)
{
	if (r < 0)
		fail("line %d: %s: %s", line, what, strerror(errno));
	return r;
}

int
xfork(void)
{
	int pid = fork();

	if (pid < 0)
		fail("fork: %s", strerror(errno));
	return pid;
}

void
xpipe(int fds[2])
{
	if (pipe(fds) < 0)
		fail("pipe: %s", strerror(errno));
}

int
xopen(const char *path, int flags)
{
	int fd = open(path, flags);

	if (fd < 0)
		fail("open %s: %s", path, strerror(errno));
	return fd;
}

int
xwait(int pid)
{
	int status, w = wait(&status);

	if (w < 0)
		fail("wait: %s", strerror(errno));
	if (w != pid)
		fail("wait returned pid %d, want %d", w, pid);
	return status;
}

void
write_file(const char *path, const void *data, size_t n)
{
	int fd = xopen(path, O_CREAT | O_TRUNC | O_WRONLY);
	ssize_t w = write(fd, data, n);

	if (w != (ssize_t)n)
		fail("write %s: %ld of %lu bytes (%s)", path, w,
		     (unsigned long)n, w < 0 ? strerror(errno) : "short");
	close(fd);
}

size_t
read_file(const char *path, void *buf, size_t max)
{
	int fd = xopen(path, O_RDONLY);
	size_t got = 0;
	ssize_t n;

	while (got < max && (n = read(fd, (char *)buf + got, max - got)) > 0)
		got += n;
	close(fd);
	return got;
}

int
run_capture(const char *path, char **argv, char *buf, size_t max)
{
	int p[2], pid;
	size_t got = 0;
	ssize_t n;

	xpipe(p);
	pid = xfork();
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], 1);
		close(p[1]);
		exec(path, argv);
		fail("exec %s: %s", path, strerror(errno));
	}
	close(p[1]);
	while (got + 1 < max && (n = read(p[0], buf + got, max - 1 - got)) > 0)
		got += n;
	buf[got] = '\0';
	close(p[0]);
	return xwait(pid);
}

#define SURVIVED 77

bool
dies(void (*fn)(void))
{
	int pid = xfork();

	if (pid == 0) {
		fn();
		exit(SURVIVED);
	}
	return xwait(pid) != SURVIVED;
}

uint64
freed_addr(void)
{
	char *p = sbrk(2 * PGSIZE);

	if (p == (char *)-1)
		fail("sbrk: %s", strerror(errno));
	p[0] = 1;
	if (sbrk(-2 * PGSIZE) == (char *)-1)
		fail("sbrk shrink: %s", strerror(errno));
	// The break may not have been page-aligned: use the second page.
	return ((uint64)p + 2 * PGSIZE - 1) & ~(uint64)(PGSIZE - 1);
}

int64
sysctl_int(const char *name)
{
	int64 v;

	if (sysctl_getint(name, &v) < 0)
		fail("sysctl %s: %s", name, strerror(errno));
	return v;
}
