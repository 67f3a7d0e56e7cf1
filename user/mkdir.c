// mkdir: make directories.
// Usage: mkdir [-p] dir ...
// -p: make missing parents too, and do not complain if dir exists.
#include "user/user.h"

// mkdir -p: create each prefix of path that ends before a '/'.
static int
mkdir_parents(char *path)
{
	for (char *p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		int r = mkdir(path);
		*p = '/';
		if (r < 0 && errno != EEXIST)
			return -1;
	}
	if (mkdir(path) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

int
main(int argc, char *argv[])
{
	bool parents = false;
	int status = 0, i = 1, r;

	if (argc > 1 && strcmp(argv[1], "-p") == 0) {
		parents = true;
		i++;
	}
	if (i >= argc)
		die("usage: mkdir [-p] dir ...");
	for (; i < argc; i++) {
		r = parents ? mkdir_parents(argv[i]) : mkdir(argv[i]);
		if (r < 0) {
			fprintf(2, "mkdir: %s: %s\n", argv[i], strerror(errno));
			status = 1;
		}
	}
	return status;
}
