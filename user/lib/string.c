// Memory and string functions, with C-library semantics.
//
// The string functions go one byte at a time, for clarity; the mem*
// functions move words (they carry every bulk copy). The compiler may call
// memset/memcpy/memmove itself (for struct copies), so they must exist
// here under exactly those names.
#include "user/user.h"

// A word that may alias anything: the mem* functions below move 8 bytes
// at a time where the alignment allows (the same scheme as the kernel's
// kernel/string.c, where it is explained; tests/host/test_string.c checks
// both against the host C library).
typedef uint64 __attribute__((may_alias)) word_t;
#define WSIZE sizeof(word_t)
#define WMASK (WSIZE - 1)

static bool
aligned(const void *p)
{
	return ((uint64)p & WMASK) == 0;
}

void *
memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	if (n >= 2 * WSIZE) {
		for (; !aligned(d); n--)
			*d++ = (unsigned char)c;
		word_t w = (unsigned char)c * 0x0101010101010101UL;
		word_t *wd = (word_t *)d;
		for (; n >= 4 * WSIZE; n -= 4 * WSIZE, wd += 4) {
			wd[0] = w;
			wd[1] = w;
			wd[2] = w;
			wd[3] = w;
		}
		for (; n >= WSIZE; n -= WSIZE)
			*wd++ = w;
		d = (unsigned char *)wd;
	}
	while (n-- > 0)
		*d++ = (unsigned char)c;
	return dst;
}

// Aligned d, s at byte offset k (1..7) in its word: each destination
// word is the top 8-k bytes of one source word and the low k bytes of
// the next. Returns the bytes copied (whole words).
static size_t
copy_shifted(word_t *d, const unsigned char *s, size_t n)
{
	uint64 k = (uint64)s & WMASK;
	const word_t *ws = (const word_t *)(s - k);
	int lo = 8 * k, hi = 64 - lo;
	size_t done = 0;
	word_t w0 = *ws++;

	for (; n - done >= WSIZE; done += WSIZE) {
		word_t w1 = *ws++;
		*d++ = (w0 >> lo) | (w1 << hi);
		w0 = w1;
	}
	return done;
}

static void
copy_forward(unsigned char *d, const unsigned char *s, size_t n)
{
	if (n >= 2 * WSIZE) {
		for (; !aligned(d); n--)
			*d++ = *s++;
		if (aligned(s)) {
			word_t *wd = (word_t *)d;
			const word_t *ws = (const word_t *)s;
			for (; n >= 4 * WSIZE; n -= 4 * WSIZE, wd += 4, ws += 4) {
				wd[0] = ws[0];
				wd[1] = ws[1];
				wd[2] = ws[2];
				wd[3] = ws[3];
			}
			for (; n >= WSIZE; n -= WSIZE)
				*wd++ = *ws++;
			d = (unsigned char *)wd;
			s = (const unsigned char *)ws;
		} else {
			size_t done = copy_shifted((word_t *)d, s, n);
			d += done;
			s += done;
			n -= done;
		}
	}
	while (n-- > 0)
		*d++ = *s++;
}

static void
copy_backward(unsigned char *d, const unsigned char *s, size_t n)
{
	d += n;
	s += n;
	if (n >= 2 * WSIZE && ((uint64)d & WMASK) == ((uint64)s & WMASK)) {
		for (; !aligned(d); n--)
			*--d = *--s;
		word_t *wd = (word_t *)d;
		const word_t *ws = (const word_t *)s;
		for (; n >= WSIZE; n -= WSIZE)
			*--wd = *--ws;
		d = (unsigned char *)wd;
		s = (const unsigned char *)ws;
	}
	while (n-- > 0)
		*--d = *--s;
}

void *
memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d == s || n == 0)
		return dst;
	if (s < d && s + n > d)
		copy_backward(d, s, n);	// dst above an overlapping src
	else
		copy_forward(d, s, n);
	return dst;
}

void *
memcpy(void *dst, const void *src, size_t n)
{
	return memmove(dst, src, n);
}

int
memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;

	if (n >= WSIZE && ((uint64)p & WMASK) == ((uint64)q & WMASK)) {
		for (; !aligned(p); n--, p++, q++)
			if (*p != *q)
				return *p - *q;
		for (; n >= WSIZE && *(word_t *)p == *(word_t *)q; n -= WSIZE) {
			p += WSIZE;
			q += WSIZE;
		}
	}
	for (; n > 0; n--, p++, q++)
		if (*p != *q)
			return *p - *q;
	return 0;
}

size_t
strlen(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0')
		n++;
	return n;
}

int
strcmp(const char *a, const char *b)
{
	while (*a != '\0' && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

int
strncmp(const char *a, const char *b, size_t n)
{
	for (; n > 0; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (*a == '\0')
			return 0;
	}
	return 0;
}

char *
strcpy(char *dst, const char *src)
{
	char *d = dst;

	while ((*d++ = *src++) != '\0')
		;
	return dst;
}

// Like C's strncpy: pads with NULs, and does not terminate dst when src
// has n or more bytes.
char *
strncpy(char *dst, const char *src, size_t n)
{
	size_t i = 0;

	for (; i < n && src[i] != '\0'; i++)
		dst[i] = src[i];
	for (; i < n; i++)
		dst[i] = '\0';
	return dst;
}

char *
strcat(char *dst, const char *src)
{
	strcpy(dst + strlen(dst), src);
	return dst;
}

char *
strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (*s == '\0')
			return NULL;
	}
}

char *
strrchr(const char *s, int c)
{
	const char *last = NULL;

	for (;; s++) {
		if (*s == (char)c)
			last = s;
		if (*s == '\0')
			return (char *)last;
	}
}

char *
strstr(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay != '\0'; hay++)
		if (strncmp(hay, needle, n) == 0)
			return (char *)hay;
	return n == 0 ? (char *)hay : NULL;
}

char *
strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	if (p != NULL)
		memcpy(p, s, n);
	return p;
}
