// usertests: file descriptors -- bad ones, dup, dup2, the per-process
// limit, fcntl.
// Part of usertests (#included by user/usertests.c).
#include "user/ut/ut.h"

// Every call that takes a descriptor rejects one that is not open.
static void
expect_badfd(int fd)
{
	char buf[4];
	struct stat st;

	EXPECT_ERR(EBADF, read(fd, buf, 1));
	EXPECT_ERR(EBADF, write(fd, "x", 1));
	EXPECT_ERR(EBADF, fstat(fd, &st));
	EXPECT_ERR(EBADF, dup(fd));
	EXPECT_ERR(EBADF, dup2(fd, 20));
	EXPECT_ERR(EBADF, lseek(fd, 0, SEEK_SET));
	EXPECT_ERR(EBADF, fcntl(fd, F_GETFL, 0));
	EXPECT_ERR(EBADF, close(fd));
}

static void
t_badfd(void)
{
	int fd, p[2];
	char c;

	expect_badfd(-1);
	expect_badfd(NOFILE);
	expect_badfd(1000);
	expect_badfd(1 << 30);
	fd = xopen("ut_bfd", O_CREAT | O_RDWR);
	close(fd);
	expect_badfd(fd);
	// Wrong direction.
	fd = xopen("ut_bfd", O_WRONLY);
	EXPECT_ERR(EBADF, read(fd, &c, 1));
	close(fd);
	fd = xopen("ut_bfd", O_RDONLY);
	EXPECT_ERR(EBADF, write(fd, "x", 1));
	close(fd);
	xpipe(p);
	EXPECT_ERR(EBADF, write(p[0], "x", 1));
	EXPECT_ERR(EBADF, read(p[1], &c, 1));
	close(p[0]);
	close(p[1]);
	// dup2 to a descriptor number out of range.
	EXPECT_ERR(EBADF, dup2(0, -1));
	EXPECT_ERR(EBADF, dup2(0, NOFILE));
	unlink("ut_bfd");
}

static uint
ino_of(int fd)
{
	struct stat st;

	EXPECT_OK(fstat(fd, &st));
	return st.ino;
}

// dup gives the lowest free descriptor, sharing the file and its offset.
static void
t_dup(void)
{
	int fd, fd2, fd3;
	char buf[8] = { 0 };

	unlink("ut_dup");
	fd = xopen("ut_dup", O_CREAT | O_RDWR);
	fd2 = EXPECT_OK(dup(fd));
	CHECK(fd2 != fd, "dup returned the same descriptor");
	CHECK(write(fd, "ab", 2) == 2 && write(fd2, "cd", 2) == 2, "write");
	CHECK(lseek(fd2, 0, SEEK_CUR) == 4 && lseek(fd, 0, SEEK_CUR) == 4,
	      "dup'ed descriptors do not share the offset");
	close(fd2);
	fd3 = EXPECT_OK(dup(fd));
	CHECK(fd3 == fd2, "dup returned %d, lowest free is %d", fd3, fd2);
	close(fd);
	// The file stays open through the copy.
	CHECK(lseek(fd3, 0, SEEK_SET) == 0, "lseek");
	CHECK(read(fd3, buf, sizeof(buf)) == 4 && strcmp(buf, "abcd") == 0,
	      "read through the dup: '%s'", buf);
	close(fd3);
	unlink("ut_dup");
}

static void
t_dup2(void)
{
	int fd, other, r;

	write_file("ut_dup2a", "aaaa", 4);
	write_file("ut_dup2b", "bbbb", 4);
	fd = xopen("ut_dup2a", O_RDONLY);
	other = xopen("ut_dup2b", O_RDONLY);
	CHECK(dup2(fd, fd) == fd, "dup2(fd, fd) did not return fd");
	r = EXPECT_OK(dup2(fd, NOFILE - 1));
	CHECK(r == NOFILE - 1, "dup2 returned %d, want %d", r, NOFILE - 1);
	CHECK(ino_of(NOFILE - 1) == ino_of(fd), "dup2 copy is another file");
	// Onto an open descriptor: that one is closed first.
	EXPECT_OK(dup2(fd, other));
	CHECK(ino_of(other) == ino_of(fd), "dup2 did not replace the file");
	char c;
	CHECK(read(other, &c, 1) == 1 && c == 'a', "read after dup2: %c", c);
	close(fd);
	close(other);
	close(NOFILE - 1);
	unlink("ut_dup2a");
	unlink("ut_dup2b");
}

// At most NOFILE descriptors: then open, dup and pipe give EMFILE.
static void
t_emfile(void)
{
	int fds[NOFILE + 8], n = 0, fd, p[2];

	write_file("ut_emf", "x", 1);
	while ((fd = open("ut_emf", O_RDONLY)) >= 0) {
		fds[n++] = fd;
		CHECK(n <= NOFILE, "more than NOFILE (%d) descriptors", NOFILE);
	}
	CHECK(errno == EMFILE, "open failed with %s, want %s", strerror(errno),
	      strerror(EMFILE));
	EXPECT_ERR(EMFILE, dup(0));
	EXPECT_ERR(EMFILE, pipe(p));
	close(fds[--n]);
	EXPECT_ERR(EMFILE, pipe(p));  // needs two: must not leak the one
	fd = EXPECT_OK(dup(0));
	CHECK(fd == fds[n], "dup returned %d, want %d", fd, fds[n]);
	close(fd);
	while (n > 0)
		close(fds[--n]);
	unlink("ut_emf");
}

static void
t_fcntl(void)
{
	int fd, fl;
	char buf[8] = { 0 };

	write_file("ut_fcntl", "xy", 2);
	fd = xopen("ut_fcntl", O_RDWR);
	fl = EXPECT_OK(fcntl(fd, F_GETFL, 0));
	CHECK((fl & O_ACCMODE) == O_RDWR, "F_GETFL = %#x, want O_RDWR", fl);
	CHECK(!(fl & O_APPEND), "F_GETFL shows O_APPEND unasked");
	EXPECT_OK(fcntl(fd, F_SETFL, O_APPEND));
	fl = EXPECT_OK(fcntl(fd, F_GETFL, 0));
	CHECK((fl & O_APPEND) && (fl & O_ACCMODE) == O_RDWR,
	      "F_GETFL = %#x after F_SETFL O_APPEND", fl);
	lseek(fd, 0, SEEK_SET);
	CHECK(write(fd, "z", 1) == 1, "write");
	lseek(fd, 0, SEEK_SET);
	CHECK(read(fd, buf, sizeof(buf)) == 3 && strcmp(buf, "xyz") == 0,
	      "O_APPEND set by fcntl: file is '%s', want 'xyz'", buf);
	EXPECT_ERR(EINVAL, fcntl(fd, 9999, 0));
	close(fd);
	unlink("ut_fcntl");
}
