// Line input without buffering.
//
// fgets reads one byte per read() call. That is slow, but it never takes
// more input than the line it returns, which matters because a file
// descriptor (and its offset) is shared with children: the shell reads a
// command line from fd 0 and the command it starts reads the rest.
#include "user/user.h"

char *
fgets(char *buf, int max, int fd)
{
	int i = 0;
	char c;

	if (max <= 0)
		return NULL;
	while (i + 1 < max) {
		if (read(fd, &c, 1) != 1)
			break;
		buf[i++] = c;
		if (c == '\n')
			break;
	}
	buf[i] = '\0';
	return i > 0 ? buf : NULL;
}

char *
gets(char *buf, int max)
{
	return fgets(buf, max, STDIN_FILENO);
}
