// usertests: user memory -- sbrk, protection of kernel memory, text and
// stack guard, and memory coming back after exit.
// Part of usertests (#included by user/usertests.c).
#include "user/ut/ut.h"

// Grow, use, shrink; a released page is gone (touching it kills).
static char *released;

static void
touch_released(void)
{
	*(volatile char *)released = 1;
}

static void
t_sbrkbasic(void)
{
	const long n = 64 * PGSIZE;
	char *a = sbrk(0), *b;

	b = sbrk(n);
	CHECK(b == a, "sbrk(%ld) returned %p, break was %p", n, b, a);
	CHECK(sbrk(0) == a + n, "break is %p after sbrk(%ld) from %p", sbrk(0), n, a);
	for (long i = 0; i < n; i += PGSIZE / 4)
		a[i] = (char)(i / 7);
	for (long i = 0; i < n; i += PGSIZE / 4)
		CHECK(a[i] == (char)(i / 7), "heap byte %ld changed", i);
	CHECK(sbrk(-n) == a + n, "sbrk(-%ld) did not return the old break", n);
	CHECK(sbrk(0) == a, "break did not go back to %p", a);
	// Odd sizes.
	CHECK(sbrk(1) == a && sbrk(0) == a + 1, "sbrk(1) misbehaved");
	a[0] = 'x';
	CHECK(sbrk(-1) == a + 1 && sbrk(0) == a, "sbrk(-1) misbehaved");
	released = (char *)freed_addr();
	CHECK(dies(touch_released), "writing a released heap page did not kill");
}

// Impossible requests fail with ENOMEM (shrinking below the heap's start
// with some error) and change nothing.
static void
t_sbrkhuge(void)
{
	char *a = sbrk(0), *p;

	EXPECT_ERR(ENOMEM, sbrk(1L << 40));
	EXPECT_ERR(ENOMEM, sbrk(MAXVA));
	CHECK(sbrk(0) == a, "failed sbrk moved the break");
	CHECK(sbrk(-(1L << 40)) == (char *)-1, "sbrk(-2^40) succeeded");
	CHECK(sbrk(0) == a, "failed sbrk moved the break");
	// Still usable.
	p = sbrk(PGSIZE);
	CHECK(p == a, "sbrk(PGSIZE) after failures: %p", p);
	p[PGSIZE - 1] = 1;
	char *m = malloc(5000);
	CHECK(m != NULL, "malloc after failed sbrks");
	m[4999] = 2;
}

// sbrk just below the top of the address space (about 256 GiB, far more
// than RAM) fails with ENOMEM, many times over, and leaves the break and
// the free memory as they were. It used to take all of memory and then
// undo by walking every page of the request, one page-table lookup each:
// seconds per call, so this loop ran past the test's time limit.
static void
t_sbrkundo(void)
{
	char *a = sbrk(0);
	long huge = (TRAPFRAME - (long)a) - 2 * PGSIZE;
	int64 before = sysctl_int("vm.pages_free");

	for (int i = 0; i < 20; i++) {
		EXPECT_ERR(ENOMEM, sbrk(huge));
		CHECK(sbrk(0) == a, "failed sbrk moved the break");
	}
	// Half the free memory still comes, and goes back.
	long n = (before / 2) * PGSIZE;
	char *p = sbrk(n);
	CHECK(p == a, "sbrk(%ld) after failures: %p (%s)", n, p, strerror(errno));
	p[0] = p[n - 1] = 1;
	CHECK(sbrk(-n) == p + n && sbrk(0) == a, "shrinking back failed");
	// The page-table pages stay until exit (as in xv6): one per 512 pages.
	int64 after = sysctl_int("vm.pages_free"), tables = n / PGSIZE / 512 + 2;
	CHECK(after >= before - tables, "free pages %ld before, %ld after", before, after);
}

// A child gets a copy of the heap; writes do not leak between them.
static void
t_sbrkfork(void)
{
	const long n = 16 * PGSIZE;
	char *a = sbrk(n);
	int pid;

	CHECK(a != (char *)-1, "sbrk: %s", strerror(errno));
	for (long i = 0; i < n; i += 512)
		a[i] = 'p';
	pid = xfork();
	if (pid == 0) {
		for (long i = 0; i < n; i += 512) {
			if (a[i] != 'p')
				fail("child sees heap byte %ld = %d", i, a[i]);
			a[i] = 'c';
		}
		if (sbrk(-n) == (char *)-1)
			fail("child sbrk(-n): %s", strerror(errno));
		exit(0);
	}
	CHECK(xwait(pid) == 0, "child failed");
	for (long i = 0; i < n; i += 512)
		CHECK(a[i] == 'p', "parent heap byte %ld changed by the child", i);
}

// Grow the heap beyond the machine's memory, at once and step by step,
// then give it all back; the machine must still work (fork succeeds).
static void
t_sbrkoom(void)
{
	const long step = 1L << 20;
	char *a = sbrk(0), *p;
	long got = 0;
	int pid;

	// More than all of RAM (256 MiB) at once: fails, and gives back
	// what it got on the way.
	p = sbrk(300L << 20);
	CHECK(p == (char *)-1 && errno == ENOMEM,
	      "sbrk(300 MiB) on a 256 MiB machine: %p (%s)", p, strerror(errno));
	CHECK(sbrk(0) == a, "failed sbrk moved the break");
	// Then step by step.
	while ((p = sbrk(step)) != (char *)-1) {
		p[0] = p[step - 1] = 1;
		got += step;
		CHECK(got < (1L << 30), "sbrk gave 1 GiB on a 256 MiB machine");
	}
	CHECK(errno == ENOMEM, "sbrk failed with %s, want %s", strerror(errno),
	      strerror(ENOMEM));
	CHECK(got > (16L << 20), "only %ld MiB before ENOMEM", got >> 20);
	CHECK(sbrk(-got) != (char *)-1 && sbrk(0) == a, "shrinking back failed");
	pid = xfork();
	if (pid == 0)
		exit(0);
	xwait(pid);
}

// malloc/free/realloc with a pattern check (the library's allocator).
static void
t_malloc(void)
{
	enum { N = 100 };
	static unsigned char *blk[N];
	static size_t len[N];
	unsigned long seed = 7;

	for (int round = 0; round < 3000; round++) {
		seed = seed * 6364136223846793005UL + 1442695040888963407UL;
		int i = (seed >> 33) % N;
		if (blk[i] != NULL) {
			for (size_t k = 0; k < len[i]; k++)
				CHECK(blk[i][k] == (unsigned char)(i + k),
				      "block %d byte %lu corrupted", i, (unsigned long)k);
			free(blk[i]);
			blk[i] = NULL;
			continue;
		}
		len[i] = 1 + (seed >> 40) % 3000;
		blk[i] = malloc(len[i]);
		CHECK(blk[i] != NULL, "malloc(%lu) failed", (unsigned long)len[i]);
		CHECK((uint64)blk[i] % 16 == 0, "malloc returned %p", blk[i]);
		for (size_t k = 0; k < len[i]; k++)
			blk[i][k] = (unsigned char)(i + k);
	}
	char *s = malloc(10);
	strcpy(s, "realloc");
	s = realloc(s, 10000);
	CHECK(s != NULL && strcmp(s, "realloc") == 0, "realloc lost the data");
	int *z = calloc(1000, sizeof(int));
	for (int i = 0; i < 1000; i++)
		CHECK(z[i] == 0, "calloc memory not zero at %d", i);
}

// User code cannot read or write kernel memory or the trampoline.
static void read_kernel(void) { (void)*(volatile char *)KERNBASE; }
static void write_kernel(void) { *(volatile char *)(KERNBASE + 0x100000) = 1; }
static void read_trampoline(void) { (void)*(volatile char *)TRAMPOLINE; }
static void write_trapframe(void) { *(volatile long *)TRAPFRAME = 0; }
static void read_null(void) { (void)*(volatile char *)0; }
static void read_maxva(void) { (void)*(volatile char *)MAXVA; }

static void
t_kernmem(void)
{
	CHECK(dies(read_kernel), "reading KERNBASE did not kill");
	CHECK(dies(write_kernel), "writing kernel memory did not kill");
	CHECK(dies(read_trampoline), "reading the trampoline did not kill");
	CHECK(dies(write_trapframe), "writing the trapframe did not kill");
	CHECK(dies(read_null), "reading address 0 did not kill");
	CHECK(dies(read_maxva), "reading MAXVA did not kill");
}

// Program text is not writable.
static void write_text(void) { *(volatile char *)(uint64)t_kernmem = 0; }

static void
t_textwrite(void)
{
	CHECK(dies(write_text), "writing program text did not kill");
}

// Running off the bottom of the stack hits the guard page and kills.
static int
recurse(int depth)
{
	volatile char frame[1024];

	frame[0] = (char)depth;
	if (depth > (1 << 30))  // never: 1 TiB of stack (keeps gcc quiet)
		return 0;
	return recurse(depth + 1) + frame[0];
}

static void overflow(void) { recurse(0); }

static void
t_stackguard(void)
{
	CHECK(dies(overflow), "stack overflow did not kill");
	// The kernel survived and still forks.
	int pid = xfork();
	if (pid == 0)
		exit(0);
	xwait(pid);
}

// A child's pages (heap, pipes, files) all come back when it exits.
static void
t_memreturn(void)
{
	int64 before, after = 0;
	int pid;

	before = sysctl_int("vm.pages_free");
	pid = xfork();
	if (pid == 0) {
		char *p = sbrk(1 << 20);
		int fds[2];
		if (p == (char *)-1)
			exit(2);
		for (long i = 0; i < (1 << 20); i += PGSIZE)
			p[i] = 1;
		for (int i = 0; i < 10 && pipe(fds) == 0; i++)
			write(fds[1], "x", 1);  // left open: exit closes them
		exit(0);
	}
	CHECK(xwait(pid) == 0, "child failed");
	for (long end = uptime() + 20000;;) {
		after = sysctl_int("vm.pages_free");
		if (after >= before || uptime() >= end)
			break;
		sleep(20);
	}
	CHECK(after >= before, "%ld pages not returned after the child exited",
	      (long)(before - after));
}
