// Formatted output: printf, fprintf, snprintf and their va_list forms.
//
// One formatter (format()) writes characters into a struct sink. A sink
// either fills a caller's buffer (snprintf: truncates, always terminates,
// returns the length the full output would have had) or collects output
// for a file descriptor in a local buffer that is written out when full
// and once at the end. So a printf of up to PRINTF_BUF bytes is exactly
// one write(), and lines printed by concurrent processes stay whole.
//
// Supported: %d %i %u %x %X %o %p %s %c %%; flags '-' (left-justify) and
// '0' (zero-pad), '+', ' ' and '#'; width; precision (minimum digits for
// integers, maximum bytes for %s); '*' for width and precision; length
// modifiers hh, h, l, ll, z.
#include "user/user.h"

#define PRINTF_BUF 512

struct sink {
	char *buf;     // destination (snprintf) or staging buffer (fd)
	size_t cap;    // size of buf
	size_t len;    // bytes in buf
	size_t total;  // bytes produced so far (the return value)
	int fd;        // -1 for a string sink
};

static void
sink_flush(struct sink *s)
{
	size_t off = 0;

	while (off < s->len) {
		ssize_t n = write(s->fd, s->buf + off, s->len - off);
		if (n <= 0)
			break;  // nowhere to report it: drop the rest
		off += n;
	}
	s->len = 0;
}

static void
sink_putc(struct sink *s, char c)
{
	s->total++;
	if (s->fd >= 0) {
		if (s->len == s->cap)
			sink_flush(s);
		s->buf[s->len++] = c;
	} else if (s->len + 1 < s->cap) {
		s->buf[s->len++] = c;   // keep one byte for the NUL
	}
}

static void
sink_pad(struct sink *s, char c, int n)
{
	while (n-- > 0)
		sink_putc(s, c);
}

// How one conversion is to be printed.
struct spec {
	bool left;     // '-'
	bool zero;     // '0'
	bool alt;      // '#': 0x before %x, 0 before %o (if not zero)
	char sign;     // '+', ' ' or 0: what to print before a non-negative number
	int width;     // minimum field width
	int prec;      // precision, -1 if none
	int len;       // 0 int, 1 long, 2 long long, -1 short, -2 char
};

static void
put_str(struct sink *s, const struct spec *sp, const char *str)
{
	int n = 0;

	if (str == NULL)
		str = "(null)";
	while (str[n] != '\0' && (sp->prec < 0 || n < sp->prec))
		n++;
	if (!sp->left)
		sink_pad(s, ' ', sp->width - n);
	for (int i = 0; i < n; i++)
		sink_putc(s, str[i]);
	if (sp->left)
		sink_pad(s, ' ', sp->width - n);
}

// Print magnitude v in base with an optional sign character and prefix.
static void
put_num(struct sink *s, const struct spec *sp, unsigned long long v,
	int base, bool upper, char sign, const char *prefix)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int nd = 0, nzero, nlead, field;

	while (v != 0) {
		tmp[nd++] = digits[v % base];
		v /= base;
	}
	// Precision is the minimum number of digits; "%d" of 0 prints "0".
	nzero = (sp->prec >= 0 ? sp->prec : 1) - nd;
	if (nzero < 0)
		nzero = 0;
	nlead = (sign ? 1 : 0) + strlen(prefix);
	field = nlead + nzero + nd;
	if (sp->zero && !sp->left && sp->prec < 0 && field < sp->width) {
		nzero += sp->width - field;
		field = sp->width;
	}
	if (!sp->left)
		sink_pad(s, ' ', sp->width - field);
	if (sign)
		sink_putc(s, sign);
	while (*prefix)
		sink_putc(s, *prefix++);
	sink_pad(s, '0', nzero);
	while (nd > 0)
		sink_putc(s, tmp[--nd]);
	if (sp->left)
		sink_pad(s, ' ', sp->width - field);
}

static long long
arg_signed(const struct spec *sp, va_list *ap)
{
	switch (sp->len) {
	case 2: return va_arg(*ap, long long);
	case 1: return va_arg(*ap, long);
	case -1: return (short)va_arg(*ap, int);
	case -2: return (signed char)va_arg(*ap, int);
	default: return va_arg(*ap, int);
	}
}

static unsigned long long
arg_unsigned(const struct spec *sp, va_list *ap)
{
	switch (sp->len) {
	case 2: return va_arg(*ap, unsigned long long);
	case 1: return va_arg(*ap, unsigned long);
	case -1: return (unsigned short)va_arg(*ap, unsigned int);
	case -2: return (unsigned char)va_arg(*ap, unsigned int);
	default: return va_arg(*ap, unsigned int);
	}
}

// Parse flags, width, precision and length at *fmt into sp; advance *fmt
// to the conversion character.
static void
parse_spec(const char **fmt, struct spec *sp, va_list *ap)
{
	const char *f = *fmt;

	*sp = (struct spec){ .prec = -1 };
	for (;; f++) {
		if (*f == '-')
			sp->left = true;
		else if (*f == '0')
			sp->zero = true;
		else if (*f == '#')
			sp->alt = true;
		else if (*f == '+' || (*f == ' ' && sp->sign != '+'))
			sp->sign = *f;
		else
			break;
	}
	if (*f == '*') {
		sp->width = va_arg(*ap, int);
		if (sp->width < 0) {
			sp->left = true;
			sp->width = -sp->width;
		}
		f++;
	}
	for (; isdigit(*f); f++)
		sp->width = sp->width * 10 + (*f - '0');
	if (*f == '.') {
		f++;
		sp->prec = 0;
		if (*f == '*') {
			sp->prec = va_arg(*ap, int);
			f++;
		}
		for (; isdigit(*f); f++)
			sp->prec = sp->prec * 10 + (*f - '0');
	}
	for (;; f++) {
		if (*f == 'l' || *f == 'z')
			sp->len = sp->len >= 1 ? 2 : 1;
		else if (*f == 'h')
			sp->len = sp->len <= -1 ? -2 : -1;
		else
			break;
	}
	*fmt = f;
}

static void
format(struct sink *s, const char *fmt, va_list ap0)
{
	struct spec sp;
	unsigned long long u;
	long long v;
	va_list ap;

	va_copy(ap, ap0);  // a local va_list, so that &ap can be passed on

	for (; *fmt != '\0'; fmt++) {
		if (*fmt != '%') {
			sink_putc(s, *fmt);
			continue;
		}
		fmt++;
		parse_spec(&fmt, &sp, &ap);
		switch (*fmt) {
		case 'd':
		case 'i':
			v = arg_signed(&sp, &ap);
			put_num(s, &sp, v < 0 ? -(unsigned long long)v : v, 10,
				false, v < 0 ? '-' : sp.sign, "");
			break;
		case 'u':
			put_num(s, &sp, arg_unsigned(&sp, &ap), 10, false, 0, "");
			break;
		case 'x':
		case 'X':
			u = arg_unsigned(&sp, &ap);
			put_num(s, &sp, u, 16, *fmt == 'X', 0,
				sp.alt && u != 0 ? (*fmt == 'X' ? "0X" : "0x") : "");
			break;
		case 'o':
			u = arg_unsigned(&sp, &ap);
			put_num(s, &sp, u, 8, false, 0, sp.alt && u != 0 ? "0" : "");
			break;
		case 'p':
			put_num(s, &sp, (uint64)va_arg(ap, void *), 16, false,
				0, "0x");
			break;
		case 's':
			put_str(s, &sp, va_arg(ap, const char *));
			break;
		case 'c':
			sink_pad(s, ' ', sp.left ? 0 : sp.width - 1);
			sink_putc(s, (char)va_arg(ap, int));
			sink_pad(s, ' ', sp.left ? sp.width - 1 : 0);
			break;
		case '%':
			sink_putc(s, '%');
			break;
		case '\0':
			fmt--;  // lone '%' at the end of the format
			break;
		default:
			// Unknown conversion: print it as written, visibly.
			sink_putc(s, '%');
			sink_putc(s, *fmt);
			break;
		}
	}
	va_end(ap);
}

int
vfprintf(int fd, const char *fmt, va_list ap)
{
	char buf[PRINTF_BUF];
	struct sink s = { .buf = buf, .cap = sizeof(buf), .fd = fd };

	format(&s, fmt, ap);
	sink_flush(&s);
	return (int)s.total;
}

int
vsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
{
	struct sink s = { .buf = buf, .cap = n, .fd = -1 };

	format(&s, fmt, ap);
	if (n > 0)
		buf[s.len] = '\0';
	return (int)s.total;
}

// One whole line for a single write(2): the text, cut short if it does
// not fit, then a newline.  n must be at least 2.  Returns the length with
// the newline (the NUL after it not counted).
int
vsnprintln(char *buf, size_t n, const char *fmt, va_list ap)
{
	int len = vsnprintf(buf, n - 1, fmt, ap);

	if (len > (int)n - 2)
		len = (int)n - 2;
	buf[len++] = '\n';
	buf[len] = '\0';
	return len;
}

int
fprintf(int fd, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vfprintf(fd, fmt, ap);
	va_end(ap);
	return n;
}

int
printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vfprintf(STDOUT_FILENO, fmt, ap);
	va_end(ap);
	return n;
}

int
snprintf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return r;
}

int
puts(const char *s)
{
	return printf("%s\n", s);
}
