// Reading an integer sysctl knob, the common case of sysctl(2).
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
