// ln: make a hard link.
// Usage: ln old new
#include "user/user.h"

int
main(int argc, char *argv[])
{
	if (argc != 3)
		die("usage: ln old new");
	if (link(argv[1], argv[2]) < 0)
		die("ln: %s -> %s: %s", argv[2], argv[1], strerror(errno));
	return 0;
}
