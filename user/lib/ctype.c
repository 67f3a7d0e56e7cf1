// Character classes (ASCII only) and string-to-number conversion.
#include "user/user.h"

int
isdigit(int c)
{
	return c >= '0' && c <= '9';
}

int
isspace(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

int
isalpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int
isalnum(int c)
{
	return isalpha(c) || isdigit(c);
}

int
isxdigit(int c)
{
	return isdigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Value of digit c in any base up to 36, or 99 if c is not a digit.
static int
digitval(int c)
{
	if (isdigit(c))
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

long
strtol(const char *s, char **end, int base)
{
	const char *p = s;
	unsigned long v = 0;
	bool neg = false, any = false;

	while (isspace(*p))
		p++;
	if (*p == '-' || *p == '+')
		neg = (*p++ == '-');
	// A "0x" prefix counts only if a hex digit follows it.
	if ((base == 0 || base == 16) && p[0] == '0' &&
	    (p[1] == 'x' || p[1] == 'X') && isxdigit(p[2])) {
		p += 2;
		base = 16;
	} else if (base == 0) {
		base = (p[0] == '0') ? 8 : 10;
	}
	for (; digitval(*p) < base; p++) {
		v = v * base + digitval(*p);
		any = true;
	}
	if (end != NULL)
		*end = (char *)(any ? p : s);
	return neg ? -(long)v : (long)v;
}

int
atoi(const char *s)
{
	return (int)strtol(s, NULL, 10);
}
