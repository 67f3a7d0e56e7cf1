// init: the first user process.
//
// Sets up the console as fds 0, 1 and 2 (creating the device node
// "console" if the file system does not have it yet), starts the small
// Internet services in the background (/inetd -q: echo, discard, daytime
// and chargen on TCP and UDP, see user/inetd.c), starts /sh, and
// then reaps every process that exits: its own children, and the orphans
// and kernel threads the kernel hands to it. When the shell exits, init
// says so and starts a new one; if shells keep dying at once (say stdin
// is at end of file), it waits a second between restarts instead of
// spinning.
#include "user/user.h"
#include "kernel/devsw.h"

static char *sh_argv[] = { "sh", NULL };
static char *inetd_argv[] = { "inetd", "-q", NULL };

static void
open_console(void)
{
	int fd = open("console", O_RDWR);

	if (fd < 0) {
		mknod("console", CONSOLE, 0);
		fd = open("console", O_RDWR);
	}
	if (fd < 0)
		exit(1);  // nowhere to even print a message
	if (fd != 0) {
		dup2(fd, 0);
		close(fd);
	}
	dup2(0, 1);
	dup2(0, 2);
}

// inetd binds its services, then forks itself into the background and
// the first process exits. init waits for that exit before it starts the
// shell, so the services accept connections as soon as the prompt is up
// (a peer that connects right after boot is not refused). The daemon
// child is an orphan that the loop in main reaps if it ever exits.
static void
start_inetd(void)
{
	int pid = fork();

	if (pid < 0)
		return;
	if (pid == 0) {
		exec("/inetd", inetd_argv);
		exit(1);   // quietly: a file system without inetd is allowed
	}
	int w;
	do
		w = wait(NULL);
	while (w != pid && w >= 0);
}

static int
start_sh(void)
{
	int pid = fork();

	if (pid < 0) {
		fprintf(2, "init: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		exec("/sh", sh_argv);
		fprintf(2, "init: exec /sh: %s\n", strerror(errno));
		exit(1);
	}
	return pid;
}

int
main(void)
{
	int sh, pid, status;
	long started;

	open_console();
	start_inetd();
	printf("init: starting sh\n");
	for (;;) {
		started = uptime();
		sh = start_sh();
		// Reap until the shell itself exits (or fork failed: sh < 0).
		while (sh > 0) {
			pid = wait(&status);
			if (pid == sh) {
				printf("init: sh (pid %d) exited with status %d, "
				       "restarting\n", sh, status);
				break;
			}
			if (pid < 0)
				break;  // cannot happen while sh lives: restart it
		}
		if (uptime() - started < 1000)
			sleep(1000);
	}
}
