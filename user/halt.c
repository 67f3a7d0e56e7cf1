// halt: stop the machine.
// Usage: halt [code]
// Code 0 (the default) powers QEMU off; a nonzero code makes QEMU exit
// with that status, which is how a test run reports failure to the host.
#include "user/user.h"

int
main(int argc, char *argv[])
{
	long code = 0;
	char *end;

	if (argc > 2)
		die("usage: halt [code]");
	if (argc == 2) {
		code = strtol(argv[1], &end, 0);
		if (end == argv[1] || *end != '\0' || code < 0 || code > 255)
			die("usage: halt [code]   (code: 0..255)");
	}
	halt(code);
	die("halt: %s", strerror(errno));
}
