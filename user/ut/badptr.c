// usertests: bad pointers and lengths given to every system call that
// takes a pointer. The kernel must answer EFAULT (or, where part of a
// buffer was valid, a short count) and never crash or touch memory the
// process may not touch.
// Part of usertests (#included by user/usertests.c).
#include "user/ut/ut.h"

// Addresses no user buffer may use: unmapped, kernel-only, beyond MAXVA.
static uint64 bad[16];
static int nbad;

static void
init_bad(void)
{
	nbad = 0;
	bad[nbad++] = 0;                      // NULL
	bad[nbad++] = 8;                      // page 0
	bad[nbad++] = KERNBASE;               // kernel text
	bad[nbad++] = KERNBASE + (16 << 20);  // kernel data / free pages
	bad[nbad++] = TRAPFRAME;              // mapped, but not PTE_U
	bad[nbad++] = TRAMPOLINE;             // mapped, but not PTE_U
	bad[nbad++] = MAXVA - 8;              // last bytes of the trampoline page
	bad[nbad++] = MAXVA;
	bad[nbad++] = MAXVA + PGSIZE;
	bad[nbad++] = 0x3fffffffff000UL;      // far beyond MAXVA
	bad[nbad++] = ~0UL - PGSIZE + 1;      // top of the address space
	bad[nbad++] = freed_addr();           // released heap
}

#define EXPECT_FAULT(call, addr)                                            \
	do {                                                                \
		long r_ = (long)(call);                                     \
		if (r_ != -1 || errno != EFAULT)                            \
			fail("line %d: %s with %p: %ld (%s), want EFAULT",  \
			     __LINE__, #call, (void *)(addr), r_,           \
			     r_ == -1 ? strerror(errno) : "no error");      \
	} while (0)

// A file of 64 known bytes, open read/write.
static int
data_file(const char *name)
{
	char data[64];
	int fd;

	for (int i = 0; i < 64; i++)
		data[i] = 'A' + i % 26;
	write_file(name, data, sizeof(data));
	fd = xopen(name, O_RDWR);
	return fd;
}

// A page at the end of the heap, so that p[PGSIZE] is unmapped.
static char *
heap_end_page(void)
{
	char *brk = sbrk(0), *p;

	if ((uint64)brk % PGSIZE != 0)
		sbrk(PGSIZE - (uint64)brk % PGSIZE);
	p = sbrk(PGSIZE);
	CHECK(p != (char *)-1, "sbrk: %s", strerror(errno));
	return p;
}

static void
t_badread(void)
{
	int fd = data_file("ut_br"), p[2];
	void *text = (void *)(uint64)t_badread;

	init_bad();
	for (int i = 0; i < nbad; i++) {
		lseek(fd, 0, SEEK_SET);
		EXPECT_FAULT(read(fd, (void *)bad[i], 16), bad[i]);
		EXPECT_FAULT(read(fd, (void *)bad[i], 1L << 40), bad[i]);
		xpipe(p);
		CHECK(write(p[1], "0123456789abcdef", 16) == 16, "pipe write");
		EXPECT_FAULT(read(p[0], (void *)bad[i], 16), bad[i]);
		close(p[0]);
		close(p[1]);
	}
	lseek(fd, 0, SEEK_SET);
	EXPECT_FAULT(read(fd, text, 16), text);  // text is read-only
	close(fd);
	unlink("ut_br");
}

static void
t_badwrite(void)
{
	int fd = data_file("ut_bw"), p[2];
	struct stat st;

	init_bad();
	xpipe(p);
	for (int i = 0; i < nbad; i++) {
		lseek(fd, 0, SEEK_END);
		EXPECT_FAULT(write(fd, (void *)bad[i], 16), bad[i]);
		EXPECT_FAULT(write(fd, (void *)bad[i], 1L << 40), bad[i]);
		EXPECT_FAULT(write(p[1], (void *)bad[i], 16), bad[i]);
		EXPECT_FAULT(write(1, (void *)bad[i], 16), bad[i]);
	}
	EXPECT_OK(fstat(fd, &st));
	CHECK(st.size == 64, "failed writes changed the file size to %lu",
	      (unsigned long)st.size);
	close(fd);
	close(p[0]);
	close(p[1]);
	unlink("ut_bw");
}

// Counts far beyond the buffer, and buffers that run off mapped memory.
static void
t_hugecount(void)
{
	static char buf[4096];
	int fd = data_file("ut_hc"), out, p[2];
	char *end = heap_end_page() + PGSIZE;
	long r;

	r = read(fd, buf, 1L << 40);
	CHECK(r == 64 || (r == -1 && errno == EFAULT),
	      "read(64-byte file, 2^40) = %ld (%s)", r, strerror(errno));
	lseek(fd, 0, SEEK_SET);
	r = read(fd, buf, (size_t)-1);
	CHECK(r == 64 || (r == -1 && errno == EFAULT),
	      "read(64-byte file, -1) = %ld (%s)", r, strerror(errno));
	// The last 10 bytes of the heap, then unmapped memory.
	lseek(fd, 0, SEEK_SET);
	r = read(fd, end - 10, 64);
	CHECK((r == -1 && errno == EFAULT) || r == 10,
	      "read across the end of the heap = %ld (%s)", r, strerror(errno));
	CHECK(r == -1 || memcmp(end - 10, "ABCDEFGHIJ", 10) == 0,
	      "read across the end of the heap stored the wrong bytes");
	EXPECT_OK(read(fd, buf, 0));
	// Writing 2^40 bytes from the data segment: the guard page below the
	// stack stops it well before that.
	out = xopen("ut_hc2", O_CREAT | O_TRUNC | O_WRONLY);
	r = write(out, buf, 1L << 40);
	CHECK((r == -1 && errno == EFAULT) ||
		      (r > 0 && r <= (long)((char *)sbrk(0) - buf)),
	      "write(file, buf, 2^40) = %ld (%s)", r, strerror(errno));
	close(out);
	unlink("ut_hc2");
	xpipe(p);
	r = write(p[1], end - 10, 64);
	CHECK((r == -1 && errno == EFAULT) || r == 10,
	      "pipe write across the end of the heap = %ld (%s)", r,
	      strerror(errno));
	close(p[0]);
	close(p[1]);
	close(fd);
	unlink("ut_hc");
}

// pipe() with a bad array fails and leaks no descriptors.
static void
t_badpipe(void)
{
	int lowest = EXPECT_OK(dup(0)), fd;

	close(lowest);
	init_bad();
	for (int i = 0; i < nbad; i++)
		EXPECT_FAULT(pipe((int *)bad[i]), bad[i]);
	EXPECT_FAULT(pipe((int *)(uint64)t_badpipe), t_badpipe);
	fd = EXPECT_OK(dup(0));
	CHECK(fd == lowest, "failed pipe() calls leaked descriptors (dup gave "
	      "%d, want %d)", fd, lowest);
	close(fd);
}

static void
t_badwait(void)
{
	int pid, w;

	init_bad();
	for (int i = 1; i <= nbad; i++) {
		uint64 a = i < nbad ? bad[i] : (uint64)t_badwait;
		pid = xfork();
		if (pid == 0)
			exit(0);
		EXPECT_FAULT(wait((int *)a), a);
		// The child may or may not have been reaped; nothing else.
		w = wait(NULL);
		CHECK(w == pid || (w == -1 && errno == ECHILD),
		      "wait after EFAULT returned %d", w);
	}
	EXPECT_ERR(ECHILD, wait(NULL));
}

static void
t_badfstat(void)
{
	int fd = data_file("ut_bf");

	init_bad();
	for (int i = 0; i < nbad; i++)
		EXPECT_FAULT(fstat(fd, (struct stat *)bad[i]), bad[i]);
	EXPECT_FAULT(fstat(fd, (struct stat *)(uint64)t_badfstat), t_badfstat);
	close(fd);
	unlink("ut_bf");
}

// Every call that takes a path, as a function of the path alone.
static long pc_open(const char *p) { return open(p, O_RDONLY); }
static long pc_creat(const char *p) { return open(p, O_CREAT | O_RDWR); }
static long pc_chdir(const char *p) { return chdir(p); }
static long pc_mkdir(const char *p) { return mkdir(p); }
static long pc_unlink(const char *p) { return unlink(p); }
static long pc_mknod(const char *p) { return mknod(p, 1, 0); }
static long pc_linkold(const char *p) { return link(p, "ut_bpnew"); }
static long pc_linknew(const char *p) { return link("ut_bp", p); }
static long pc_exec(const char *p) { return exec(p, echo_argv); }

static const struct {
	long (*fn)(const char *);
	const char *name;
} pathcalls[] = {
	{ pc_open, "open" }, { pc_creat, "open(O_CREAT)" },
	{ pc_chdir, "chdir" }, { pc_mkdir, "mkdir" }, { pc_unlink, "unlink" },
	{ pc_mknod, "mknod" }, { pc_linkold, "link(old)" },
	{ pc_linknew, "link(new)" }, { pc_exec, "exec" },
};

static void
expect_path_err(int k, const char *path, int err, const char *what)
{
	long r = pathcalls[k].fn(path);

	if (r != -1 || errno != err)
		fail("%s(%s) = %ld (%s), want %s", pathcalls[k].name, what, r,
		     r == -1 ? strerror(errno) : "no error", strerror(err));
}

static void
t_badpath(void)
{
	static char toolong[MAXPATH + 64];
	char *unterminated = heap_end_page() + PGSIZE - 16;

	write_file("ut_bp", "x", 1);
	init_bad();
	memset(unterminated, 'u', 16);
	memset(toolong, 'a', sizeof(toolong) - 1);
	for (size_t k = 0; k < nelem(pathcalls); k++) {
		for (int i = 0; i < nbad; i++) {
			char what[32];
			snprintf(what, sizeof(what), "%p", (void *)bad[i]);
			expect_path_err(k, (char *)bad[i], EFAULT, what);
		}
		expect_path_err(k, unterminated, EFAULT,
				"string running into unmapped memory");
		expect_path_err(k, toolong, ENAMETOOLONG, "a too long path");
		expect_path_err(k, "", ENOENT, "\"\"");
	}
	unlink("ut_bp");
	unlink("ut_bpnew");
}

// procinfo(2) into memory the process may not write (unmapped, kernel,
// read-only text, a buffer that runs off the end of the heap): EFAULT;
// a negative count: EINVAL; a count of 0 writes nothing, so any pointer.
static void
t_badprocinfo(void)
{
	struct procinfo *edge = (struct procinfo *)(heap_end_page() + PGSIZE - 8);
	struct procinfo *text = (struct procinfo *)(uint64)t_badprocinfo;

	init_bad();
	for (int i = 0; i < nbad; i++)
		EXPECT_FAULT(procinfo((struct procinfo *)bad[i], 4), bad[i]);
	EXPECT_FAULT(procinfo(text, 1), text);
	EXPECT_FAULT(procinfo(edge, 1), edge);
	errno = 0;
	CHECK(procinfo(NULL, -1) == -1 && errno == EINVAL, "procinfo(NULL, -1): errno %d", errno);
	CHECK(procinfo((struct procinfo *)bad[nbad - 1], 0) >= 3, "procinfo(bad, 0) did not count");
}

static void
t_badsysctl(void)
{
	char name[32], *unterminated = heap_end_page() + PGSIZE - 8;
	size_t len;
	int64 v, before = sysctl_int("kern.debug");

	init_bad();
	memcpy(unterminated, "kern.deb", 8);
	len = sizeof(name);
	EXPECT_FAULT(sysctl(unterminated, name, &len, NULL, 0), unterminated);
	EXPECT_FAULT(sysctlnext(unterminated, name, sizeof(name)), unterminated);
	for (int i = 0; i < nbad; i++) {
		void *a = (void *)bad[i];
		len = sizeof(name);
		EXPECT_FAULT(sysctl(a, name, &len, NULL, 0), a);
		EXPECT_FAULT(sysctlnext(a, name, sizeof(name)), a);
		EXPECT_FAULT(sysctlnext("", a, sizeof(name)), a);
		if (a == NULL)
			continue;  // NULL old / oldlen / new are legal: "not wanted"
		len = sizeof(name);
		EXPECT_FAULT(sysctl("kern.ostype", a, &len, NULL, 0), a);
		EXPECT_FAULT(sysctl("kern.ostype", name, a, NULL, 0), a);
		len = sizeof(v);
		EXPECT_FAULT(sysctl("kern.debug", &v, &len, a, sizeof(v)), a);
	}
	CHECK(sysctl_int("kern.debug") == before,
	      "kern.debug changed by failed writes");
}
