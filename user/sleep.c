// sleep: pause for a while.
// Usage: sleep seconds     (a decimal fraction is allowed: sleep 0.25)
#include "user/user.h"

int
main(int argc, char *argv[])
{
	long ms = 0, scale = 1000;
	char *p;

	if (argc != 2)
		die("usage: sleep seconds");
	for (p = argv[1]; isdigit(*p) && ms <= 0x7fffffff; p++)
		ms = ms * 10 + (*p - '0') * 1000;
	if (*p == '.')
		for (p++; isdigit(*p) && scale > 1; p++)
			ms += (*p - '0') * (scale /= 10);
	if (*p != '\0' || p == argv[1] || ms > 0x7fffffff)
		die("usage: sleep seconds");
	if (sleep(ms) < 0)
		die("sleep: %s", strerror(errno));
	return 0;
}
