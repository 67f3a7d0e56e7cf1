// Reading a sysctl knob, the common cases of sysctl(2): an integer, and a
// string (a table such as net.inet.tcp.pcblist) of a size not known first.
#include "user/user.h"

// Read knob name into *v. Returns 0, or -1 with errno set (ENOENT for an
// unknown knob, EINVAL if it is not an integer).
int
sysctl_getint(const char *name, int64 *v)
{
	size_t len = sizeof(*v);

	if (sysctl(name, v, &len, NULL, 0) < 0)
		return -1;
	if (len != sizeof(*v)) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

// Read string knob name into a buffer from malloc, NUL-terminated; the
// caller frees it.  Asks for the size first, with slack bytes more for a
// list that grows between the two calls, and asks again if it still grew.
// Returns NULL with errno set.
char *
sysctl_getstr(const char *name, size_t slack)
{
	size_t len;
	char *s;

	for (;;) {
		if (sysctl(name, NULL, &len, NULL, 0) < 0)
			return NULL;
		len += slack;
		if ((s = malloc(len + 1)) == NULL)
			return NULL;
		if (sysctl(name, s, &len, NULL, 0) == 0) {
			s[len] = '\0';
			return s;
		}
		free(s);
		if (errno != ENOMEM)
			return NULL;
	}
}
