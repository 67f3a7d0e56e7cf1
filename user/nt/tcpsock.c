// nettests: more TCP through the socket interface (nt/tcp.c has the basic
// cases: echo over lo0 and em0, ECONNREFUSED, nonblocking connect and
// accept, EPIPE, EADDRINUSE, TCP_NODELAY, the pcblist sysctl).
// Over lo0 (127.0.0.1) and the em0 address (10.0.2.15, which the stack
// routes through the loopback with em0's address): EOF and POLLIN at EOF,
// half-close (the half-closed side still receives), MSG_PEEK /
// MSG_WAITALL / MSG_DONTWAIT, bad pointers and lengths (EFAULT, EINVAL,
// ENOTCONN, EISCONN; a failed read leaves the data queued), SO_LINGER 0
// (the peer gets POLLHUP/POLLERR and ECONNRESET), the listen backlog,
// getsockname/getpeername on both ends, binding a port with a TIME_WAIT
// connection on it (SO_REUSEADDR), eight connections at once, and the mbuf
// count back where it was after a megabyte went through.
// Over the e1000: ECONNREFUSED from the gateway, blocking and nonblocking.
// Part of nettests (#included by user/nettests.c).
#include "user/nt/nt.h"

static uint8 ts_tbuf[65536], ts_rbuf[65536];

static int
ts_socket(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(s >= 0, "socket(SOCK_STREAM): %s", strerror(errno));
	return s;
}

// A listener on addr with an ephemeral port; *a gets its address.
static int
ts_listener(const char *addr, int backlog, struct sockaddr_in *a)
{
	int l = ts_socket();
	struct sockaddr_in me = sin_of(addr);
	socklen_t len = sizeof(me);
	EXPECT_OK(bind(l, (struct sockaddr *)&me, sizeof(me)));
	EXPECT_OK(listen(l, backlog));
	EXPECT_OK(getsockname(l, (struct sockaddr *)&me, &len));
	CHECK(ntohs(me.sin_port) != 0, "listener has port 0");
	*a = me;
	return l;
}

// A connected pair over addr: *c the client's end, *s the server's.
static void
ts_pair(const char *addr, int *c, int *s)
{
	struct sockaddr_in a;
	int l = ts_listener(addr, 5, &a);
	*c = ts_socket();
	EXPECT_OK(connect(*c, (struct sockaddr *)&a, sizeof(a)));
	*s = EXPECT_OK(accept(l, NULL, NULL));
	close(l);
}

static uint8
ts_pat(long i)
{
	return (uint8)(i * 7 + (i >> 9));
}

// Read exactly n bytes (fails the test on EOF or error).
static void
ts_read_n(int s, uint8 *b, long n)
{
	long got = 0, k;

	while (got < n) {
		k = read(s, b + got, n - got);
		CHECK(k > 0, "read after %ld of %ld bytes: %s", got, n,
		      k == 0 ? "EOF" : strerror(errno));
		got += k;
	}
}

// Write n pattern bytes starting at offset off, in pieces of up to chunk.
static void
ts_write_pattern(int s, long off, long n, int chunk)
{
	while (n > 0) {
		int k = n < chunk ? n : chunk;
		for (int i = 0; i < k; i++)
			ts_tbuf[i] = ts_pat(off + i);
		CHECK(write(s, ts_tbuf, k) == k, "write: %s", strerror(errno));
		off += k;
		n -= k;
	}
}

static void
t_tcpeof(void)
{
	int c, s;
	struct pollfd pf;

	ts_pair(LOOP_ADDR, &c, &s);
	EXPECT_OK(write(s, "bye", 3));
	close(s);
	pf = (struct pollfd){ c, POLLIN, 0 };
	CHECK(poll(&pf, 1, NT_WAIT_MS) == 1 && (pf.revents & POLLIN), "no POLLIN at EOF");
	ts_read_n(c, ts_rbuf, 3);
	CHECK(memcmp(ts_rbuf, "bye", 3) == 0, "data before FIN");
	CHECK(read(c, ts_rbuf, 10) == 0, "no EOF");
	CHECK(read(c, ts_rbuf, 10) == 0, "EOF not sticky");
	close(c);
}

static void
t_tcphalfclose(void)
{
	int c, s;

	ts_pair(LOOP_ADDR, &c, &s);
	EXPECT_OK(write(c, "question", 8));
	EXPECT_OK(shutdown(c, SHUT_WR));
	EXPECT_ERR(EPIPE, write(c, "x", 1));
	ts_read_n(s, ts_rbuf, 8);
	CHECK(read(s, ts_rbuf, 10) == 0, "server: no EOF after SHUT_WR");
	// The half-closed client still receives.
	ts_write_pattern(s, 0, 50000, 4096);
	close(s);
	ts_read_n(c, ts_rbuf, 50000);
	for (int i = 0; i < 50000; i++)
		CHECK(ts_rbuf[i] == ts_pat(i), "byte %d after half-close", i);
	CHECK(read(c, ts_rbuf, 1) == 0, "client: no EOF");
	close(c);
}

// Over the e1000: the gateway (slirp with restrict=on, or the Linux peer
// of the tap rig) has nothing on port 4444 and answers the SYN with RST,
// blocking and nonblocking.
static void
t_tcpgwrefused(void)
{
	struct sockaddr_in a = sin_of(GATEWAY_ADDR);
	int c = ts_socket(), err = -1, r;
	socklen_t el = sizeof(err);
	int64 rst = sysctl_int("net.inet.tcp.rstrcvd");

	a.sin_port = htons(4444);
	EXPECT_ERR(ECONNREFUSED, connect(c, (struct sockaddr *)&a, sizeof(a)));
	close(c);
	c = ts_socket();
	EXPECT_OK(fcntl(c, F_SETFL, O_NONBLOCK));
	r = connect(c, (struct sockaddr *)&a, sizeof(a));
	CHECK(r < 0 && errno == EINPROGRESS, "nonblocking connect over em0: %s",
	      r == 0 ? "connected" : strerror(errno));
	struct pollfd pf = { c, POLLOUT, 0 };
	CHECK(poll(&pf, 1, NT_WAIT_MS) == 1, "no poll event for the refused connect");
	EXPECT_OK(getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el));
	CHECK(err == ECONNREFUSED, "SO_ERROR %d, want ECONNREFUSED", err);
	close(c);
	CHECK(sysctl_int("net.inet.tcp.rstrcvd") >= rst + 2, "RSTs not counted");
}

static void
t_tcprecvflags(void)
{
	int c, s, pid;
	char b[16];

	ts_pair(LOOP_ADDR, &c, &s);
	EXPECT_ERR(EAGAIN, recv(c, b, sizeof(b), MSG_DONTWAIT));
	EXPECT_OK(write(s, "peekaboo", 8));
	struct pollfd pf = { c, POLLIN, 0 };
	CHECK(poll(&pf, 1, NT_WAIT_MS) == 1, "no data");
	CHECK(recv(c, b, 4, MSG_PEEK) == 4 && memcmp(b, "peek", 4) == 0, "peek");
	CHECK(recv(c, b, 8, MSG_PEEK) == 8 && memcmp(b, "peekaboo", 8) == 0, "peek 8");
	CHECK(recv(c, b, 8, 0) == 8 && memcmp(b, "peekaboo", 8) == 0, "read after peek");
	EXPECT_ERR(EAGAIN, recv(c, b, sizeof(b), MSG_DONTWAIT));
	// MSG_WAITALL: 12 bytes arriving in three pieces come back as one.
	pid = xfork();
	if (pid == 0) {
		for (int i = 0; i < 3; i++) {
			sleep(50);
			write(s, "abcd", 4);
		}
		exit(0);
	}
	CHECK(recv(c, b, 12, MSG_WAITALL) == 12 && memcmp(b, "abcdabcdabcd", 12) == 0,
	      "MSG_WAITALL");
	xwait(pid);
	close(s);
	close(c);
}

static void
t_tcpbadinput(void)
{
	struct sockaddr_in a;
	int l = ts_listener(LOOP_ADDR, 5, &a), c = ts_socket(), s, v = 1;
	void *bad = (void *)freed_addr();
	socklen_t len;

	EXPECT_ERR(EFAULT, connect(c, bad, sizeof(a)));
	EXPECT_ERR(EINVAL, connect(c, (struct sockaddr *)&a, 3));
	EXPECT_ERR(ENOTCONN, write(c, "x", 1));
	EXPECT_ERR(ENOTCONN, getpeername(c, (struct sockaddr *)&a, &(socklen_t){ sizeof(a) }));
	EXPECT_OK(connect(c, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_ERR(EISCONN, connect(c, (struct sockaddr *)&a, sizeof(a)));
	len = sizeof(a);
	EXPECT_ERR(EFAULT, accept(l, bad, &len));
	// the connection is still there for a good accept (or was consumed:
	// either way nothing may panic); make a fresh one to be sure
	int c2 = ts_socket();
	EXPECT_OK(connect(c2, (struct sockaddr *)&a, sizeof(a)));
	s = EXPECT_OK(accept(l, NULL, NULL));
	EXPECT_ERR(EFAULT, write(c2, bad, 100));
	EXPECT_ERR(EFAULT, send(c2, bad, 100, 0));
	// s is c's or c2's connection (the failed accept may have used up
	// c's): both send the same bytes
	EXPECT_OK(write(c2, "abc", 3));
	write(c, "abc", 3);
	sleep(50);
	EXPECT_ERR(EFAULT, read(s, bad, 100));
	EXPECT_ERR(EFAULT, recv(s, bad, 100, MSG_PEEK));
	EXPECT_ERR(EFAULT, getsockname(s, bad, &len));
	EXPECT_ERR(EFAULT, getsockopt(s, SOL_SOCKET, SO_ERROR, bad, &len));
	EXPECT_ERR(EFAULT, setsockopt(s, IPPROTO_TCP, TCP_NODELAY, bad, sizeof(v)));
	EXPECT_OK(setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)));
	// the data survived the failed reads (EFAULT leaves it queued)
	ts_read_n(s, ts_rbuf, 3);
	CHECK(memcmp(ts_rbuf, "abc", 3) == 0, "data lost by a failed read");
	EXPECT_ERR(EINVAL, shutdown(s, 99));
	close(s);
	close(c);
	close(c2);
	close(l);
}

static void
t_tcplinger0(void)
{
	int c, s;
	struct linger lg = { 1, 0 };
	struct pollfd pf;

	ts_pair(LOOP_ADDR, &c, &s);
	EXPECT_OK(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	EXPECT_OK(write(s, "lost?", 5));
	close(s);   // RST, not FIN
	// The data segment may arrive (POLLIN) a moment before the RST, and
	// poll returns as soon as anything holds: poll again until the reset
	// shows, for at most 30 s (a loaded host may run the netisr late).
	long until = uptime() + NT_WAIT_MS;
	do {
		pf = (struct pollfd){ c, POLLIN, 0 };
		CHECK(poll(&pf, 1, NT_WAIT_MS) == 1, "nothing after the RST");
		if (pf.revents & (POLLHUP | POLLERR))
			break;
		sleep(10);
	} while (uptime() < until);
	CHECK(pf.revents & (POLLHUP | POLLERR), "revents %x: no POLLHUP/POLLERR",
	      pf.revents);
	// Data that arrived before the RST may or may not be readable (BSD
	// drops it); then the reset must show.
	long r = read(c, ts_rbuf, sizeof(ts_rbuf));
	if (r == 5)
		r = read(c, ts_rbuf, sizeof(ts_rbuf));
	CHECK(r < 0 && errno == ECONNRESET, "read after RST: %ld %s", r,
	      r < 0 ? strerror(errno) : "");
	close(c);
}

static void
t_tcpbacklog(void)
{
	struct sockaddr_in a;
	int l = ts_listener(LOOP_ADDR, 2, &a), c[8], queued = 0, s;

	for (int i = 0; i < 8; i++) {
		c[i] = ts_socket();
		EXPECT_OK(fcntl(c[i], F_SETFL, O_NONBLOCK));
		int r = connect(c[i], (struct sockaddr *)&a, sizeof(a));
		CHECK(r == 0 || errno == EINPROGRESS, "connect %d: %s", i, strerror(errno));
	}
	// The handshakes complete on the netisrs, which a loaded host may run
	// late: wait (30 s at most) until one is queued, then give the others
	// a moment to fill the backlog (more or fewer: either way at most 2
	// wait, which is what is checked).
	struct pollfd lp = { l, POLLIN, 0 };
	CHECK(poll(&lp, 1, NT_WAIT_MS) == 1, "no connection queued after 30 s");
	sleep(300);
	EXPECT_OK(fcntl(l, F_SETFL, O_NONBLOCK));
	while ((s = accept(l, NULL, NULL)) >= 0) {
		queued++;
		close(s);
	}
	CHECK(errno == EAGAIN, "accept: %s", strerror(errno));
	CHECK(queued >= 1 && queued < 8, "%d connections queued on a backlog of 2",
	      queued);
	for (int i = 0; i < 8; i++)
		close(c[i]);
	close(l);
}

static void
t_tcpsockname(void)
{
	int c, s;
	struct sockaddr_in cl, cp, sl, sp;
	socklen_t n = sizeof(cl);

	ts_pair(GUEST_ADDR, &c, &s);
	EXPECT_OK(getsockname(c, (struct sockaddr *)&cl, &n));
	n = sizeof(cp);
	EXPECT_OK(getpeername(c, (struct sockaddr *)&cp, &n));
	n = sizeof(sl);
	EXPECT_OK(getsockname(s, (struct sockaddr *)&sl, &n));
	n = sizeof(sp);
	EXPECT_OK(getpeername(s, (struct sockaddr *)&sp, &n));
	CHECK(cl.sin_family == AF_INET && sp.sin_family == AF_INET, "family");
	CHECK(cl.sin_port == sp.sin_port && cl.sin_addr.s_addr == sp.sin_addr.s_addr,
	      "client name != server's peer");
	CHECK(sl.sin_port == cp.sin_port && sl.sin_addr.s_addr == cp.sin_addr.s_addr,
	      "server name != client's peer");
	CHECK(sl.sin_addr.s_addr == sin_of(GUEST_ADDR).sin_addr.s_addr, "server address");
	CHECK(ntohs(cl.sin_port) >= 49152, "ephemeral port %d", ntohs(cl.sin_port));
	close(c);
	close(s);
}

// A port with a connection in TIME_WAIT on it: bind needs SO_REUSEADDR
// (BSD, Linux: a connected pcb does not block a SO_REUSEADDR bind).
static void
t_tcpreusetw(void)
{
	struct sockaddr_in a;
	int l = ts_listener(LOOP_ADDR, 5, &a), t = ts_socket(), one = 1, c, s;

	EXPECT_ERR(EADDRINUSE, bind(t, (struct sockaddr *)&a, sizeof(a)));
	close(t);
	// The server closes first: its end goes to TIME_WAIT; binding the
	// port again needs SO_REUSEADDR.
	c = ts_socket();
	EXPECT_OK(connect(c, (struct sockaddr *)&a, sizeof(a)));
	s = EXPECT_OK(accept(l, NULL, NULL));
	close(l);
	close(s);
	CHECK(read(c, ts_rbuf, 1) == 0, "no EOF");
	close(c);
	sleep(100);
	t = ts_socket();
	EXPECT_OK(setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	EXPECT_OK(bind(t, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_OK(listen(t, 5));
	close(t);
}

static void
t_tcpmany(void)
{
	struct sockaddr_in a;
	int l = ts_listener(LOOP_ADDR, 16, &a), c[8], s[8];

	for (int i = 0; i < 8; i++) {
		c[i] = ts_socket();
		EXPECT_OK(connect(c[i], (struct sockaddr *)&a, sizeof(a)));
	}
	for (int i = 0; i < 8; i++)
		s[i] = EXPECT_OK(accept(l, NULL, NULL));
	for (int i = 0; i < 8; i++) {
		ts_tbuf[0] = (uint8)i;
		EXPECT_OK(write(c[i], ts_tbuf, 1));
	}
	// Each accepted socket gets exactly one byte; together all of 0..7.
	int seen = 0;
	for (int i = 0; i < 8; i++) {
		ts_read_n(s[i], ts_rbuf, 1);
		CHECK(ts_rbuf[0] < 8 && !(seen & (1 << ts_rbuf[0])), "byte %d twice", ts_rbuf[0]);
		seen |= 1 << ts_rbuf[0];
		close(s[i]);
		close(c[i]);
	}
	close(l);
}

static void
t_tcpmbufs(void)
{
	int64 before = sysctl_int("net.mbuf.inuse"), after = 0;
	int c, s, pid;
	long total = 1 << 20;

	ts_pair(LOOP_ADDR, &c, &s);
	pid = xfork();
	if (pid == 0) {
		close(s);
		ts_write_pattern(c, 0, total, 16384);
		close(c);
		exit(0);
	}
	close(c);
	for (long got = 0, n; got < total; got += n) {
		n = read(s, ts_rbuf, sizeof(ts_rbuf));
		CHECK(n > 0, "read at %ld: %s", got, n == 0 ? "EOF" : strerror(errno));
		for (long i = 0; i < n; i++)
			CHECK(ts_rbuf[i] == ts_pat(got + i), "byte %ld differs", got + i);
	}
	CHECK(read(s, ts_rbuf, 1) == 0, "no EOF after 1 MB");
	CHECK(xwait(pid) == 0, "sender failed");
	close(s);
	for (long end = uptime() + NT_WAIT_MS;;) {   // the netisrs free them, maybe late
		after = sysctl_int("net.mbuf.inuse");
		if (after <= before || uptime() >= end)
			break;
		sleep(50);
	}
	CHECK(after <= before, "mbufs: %ld before, %ld after", before, after);
}
