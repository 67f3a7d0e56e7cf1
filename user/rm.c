// rm: remove files (and empty directories).
// Usage: rm file ...
#include "user/user.h"

int
main(int argc, char *argv[])
{
	int status = 0;

	if (argc < 2)
		die("usage: rm file ...");
	for (int i = 1; i < argc; i++) {
		if (unlink(argv[i]) < 0) {
			fprintf(2, "rm: %s: %s\n", argv[i], strerror(errno));
			status = 1;
		}
	}
	return status;
}
