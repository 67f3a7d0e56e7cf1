// nettests: TCP over lo0 and em0 (net/tcp_*.c, net/so_accept.c): echo of
// a large transfer between two processes, ECONNREFUSED, nonblocking
// connect and accept, EOF and EPIPE, EADDRINUSE and SO_REUSEADDR,
// TCP_NODELAY, the pcblist sysctl. (The tcptools work adds many more.)
// Part of nettests (#included by user/nettests.c).
#include "user/nt/nt.h"

#define TCP_TEST_PORT 7100

static int
xtcp(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(s >= 0, "socket(SOCK_STREAM): %s", strerror(errno));
	return s;
}

static struct sockaddr_in
tcp_addr(const char *dotted, int port)
{
	struct sockaddr_in a = sin_of(dotted);
	a.sin_port = htons(port);
	return a;
}

// A listener on addr:port with SO_REUSEADDR (tests run back to back and
// leave TIME_WAIT behind).
static int
xtcp_listen(const char *addr, int port, int backlog)
{
	int s = xtcp(), one = 1;
	struct sockaddr_in a = tcp_addr(addr, port);
	EXPECT_OK(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	EXPECT_OK(bind(s, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_OK(listen(s, backlog));
	return s;
}

static int
xtcp_connect(const char *addr, int port)
{
	int s = xtcp();
	struct sockaddr_in a = tcp_addr(addr, port);
	EXPECT_OK(connect(s, (struct sockaddr *)&a, sizeof(a)));
	return s;
}

static void
tcp_fill(uint8 *b, int n, int off)
{
	for (int i = 0; i < n; i++)
		b[i] = (uint8)((off + i) * 13 + ((off + i) >> 9));
}

// write all of buf (or fail the test).
static void
xwrite_all(int s, const void *buf, int n)
{
	const char *p = buf;
	while (n > 0) {
		int k = write(s, p, n);
		CHECK(k > 0, "write: %s", strerror(errno));
		p += k, n -= k;
	}
}

// A child echoes everything it reads on an accepted connection of l,
// then closes.
static int
tcp_echo_child(int l)
{
	int pid = xfork();
	if (pid == 0) {
		static char buf[4096];
		int c = accept(l, 0, 0);
		if (c < 0)
			exit(2);
		int k;
		while ((k = read(c, buf, sizeof(buf))) > 0)
			xwrite_all(c, buf, k);
		close(c);
		exit(k == 0 ? 0 : 3);
	}
	return pid;
}

// Echo of n bytes through a child over addr; checks every byte.
static void
tcp_echo_over(const char *addr, int port, int n)
{
	static uint8 out[8192], in[8192];
	int l = xtcp_listen(addr, port, 5);
	int pid = tcp_echo_child(l);
	int s = xtcp_connect(addr, port);
	int sent = 0, got = 0;
	while (got < n) {
		if (sent < n) {
			int k = MIN(n - sent, (int)sizeof(out));
			tcp_fill(out, k, sent);
			xwrite_all(s, out, k);
			sent += k;
		}
		while (got < sent) {
			int k = read(s, in, MIN(sent - got, (int)sizeof(in)));
			CHECK(k > 0, "read after %d of %d: %s", got, n, k < 0 ? strerror(errno) : "EOF");
			tcp_fill(out, k, got);
			CHECK(memcmp(in, out, k) == 0, "data differs at %d", got);
			got += k;
		}
	}
	EXPECT_OK(shutdown(s, SHUT_WR));
	CHECK(read(s, in, 1) == 0, "no EOF after the echo closed");
	CHECK(xwait(pid) == 0, "echo child failed");
	close(s);
	close(l);
}

static void
t_tcpecho(void)
{
	tcp_echo_over(LOOP_ADDR, TCP_TEST_PORT, 200000);
}

static void
t_tcpechoem0(void)
{
	tcp_echo_over(GUEST_ADDR, TCP_TEST_PORT + 1, 100000);
}

static void
t_tcprefused(void)
{
	int s = xtcp();
	struct sockaddr_in a = tcp_addr(LOOP_ADDR, TCP_TEST_PORT + 2);
	EXPECT_ERR(ECONNREFUSED, connect(s, (struct sockaddr *)&a, sizeof(a)));
	close(s);
}

static void
t_tcpnonblock(void)
{
	int l = xtcp_listen(LOOP_ADDR, TCP_TEST_PORT + 3, 5);
	EXPECT_OK(fcntl(l, F_SETFL, O_NONBLOCK));
	EXPECT_ERR(EAGAIN, accept(l, 0, 0));
	int s = xtcp();
	EXPECT_OK(fcntl(s, F_SETFL, O_NONBLOCK));
	struct sockaddr_in a = tcp_addr(LOOP_ADDR, TCP_TEST_PORT + 3), peer;
	int r = connect(s, (struct sockaddr *)&a, sizeof(a));
	CHECK(r == 0 || errno == EINPROGRESS, "nonblocking connect: %s", strerror(errno));
	struct pollfd pf = { s, POLLOUT, 0 };
	CHECK(poll(&pf, 1, NT_WAIT_MS) == 1 && (pf.revents & POLLOUT), "no POLLOUT");
	int err = -1;
	socklen_t el = sizeof(err);
	EXPECT_OK(getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el));
	CHECK(err == 0, "SO_ERROR %d", err);
	struct pollfd lp = { l, POLLIN, 0 };
	CHECK(poll(&lp, 1, NT_WAIT_MS) == 1, "listener not readable");
	socklen_t pl = sizeof(peer);
	int c = accept(l, (struct sockaddr *)&peer, &pl);
	CHECK(c >= 0, "accept: %s", strerror(errno));
	struct sockaddr_in me;
	socklen_t ml = sizeof(me);
	EXPECT_OK(getsockname(s, (struct sockaddr *)&me, &ml));
	CHECK(peer.sin_port == me.sin_port, "accept's peer address");
	char b[4];
	EXPECT_ERR(EAGAIN, read(s, b, sizeof(b)));
	close(c);
	pf.events = POLLIN;
	CHECK(poll(&pf, 1, NT_WAIT_MS) == 1 && (pf.revents & POLLIN), "no POLLIN on EOF");
	CHECK(read(s, b, sizeof(b)) == 0, "no EOF");
	close(s);
	close(l);
}

// A nonblocking connect to a closed port: POLLOUT|POLLERR, SO_ERROR.
static void
t_tcpnbrefused(void)
{
	int s = xtcp();
	EXPECT_OK(fcntl(s, F_SETFL, O_NONBLOCK));
	struct sockaddr_in a = tcp_addr(LOOP_ADDR, TCP_TEST_PORT + 4);
	int r = connect(s, (struct sockaddr *)&a, sizeof(a));
	CHECK(r < 0 && errno == EINPROGRESS, "connect: %d %s", r, strerror(errno));
	struct pollfd pf = { s, POLLOUT, 0 };
	CHECK(poll(&pf, 1, NT_WAIT_MS) == 1 && (pf.revents & POLLERR), "no POLLERR");
	int err = 0;
	socklen_t el = sizeof(err);
	EXPECT_OK(getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el));
	CHECK(err == ECONNREFUSED, "SO_ERROR %d", err);
	close(s);
}

// Writing to a connection the peer closed (and then reset, for the data
// it will not read): the first write that fails says ECONNRESET, the
// next EPIPE (Linux's order).
static void
t_tcpepipe(void)
{
	int l = xtcp_listen(LOOP_ADDR, TCP_TEST_PORT + 5, 5);
	int s = xtcp_connect(LOOP_ADDR, TCP_TEST_PORT + 5);
	int c = accept(l, 0, 0);
	CHECK(c >= 0, "accept");
	close(c);
	char b[100] = { 0 };
	int r = 0;
	// The RST comes back through two netisrs, which a loaded host may run
	// late: write until it has (30 s at most), not a number of times.
	for (long end = uptime() + NT_WAIT_MS; r >= 0 && uptime() < end;) {
		r = write(s, b, sizeof(b));
		sleep(10);
	}
	CHECK(r < 0 && errno == ECONNRESET, "write: %d %s", r, strerror(errno));
	r = write(s, b, sizeof(b));
	CHECK(r < 0 && errno == EPIPE, "second write: %d %s", r, strerror(errno));
	close(s);
	close(l);
}

static void
t_tcpaddrinuse(void)
{
	int a = xtcp(), b = xtcp(), one = 1;
	struct sockaddr_in sa = tcp_addr(LOOP_ADDR, TCP_TEST_PORT + 6);
	EXPECT_OK(bind(a, (struct sockaddr *)&sa, sizeof(sa)));
	EXPECT_OK(listen(a, 1));
	EXPECT_ERR(EADDRINUSE, bind(b, (struct sockaddr *)&sa, sizeof(sa)));
	close(a);
	EXPECT_OK(setsockopt(b, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	EXPECT_OK(bind(b, (struct sockaddr *)&sa, sizeof(sa)));
	close(b);
}

static void
t_tcpnodelay(void)
{
	int s = xtcp(), v = 1;
	socklen_t l = sizeof(v);
	EXPECT_OK(setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)));
	v = 0;
	EXPECT_OK(getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, &l));
	CHECK(v == 1, "TCP_NODELAY reads %d", v);
	close(s);
}

// The pcblist sysctl lists a connection in ESTABLISHED.
static void
t_tcppcblist(void)
{
	static char buf[32768];
	int l = xtcp_listen(LOOP_ADDR, TCP_TEST_PORT + 7, 5);
	int s = xtcp_connect(LOOP_ADDR, TCP_TEST_PORT + 7);
	size_t len = sizeof(buf);
	EXPECT_OK(sysctl("net.inet.tcp.pcblist", buf, &len, 0, 0));
	CHECK(strstr(buf, "0.0.0.0:0 LISTEN") != 0, "no listener in:\n%s", buf);
	CHECK(strstr(buf, "127.0.0.1:7107 ESTABLISHED") != 0, "no connection in:\n%s", buf);
	close(s);
	close(l);
}

static long
tcp_counter(const char *name)
{
	int64 v;
	CHECK(sysctl_getint(name, &v) == 0, "sysctl %s", name);
	return (long)v;
}

// MSG_WAITALL larger than the receive buffer: the reader tells the
// sender about the room it makes while it waits (no stall that only a
// zero-window probe would end).
static void
t_tcpwaitall(void)
{
	enum { N = 100000 };
	static uint8 buf[N], want[N];
	int l = xtcp(), one = 1, small = 4096;
	struct sockaddr_in a = tcp_addr(LOOP_ADDR, TCP_TEST_PORT + 8);
	EXPECT_OK(setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	EXPECT_OK(setsockopt(l, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)));
	EXPECT_OK(bind(l, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_OK(listen(l, 1));
	long probes = tcp_counter("net.inet.tcp.persisttimeo");
	int pid = xfork();
	if (pid == 0) {
		int s = xtcp_connect(LOOP_ADDR, TCP_TEST_PORT + 8);
		tcp_fill(buf, N, 0);
		xwrite_all(s, buf, N);
		close(s);
		exit(0);
	}
	int c = accept(l, 0, 0);
	CHECK(c >= 0, "accept");
	long n = recv(c, buf, N, MSG_WAITALL);
	CHECK(n == N, "MSG_WAITALL returned %ld", n);
	tcp_fill(want, N, 0);
	CHECK(memcmp(buf, want, N) == 0, "data differs");
	CHECK(xwait(pid) == 0, "writer failed");
	CHECK(tcp_counter("net.inet.tcp.persisttimeo") == probes, "stalled on a closed window");
	close(c);
	close(l);
}

// SO_LINGER > 0: close returns once everything sent was acknowledged
// (the connection is past FIN_WAIT_1 with nothing queued); a read on a
// never-connected socket is ENOTCONN.
static void
t_tcplinger(void)
{
	enum { N = 200000 };
	static uint8 buf[8192];
	static char list[32768];
	int l = xtcp_listen(LOOP_ADDR, TCP_TEST_PORT + 9, 1);
	int pid = xfork();
	if (pid == 0) {
		int c = accept(l, 0, 0);
		long tot = 0, k;
		while ((k = read(c, buf, sizeof(buf))) > 0) {
			tot += k;
			sleep(0);
		}
		exit(tot == N ? 0 : 1);
	}
	int s = xtcp_connect(LOOP_ADDR, TCP_TEST_PORT + 9);
	struct sockaddr_in me;
	socklen_t ml = sizeof(me);
	EXPECT_OK(getsockname(s, (struct sockaddr *)&me, &ml));
	struct linger lg = { 1, 30 };
	EXPECT_OK(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	for (int sent = 0; sent < N; sent += sizeof(buf))
		xwrite_all(s, buf, MIN((int)sizeof(buf), N - sent));
	EXPECT_OK(close(s));
	size_t len = sizeof(list);
	EXPECT_OK(sysctl("net.inet.tcp.pcblist", list, &len, 0, 0));
	char key[40];
	snprintf(key, sizeof(key), "127.0.0.1:%d 127.0.0.1:%d ", ntohs(me.sin_port),
		 TCP_TEST_PORT + 9);
	char *line = strstr(list, key);
	CHECK(line != 0, "connection gone from:\n%s", list);
	line += strlen(key);
	CHECK(strncmp(line, "FIN_WAIT_2 ", 11) == 0 || strncmp(line, "TIME_WAIT ", 10) == 0 ||
	      strncmp(line, "CLOSING ", 8) == 0,
	      "close returned with the connection in %.40s", line);
	CHECK(xwait(pid) == 0, "reader did not get everything");
	close(l);
	int u = xtcp();
	EXPECT_ERR(ENOTCONN, read(u, buf, 1));
	close(u);
}
