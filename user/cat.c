// cat: copy files (or stdin when there are none, or for "-") to stdout.
// Usage: cat [file ...]
#include "user/user.h"

static char buf[4096];

// Copy fd to stdout; false (after a message) on error.
static bool
copy(int fd, const char *name)
{
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (write(STDOUT_FILENO, buf, n) != n) {
			fprintf(2, "cat: write error: %s\n", strerror(errno));
			exit(1);
		}
	}
	if (n < 0) {
		fprintf(2, "cat: %s: %s\n", name, strerror(errno));
		return false;
	}
	return true;
}

int
main(int argc, char *argv[])
{
	int status = 0, fd;

	if (argc < 2)
		return copy(STDIN_FILENO, "stdin") ? 0 : 1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-") == 0) {
			if (!copy(STDIN_FILENO, "stdin"))
				status = 1;
			continue;
		}
		if ((fd = open(argv[i], O_RDONLY)) < 0) {
			fprintf(2, "cat: %s: %s\n", argv[i], strerror(errno));
			status = 1;
			continue;
		}
		if (!copy(fd, argv[i]))
			status = 1;
		close(fd);
	}
	return status;
}
