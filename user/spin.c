// spin: burn CPU time in user mode, for watching the scheduler.
// Usage: spin seconds
//
// Loops in user space (a system call only every million iterations, to
// look at the clock) until the time is up. While it runs, `ps` shows it
// R on a hart with its TIME growing, and gdb stopping the machine finds
// that hart in user mode (docs/gdb.md, tests/test_gdb.py).
#include "user/user.h"

int
main(int argc, char *argv[])
{
	char *end;
	long s;
	volatile uint64 n = 0;

	if (argc != 2 || (s = strtol(argv[1], &end, 10)) <= 0 || *end != '\0' || s > 86400)
		die("usage: spin seconds");
	long until = uptime() + s * 1000;
	while (uptime() < until)
		for (int i = 0; i < 1000000; i++)
			n++;
	return 0;
}
