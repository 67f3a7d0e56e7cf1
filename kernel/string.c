// Kernel string helpers (no libc in the kernel). The mem* functions,
// shared with the user library, are in kernel/memword.c.
#include "kernel/types.h"
#include "kernel/string.h"

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

int strncmp(const char *p, const char *q, size_t n)
{
	for (; n > 0 && *p && *p == *q; n--, p++, q++)
		;
	if (n == 0)
		return 0;
	return (uint8)*p - (uint8)*q;
}

int strcmp(const char *p, const char *q)
{
	return strncmp(p, q, (size_t)-1);
}

// Like the C library's: pads with NULs, may leave dst unterminated.
char *strncpy(char *s, const char *t, size_t n)
{
	char *os = s;
	while (n > 0 && (*s = *t) != 0) {
		s++, t++, n--;
	}
	while (n-- > 1)
		*++s = 0;
	return os;
}

// Copy at most n-1 bytes and always terminate. Returns strlen(src).
size_t strlcpy(char *dst, const char *src, size_t n)
{
	size_t len = strlen(src);
	if (n > 0) {
		size_t k = len < n - 1 ? len : n - 1;
		memmove(dst, src, k);
		dst[k] = 0;
	}
	return len;
}

char *strchr(const char *s, int c)
{
	for (; *s; s++)
		if (*s == (char)c)
			return (char *)s;
	return c == 0 ? (char *)s : NULL;
}
