// usertests: regular files -- read/write, O_TRUNC, O_APPEND, O_EXCL,
// lseek and holes, unlink while open, hard links, a multi-MiB file.
// Part of usertests (#included by user/usertests.c).
#include "user/ut/ut.h"

static struct stat
xfstat(int fd)
{
	struct stat st;

	EXPECT_OK(fstat(fd, &st));
	return st;
}

static void
t_filerw(void)
{
	static char buf[3 * BSIZE + 100], back[sizeof(buf)];
	int fd;
	size_t got = 0;
	ssize_t n;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i % 253);
	unlink("ut_rw");
	fd = xopen("ut_rw", O_CREAT | O_WRONLY);
	CHECK(write(fd, buf, 1000) == 1000 &&
		      write(fd, buf + 1000, sizeof(buf) - 1000) ==
			      (ssize_t)(sizeof(buf) - 1000),
	      "write: %s", strerror(errno));
	close(fd);
	fd = xopen("ut_rw", O_RDONLY);
	struct stat st = xfstat(fd);
	CHECK(st.type == T_FILE && st.nlink == 1 && st.size == sizeof(buf),
	      "fstat: type %d nlink %d size %lu", st.type, st.nlink,
	      (unsigned long)st.size);
	while ((n = read(fd, back + got, MIN(700, sizeof(back) - got))) > 0)
		got += n;
	CHECK(got == sizeof(buf) && memcmp(buf, back, got) == 0,
	      "read back %lu bytes, or different ones", (unsigned long)got);
	CHECK(read(fd, back, 10) == 0, "read at end of file is not 0");
	close(fd);
	unlink("ut_rw");
}

static void
t_trunc(void)
{
	int fd;
	char buf[16] = { 0 };

	write_file("ut_trunc", "0123456789", 10);
	fd = xopen("ut_trunc", O_WRONLY | O_TRUNC);
	CHECK(xfstat(fd).size == 0, "O_TRUNC left %lu bytes",
	      (unsigned long)xfstat(fd).size);
	CHECK(write(fd, "abc", 3) == 3, "write");
	close(fd);
	CHECK(read_file("ut_trunc", buf, sizeof(buf)) == 3 &&
		      strcmp(buf, "abc") == 0,
	      "after O_TRUNC and write: '%s'", buf);
	// Opening without O_TRUNC keeps the data.
	close(xopen("ut_trunc", O_WRONLY));
	CHECK(read_file("ut_trunc", buf, sizeof(buf)) == 3, "data lost");
	unlink("ut_trunc");
}

static void
t_append(void)
{
	int fd;
	char buf[16] = { 0 };

	write_file("ut_app", "abc", 3);
	fd = xopen("ut_app", O_WRONLY | O_APPEND);
	CHECK(write(fd, "d", 1) == 1, "write");
	lseek(fd, 0, SEEK_SET);
	CHECK(write(fd, "e", 1) == 1, "write");
	close(fd);
	CHECK(read_file("ut_app", buf, sizeof(buf)) == 5 &&
		      strcmp(buf, "abcde") == 0,
	      "O_APPEND: file is '%s', want 'abcde'", buf);
	unlink("ut_app");
}

static void
t_excl(void)
{
	int fd;

	write_file("ut_excl", "x", 1);
	EXPECT_ERR(EEXIST, open("ut_excl", O_CREAT | O_EXCL | O_RDWR));
	unlink("ut_excl");
	fd = EXPECT_OK(open("ut_excl", O_CREAT | O_EXCL | O_RDWR));
	close(fd);
	EXPECT_ERR(ENOENT, open("ut_excl_none", O_RDONLY));
	unlink("ut_excl");
}

static void
t_lseek(void)
{
	char data[100], buf[100];
	int fd, p[2];

	for (int i = 0; i < 100; i++)
		data[i] = (char)i;
	write_file("ut_seek", data, sizeof(data));
	fd = xopen("ut_seek", O_RDWR);
	CHECK(lseek(fd, 10, SEEK_SET) == 10, "SEEK_SET");
	CHECK(read(fd, buf, 5) == 5 && buf[0] == 10 && buf[4] == 14, "read at 10");
	CHECK(lseek(fd, -5, SEEK_CUR) == 10, "SEEK_CUR -5");
	CHECK(lseek(fd, -10, SEEK_END) == 90, "SEEK_END -10");
	CHECK(read(fd, buf, 100) == 10 && buf[0] == 90, "read at 90");
	EXPECT_ERR(EINVAL, lseek(fd, -1, SEEK_SET));
	EXPECT_ERR(EINVAL, lseek(fd, -200, SEEK_END));
	EXPECT_ERR(EINVAL, lseek(fd, 0, 7));
	// Beyond the end: reads nothing; a write there leaves a hole of zeros.
	CHECK(lseek(fd, 150, SEEK_SET) == 150, "seek past the end");
	CHECK(read(fd, buf, 10) == 0, "read past the end");
	CHECK(write(fd, "z", 1) == 1, "write past the end: %s", strerror(errno));
	CHECK(xfstat(fd).size == 151, "size %lu after writing at 150",
	      (unsigned long)xfstat(fd).size);
	CHECK(lseek(fd, 100, SEEK_SET) == 100 && read(fd, buf, 51) == 51,
	      "read the hole");
	for (int i = 0; i < 50; i++)
		CHECK(buf[i] == 0, "hole byte %d is %d", 100 + i, buf[i]);
	CHECK(buf[50] == 'z', "byte after the hole");
	close(fd);
	xpipe(p);
	EXPECT_ERR(ESPIPE, lseek(p[0], 0, SEEK_SET));
	close(p[0]);
	close(p[1]);
	unlink("ut_seek");
}

// An unlinked file lives on while it is open.
static void
t_unlinkopen(void)
{
	char buf[8] = { 0 };
	int fd;

	write_file("ut_ulo", "data", 4);
	fd = xopen("ut_ulo", O_RDWR);
	EXPECT_OK(unlink("ut_ulo"));
	EXPECT_ERR(ENOENT, open("ut_ulo", O_RDONLY));
	EXPECT_ERR(ENOENT, unlink("ut_ulo"));
	CHECK(xfstat(fd).nlink == 0, "nlink %d after unlink", xfstat(fd).nlink);
	CHECK(read(fd, buf, sizeof(buf)) == 4 && strcmp(buf, "data") == 0,
	      "read after unlink: '%s'", buf);
	CHECK(write(fd, "more", 4) == 4, "write after unlink");
	close(fd);
	// A new file of the same name is a different, empty file.
	fd = xopen("ut_ulo", O_CREAT | O_RDWR);
	CHECK(xfstat(fd).size == 0, "recreated file is not empty");
	close(fd);
	unlink("ut_ulo");
}

static void
t_link(void)
{
	char buf[8] = { 0 };
	int fd;

	unlink("ut_lb");
	write_file("ut_la", "link", 4);
	EXPECT_OK(link("ut_la", "ut_lb"));
	fd = xopen("ut_la", O_RDONLY);
	CHECK(xfstat(fd).nlink == 2, "nlink %d after link", xfstat(fd).nlink);
	EXPECT_OK(unlink("ut_la"));
	CHECK(xfstat(fd).nlink == 1, "nlink %d after unlink", xfstat(fd).nlink);
	close(fd);
	CHECK(read_file("ut_lb", buf, sizeof(buf)) == 4 &&
		      strcmp(buf, "link") == 0,
	      "data through the link: '%s'", buf);
	EXPECT_ERR(ENOENT, link("ut_la", "ut_lc"));
	EXPECT_ERR(EEXIST, link("ut_lb", "ut_lb"));
	EXPECT_ERR(ENOENT, link("ut_lb", "ut_nodir/x"));
	EXPECT_ERR(EPERM, link(".", "ut_ld"));  // no links to directories
	unlink("ut_lb");
}

// 2 MiB written and read back (needs the doubly-indirect block).
static void
t_bigfile(void)
{
	enum { CHUNK = 8192, NCHUNK = 256 };  // 2 MiB
	static char buf[CHUNK];
	int fd;

	unlink("ut_big");
	fd = xopen("ut_big", O_CREAT | O_WRONLY);
	for (int c = 0; c < NCHUNK; c++) {
		memset(buf, c, CHUNK);
		((int *)buf)[0] = c;
		ssize_t w = write(fd, buf, CHUNK);
		if (w != CHUNK) {
			close(fd);
			unlink("ut_big");
			fail("write of chunk %d (at %d KiB): %ld (%s)", c,
			     c * CHUNK / 1024, w, w < 0 ? strerror(errno) : "short");
		}
	}
	close(fd);
	fd = xopen("ut_big", O_RDONLY);
	CHECK(xfstat(fd).size == (uint64)CHUNK * NCHUNK, "size %lu",
	      (unsigned long)xfstat(fd).size);
	for (int c = 0; c < NCHUNK; c++) {
		size_t got = 0;
		ssize_t r;
		while (got < CHUNK && (r = read(fd, buf + got, CHUNK - got)) > 0)
			got += r;
		CHECK(got == CHUNK, "chunk %d: short read", c);
		CHECK(((int *)buf)[0] == c && buf[CHUNK - 1] == (char)c &&
			      buf[CHUNK / 2] == (char)c,
		      "chunk %d read back wrong", c);
	}
	close(fd);
	EXPECT_OK(unlink("ut_big"));
}
