// nettests: poll(2) over sockets and pipes -- timeouts, readiness,
// wake-ups, bad descriptors and bad arguments.
// Part of nettests (#included by user/nettests.c).
#include "user/nt/nt.h"

static void
t_pollzero(void)
{
	struct pollfd pfd;
	int s = xraw();

	pfd = (struct pollfd){ .fd = s, .events = POLLIN, .revents = 0x7f };
	CHECK(EXPECT_OK(poll(&pfd, 1, 0)) == 0, "poll of an empty socket");
	CHECK(pfd.revents == 0, "revents 0x%x on an empty socket", pfd.revents);
	// A raw socket can always send.
	pfd = (struct pollfd){ .fd = s, .events = POLLIN | POLLOUT };
	CHECK(EXPECT_OK(poll(&pfd, 1, 0)) == 1 && pfd.revents == POLLOUT,
	      "revents 0x%x, want POLLOUT", pfd.revents);
	close(s);
}

static void
t_polltimeout(void)
{
	struct pollfd pfd;
	int s = xraw();
	long t0 = uptime(), dt;

	pfd = (struct pollfd){ .fd = s, .events = POLLIN };
	CHECK(EXPECT_OK(poll(&pfd, 1, 300)) == 0, "poll of an empty socket");
	dt = uptime() - t0;
	CHECK(dt >= 250 && dt < NT_WAIT_MS, "poll(300 ms) took %ld ms", dt);
	// No descriptors at all: a sleep.
	t0 = uptime();
	CHECK(EXPECT_OK(poll(NULL, 0, 200)) == 0, "poll of nothing");
	dt = uptime() - t0;
	CHECK(dt >= 150 && dt < NT_WAIT_MS, "poll(nothing, 200 ms) took %ld ms", dt);
	close(s);
}

static void
t_pollpipe(void)
{
	struct pollfd pfd[2];
	int p[2];

	xpipe(p);
	pfd[0] = (struct pollfd){ .fd = p[0], .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = p[1], .events = POLLOUT };
	CHECK(EXPECT_OK(poll(pfd, 2, 0)) == 1, "empty pipe");
	CHECK(pfd[0].revents == 0 && pfd[1].revents == POLLOUT,
	      "empty pipe: revents 0x%x 0x%x", pfd[0].revents, pfd[1].revents);
	write(p[1], "x", 1);
	CHECK(EXPECT_OK(poll(pfd, 2, 0)) == 2, "pipe with data");
	CHECK(pfd[0].revents == POLLIN, "pipe with data: revents 0x%x",
	      pfd[0].revents);
	// Writer gone: the reader sees the hang-up (and the byte).
	close(p[1]);
	CHECK(EXPECT_OK(poll(pfd, 1, 0)) == 1, "writer closed");
	CHECK(pfd[0].revents & (POLLIN | POLLHUP), "writer closed: revents 0x%x",
	      pfd[0].revents);
	close(p[0]);
}

static void
t_pollnval(void)
{
	struct pollfd pfd[3];
	int s = xraw();

	close(s);
	pfd[0] = (struct pollfd){ .fd = s, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = -1, .events = POLLIN, .revents = 0x7f };
	pfd[2] = (struct pollfd){ .fd = 1000, .events = POLLOUT };
	CHECK(EXPECT_OK(poll(pfd, 3, 0)) == 2, "closed fds are not counted");
	CHECK(pfd[0].revents == POLLNVAL, "closed fd: revents 0x%x",
	      pfd[0].revents);
	CHECK(pfd[1].revents == 0, "fd -1: revents 0x%x (must be ignored)",
	      pfd[1].revents);
	CHECK(pfd[2].revents == POLLNVAL, "fd 1000: revents 0x%x",
	      pfd[2].revents);
}

static void
t_pollbad(void)
{
	struct pollfd pfd = { .fd = 0, .events = POLLIN };

	EXPECT_ERR(EFAULT, poll((struct pollfd *)freed_addr(), 1, 0));
	EXPECT_ERR(EFAULT, poll((struct pollfd *)0x80000000L, 1, 0));
	EXPECT_ERR(EINVAL, poll(&pfd, 1 << 20, 0));
	EXPECT_ERR(EINVAL, poll(&pfd, -1, 0));
}

// A reply arriving while poll sleeps wakes it up.
static void
t_pollsock(void)
{
	struct pollfd pfd[2];
	int s = xraw(), p[2], pid;
	long t0 = uptime();

	xpipe(p);
	pid = xfork();
	if (pid == 0) {
		int t = xraw();

		sleep(200);
		send_echo(t, LOOP_ADDR, 1, 16);
		close(t);
		exit(0);
	}
	pfd[0] = (struct pollfd){ .fd = p[0], .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = s, .events = POLLIN };
	CHECK(EXPECT_OK(poll(pfd, 2, 2 * NT_WAIT_MS)) == 1, "poll returned with nothing");
	CHECK(pfd[0].revents == 0 && pfd[1].revents == POLLIN,
	      "revents 0x%x 0x%x", pfd[0].revents, pfd[1].revents);
	// Woken by the packet, not by the timeout (a loaded host may delay it).
	CHECK(uptime() - t0 < NT_WAIT_MS, "woke up only after %ld ms", uptime() - t0);
	CHECK(xwait(pid) == 0, "sender failed");
	close(p[0]);
	close(p[1]);
	close(s);
}

// A pipe written while poll sleeps (with no timeout) on a pipe and a
// socket wakes it up.
static void
t_pollwake(void)
{
	struct pollfd pfd[2];
	int s = xraw(), p[2], pid;

	xpipe(p);
	pid = xfork();
	if (pid == 0) {
		sleep(200);
		write(p[1], "x", 1);
		exit(0);
	}
	pfd[0] = (struct pollfd){ .fd = s, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = p[0], .events = POLLIN };
	CHECK(EXPECT_OK(poll(pfd, 2, -1)) == 1, "poll returned with nothing");
	CHECK(pfd[0].revents == 0 && pfd[1].revents == POLLIN,
	      "revents 0x%x 0x%x", pfd[0].revents, pfd[1].revents);
	CHECK(xwait(pid) == 0, "writer failed");
	close(p[0]);
	close(p[1]);
	close(s);
}
