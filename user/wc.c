// wc: count lines, words and bytes.
// Usage: wc [file ...]
// Prints "lines words bytes" (and the name, for files) like Unix wc,
// and a total line when given more than one file. A word is a maximal
// run of non-space bytes.
#include "user/user.h"

static char buf[4096];

struct counts {
	long lines, words, bytes;
};

static bool
count(int fd, const char *name, struct counts *c)
{
	bool inword = false;
	ssize_t n;

	*c = (struct counts){ 0 };
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		c->bytes += n;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n')
				c->lines++;
			if (isspace(buf[i])) {
				inword = false;
			} else if (!inword) {
				inword = true;
				c->words++;
			}
		}
	}
	if (n < 0) {
		fprintf(2, "wc: %s: %s\n", name, strerror(errno));
		return false;
	}
	return true;
}

int
main(int argc, char *argv[])
{
	struct counts c, total = { 0 };
	int status = 0, fd;

	if (argc < 2) {
		if (!count(STDIN_FILENO, "stdin", &c))
			return 1;
		printf("%ld %ld %ld\n", c.lines, c.words, c.bytes);
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		if ((fd = open(argv[i], O_RDONLY)) < 0) {
			fprintf(2, "wc: %s: %s\n", argv[i], strerror(errno));
			status = 1;
			continue;
		}
		if (count(fd, argv[i], &c)) {
			printf("%ld %ld %ld %s\n", c.lines, c.words, c.bytes, argv[i]);
			total.lines += c.lines;
			total.words += c.words;
			total.bytes += c.bytes;
		} else {
			status = 1;
		}
		close(fd);
	}
	if (argc > 2)
		printf("%ld %ld %ld total\n", total.lines, total.words, total.bytes);
	return status;
}
