// send and recv: sendto and recvfrom without a peer address, as in BSD.
// The other socket calls are plain system-call stubs (usys.S).
#include "user/user.h"

ssize_t
send(int s, const void *b, size_t n, int flags)
{
	return sendto(s, b, n, flags, NULL, 0);
}

ssize_t
recv(int s, void *b, size_t n, int flags)
{
	return recvfrom(s, b, n, flags, NULL, NULL);
}
