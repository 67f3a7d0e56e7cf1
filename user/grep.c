// grep: print lines that match a pattern.
// Usage: grep [-v] [-c] [-n] pattern [file ...]
//   -v  select lines that do NOT match
//   -c  print only the number of selected lines
//   -n  prefix each line with its line number
// With more than one file, output lines start with "file:". Exit status
// 0 if a line was selected, 1 if none (or bad usage), 2 on error.
//
// Patterns (a small subset of POSIX basic regular expressions):
//   c      the character c          .      any character
//   [abc]  one of a, b, c           [^a-z] any but a..z
//   x*     zero or more of x        \c     c itself (\. \* \[ \^ \$)
//   ^      at the start: anchor     $      at the end: anchor
// The pattern is compiled into a list of atoms; matching walks the
// atoms and, for x*, tries the longest run of x first and backs off.
#include "user/user.h"

#define MAXATOMS 128

enum atomkind { A_CHAR, A_ANY, A_SET };

struct atom {
	enum atomkind kind;
	char c;                 // A_CHAR
	uint8 set[32];          // A_SET: bit per byte value
	bool star;              // followed by '*'
};

struct regex {
	bool bol, eol;          // anchored with ^ / $
	int n;
	struct atom a[MAXATOMS];
};

static void
set_add(struct atom *a, int lo, int hi)
{
	for (int c = lo; c <= hi; c++)
		a->set[c / 8] |= 1 << (c % 8);
}

// Parse "[...]" at p (after the '['); return the position after ']'.
static const char *
parse_set(struct atom *a, const char *p)
{
	bool neg = false;

	a->kind = A_SET;
	if (*p == '^') {
		neg = true;
		p++;
	}
	// A ']' right after '[' or '[^' is a member, not the end.
	do {
		if (*p == '\0')
			die("grep: unterminated [ in pattern");
		if (p[1] == '-' && p[2] != ']' && p[2] != '\0') {
			set_add(a, (uint8)p[0], (uint8)p[2]);
			p += 3;
		} else {
			set_add(a, (uint8)p[0], (uint8)p[0]);
			p++;
		}
	} while (*p != ']');
	if (neg)
		for (int i = 0; i < 32; i++)
			a->set[i] = ~a->set[i];
	return p + 1;
}

static void
compile(struct regex *re, const char *p)
{
	size_t len = strlen(p);

	memset(re, 0, sizeof(*re));
	if (*p == '^') {
		re->bol = true;
		p++;
		len--;
	}
	if (len > 0 && p[len - 1] == '$' && (len < 2 || p[len - 2] != '\\')) {
		re->eol = true;
		len--;
	}
	const char *end = p + len;
	while (p < end) {
		if (re->n == MAXATOMS)
			die("grep: pattern too long");
		struct atom *a = &re->a[re->n];
		if (*p == '*' && re->n > 0 && !re->a[re->n - 1].star) {
			re->a[re->n - 1].star = true;
			p++;
			continue;
		}
		if (*p == '.') {
			a->kind = A_ANY;
			p++;
		} else if (*p == '[') {
			p = parse_set(a, p + 1);
		} else {
			if (*p == '\\' && p + 1 < end)
				p++;
			a->kind = A_CHAR;
			a->c = *p++;
		}
		re->n++;
	}
}

static bool
atom_matches(const struct atom *a, char c)
{
	switch (a->kind) {
	case A_CHAR: return c == a->c;
	case A_ANY: return true;
	case A_SET: return a->set[(uint8)c / 8] & (1 << ((uint8)c % 8));
	}
	return false;
}

// Does atoms i.. of re match at text (and, if anchored, up to its end)?
static bool
match_here(const struct regex *re, int i, const char *text)
{
	const struct atom *a;
	const char *t;

	for (; i < re->n; i++, text++) {
		a = &re->a[i];
		if (a->star) {
			for (t = text; *t != '\0' && atom_matches(a, *t); t++)
				;
			for (; t >= text; t--)
				if (match_here(re, i + 1, t))
					return true;
			return false;
		}
		if (*text == '\0' || !atom_matches(a, *text))
			return false;
	}
	return !re->eol || *text == '\0';
}

static bool
match(const struct regex *re, const char *line)
{
	if (re->bol)
		return match_here(re, 0, line);
	for (const char *p = line;; p++) {
		if (match_here(re, 0, p))
			return true;
		if (*p == '\0')
			return false;
	}
}

static struct regex re;
static bool opt_invert, opt_count, opt_number;
static char buf[8192];

static void
print_line(const char *name, bool show_name, long lineno, const char *line)
{
	char num[24] = "";

	if (opt_number)
		snprintf(num, sizeof(num), "%ld:", lineno);
	printf("%s%s%s%s\n", show_name ? name : "", show_name ? ":" : "", num,
	       line);
}

// Run re over every line of fd; return the number of selected lines, or
// -1 after a read error.
static long
grep(int fd, const char *name, bool show_name)
{
	long lineno = 0, selected = 0;
	size_t have = 0;
	ssize_t n;

	for (;;) {
		n = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (n < 0) {
			fprintf(2, "grep: %s: %s\n", name, strerror(errno));
			return -1;
		}
		have += n;
		buf[have] = '\0';
		char *line = buf, *nl;
		// At end of file, or with a full buffer, the rest is a line too.
		while ((nl = strchr(line, '\n')) != NULL ||
		       ((n == 0 || have == sizeof(buf) - 1) && *line != '\0')) {
			if (nl != NULL)
				*nl = '\0';
			lineno++;
			if (match(&re, line) != opt_invert) {
				selected++;
				if (!opt_count)
					print_line(name, show_name, lineno, line);
			}
			line = nl != NULL ? nl + 1 : buf + have;
		}
		have -= line - buf;
		memmove(buf, line, have);
		if (n == 0)
			return selected;
	}
}

int
main(int argc, char *argv[])
{
	long total = 0, n;
	int i = 1, fd, status = 0;

	for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		for (char *o = argv[i] + 1; *o != '\0'; o++) {
			if (*o == 'v')
				opt_invert = true;
			else if (*o == 'c')
				opt_count = true;
			else if (*o == 'n')
				opt_number = true;
			else
				goto usage;
		}
	}
	if (i >= argc)
		goto usage;
	compile(&re, argv[i++]);
	if (i == argc) {
		total = grep(STDIN_FILENO, "stdin", false);
		if (total < 0)
			return 2;
		if (opt_count)
			printf("%ld\n", total);
		return total > 0 ? 0 : 1;
	}
	bool show = argc - i > 1;
	for (; i < argc; i++) {
		if ((fd = open(argv[i], O_RDONLY)) < 0) {
			fprintf(2, "grep: %s: %s\n", argv[i], strerror(errno));
			status = 2;
			continue;
		}
		n = grep(fd, argv[i], show);
		close(fd);
		if (n < 0) {
			status = 2;
			continue;
		}
		total += n;
		if (opt_count)
			printf("%s%s%ld\n", show ? argv[i] : "", show ? ":" : "", n);
	}
	if (status != 0)
		return status;
	return total > 0 ? 0 : 1;

usage:
	fprintf(2, "usage: grep [-v] [-c] [-n] pattern [file ...]\n");
	return 1;
}
