// nettests: UDP sockets (net/udp.c, net/in_pcb.c, the PCQ fast demux and
// the reuseport groups), all over lo0 so they need
// no peer: bad input returns errors; echo between two processes;
// datagram boundaries; MSG_PEEK; MSG_DONTWAIT and O_NONBLOCK; connect;
// getsockname after an ephemeral bind; EADDRINUSE; a reuseport group of 4;
// fast_demux on and off; fragmentation on lo0; SO_BROADCAST.
// Part of nettests (#included by user/nettests.c).
#include "user/nt/nt.h"

#define UDP_TEST_PORT 7070

static int
xudp(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(s >= 0, "socket(SOCK_DGRAM): %s", strerror(errno));
	return s;
}

static struct sockaddr_in
lo_port(int port)
{
	struct sockaddr_in a = sin_of(LOOP_ADDR);
	a.sin_port = htons(port);
	return a;
}

// A UDP socket bound to 127.0.0.1:port (0: ephemeral); *a gets its address.
static int
xudp_bound(int port, struct sockaddr_in *a)
{
	int s = xudp();
	struct sockaddr_in me = lo_port(port);
	socklen_t l = sizeof(me);
	EXPECT_OK(bind(s, (struct sockaddr *)&me, sizeof(me)));
	EXPECT_OK(getsockname(s, (struct sockaddr *)&me, &l));
	if (a)
		*a = me;
	return s;
}

// recv with a time limit: the length, or -1 after ms without data.
static long
recv_wait(int s, void *buf, size_t n, int flags, struct sockaddr_in *from, int ms)
{
	struct pollfd pf = { s, POLLIN, 0 };
	socklen_t fl = sizeof(*from);
	if (poll(&pf, 1, ms) != 1)
		return -1;
	return recvfrom(s, buf, n, flags, (struct sockaddr *)from, from ? &fl : 0);
}

static void
t_udpbadinput(void)
{
	int s = xudp();
	struct sockaddr_in a = lo_port(UDP_TEST_PORT);
	char b[8] = "x";
	int v = 1;
	EXPECT_ERR(EINVAL, bind(s, (struct sockaddr *)&a, 3));
	EXPECT_ERR(EINVAL, bind(s, (struct sockaddr *)&a, 100000));
	EXPECT_ERR(EFAULT, bind(s, (struct sockaddr *)freed_addr(), sizeof(a)));
	EXPECT_ERR(EFAULT, sendto(s, b, 1, 0, (struct sockaddr *)freed_addr(), sizeof(a)));
	EXPECT_ERR(EINVAL, sendto(s, b, 1, 0, (struct sockaddr *)&a, 2));
	EXPECT_ERR(EFAULT, sendto(s, (void *)freed_addr(), 10, 0, (struct sockaddr *)&a, sizeof(a)));
	a.sin_port = 0;
	EXPECT_ERR2(EADDRNOTAVAIL, EINVAL, sendto(s, b, 1, 0, (struct sockaddr *)&a, sizeof(a)));
	a.sin_family = 12345;
	a.sin_port = htons(UDP_TEST_PORT);
	EXPECT_ERR2(EAFNOSUPPORT, EINVAL, bind(s, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_ERR(ENOPROTOOPT, setsockopt(s, IPPROTO_UDP, 99, &v, sizeof(v)));
	EXPECT_ERR(ENOPROTOOPT, setsockopt(s, SOL_SOCKET, 9999, &v, sizeof(v)));
	EXPECT_ERR(EOPNOTSUPP, listen(s, 5));
	EXPECT_ERR(EOPNOTSUPP, accept(s, 0, 0));
	EXPECT_ERR2(EDESTADDRREQ, ENOTCONN, send(s, b, 1, 0));
	EXPECT_ERR(ENOTCONN, getpeername(s, (struct sockaddr *)&a, &(socklen_t){ sizeof(a) }));
	struct sockaddr_in me;
	int t = xudp_bound(0, &me);
	EXPECT_OK(sendto(t, "q", 1, 0, (struct sockaddr *)&me, sizeof(me)));
	struct pollfd pf = { t, POLLIN, 0 };
	CHECK(poll(&pf, 1, NT_WAIT_MS) == 1, "datagram to self did not arrive");
	EXPECT_ERR(EFAULT, recv(t, (void *)freed_addr(), 10, 0));
	CHECK(recv(t, b, sizeof(b), MSG_DONTWAIT) == 1, "datagram lost by a failed copy");
	close(t);
	a = sin_of("10.0.2.99");   // not ours
	EXPECT_ERR(EADDRNOTAVAIL, bind(s, (struct sockaddr *)&a, sizeof(a)));
	close(s);
	EXPECT_ERR(EBADF, sendto(s, b, 1, 0, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_ERR(EBADF, recv(s, b, 1, MSG_DONTWAIT));
	EXPECT_ERR(EBADF, bind(s, (struct sockaddr *)&a, sizeof(a)));
}

static void
t_udpecho(void)
{
	int srv, cli, pid;
	struct sockaddr_in sa, from;
	char buf[600], msg[600];
	srv = xudp_bound(0, &sa);
	if ((pid = xfork()) == 0) {
		for (;;) {   // echo until killed
			socklen_t fl = sizeof(from);
			long n = recvfrom(srv, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
			if (n >= 0)
				sendto(srv, buf, n, 0, (struct sockaddr *)&from, fl);
		}
	}
	close(srv);
	cli = xudp();
	for (int i = 0; i < 50; i++) {
		int len = (i * 37) % 600;
		for (int k = 0; k < len; k++)
			msg[k] = (char)(k + i);
		EXPECT_OK(sendto(cli, msg, len, 0, (struct sockaddr *)&sa, sizeof(sa)));
		long n = recv_wait(cli, buf, sizeof(buf), 0, &from, NT_WAIT_MS);
		CHECK(n == len, "echo %d: got %ld of %d", i, n, len);
		CHECK(memcmp(buf, msg, len) == 0, "echo %d: data differs", i);
		CHECK(from.sin_port == sa.sin_port, "reply from port %d", ntohs(from.sin_port));
	}
	kill(pid);
	xwait(pid);
	close(cli);
}

static void
t_udpboundary(void)
{
	struct sockaddr_in a;
	int s = xudp_bound(0, &a);
	char buf[2000], small[10];
	static const int sizes[] = { 1, 0, 1000, 17 };
	for (int i = 0; i < 4; i++) {
		memset(buf, 'a' + i, sizes[i]);
		EXPECT_OK(sendto(s, buf, sizes[i], 0, (struct sockaddr *)&a, sizeof(a)));
	}
	for (int i = 0; i < 3; i++) {
		long n = recv_wait(s, buf, sizeof(buf), 0, 0, NT_WAIT_MS);
		CHECK(n == sizes[i], "datagram %d: %ld bytes, want %d", i, n, sizes[i]);
		CHECK(n == 0 || buf[n - 1] == 'a' + i, "datagram %d: wrong data", i);
	}
	// Reading 10 of 17 bytes: the rest of that datagram is discarded.
	CHECK(recv_wait(s, small, sizeof(small), 0, 0, NT_WAIT_MS) == 10, "truncated read");
	CHECK(recv(s, small, sizeof(small), MSG_DONTWAIT) < 0 && errno == EAGAIN,
	      "the rest of a truncated datagram was kept");
	close(s);
}

static void
t_udppeek(void)
{
	struct sockaddr_in a, from;
	int s = xudp_bound(0, &a);
	char buf[100];
	EXPECT_OK(sendto(s, "peekaboo", 8, 0, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_OK(sendto(s, "second", 6, 0, (struct sockaddr *)&a, sizeof(a)));
	CHECK(recv_wait(s, buf, sizeof(buf), MSG_PEEK, &from, NT_WAIT_MS) == 8, "peek");
	CHECK(from.sin_port == a.sin_port, "peek: sender");
	CHECK(recv(s, buf, sizeof(buf), MSG_PEEK) == 8, "peek again");
	CHECK(recv(s, buf, sizeof(buf), 0) == 8 && memcmp(buf, "peekaboo", 8) == 0, "read");
	CHECK(recv_wait(s, buf, sizeof(buf), 0, 0, NT_WAIT_MS) == 6, "second");
	close(s);
}

static void
t_udpdontwait(void)
{
	int s = xudp_bound(0, 0);
	char b[10];
	EXPECT_ERR(EAGAIN, recv(s, b, sizeof(b), MSG_DONTWAIT));
	EXPECT_OK(fcntl(s, F_SETFL, O_NONBLOCK));
	EXPECT_ERR(EAGAIN, recv(s, b, sizeof(b), 0));
	EXPECT_ERR(EAGAIN, recvfrom(s, b, sizeof(b), 0, 0, 0));
	close(s);
	// Unbound: the same (BSD, Linux: nothing can arrive, but no error).
	s = xudp();
	EXPECT_ERR(EAGAIN, recv(s, b, sizeof(b), MSG_DONTWAIT));
	close(s);
}

static void
t_udpconnect(void)
{
	struct sockaddr_in sa, ca, pa, other = lo_port(9), from;
	int srv = xudp_bound(0, &sa), cli = xudp();
	socklen_t l = sizeof(pa);
	char buf[50];
	EXPECT_OK(connect(cli, (struct sockaddr *)&sa, sizeof(sa)));
	EXPECT_OK(getpeername(cli, (struct sockaddr *)&pa, &l));
	CHECK(pa.sin_port == sa.sin_port && pa.sin_addr.s_addr == sa.sin_addr.s_addr,
	      "getpeername");
	l = sizeof(ca);
	EXPECT_OK(getsockname(cli, (struct sockaddr *)&ca, &l));
	CHECK(ntohs(ca.sin_port) >= 49152, "connect bound port %d", ntohs(ca.sin_port));
	EXPECT_OK(send(cli, "hello", 5, 0));
	CHECK(recv_wait(srv, buf, sizeof(buf), 0, &from, NT_WAIT_MS) == 5, "server recv");
	CHECK(from.sin_port == ca.sin_port, "sender port");
	EXPECT_OK(sendto(srv, "world", 5, 0, (struct sockaddr *)&from, sizeof(from)));
	CHECK(recv_wait(cli, buf, sizeof(buf), 0, 0, NT_WAIT_MS) == 5 &&
	      memcmp(buf, "world", 5) == 0, "client recv");
	EXPECT_ERR(EISCONN, sendto(cli, "x", 1, 0, (struct sockaddr *)&other, sizeof(other)));
	// A connected socket takes datagrams from its peer only.
	int third = xudp();
	EXPECT_OK(sendto(third, "bad", 3, 0, (struct sockaddr *)&ca, sizeof(ca)));
	CHECK(recv_wait(cli, buf, sizeof(buf), 0, 0, 300) == -1, "datagram from a stranger");
	close(third);
	close(srv);
	close(cli);
}

static void
t_udpsockname(void)
{
	struct sockaddr_in a, b;
	int s = xudp(), t = xudp();
	socklen_t l = sizeof(a);
	a = sin_of("0.0.0.0");
	EXPECT_OK(bind(s, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_OK(getsockname(s, (struct sockaddr *)&a, &l));
	CHECK(a.sin_family == AF_INET && ntohs(a.sin_port) >= 49152, "ephemeral port %d",
	      ntohs(a.sin_port));
	b = sin_of("0.0.0.0");
	EXPECT_OK(bind(t, (struct sockaddr *)&b, sizeof(b)));
	l = sizeof(b);
	EXPECT_OK(getsockname(t, (struct sockaddr *)&b, &l));
	CHECK(a.sin_port != b.sin_port, "two ephemeral binds got port %d", ntohs(a.sin_port));
	EXPECT_ERR(EINVAL, bind(s, (struct sockaddr *)&b, sizeof(b)));   // bound already
	close(s);
	close(t);
}

static void
t_udpaddrinuse(void)
{
	struct sockaddr_in a = lo_port(UDP_TEST_PORT + 1), w = sin_of("0.0.0.0");
	int s = xudp(), t = xudp(), one = 1;
	w.sin_port = a.sin_port;
	EXPECT_OK(bind(s, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_ERR(EADDRINUSE, bind(t, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_ERR(EADDRINUSE, bind(t, (struct sockaddr *)&w, sizeof(w)));
	EXPECT_OK(setsockopt(t, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)));
	EXPECT_ERR(EADDRINUSE, bind(t, (struct sockaddr *)&a, sizeof(a)));   // s lacks it
	close(s);
	EXPECT_OK(bind(t, (struct sockaddr *)&a, sizeof(a)));   // free after close
	close(t);
}

#define NGROUP 4
#define NSENDERS 40
#define NROUNDS 3
#define SENDER_PORT0 21000

// 4 sockets share a port; 40 senders with fixed source ports send 3
// datagrams each: every member gets some, and each source port always
// lands on the same member.
static void
t_udpreuseport(void)
{
	int g[NGROUP], one = 1, got[NGROUP] = { 0 }, owner[NSENDERS];
	struct sockaddr_in a = lo_port(UDP_TEST_PORT + 2), from;
	char buf[16];
	for (int i = 0; i < NGROUP; i++) {
		g[i] = xudp();
		EXPECT_OK(setsockopt(g[i], SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)));
		EXPECT_OK(bind(g[i], (struct sockaddr *)&a, sizeof(a)));
	}
	for (int k = 0; k < NSENDERS; k++) {
		int s = xudp_bound(SENDER_PORT0 + k, 0);
		for (int r = 0; r < NROUNDS; r++)
			EXPECT_OK(sendto(s, "r", 1, 0, (struct sockaddr *)&a, sizeof(a)));
		close(s);
		owner[k] = -1;
	}
	for (int n = 0; n < NSENDERS * NROUNDS;) {
		struct pollfd pf[NGROUP];
		for (int i = 0; i < NGROUP; i++)
			pf[i] = (struct pollfd){ g[i], POLLIN, 0 };
		CHECK(poll(pf, NGROUP, NT_WAIT_MS) > 0, "%d of %d arrived", n, NSENDERS * NROUNDS);
		for (int i = 0; i < NGROUP; i++) {
			socklen_t fl = sizeof(from);
			if (!(pf[i].revents & POLLIN) ||
			    recvfrom(g[i], buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl) < 0)
				continue;
			int k = ntohs(from.sin_port) - SENDER_PORT0;
			CHECK(k >= 0 && k < NSENDERS, "from port %d", ntohs(from.sin_port));
			CHECK(owner[k] < 0 || owner[k] == i, "source port %d went to sockets %d and %d",
			      ntohs(from.sin_port), owner[k], i);
			owner[k] = i;
			got[i]++;
			n++;
		}
	}
	for (int i = 0; i < NGROUP; i++)
		CHECK(got[i] > 0, "member %d got nothing (%d %d %d %d)", i, got[0], got[1],
		      got[2], got[3]);
	for (int i = 0; i < NGROUP; i++)
		close(g[i]);
}

static void
set_fast_demux(int64 v)
{
	EXPECT_OK(sysctl("net.inet.udp.fast_demux", 0, 0, &v, sizeof(v)));
}

// 200 datagrams each way through the fast path, then the naive one.
static void
t_udpfastdemux(void)
{
	struct sockaddr_in a;
	char buf[100];
	for (int mode = 1; mode >= 0; mode--) {
		int64 fast0 = sysctl_int("net.inet.udp.fastpath");
		set_fast_demux(mode);
		int s = xudp_bound(0, &a);
		for (int i = 0; i < 200; i++) {
			EXPECT_OK(sendto(s, buf, 1 + i % 90, 0, (struct sockaddr *)&a, sizeof(a)));
			long n = recv_wait(s, buf, sizeof(buf), 0, 0, NT_WAIT_MS);
			CHECK(n == 1 + i % 90, "fast_demux=%d: datagram %d: %ld", mode, i, n);
		}
		close(s);
		int64 fast = sysctl_int("net.inet.udp.fastpath") - fast0;
		CHECK(mode ? fast >= 200 : fast == 0, "fast_demux=%d: %ld via the PCQ", mode,
		      (long)fast);
	}
	set_fast_demux(1);
}

// The largest PCQ the knob allows is a working socket: its queue spans
// more than one page and holds 600 unread datagrams (before, a pcq_maxlen
// of 510 or more made every new UDP socket fail with ENOBUFS).
static void
t_udppcqmax(void)
{
	struct sysctl_info si;
	struct sockaddr_in a;
	char buf[8];
	int n = 600;

	EXPECT_OK(sysctlinfo("net.inet.udp.pcq_maxlen", &si));
	CHECK(si.si_max >= n, "pcq_maxlen max %ld", si.si_max);
	int64 old = sysctl_int("net.inet.udp.pcq_maxlen"), v = si.si_max;
	int64 full0 = sysctl_int("net.inet.udp.pcqfull");
	EXPECT_OK(sysctl("net.inet.udp.pcq_maxlen", 0, 0, &v, sizeof(v)));
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	EXPECT_OK(sysctl("net.inet.udp.pcq_maxlen", 0, 0, &old, sizeof(old)));
	CHECK(s >= 0, "socket with pcq_maxlen=%ld: %s", v, strerror(errno));
	struct sockaddr_in me = lo_port(0);
	socklen_t l = sizeof(me);
	// What waits on the PCQ counts against the receive limit (storage:
	// 4 x SO_RCVBUF); the largest buffer has room for n tiny records.
	int rcv = 256 * 1024;
	EXPECT_OK(setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv)));
	EXPECT_OK(bind(s, (struct sockaddr *)&me, sizeof(me)));
	EXPECT_OK(getsockname(s, (struct sockaddr *)&a, &l));
	for (int i = 0; i < n; i++) {
		buf[0] = (char)i;
		EXPECT_OK(sendto(s, buf, 1, 0, (struct sockaddr *)&a, sizeof(a)));
	}
	for (int i = 0; i < n; i++) {
		long r = recv_wait(s, buf, sizeof(buf), 0, 0, NT_WAIT_MS);
		CHECK(r == 1 && buf[0] == (char)i, "datagram %d: %ld", i, r);
	}
	CHECK(sysctl_int("net.inet.udp.pcqfull") == full0, "PCQ reported full");
	close(s);
}

static void
t_udpfrag(void)
{
	struct sockaddr_in a;
	int s = xudp_bound(0, &a), big = 40000;
	static char buf[40000], in[40000];
	EXPECT_OK(setsockopt(s, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big)));
	EXPECT_OK(setsockopt(s, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)));
	for (int i = 0; i < (int)sizeof(buf); i++)
		buf[i] = (char)(i * 13);
	int64 frag0 = sysctl_int("net.inet.ip.fragmented");
	EXPECT_OK(sendto(s, buf, 30000, 0, (struct sockaddr *)&a, sizeof(a)));   // > lo0 MTU
	long n = recv_wait(s, in, sizeof(in), 0, 0, NT_WAIT_MS);
	CHECK(n == 30000 && memcmp(in, buf, n) == 0, "30000-byte datagram: got %ld", n);
	CHECK(sysctl_int("net.inet.ip.fragmented") > frag0, "not fragmented");
	close(s);
}

static void
t_udpbroadcast(void)
{
	int s = xudp(), one = 1;
	struct sockaddr_in b = sin_of("255.255.255.255");
	b.sin_port = htons(UDP_TEST_PORT + 3);
	EXPECT_ERR(EACCES, sendto(s, "b", 1, 0, (struct sockaddr *)&b, sizeof(b)));
	b = sin_of("10.0.2.255");
	b.sin_port = htons(UDP_TEST_PORT + 3);
	EXPECT_ERR(EACCES, sendto(s, "b", 1, 0, (struct sockaddr *)&b, sizeof(b)));
	EXPECT_OK(setsockopt(s, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)));
	EXPECT_OK(sendto(s, "b", 1, 0, (struct sockaddr *)&b, sizeof(b)));
	close(s);
}
