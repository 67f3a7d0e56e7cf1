// kill: end processes by pid (there are no signals: the process dies).
// Usage: kill pid ...
#include "user/user.h"

int
main(int argc, char *argv[])
{
	int status = 0;
	char *end;
	long pid;

	if (argc < 2)
		die("usage: kill pid ...");
	for (int i = 1; i < argc; i++) {
		pid = strtol(argv[i], &end, 10);
		if (end == argv[i] || *end != '\0' || pid <= 0) {
			fprintf(2, "kill: %s: not a process id\n", argv[i]);
			status = 1;
			continue;
		}
		if (kill(pid) < 0) {
			fprintf(2, "kill: %ld: %s\n", pid, strerror(errno));
			status = 1;
		}
	}
	return status;
}
