// usertests: exec -- errors leave the caller intact; arguments arrive.
// Part of usertests (#included by user/usertests.c).
#include "user/ut/ut.h"

static char *echo_argv[] = { "echo", "ok", NULL };

// After a failed exec the process still runs its own program.
static void
still_alive(void)
{
	char out[16];

	CHECK(getpid() > 0, "getpid failed after a bad exec");
	CHECK(run_capture("/echo", echo_argv, out, sizeof(out)) == 0 &&
		      strcmp(out, "ok\n") == 0,
	      "echo after a bad exec printed '%s'", out);
}

static void
t_execnoent(void)
{
	EXPECT_ERR(ENOENT, exec("/ut_no_such_program", echo_argv));
	EXPECT_ERR(ENOENT, exec("ut_nodir/echo", echo_argv));
	EXPECT_ERR(ENOENT, exec("", echo_argv));
	still_alive();
}

// Bad pointers as the path, as argv, and inside argv.
static void
t_execfault(void)
{
	char *bad_elem[] = { "echo", (char *)KERNBASE, NULL };
	char *bad_elem2[] = { "echo", (char *)freed_addr(), NULL };
	char **tail;
	char *brk;

	EXPECT_ERR(EFAULT, exec(NULL, echo_argv));
	EXPECT_ERR(EFAULT, exec((char *)KERNBASE, echo_argv));
	EXPECT_ERR(EFAULT, exec((char *)MAXVA, echo_argv));
	EXPECT_ERR(EFAULT, exec("/echo", (char **)KERNBASE));
	EXPECT_ERR(EFAULT, exec("/echo", (char **)TRAPFRAME));
	EXPECT_ERR(EFAULT, exec("/echo", (char **)1));
	EXPECT_ERR(EFAULT, exec("/echo", (char **)freed_addr()));
	EXPECT_ERR(EFAULT, exec("/echo", bad_elem));
	EXPECT_ERR(EFAULT, exec("/echo", bad_elem2));
	// argv without its NULL, running into unmapped memory.
	brk = sbrk(0);
	tail = (char **)(brk - 3 * sizeof(char *));
	if ((uint64)brk % PGSIZE != 0) {
		CHECK(sbrk(PGSIZE - (uint64)brk % PGSIZE) != (char *)-1,
		      "sbrk: %s", strerror(errno));
		tail = (char **)(sbrk(0) - 3 * sizeof(char *));
	}
	tail[0] = tail[1] = tail[2] = "x";
	EXPECT_ERR(EFAULT, exec("/echo", tail));
	still_alive();
}

// Files that are not ELF executables, and one cut short after its
// headers (its first segment is mapped before the read comes up short:
// the kernel must free it, not panic).
static void
t_execnoexec(void)
{
	static const char script[] = "#!/sh\necho hi\n";
	static const char magic[] = "\177ELF";
	static char head[8192];
	char zeros[128] = { 0 };

	write_file("ut_script", script, sizeof(script) - 1);
	EXPECT_ERR(ENOEXEC, exec("ut_script", echo_argv));
	write_file("ut_empty", "", 0);
	EXPECT_ERR(ENOEXEC, exec("ut_empty", echo_argv));
	write_file("ut_magic", magic, 4);
	EXPECT_ERR(ENOEXEC, exec("ut_magic", echo_argv));
	write_file("ut_zeros", zeros, sizeof(zeros));
	EXPECT_ERR(ENOEXEC, exec("ut_zeros", echo_argv));
	size_t n = read_file("/echo", head, sizeof(head));
	CHECK(n == sizeof(head), "/echo: %lu bytes", (unsigned long)n);
	write_file("ut_trunc", head, n);
	EXPECT_ERR(ENOEXEC, exec("ut_trunc", echo_argv));
	unlink("ut_trunc");
	unlink("ut_script");
	unlink("ut_empty");
	unlink("ut_magic");
	unlink("ut_zeros");
	still_alive();
}

// MAXARG-1 arguments, and one long one, arrive intact.
static void
t_execargs(void)
{
	static char names[MAXARG][8];
	static char long_arg[MAXARGLEN / 2];
	static char want[MAXARG * 8 + 8], out[MAXARGLEN];
	char *argv[MAXARG + 1];
	int argc = 0;

	argv[argc++] = "echo";
	want[0] = '\0';
	while (argc < MAXARG - 1) {
		snprintf(names[argc], sizeof(names[argc]), "a%d", argc);
		argv[argc] = names[argc];
		strcat(want, names[argc]);
		strcat(want, argc < MAXARG - 2 ? " " : "\n");
		argc++;
	}
	argv[argc] = NULL;
	CHECK(run_capture("/echo", argv, out, sizeof(out)) == 0,
	      "echo with %d args failed", argc);
	CHECK(strcmp(out, want) == 0, "echo printed '%s', want '%s'", out, want);

	memset(long_arg, 'z', sizeof(long_arg) - 1);
	argv[1] = long_arg;
	argv[2] = NULL;
	CHECK(run_capture("/echo", argv, out, sizeof(out)) == 0,
	      "echo with a %lu-byte argument failed",
	      (unsigned long)sizeof(long_arg) - 1);
	CHECK(strlen(out) == sizeof(long_arg) && out[0] == 'z' &&
		      out[sizeof(long_arg) - 1] == '\n',
	      "echo printed %lu bytes, want %lu", (unsigned long)strlen(out),
	      (unsigned long)sizeof(long_arg));
}

// Too many arguments, or one too long: E2BIG, and the caller lives on.
static void
t_exec2big(void)
{
	static char huge[MAXARGLEN * 2];
	static char *many[4 * MAXARG + 1];
	char *argv[] = { "echo", huge, NULL };

	for (int i = 0; i < 4 * MAXARG; i++)
		many[i] = "x";
	many[4 * MAXARG] = NULL;
	EXPECT_ERR(E2BIG, exec("/echo", many));
	memset(huge, 'y', sizeof(huge) - 1);
	EXPECT_ERR(E2BIG, exec("/echo", argv));
	still_alive();
}

// exec many times in a row (each a fresh child): nothing runs out.
static void
t_execloop(void)
{
	char out[16];

	for (int i = 0; i < 60; i++) {
		int st = run_capture("/echo", echo_argv, out, sizeof(out));
		CHECK(st == 0 && strcmp(out, "ok\n") == 0,
		      "round %d: echo status %d printed '%s'", i, st, out);
	}
}
