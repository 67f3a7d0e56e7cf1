// usertests: pipes -- data in order, end of file, EPIPE, O_NONBLOCK.
// Part of usertests (#included by user/usertests.c).
#include "user/ut/ut.h"

// Byte i of a test stream.
static char
stream_byte(long i)
{
	return (char)(i * 7 + i / 251);
}

// Write n stream bytes to fd in chunks of varying size.
static void
write_stream(int fd, long n)
{
	static char buf[1500];
	long off = 0;

	while (off < n) {
		long len = MIN(n - off, 1 + off % (long)sizeof(buf));
		for (long i = 0; i < len; i++)
			buf[i] = stream_byte(off + i);
		ssize_t w = write(fd, buf, len);
		if (w <= 0)
			fail("write at offset %ld: %s", off, strerror(errno));
		off += w;
	}
}

// Read the stream from fd until end of file; it must be exactly n bytes.
static void
read_stream(int fd, long n)
{
	static char buf[1000];
	long off = 0;
	ssize_t r;

	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < r; i++)
			if (buf[i] != stream_byte(off + i))
				fail("byte %ld wrong", off + i);
		off += r;
	}
	CHECK(r == 0, "read at %ld: %s", off, strerror(errno));
	CHECK(off == n, "got %ld bytes, want %ld", off, n);
}

static void
t_pipedata(void)
{
	const long n = 50000;
	int p[2], pid;

	xpipe(p);
	pid = xfork();
	if (pid == 0) {
		close(p[0]);
		write_stream(p[1], n);
		exit(0);
	}
	close(p[1]);
	read_stream(p[0], n);
	close(p[0]);
	CHECK(xwait(pid) == 0, "writer failed");
}

static void
t_pipeeof(void)
{
	int p[2], pid;
	char c;

	xpipe(p);
	close(p[1]);
	CHECK(read(p[0], &c, 1) == 0, "read of a writer-less empty pipe");
	close(p[0]);
	// The last writer is a child that exits: the reader sees EOF.
	xpipe(p);
	pid = xfork();
	if (pid == 0) {
		close(p[0]);
		write(p[1], "hi", 2);
		exit(0);
	}
	close(p[1]);
	char buf[4];
	CHECK(read(p[0], buf, 4) == 2, "did not read the child's 2 bytes");
	CHECK(read(p[0], buf, 4) == 0, "no EOF after the writer exited");
	close(p[0]);
	xwait(pid);
}

// Writing to a pipe without readers: EPIPE, and the writer lives on (no
// signals here). Also when the reader goes away during a blocked write.
static void
t_pipeepipe(void)
{
	static char big[8192];
	int p[2], pid;

	xpipe(p);
	close(p[0]);
	EXPECT_ERR(EPIPE, write(p[1], "x", 1));
	close(p[1]);

	xpipe(p);
	pid = xfork();
	if (pid == 0) {
		close(p[0]);
		for (int i = 0; i < 100; i++) {
			ssize_t w = write(p[1], big, sizeof(big));
			if (w < 0 && errno == EPIPE)
				exit(0);
			if (w < 0)
				fail("writer: %s, want %s", strerror(errno),
				     strerror(EPIPE));
		}
		fail("writer never saw EPIPE");
	}
	close(p[1]);
	char buf[100];
	CHECK(read(p[0], buf, sizeof(buf)) > 0, "read from writer");
	sleep(10);
	close(p[0]);
	CHECK(xwait(pid) == 0, "writer did not get EPIPE and exit");
}

// O_NONBLOCK: an empty pipe reads EAGAIN, a full one writes EAGAIN.
static void
t_nonblock(void)
{
	static char buf[512];
	int p[2], fl;
	long total = 0;
	ssize_t w;
	char c;

	xpipe(p);
	EXPECT_OK(fcntl(p[0], F_SETFL, O_NONBLOCK));
	fl = EXPECT_OK(fcntl(p[0], F_GETFL, 0));
	CHECK(fl & O_NONBLOCK, "F_GETFL = %#x: no O_NONBLOCK", fl);
	EXPECT_ERR(EAGAIN, read(p[0], &c, 1));
	CHECK(write(p[1], "q", 1) == 1 && read(p[0], &c, 1) == 1 && c == 'q',
	      "data through a non-blocking pipe");
	EXPECT_ERR(EAGAIN, read(p[0], &c, 1));
	EXPECT_OK(fcntl(p[1], F_SETFL, O_NONBLOCK));
	while ((w = write(p[1], buf, sizeof(buf))) > 0) {
		total += w;
		CHECK(total < (16L << 20), "pipe took 16 MiB without filling up");
	}
	CHECK(w == -1 && errno == EAGAIN, "full pipe: write = %ld (%s)", w,
	      strerror(errno));
	CHECK(total > 0, "nothing fitted into an empty pipe");
	while ((w = read(p[0], buf, sizeof(buf))) > 0)
		total -= w;
	CHECK(w == -1 && errno == EAGAIN && total == 0,
	      "draining: %ld bytes unaccounted (%s)", total, strerror(errno));
	close(p[0]);
	close(p[1]);
}

// Write one record of writer id, number seq, len bytes (3..PIPE_BUF): two
// bytes of length, then len-2 copies of (id << 6 | seq % 64).
static void
write_record(int fd, int id, int seq, int len)
{
	static char rec[PIPE_BUF];

	rec[0] = (char)(len & 0xff);
	rec[1] = (char)(len >> 8);
	memset(rec + 2, id << 6 | (seq & 63), len - 2);
	ssize_t w = write(fd, rec, len);
	if (w != len)
		fail("writer %d: write(%d) = %ld (%s)", id, len, (long)w, strerror(errno));
}

// Read exactly n bytes (reads of odd sizes); false at end of file.
static bool
read_full(int fd, char *buf, int n)
{
	int got = 0;

	while (got < n) {
		ssize_t r = read(fd, buf + got, MIN(n - got, 777));
		if (r <= 0)
			return false;
		got += r;
	}
	return true;
}

// POSIX: writes of at most PIPE_BUF bytes are not interleaved with other
// writers' data. Four writers send records of 3..PIPE_BUF bytes into one
// pipe while the reader is slower; every record must arrive whole, and
// each writer's records in order. A full non-blocking pipe refuses a
// small write with EAGAIN rather than taking part of it.
static void
t_pipeatomic(void)
{
	enum { WRITERS = 4, RECS = 120 };
	static char rec[PIPE_BUF];
	int p[2], next[WRITERS] = { 0 }, nrec = 0;

	CHECK(PIPE_BUF >= 512, "PIPE_BUF %d below POSIX's 512", PIPE_BUF);
	xpipe(p);
	for (int id = 0; id < WRITERS; id++) {
		if (xfork() == 0) {
			close(p[0]);
			for (int seq = 0; seq < RECS; seq++)
				write_record(p[1], id, seq,
					     3 + (seq * 389 + id * 97) % (PIPE_BUF - 2));
			exit(0);
		}
	}
	close(p[1]);
	while (read_full(p[0], rec, 2)) {
		int len = (unsigned char)rec[0] | (unsigned char)rec[1] << 8;
		CHECK(len >= 3 && len <= PIPE_BUF, "record %d: length %d", nrec, len);
		CHECK(read_full(p[0], rec + 2, len - 2), "record %d cut short", nrec);
		int id = (unsigned char)rec[2] >> 6, seq = rec[2] & 63;
		for (int i = 3; i < len; i++)
			CHECK(rec[i] == rec[2], "record %d (writer %d, %d bytes) interleaved at "
			      "byte %d", nrec, id, len, i);
		CHECK(id < WRITERS && seq == (next[id] & 63), "record %d: writer %d seq %d, "
		      "want %d", nrec, id, seq, next[id] & 63);
		next[id]++;
		nrec++;
		if (nrec % 8 == 0)
			sleep(1);   // let the writers fill the pipe
	}
	CHECK(nrec == WRITERS * RECS, "%d records, want %d", nrec, WRITERS * RECS);
	for (int id = 0; id < WRITERS; id++) {
		int st;
		CHECK(wait(&st) > 0 && st == 0, "a writer failed");
	}
	close(p[0]);

	// Non-blocking: no room for all of a small write -> EAGAIN, nothing taken.
	xpipe(p);
	EXPECT_OK(fcntl(p[1], F_SETFL, O_NONBLOCK));
	while (write(p[1], "x", 1) == 1)
		;
	CHECK(errno == EAGAIN, "filling: %s", strerror(errno));
	CHECK(read(p[0], rec, 100) == 100, "read 100");
	EXPECT_ERR(EAGAIN, write(p[1], rec, 101));
	CHECK(write(p[1], rec, 100) == 100, "100 bytes into 100 bytes of room");
	close(p[0]);
	close(p[1]);
}

// Several pipes streaming at once, each between two children, so that
// all CPUs move pipe data at the same time.
static void
t_pipestress(void)
{
	enum { PAIRS = 4 };
	const long n = 100000;
	int p[2], pid;

	for (int k = 0; k < PAIRS; k++) {
		xpipe(p);
		if (xfork() == 0) {
			close(p[0]);
			write_stream(p[1], n);
			exit(0);
		}
		if (xfork() == 0) {
			close(p[1]);
			read_stream(p[0], n);
			exit(0);
		}
		close(p[0]);
		close(p[1]);
	}
	for (int k = 0; k < 2 * PAIRS; k++) {
		int st;
		pid = EXPECT_OK(wait(&st));
		CHECK(st == 0, "child %d failed (status %d)", pid, st);
	}
}
