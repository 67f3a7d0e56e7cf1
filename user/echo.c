// echo: print the arguments, separated by spaces, and a newline.
// Usage: echo [-n] [arg ...]   (-n: no newline at the end)
// The line is built first and written with one write(), so echo into a
// pipe delivers it in one piece.
#include "user/user.h"

int
main(int argc, char *argv[])
{
	bool newline = true;
	size_t len = 0, off = 0;
	char *line;
	int i = 1;

	if (argc > 1 && strcmp(argv[1], "-n") == 0) {
		newline = false;
		i = 2;
	}
	for (int j = i; j < argc; j++)
		len += strlen(argv[j]) + 1;
	line = malloc(len + 1);
	if (line == NULL)
		die("echo: %s", strerror(errno));
	for (int j = i; j < argc; j++) {
		size_t n = strlen(argv[j]);
		memcpy(line + off, argv[j], n);
		off += n;
		if (j + 1 < argc)
			line[off++] = ' ';
	}
	if (newline)
		line[off++] = '\n';
	if (off > 0 && write(STDOUT_FILENO, line, off) != (ssize_t)off)
		die("echo: write error: %s", strerror(errno));
	return 0;
}
