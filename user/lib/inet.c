// Internet address conversions and the Internet checksum, for the network
// tools (ifconfig, ping, netstat, nettests).
//
// Only the dotted quad is understood ("10.0.2.15"): no host names, and not
// the old shorthand forms ("10.1", "0x0a000001") that BSD's inet_aton also
// takes, so that a typo is an error rather than a surprising address.
#include "user/user.h"

int
inet_aton(const char *s, struct in_addr *a)
{
	uint32 addr = 0;

	for (int i = 0; i < 4; i++) {
		int v = 0, digits = 0;

		if (i > 0 && *s++ != '.')
			return 0;
		for (; isdigit(*s); s++) {
			v = v * 10 + (*s - '0');
			if (++digits > 3 || v > 255)
				return 0;
		}
		if (digits == 0)
			return 0;
		addr = addr << 8 | v;
	}
	if (*s != '\0')
		return 0;
	if (a != NULL)
		a->s_addr = htonl(addr);
	return 1;
}

int
inet_pton(int af, const char *s, void *dst)
{
	if (af != AF_INET) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	return inet_aton(s, dst);
}

const char *
inet_ntop(int af, const void *src, char *dst, socklen_t len)
{
	const uint8 *b = src;

	if (af != AF_INET) {
		errno = EAFNOSUPPORT;
		return NULL;
	}
	if (snprintf(dst, len, "%d.%d.%d.%d", b[0], b[1], b[2], b[3]) >=
	    (int)len) {
		errno = ENOSPC;
		return NULL;
	}
	return dst;
}

char *
inet_ntoa(struct in_addr a)
{
	static char buf[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a, buf, sizeof(buf));
	return buf;
}

// RFC 1071: the one's complement of the one's complement sum of the
// 16-bit words. Summing the bytes as big-endian words and storing the
// result big-endian gives the same bytes as summing in host order and
// storing in host order (RFC 1071 2(B), byte order independence); we sum
// big-endian explicitly so the code reads like the RFC.
uint16
in_cksum(const void *p, size_t n)
{
	const uint8 *b = p;
	uint32 sum = 0;

	for (; n > 1; n -= 2, b += 2)
		sum += (uint32)b[0] << 8 | b[1];
	if (n == 1)
		sum += (uint32)b[0] << 8;  // pad the odd byte with zero
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16)~sum);
}
