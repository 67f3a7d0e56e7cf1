// The test driver shared by usertests and nettests (docs/conventions.md
// rule 13).
//
// A suite is a table of {fn, "name", quick}. Each test runs in a forked
// child while the parent waits, with a watchdog child that sleeps for the
// suite's timeout: whichever ends first decides. The child reports a
// failure through fail() (user/ut/util.c), which writes the reason into a
// pipe and exits 1; the parent prints "name: OK" or "name: FAIL reason".
// A child that dies any other way, or runs past the timeout, fails too.
//
// Included (#include "user/ut/run.c") by each test program, which is one
// .c file as far as the Makefile is concerned.

struct test {
	void (*fn)(void);
	const char *name;
	bool quick;   // part of the -q run
};

struct suite {
	const char *name;          // program name, for messages
	const struct test *tests;
	size_t ntests;
	int timeout_ms;            // per test
};

// Print the result line of test t, which exited with status (or timed
// out); reasonfd is the read end of its reason pipe. True if it passed.
static bool
ut_report(const struct suite *s, const struct test *t, int status,
	  bool timedout, int reasonfd)
{
	static char reason[600];
	ssize_t n;

	if (timedout) {
		printf("%s: FAIL timed out after %d s\n", t->name, s->timeout_ms / 1000);
		return false;
	}
	if (status == 0) {
		printf("%s: OK\n", t->name);
		return true;
	}
	if (status != 1) {
		printf("%s: FAIL test process died (exit status %d)\n", t->name,
		       status);
		return false;
	}
	// fail() wrote the reason before exiting; never block for it.
	fcntl(reasonfd, F_SETFL, O_NONBLOCK);
	n = read(reasonfd, reason, sizeof(reason) - 1);
	reason[n > 0 ? n : 0] = '\0';
	if (n > 0 && reason[n - 1] == '\n')
		reason[--n] = '\0';
	// Several reasons (a grandchild's, then its parent's): one line.
	for (char *nl; (nl = strchr(reason, '\n')) != NULL;)
		*nl = ';';
	printf("%s: FAIL %s\n", t->name, n > 0 ? reason : "exit status 1");
	return false;
}

// Run one test in a child, with a watchdog child; true if it passed.
static bool
ut_run_test(const struct suite *s, const struct test *t)
{
	int p[2], dog, pid = -1, w, status = -1;
	bool timedout = false, ok;

	if (pipe(p) < 0) {
		printf("%s: FAIL pipe: %s\n", t->name, strerror(errno));
		return false;
	}
	// The watchdog first: a test like forkfail uses up the process table.
	if ((dog = fork()) == 0) {
		close(p[0]);
		close(p[1]);
		sleep(s->timeout_ms);
		exit(0);
	}
	if (dog > 0 && (pid = fork()) == 0) {
		close(p[0]);
		ut_reason_fd = p[1];
		t->fn();
		exit(0);
	}
	close(p[1]);
	if (dog < 0 || pid < 0) {
		printf("%s: FAIL fork: %s\n", t->name, strerror(errno));
		if (dog > 0)
			kill(dog);
		while (wait(NULL) >= 0)
			;
		close(p[0]);
		return false;
	}
	// Whichever ends first: the test, or the watchdog (then kill the test).
	while ((w = wait(&status)) != pid && w >= 0) {
		if (w == dog) {
			timedout = true;
			kill(pid);
		}
	}
	if (!timedout) {
		kill(dog);
		while ((w = wait(NULL)) >= 0 && w != dog)
			;
	}
	ok = ut_report(s, t, status, timedout, p[0]);
	close(p[0]);
	return ok;
}

static const struct test *
ut_find(const struct suite *s, const char *name)
{
	for (size_t i = 0; i < s->ntests; i++)
		if (strcmp(s->tests[i].name, name) == 0)
			return &s->tests[i];
	return NULL;
}

// Check the command line "[-q] [name ...]". Returns the index of the first
// test name (argc if none) and sets *quick, or -1 after printing a usage
// message for an unknown name.
static int
ut_parse(const struct suite *s, int argc, char *argv[], bool *quick)
{
	int first = 1;

	*quick = argc > 1 && strcmp(argv[1], "-q") == 0;
	if (*quick)
		first++;
	for (int j = first; j < argc; j++) {
		if (ut_find(s, argv[j]) == NULL) {
			fprintf(2, "%s: no test named '%s'\n", s->name, argv[j]);
			fprintf(2, "usage: %s [-q] [name ...]\n", s->name);
			return -1;
		}
	}
	return first;
}

// Run the named tests (argv[first..]), or all (only the quick ones if
// quick). Returns how many failed.
static int
ut_run(const struct suite *s, int argc, char *argv[], int first, bool quick)
{
	int failed = 0;

	if (first < argc) {
		for (int i = first; i < argc; i++)
			failed += !ut_run_test(s, ut_find(s, argv[i]));
	} else {
		for (size_t k = 0; k < s->ntests; k++)
			if (!quick || s->tests[k].quick)
				failed += !ut_run_test(s, &s->tests[k]);
	}
	return failed;
}

// The last line of every suite.
static int
ut_summary(int failed)
{
	if (failed == 0)
		printf("ALL TESTS PASSED\n");
	else
		printf("SOME TESTS FAILED (%d)\n", failed);
	return failed == 0 ? 0 : 1;
}
