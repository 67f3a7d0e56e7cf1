// ps: the process table, after BSD's ps(1).
// Usage: ps [-al]
//   (none)  user processes: PID, STAT, CPU, TIME, COMMAND
//   -a      kernel threads too; their names in brackets, as BSD shows
//           kernel processes ([netisr0])
//   -l      long: also PPID, the home CPU (=N: pinned to N) and SZ (KiB
//           of user memory)
//
// STAT is one letter (R runnable or running, S sleeping, Z zombie, N
// being created), then E if the process was killed and has not exited
// yet. CPU is the hart running it now ("-" if none). TIME is the time it
// has run, min:sec.hundredths, counted at each switch out.
//
// The table comes from procinfo(2) (kernel/procinfo.c): one snapshot per
// process, not one for all.
#include "user/user.h"

static const char statec[] = { [PI_UNUSED] = '?', [PI_USED] = 'N', [PI_SLEEPING] = 'S',
			       [PI_RUNNABLE] = 'R', [PI_RUNNING] = 'R', [PI_ZOMBIE] = 'Z' };

static void
usage(void)
{
	die("usage: ps [-al]");
}

// The table, in a buffer grown until it holds every entry.
static struct procinfo *
table(int *np)
{
	int max = 64, n;
	struct procinfo *pi = NULL;

	for (;;) {
		free(pi);
		if ((pi = malloc(max * sizeof(*pi))) == NULL)
			die("ps: out of memory");
		if ((n = procinfo(pi, max)) < 0)
			die("ps: procinfo: %s", strerror(errno));
		if (n <= max)
			break;
		max = n + 8;   // more processes than we made room for: again
	}
	*np = n;
	return pi;
}

static void
show(const struct procinfo *p, bool lng)
{
	char stat[3] = { statec[p->pi_state < PI_ZOMBIE + 1 ? p->pi_state : 0], 0, 0 };
	char cpu[8], home[8], name[20];
	uint64 cs = p->pi_runtime_us / 10000;   // hundredths of a second

	if (p->pi_flags & PI_KILLED)
		stat[1] = 'E';
	if (p->pi_cpu >= 0)
		snprintf(cpu, sizeof(cpu), "%d", p->pi_cpu);
	else
		snprintf(cpu, sizeof(cpu), "-");
	if (p->pi_flags & PI_KTHREAD)
		snprintf(name, sizeof(name), "[%s]", p->pi_name);
	else
		snprintf(name, sizeof(name), "%s", p->pi_name);
	if (lng) {
		if (p->pi_affinity >= 0)
			snprintf(home, sizeof(home), "=%d", p->pi_affinity);
		else
			snprintf(home, sizeof(home), "%d", p->pi_home);
		printf("%5d %5d %-4s %3s %4s %6lu %4lu:%02lu.%02lu %s\n", p->pi_pid, p->pi_ppid,
		       stat, cpu, home, (unsigned long)(p->pi_sz / 1024), (unsigned long)(cs / 6000),
		       (unsigned long)(cs / 100 % 60), (unsigned long)(cs % 100), name);
	} else {
		printf("%5d %-4s %3s %4lu:%02lu.%02lu %s\n", p->pi_pid, stat, cpu,
		       (unsigned long)(cs / 6000), (unsigned long)(cs / 100 % 60),
		       (unsigned long)(cs % 100), name);
	}
}

int
main(int argc, char *argv[])
{
	bool all = false, lng = false;
	int n;

	for (int i = 1; i < argc; i++) {
		if (argv[i][0] != '-' || argv[i][1] == 0)
			usage();
		for (char *c = argv[i] + 1; *c; c++) {
			if (*c == 'a')
				all = true;
			else if (*c == 'l')
				lng = true;
			else
				usage();
		}
	}
	struct procinfo *pi = table(&n);
	if (lng)
		printf("%5s %5s %-4s %3s %4s %6s %10s %s\n", "PID", "PPID", "STAT", "CPU", "HOME",
		       "SZ", "TIME", "COMMAND");
	else
		printf("%5s %-4s %3s %10s %s\n", "PID", "STAT", "CPU", "TIME", "COMMAND");
	for (int i = 0; i < n; i++)
		if (all || !(pi[i].pi_flags & PI_KTHREAD))
			show(&pi[i], lng);
	free(pi);
	return 0;
}
