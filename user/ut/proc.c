// usertests: processes -- fork, exit, wait, kill, sleep.
// Part of usertests (#included by user/usertests.c).
#include "user/ut/ut.h"

// The status given to exit() comes back from wait(); wait(NULL) works.
static void
t_exitstatus(void)
{
	static const int codes[] = { 0, 1, 42, 255 };
	int pid;

	for (size_t i = 0; i < nelem(codes); i++) {
		pid = xfork();
		if (pid == 0)
			exit(codes[i]);
		int st = xwait(pid);
		CHECK(st == codes[i], "exit(%d) gave status %d", codes[i], st);
	}
	pid = xfork();
	if (pid == 0)
		exit(3);
	CHECK(wait(NULL) == pid, "wait(NULL) did not return the child's pid");
}

// Many children at once; every one is reaped exactly once, with its own
// status; then wait has nothing left (ECHILD).
static void
t_manychildren(void)
{
	enum { N = 20 };
	int pids[N], st, w;
	bool seen[N] = { false };

	for (int i = 0; i < N; i++) {
		pids[i] = xfork();
		if (pids[i] == 0) {
			if (i % 2)
				sleep(i);
			exit(i);
		}
	}
	for (int n = 0; n < N; n++) {
		w = EXPECT_OK(wait(&st));
		int i = 0;
		while (i < N && pids[i] != w)
			i++;
		CHECK(i < N, "wait returned %d, not one of my children", w);
		CHECK(!seen[i], "child %d reaped twice", w);
		CHECK(st == i, "child %d: status %d, want %d", w, st, i);
		seen[i] = true;
	}
	EXPECT_ERR(ECHILD, wait(NULL));
}

static void
t_waitnochild(void)
{
	EXPECT_ERR(ECHILD, wait(NULL));
	EXPECT_ERR(ECHILD, wait(&(int){ 0 }));
}

static void
t_getppid(void)
{
	int me = getpid(), p[2], pid, ppid = 0, cpid = 0;

	CHECK(me > 0, "getpid returned %d", me);
	xpipe(p);
	pid = xfork();
	if (pid == 0) {
		int v[2] = { getppid(), getpid() };
		write(p[1], v, sizeof(v));
		exit(0);
	}
	int v[2];
	CHECK(read(p[0], v, sizeof(v)) == sizeof(v), "read from child failed");
	ppid = v[0];
	cpid = v[1];
	xwait(pid);
	CHECK(ppid == me, "child's getppid() = %d, want %d", ppid, me);
	CHECK(cpid == pid, "child's getpid() = %d, fork said %d", cpid, pid);
}

// procinfo(2), the table ps shows: this process RUNNING on a hart with
// its parent and name, a sleeping child with us as parent and no hart, a
// pinned kernel thread; a buffer shorter than the table gets only what
// fits and the full count.
static const struct procinfo *
find_pid(const struct procinfo *pi, int n, int pid)
{
	for (int i = 0; i < n; i++)
		if (pi[i].pi_pid == pid)
			return &pi[i];
	return NULL;
}

static void
t_procinfo(void)
{
	static struct procinfo pi[128];
	const struct procinfo *me, *kid, *k = NULL;
	int p[2], pid, n;
	char c;

	xpipe(p);
	pid = xfork();
	if (pid == 0) {
		close(p[1]);
		read(p[0], &c, 1);   // sleeps until the parent closes its end
		exit(0);
	}
	close(p[0]);
	// The child reaches read() and sleeps -- soon, or seconds later on a
	// loaded host: look until it does (or 20 s have passed).
	for (long end = uptime() + 20000;;) {
		sleep(20);
		n = procinfo(pi, nelem(pi));
		CHECK(n >= 4 && n <= (int)nelem(pi), "procinfo returned %d", n);
		me = find_pid(pi, n, getpid());
		kid = find_pid(pi, n, pid);
		CHECK(me && kid, "procinfo lists neither pid %d (me) nor %d (child)", getpid(),
		      pid);
		if (kid->pi_state == PI_SLEEPING || uptime() >= end)
			break;
	}
	CHECK(me->pi_state == PI_RUNNING && me->pi_cpu >= 0, "me: state %d cpu %d",
	      me->pi_state, me->pi_cpu);
	CHECK(me->pi_ppid == getppid() && strcmp(me->pi_name, "usertests") == 0 &&
	      !(me->pi_flags & PI_KTHREAD) && me->pi_sz > 0,
	      "me: ppid %d name %s flags %d sz %lu", me->pi_ppid, me->pi_name, me->pi_flags,
	      (unsigned long)me->pi_sz);
	CHECK(me->pi_runtime_us > 0, "me: no run time after a sleep");
	CHECK(kid->pi_state == PI_SLEEPING && kid->pi_cpu == -1 && kid->pi_ppid == getpid(),
	      "child: state %d cpu %d ppid %d", kid->pi_state, kid->pi_cpu, kid->pi_ppid);
	for (int i = 0; i < n; i++)
		if (strcmp(pi[i].pi_name, "netisr0") == 0)
			k = &pi[i];
	CHECK(k && (k->pi_flags & PI_KTHREAD) && k->pi_affinity == 0 && k->pi_sz == 0,
	      "no pinned kernel thread netisr0");
	memset(pi, 0x5a, sizeof(pi));
	CHECK(procinfo(pi, 1) >= n - 1, "procinfo(buf, 1) did not count them all");
	CHECK(pi[0].pi_pid > 0 && pi[1].pi_pid == 0x5a5a5a5a, "procinfo(buf, 1) wrote %s",
	      pi[0].pi_pid > 0 ? "more than one entry" : "nothing");
	CHECK(procinfo(NULL, 0) >= n - 1, "procinfo(NULL, 0) does not count");
	close(p[1]);
	xwait(pid);
}

// An orphan is handed to init (pid 1), which reaps it.
static void
t_reparent(void)
{
	int p[2], pid, ppid = -1;

	xpipe(p);
	pid = xfork();
	if (pid == 0) {
		int me = getpid();
		if (xfork() == 0) {
			// Grandchild: wait (up to 20 s) for the parent to go.
			for (long end = uptime() + 20000; getppid() == me && uptime() < end;)
				sleep(10);
			int pp = getppid();
			write(p[1], &pp, sizeof(pp));
			exit(0);
		}
		exit(0);
	}
	close(p[1]);
	xwait(pid);
	CHECK(read(p[0], &ppid, sizeof(ppid)) == sizeof(ppid),
	      "no word from the grandchild");
	CHECK(ppid == 1, "orphan's parent is %d, want 1 (init)", ppid);
	EXPECT_ERR(ECHILD, wait(NULL));
}

// Fork until the process table is full: fork fails with EAGAIN; once the
// children are gone, every one has been reaped and fork works again.
static void
t_forkfail(void)
{
	int p[2], n = 0, pid, err;
	char c;

	xpipe(p);
	for (;;) {
		pid = fork();
		if (pid < 0)
			break;
		if (pid == 0) {
			close(p[1]);
			read(p[0], &c, 1);  // until the parent closes p[1]
			exit(0);
		}
		if (++n > 2 * NPROC) {
			close(p[1]);
			fail("%d forks and none failed", n);
		}
	}
	err = errno;
	close(p[1]);
	close(p[0]);
	for (int i = 0; i < n; i++)
		CHECK(wait(NULL) > 0, "only %d of %d children reaped: %s", i, n,
		      strerror(errno));
	CHECK(err == EAGAIN, "fork failed with %s, want %s", strerror(err),
	      strerror(EAGAIN));
	CHECK(n >= NPROC / 2, "fork failed after only %d children", n);
	EXPECT_ERR(ECHILD, wait(NULL));
	pid = xfork();
	if (pid == 0)
		exit(0);
	xwait(pid);
}

static void
spin(void)
{
	for (volatile long i = 0;; i++)
		;
}

// kill pid, which must then exit promptly (well within 20 s, which only a
// loaded host comes near).
static void
kill_and_reap(int pid, const char *what)
{
	long t0 = uptime();

	CHECK(kill(pid) == 0, "kill %s: %s", what, strerror(errno));
	int w = wait(NULL);
	CHECK(w == pid, "wait after kill %s returned %d", what, w);
	CHECK(uptime() - t0 < 20000, "%s took %ld ms to die", what, uptime() - t0);
}

static void
t_killspin(void)
{
	int pid = xfork();

	if (pid == 0)
		spin();
	sleep(20);
	kill_and_reap(pid, "a spinning child");
	EXPECT_ERR(ESRCH, kill(pid));
}

static void
t_killsleep(void)
{
	int pid = xfork();

	if (pid == 0) {
		sleep(100000);
		exit(0);
	}
	sleep(20);
	kill_and_reap(pid, "a sleeping child");
}

// A child blocked reading an empty pipe dies when killed.
static void
t_killpipe(void)
{
	int p[2], pid;
	char c;

	xpipe(p);
	pid = xfork();
	if (pid == 0) {
		read(p[0], &c, 1);
		exit(0);
	}
	sleep(20);
	kill_and_reap(pid, "a child blocked in read");
}

static void
t_killnosuch(void)
{
	EXPECT_ERR(ESRCH, kill(100000));
	EXPECT_ERR(ESRCH, kill(-5));
}

// Many short sleeps at once all end. sleep(1) read the clock twice, and
// when the millisecond turned between the two reads it asked for a sleep
// of 0 ms, which meant "no timeout": the process slept for ever (about one
// sleep(1) in a thousand). A child stuck so makes this test time out, and
// an orphan stuck so keeps its pages, which the end-of-run memory check
// then reports as lost.
static void
t_sleepshort(void)
{
	enum { KIDS = 4, SLEEPS = 2000 };

	for (int i = 0; i < KIDS; i++) {
		if (xfork() == 0) {
			for (int j = 0; j < SLEEPS; j++)
				if (sleep(1) != 0)
					fail("sleep: %s", strerror(errno));
			exit(0);
		}
	}
	for (int i = 0; i < KIDS; i++) {
		int st;
		CHECK(wait(&st) > 0 && st == 0, "a sleeper failed");
	}
}

// The user clocks (user/lib/clock.c): rdtime and rdinstret work in user
// mode (a process without the kernel's permission dies of an illegal
// instruction), clock_us() never goes back, agrees with uptime() (same
// counter), and covers a sleep; instret grows while we compute.
static void
t_clock(void)
{
	uint64 prev = clock_us(), n0 = insn_count();
	volatile long x = 0;

	for (int i = 0; i < 1000; i++) {
		uint64 t = clock_us();
		CHECK(t >= prev, "clock_us went back: %lu after %lu", t, prev);
		prev = t;
		x += i;
	}
	CHECK(insn_count() > n0, "instret did not grow over a loop");
	long ms = uptime();
	uint64 us = clock_us();
	CHECK(us / 1000 + 1 >= (uint64)ms && us / 1000 <= (uint64)ms + 1000,
	      "clock_us %lu us, uptime %ld ms", us, ms);
	EXPECT_OK(sleep(20));
	// sleep counts whole milliseconds of uptime: 20 of them span > 19 ms.
	CHECK(clock_us() - us >= 19000, "sleep(20) took %lu us", clock_us() - us);
}

// sleep(ms) sleeps at least ms milliseconds of uptime().
static void
t_sleep(void)
{
	long t0, t1;

	t0 = uptime();
	CHECK(t0 >= 0, "uptime returned %ld", t0);
	CHECK(sleep(100) == 0, "sleep(100): %s", strerror(errno));
	t1 = uptime();
	CHECK(t1 - t0 >= 100, "sleep(100) returned after %ld ms", t1 - t0);
	CHECK(sleep(0) == 0, "sleep(0): %s", strerror(errno));
	CHECK(uptime() >= t1, "uptime went backwards");
	int64 k = sysctl_int("kern.uptime_ms");
	CHECK(k >= t1 && k - t1 < 2000,
	      "kern.uptime_ms = %ld, but uptime() = %ld", k, t1);
}
