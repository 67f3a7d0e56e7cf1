// usertests: the test program of the core kernel (processes, memory,
// files, pipes, system-call argument checking, sysctl).
//
// Usage: usertests [-q] [name ...]
//   (none)   run every test         -q   only the quick ones (< ~15 s)
//   name...  run only these tests (see the table at the bottom)
//
// Each test runs in a forked child while the parent waits; the parent
// prints "name: OK" or "name: FAIL reason". A test reports its reason
// through a pipe (fail() in ut/util.c) and exits 1; a child that dies any
// other way (killed by the kernel after a bad access, say) or that does
// not finish within TIMEOUT_MS is a FAIL too. A watchdog child sleeps for
// the time limit; whichever of the two exits first decides.
//
// Memory: before the first test (after a warm-up that makes the kernel
// allocate whatever it allocates lazily on first use) and after the last
// one, the parent reads vm.pages_free; the two must be equal, printed as
// "memory: OK" or "memory: FAIL lost N pages". The parent itself
// allocates nothing in between (no malloc, static buffers only).
//
// The last line is "ALL TESTS PASSED" or "SOME TESTS FAILED (n)", and the
// exit status 0 or 1.
//
// Testing: make qemu, then "usertests -q" or "usertests pipedata".
// The test files are in user/ut/ (see ut/ut.h for why they are included).
#include "user/ut/ut.h"
#include "user/ut/util.c"
#include "user/ut/run.c"
#include "user/ut/proc.c"
#include "user/ut/exec.c"
#include "user/ut/mem.c"
#include "user/ut/badptr.c"
#include "user/ut/fd.c"
#include "user/ut/pipe.c"
#include "user/ut/file.c"
#include "user/ut/dir.c"
#include "user/ut/sysctl.c"

#define TIMEOUT_MS 90000
#define SCRATCH "/utmp"


static const struct test tests[] = {
	// processes (ut/proc.c)
	{ t_exitstatus, "exitstatus", true },
	{ t_manychildren, "manychildren", true },
	{ t_waitnochild, "waitnochild", true },
	{ t_getppid, "getppid", true },
	{ t_procinfo, "procinfo", true },
	{ t_reparent, "reparent", true },
	{ t_forkfail, "forkfail", false },
	{ t_killspin, "killspin", true },
	{ t_killsleep, "killsleep", true },
	{ t_killpipe, "killpipe", true },
	{ t_killnosuch, "killnosuch", true },
	{ t_sleep, "sleep", true },
	{ t_sleepshort, "sleepshort", true },
	{ t_clock, "clock", true },
	// exec (ut/exec.c)
	{ t_execnoent, "execnoent", true },
	{ t_execfault, "execfault", true },
	{ t_execnoexec, "execnoexec", true },
	{ t_execargs, "execargs", true },
	{ t_exec2big, "exec2big", true },
	{ t_execloop, "execloop", false },
	// memory (ut/mem.c)
	{ t_sbrkbasic, "sbrkbasic", true },
	{ t_sbrkhuge, "sbrkhuge", true },
	{ t_sbrkundo, "sbrkundo", true },
	{ t_sbrkfork, "sbrkfork", true },
	{ t_sbrkoom, "sbrkoom", false },
	{ t_malloc, "malloc", true },
	{ t_kernmem, "kernmem", true },
	{ t_textwrite, "textwrite", true },
	{ t_stackguard, "stackguard", true },
	{ t_memreturn, "memreturn", true },
	// bad pointers (ut/badptr.c)
	{ t_badread, "badread", true },
	{ t_badwrite, "badwrite", true },
	{ t_hugecount, "hugecount", true },
	{ t_badpipe, "badpipe", true },
	{ t_badwait, "badwait", true },
	{ t_badfstat, "badfstat", true },
	{ t_badpath, "badpath", true },
	{ t_badsysctl, "badsysctl", true },
	{ t_badprocinfo, "badprocinfo", true },
	// file descriptors (ut/fd.c)
	{ t_badfd, "badfd", true },
	{ t_dup, "dup", true },
	{ t_dup2, "dup2", true },
	{ t_emfile, "emfile", true },
	{ t_fcntl, "fcntl", true },
	// pipes (ut/pipe.c)
	{ t_pipedata, "pipedata", true },
	{ t_pipeeof, "pipeeof", true },
	{ t_pipeepipe, "pipeepipe", true },
	{ t_nonblock, "nonblock", true },
	{ t_pipeatomic, "pipeatomic", true },
	{ t_pipestress, "pipestress", false },
	// files (ut/file.c)
	{ t_filerw, "filerw", true },
	{ t_trunc, "trunc", true },
	{ t_append, "append", true },
	{ t_excl, "excl", true },
	{ t_lseek, "lseek", true },
	{ t_unlinkopen, "unlinkopen", true },
	{ t_link, "link", true },
	{ t_bigfile, "bigfile", false },
	// directories and paths (ut/dir.c)
	{ t_mkdir, "mkdir", true },
	{ t_chdir, "chdir", true },
	{ t_notdir, "notdir", true },
	{ t_longname, "longname", true },
	{ t_dirlist, "dirlist", true },
	{ t_concreate, "concreate", false },
	// sysctl (ut/sysctl.c)
	{ t_sysctlread, "sysctlread", true },
	{ t_sysctlwrite, "sysctlwrite", true },
	{ t_sysctlerr, "sysctlerr", true },
	{ t_sysctlnext, "sysctlnext", true },
	{ t_sysctlrange, "sysctlrange", true },
};

static long
pages_free(void)
{
	int64 v;

	return sysctl_getint("vm.pages_free", &v) < 0 ? -1 : v;
}

static long
nproc(void)
{
	int64 v;

	return sysctl_getint("kern.nproc", &v) < 0 ? -1 : v;
}

// Exercise fork, exec, pipes and files once, so that kernel structures
// allocated on first use exist before we count free pages.
static void
warm_up(void)
{
	static char *argv[] = { "echo", "warm", NULL };
	char buf[16];
	int p[2], pid, fd;

	if (pipe(p) == 0) {
		if ((pid = fork()) == 0) {
			close(p[0]);
			dup2(p[1], 1);
			exec("/echo", argv);
			exit(1);
		}
		close(p[1]);
		while (read(p[0], buf, sizeof(buf)) > 0)
			;
		close(p[0]);
		wait(NULL);
	}
	if ((fd = open("ut_warm", O_CREAT | O_RDWR)) >= 0) {
		write(fd, "x", 1);
		close(fd);
		unlink("ut_warm");
	}
	sleep(10);
}

// Wait (up to 20 s) for the free page count to come back to before:
// exiting processes return their memory when their parent (or init)
// reaps them, which may lag a little (seconds on a loaded host).
static bool
memory_check(long before, long procs)
{
	long after = pages_free(), end = uptime() + 20000;

	while (after >= 0 && after < before && uptime() < end) {
		sleep(50);
		after = pages_free();
	}
	if (before < 0 || after < 0) {
		printf("memory: FAIL cannot read vm.pages_free: %s\n",
		       strerror(errno));
		return false;
	}
	if (after < before) {
		// A process left behind (a stuck orphan) holds its pages: say
		// so, so the report tells a leak from a straggler.
		printf("memory: FAIL lost %ld pages (processes: %ld before, %ld after)\n",
		       before - after, procs, nproc());
		return false;
	}
	printf("memory: OK\n");
	return true;
}


static const struct suite suite = {
	"usertests", tests, nelem(tests), TIMEOUT_MS
};

int
main(int argc, char *argv[])
{
	bool quick;
	int first = ut_parse(&suite, argc, argv, &quick);
	long before, procs;
	int failed;

	if (first < 0)
		return 1;
	if ((mkdir(SCRATCH) < 0 && errno != EEXIST) || chdir(SCRATCH) < 0)
		die("usertests: %s: %s", SCRATCH, strerror(errno));
	printf("usertests starting\n");
	warm_up();
	before = pages_free();
	procs = nproc();
	failed = ut_run(&suite, argc, argv, first, quick);
	failed += !memory_check(before, procs);
	chdir("/");
	unlink(SCRATCH);
	return ut_summary(failed);
}
