// usertests: directories and path names -- mkdir/unlink semantics,
// chdir, ENOTDIR, ENAMETOOLONG, listing, concurrent creates.
// Part of usertests (#included by user/usertests.c).
#include "user/ut/ut.h"

#define CONCREATE_SHARED 12

static void
t_mkdir(void)
{
	struct stat st;
	int fd;

	unlink("ut_d/f");
	unlink("ut_d/sub");
	unlink("ut_d");
	EXPECT_OK(mkdir("ut_d"));
	EXPECT_ERR(EEXIST, mkdir("ut_d"));
	fd = xopen("ut_d", O_RDONLY);
	EXPECT_OK(fstat(fd, &st));
	CHECK(st.type == T_DIR && st.nlink == 2,
	      "new directory: type %d nlink %d, want %d and 2", st.type,
	      st.nlink, T_DIR);
	EXPECT_OK(mkdir("ut_d/sub"));
	EXPECT_OK(fstat(fd, &st));
	CHECK(st.nlink == 3, "nlink %d with one subdirectory, want 3", st.nlink);
	write_file("ut_d/f", "x", 1);
	EXPECT_ERR(ENOTEMPTY, unlink("ut_d"));
	EXPECT_OK(unlink("ut_d/sub"));
	EXPECT_OK(unlink("ut_d/f"));
	EXPECT_ERR(EISDIR, open("ut_d", O_WRONLY));
	EXPECT_ERR(EISDIR, open("ut_d", O_RDWR));
	EXPECT_OK(unlink("ut_d"));
	EXPECT_OK(fstat(fd, &st));
	CHECK(st.nlink == 0, "removed directory has nlink %d", st.nlink);
	close(fd);
	EXPECT_ERR(ENOENT, open("ut_d", O_RDONLY));
	EXPECT_ERR(ENOENT, mkdir("ut_nodir/x"));
	CHECK(unlink(".") < 0, "unlink(\".\") succeeded");
	CHECK(unlink("..") < 0, "unlink(\"..\") succeeded");
}

static void
t_chdir(void)
{
	int pid;

	unlink("ut_cd/f");
	unlink("ut_cd");
	EXPECT_OK(mkdir("ut_cd"));
	EXPECT_OK(chdir("ut_cd"));
	write_file("f", "in", 2);
	EXPECT_OK(chdir(".."));
	close(xopen("ut_cd/f", O_RDONLY));
	EXPECT_ERR(ENOTDIR, chdir("ut_cd/f"));
	EXPECT_ERR(ENOENT, chdir("ut_nodir"));
	// A child's chdir is its own.
	pid = xfork();
	if (pid == 0) {
		if (chdir("ut_cd") < 0)
			fail("child chdir: %s", strerror(errno));
		close(xopen("f", O_RDONLY));
		exit(0);
	}
	CHECK(xwait(pid) == 0, "child failed");
	close(xopen("ut_cd/f", O_RDONLY));
	// Absolute paths ignore the current directory.
	EXPECT_OK(chdir("/utmp/ut_cd"));
	close(xopen("/utmp/ut_cd/f", O_RDONLY));
	close(xopen("../ut_cd/./f", O_RDONLY));
	EXPECT_OK(chdir("/utmp"));
	unlink("ut_cd/f");
	unlink("ut_cd");
}

// A file used as a directory in a path: ENOTDIR.
static void
t_notdir(void)
{
	write_file("ut_nd", "x", 1);
	EXPECT_ERR(ENOTDIR, open("ut_nd/x", O_RDONLY));
	EXPECT_ERR(ENOTDIR, open("ut_nd/x", O_CREAT | O_RDWR));
	EXPECT_ERR(ENOTDIR, mkdir("ut_nd/d"));
	EXPECT_ERR(ENOTDIR, chdir("ut_nd"));
	EXPECT_ERR(ENOTDIR, unlink("ut_nd/x"));
	EXPECT_ERR(ENOTDIR, link("ut_nd", "ut_nd/y"));
	EXPECT_ERR(ENOTDIR, mknod("ut_nd/c", 1, 0));
	unlink("ut_nd");
}

// Name components longer than DIRSIZ are refused, not cut short.
static void
t_longname(void)
{
	char name[DIRSIZ + 8], exact[DIRSIZ + 1];
	int fd;

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	EXPECT_ERR(ENAMETOOLONG, open(name, O_CREAT | O_RDWR));
	EXPECT_ERR(ENAMETOOLONG, mkdir(name));
	EXPECT_ERR(ENAMETOOLONG, open(name, O_RDONLY));
	// Exactly DIRSIZ bytes is fine, and found again by the same name.
	memset(exact, 'e', DIRSIZ);
	exact[DIRSIZ] = '\0';
	fd = EXPECT_OK(open(exact, O_CREAT | O_RDWR));
	close(fd);
	close(xopen(exact, O_RDONLY));
	EXPECT_OK(unlink(exact));
}

// Count the entries of directory path whose names start with prefix;
// every name is checked to appear at most once.
static int
count_entries(const char *path, const char *prefix, int nexpect)
{
	static char seen[256];
	struct dirent de;
	char name[DIRSIZ + 1];
	int fd = xopen(path, O_RDONLY), n = 0;
	size_t plen = strlen(prefix);

	memset(seen, 0, sizeof(seen));
	while (read(fd, &de, sizeof(de)) == sizeof(de)) {
		if (de.d_inum == 0)
			continue;
		memcpy(name, de.d_name, DIRSIZ);
		name[DIRSIZ] = '\0';
		if (strncmp(name, prefix, plen) != 0)
			continue;
		int i = atoi(name + plen);
		CHECK(i >= 0 && i < nexpect, "unexpected entry %s", name);
		CHECK(!seen[i], "entry %s listed twice", name);
		seen[i] = 1;
		n++;
	}
	close(fd);
	return n;
}

static void
t_dirlist(void)
{
	enum { N = 40 };  // more than a directory block holds (BSIZE/32)
	char name[16];
	int n;

	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "ut_l%d", i);
		write_file(name, name, strlen(name));
	}
	n = count_entries(".", "ut_l", N);
	CHECK(n == N, "directory lists %d of %d files", n, N);
	for (int i = 0; i < N; i += 2) {
		snprintf(name, sizeof(name), "ut_l%d", i);
		EXPECT_OK(unlink(name));
	}
	n = count_entries(".", "ut_l", N);
	CHECK(n == N / 2, "after removing half: %d entries, want %d", n, N / 2);
	for (int i = 1; i < N; i += 2) {
		snprintf(name, sizeof(name), "ut_l%d", i);
		EXPECT_OK(unlink(name));
	}
	CHECK(count_entries(".", "ut_l", N) == 0, "entries left after unlink");
}

// Several processes create, check and remove files in one directory at
// once; each shared name is removed by exactly one of them.
static void __attribute__((noreturn))
concreate_child(int k, int ready, int go)
{
	enum { OWN = 12 };
	char name[32], buf[32], c = 0;
	int mine = 0, fd;

	for (int i = 0; i < OWN; i++) {
		snprintf(name, sizeof(name), "ut_c%d_%d", k, i);
		write_file(name, name, strlen(name));
	}
	for (int i = 0; i < CONCREATE_SHARED; i++) {
		snprintf(name, sizeof(name), "ut_s%d", i);
		if ((fd = open(name, O_CREAT | O_RDWR)) < 0)
			fail("create %s: %s", name, strerror(errno));
		close(fd);
	}
	// All children create before any removes.
	if (write(ready, &c, 1) != 1 || read(go, &c, 1) != 1)
		fail("barrier: %s", strerror(errno));
	for (int i = 0; i < OWN; i++) {
		snprintf(name, sizeof(name), "ut_c%d_%d", k, i);
		memset(buf, 0, sizeof(buf));
		read_file(name, buf, sizeof(buf) - 1);
		if (strcmp(buf, name) != 0)
			fail("%s contains '%s'", name, buf);
		if (unlink(name) < 0)
			fail("unlink %s: %s", name, strerror(errno));
	}
	for (int i = 0; i < CONCREATE_SHARED; i++) {
		snprintf(name, sizeof(name), "ut_s%d", i);
		if (unlink(name) == 0)
			mine++;
		else if (errno != ENOENT)
			fail("unlink %s: %s", name, strerror(errno));
	}
	exit(10 + mine);  // 10 and up: not to be confused with fail()'s 1
}

static void
t_concreate(void)
{
	enum { KIDS = 4 };
	int ready[2], go[2], removed = 0, st;
	char c = 0;

	xpipe(ready);
	xpipe(go);
	for (int k = 0; k < KIDS; k++)
		if (xfork() == 0)
			concreate_child(k, ready[1], go[0]);
	close(ready[1]);
	close(go[0]);
	for (int k = 0; k < KIDS; k++)
		CHECK(read(ready[0], &c, 1) == 1, "barrier: a child died");
	for (int k = 0; k < KIDS; k++)
		CHECK(write(go[1], &c, 1) == 1, "barrier: write");
	for (int k = 0; k < KIDS; k++) {
		EXPECT_OK(wait(&st));
		CHECK(st >= 10, "a child failed (status %d)", st);
		removed += st - 10;
	}
	CHECK(removed == CONCREATE_SHARED, "%d shared files removed, want %d",
	      removed, CONCREATE_SHARED);
	CHECK(count_entries(".", "ut_s", CONCREATE_SHARED) == 0,
	      "shared files left");
}
