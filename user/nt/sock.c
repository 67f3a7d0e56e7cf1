// nettests: the socket system calls with bad input -- bad domains, types
// and protocols, bad addresses and lengths, bad pointers, unknown options,
// socket calls on descriptors that are not sockets or not open. Every
// one must return an error, never panic or hang.
// Part of nettests (#included by user/nettests.c).
#include "user/nt/nt.h"

static void
t_sockdomain(void)
{
	EXPECT_ERR(EAFNOSUPPORT, socket(AF_UNSPEC, SOCK_RAW, IPPROTO_ICMP));
	EXPECT_ERR(EAFNOSUPPORT, socket(1 /* AF_UNIX */, SOCK_DGRAM, 0));
	EXPECT_ERR(EAFNOSUPPORT, socket(10 /* AF_INET6 */, SOCK_DGRAM, 0));
	EXPECT_ERR(EAFNOSUPPORT, socket(12345, SOCK_RAW, IPPROTO_ICMP));
	EXPECT_ERR(EAFNOSUPPORT, socket(-1, SOCK_RAW, IPPROTO_ICMP));
}

static void
t_socktype(void)
{
	// A type no protocol has: Linux says EINVAL (ESOCKTNOSUPPORT for
	// some), FreeBSD EPROTONOSUPPORT (no protocol of that type) or
	// EPROTOTYPE.
	EXPECT_ERR3(EINVAL, EPROTOTYPE, EPROTONOSUPPORT, socket(AF_INET, 0, 0));
	EXPECT_ERR3(EINVAL, EPROTOTYPE, EPROTONOSUPPORT, socket(AF_INET, 99, 0));
	EXPECT_ERR3(EINVAL, EPROTOTYPE, EPROTONOSUPPORT, socket(AF_INET, -1, 0));
	EXPECT_ERR3(EINVAL, EPROTOTYPE, EPROTONOSUPPORT,
		    socket(AF_INET, 99, IPPROTO_ICMP));
}

static void
t_sockproto(void)
{
	// Raw sockets are ICMP only here; Linux also refuses protocol 0.
	EXPECT_ERR(EPROTONOSUPPORT, socket(AF_INET, SOCK_RAW, 0));
	EXPECT_ERR(EPROTONOSUPPORT, socket(AF_INET, SOCK_RAW, 200));
	EXPECT_ERR2(EPROTONOSUPPORT, EINVAL, socket(AF_INET, SOCK_RAW, -1));
	EXPECT_ERR2(EPROTONOSUPPORT, EINVAL, socket(AF_INET, SOCK_RAW, 256));
	// A protocol that does not go with the type.
	EXPECT_ERR2(EPROTONOSUPPORT, EPROTOTYPE,
		    socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP));
	EXPECT_ERR2(EPROTONOSUPPORT, EPROTOTYPE,
		    socket(AF_INET, SOCK_STREAM, IPPROTO_UDP));
	EXPECT_ERR2(EPROTONOSUPPORT, EPROTOTYPE,
		    socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP));
}

static void
t_sockclose(void)
{
	int s[20], d;

	for (int i = 0; i < 20; i++)
		s[i] = EXPECT_OK(socket(AF_INET, SOCK_RAW, IPPROTO_ICMP));
	for (int i = 0; i < 20; i++)
		EXPECT_OK(close(s[i]));
	EXPECT_ERR(EBADF, close(s[0]));
	// A dup'ed socket lives until its last descriptor is closed.
	s[0] = xraw();
	d = EXPECT_OK(dup(s[0]));
	EXPECT_OK(close(s[0]));
	CHECK(ping_ok(d, LOOP_ADDR, 1, 16, 3), "no reply on a dup'ed socket");
	EXPECT_OK(close(d));
}

// Sockets until the descriptor table is full: EMFILE, then all close.
static void
t_sockmany(void)
{
	int s[64], n = 0;

	while (n < (int)nelem(s)) {
		int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
		if (fd < 0) {
			CHECK(errno == EMFILE || errno == ENFILE ||
				      errno == ENOBUFS || errno == ENOMEM,
			      "socket #%d: %s", n, strerror(errno));
			break;
		}
		s[n++] = fd;
	}
	CHECK(n >= 8, "only %d sockets", n);
	while (n > 0)
		EXPECT_OK(close(s[--n]));
	EXPECT_OK(close(xraw()));
}

// Every socket call on descriptor fd fails with err.
static void
all_calls_fail(int fd, int err)
{
	struct sockaddr_in sin = sin_of(LOOP_ADDR);
	socklen_t len = sizeof(sin);
	char buf[16] = { 0 };
	int v = 1;

	EXPECT_ERR(err, bind(fd, (struct sockaddr *)&sin, sizeof(sin)));
	EXPECT_ERR(err, connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	EXPECT_ERR(err, listen(fd, 5));
	EXPECT_ERR(err, accept(fd, (struct sockaddr *)&sin, &len));
	EXPECT_ERR(err, sendto(fd, buf, sizeof(buf), 0, (struct sockaddr *)&sin,
			       sizeof(sin)));
	EXPECT_ERR(err, recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL));
	EXPECT_ERR(err, send(fd, buf, sizeof(buf), 0));
	EXPECT_ERR(err, recv(fd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_ERR(err, shutdown(fd, SHUT_RDWR));
	EXPECT_ERR(err, setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)));
	len = sizeof(v);
	EXPECT_ERR(err, getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &len));
	len = sizeof(sin);
	EXPECT_ERR(err, getsockname(fd, (struct sockaddr *)&sin, &len));
	len = sizeof(sin);
	EXPECT_ERR(err, getpeername(fd, (struct sockaddr *)&sin, &len));
}

static void
t_notsock(void)
{
	int p[2];

	xpipe(p);
	all_calls_fail(p[0], ENOTSOCK);
	all_calls_fail(p[1], ENOTSOCK);
	close(p[0]);
	close(p[1]);
}

static void
t_sockbadfd(void)
{
	int s = xraw();

	close(s);
	all_calls_fail(s, EBADF);
	all_calls_fail(-1, EBADF);
	all_calls_fail(1 << 20, EBADF);
}

// bind/connect/sendto with bad lengths and pointers.
static void
t_badsockaddr(void)
{
	struct sockaddr_in sin = sin_of(LOOP_ADDR), bad = sin;
	struct sockaddr *sa = (struct sockaddr *)&sin;
	void *freed = (void *)freed_addr();
	void *kern = (void *)0x80000000L;  // KERNBASE: not the user's
	char buf[16] = { 0 };
	int s = xraw();

	EXPECT_ERR(EINVAL, bind(s, sa, 0));
	EXPECT_ERR(EINVAL, bind(s, sa, 3));
	EXPECT_ERR(EINVAL, bind(s, sa, sizeof(sin) - 1));
	EXPECT_ERR(EINVAL, bind(s, sa, 1 << 30));
	EXPECT_ERR(EFAULT, bind(s, freed, sizeof(sin)));
	EXPECT_ERR(EFAULT, bind(s, kern, sizeof(sin)));
	bad.sin_family = 1;
	EXPECT_ERR2(EAFNOSUPPORT, EINVAL,
		    bind(s, (struct sockaddr *)&bad, sizeof(bad)));

	EXPECT_ERR(EINVAL, connect(s, sa, 0));
	EXPECT_ERR(EINVAL, connect(s, sa, 3));
	EXPECT_ERR(EINVAL, connect(s, sa, 1 << 30));
	EXPECT_ERR(EFAULT, connect(s, freed, sizeof(sin)));
	EXPECT_ERR(EFAULT, connect(s, kern, sizeof(sin)));
	EXPECT_ERR2(EAFNOSUPPORT, EINVAL,
		    connect(s, (struct sockaddr *)&bad, sizeof(bad)));

	EXPECT_ERR(EINVAL, sendto(s, buf, sizeof(buf), 0, sa, 3));
	EXPECT_ERR(EINVAL, sendto(s, buf, sizeof(buf), 0, sa, 1 << 30));
	EXPECT_ERR(EFAULT, sendto(s, buf, sizeof(buf), 0, freed, sizeof(sin)));
	EXPECT_ERR(EFAULT, sendto(s, freed, 64, 0, sa, sizeof(sin)));
	EXPECT_ERR(EFAULT, sendto(s, kern, 64, 0, sa, sizeof(sin)));
	EXPECT_ERR2(EAFNOSUPPORT, EINVAL,
		    sendto(s, buf, sizeof(buf), 0, (struct sockaddr *)&bad,
			   sizeof(bad)));
	// Unconnected, no address: nowhere to send.
	EXPECT_ERR(EDESTADDRREQ, sendto(s, buf, sizeof(buf), 0, NULL, 0));
	EXPECT_ERR(EDESTADDRREQ, send(s, buf, sizeof(buf), 0));
	EXPECT_ERR(EDESTADDRREQ, write(s, buf, sizeof(buf)));
	// After all that the socket still works.
	CHECK(ping_ok(s, LOOP_ADDR, 1, 16, 3), "no reply after bad calls");
	close(s);
}

static void
t_badbindaddr(void)
{
	struct sockaddr_in sin = sin_of("1.2.3.4");
	int s = xraw();

	// Not one of our addresses.
	EXPECT_ERR(EADDRNOTAVAIL, bind(s, (struct sockaddr *)&sin, sizeof(sin)));
	close(s);
}

static void
t_sockname(void)
{
	struct sockaddr_in sin;
	void *freed = (void *)freed_addr();
	socklen_t len = sizeof(sin);
	int s = xraw();

	EXPECT_OK(getsockname(s, (struct sockaddr *)&sin, &len));
	CHECK(sin.sin_family == AF_INET, "getsockname family %d",
	      sin.sin_family);
	len = sizeof(sin);
	EXPECT_ERR(EFAULT, getsockname(s, freed, &len));
	EXPECT_ERR(EFAULT, getsockname(s, (struct sockaddr *)&sin, freed));
	len = sizeof(sin);
	EXPECT_ERR(ENOTCONN, getpeername(s, (struct sockaddr *)&sin, &len));
	close(s);
}

static void
t_sockopt(void)
{
	void *freed = (void *)freed_addr();
	int s = xraw(), v = 0;
	socklen_t len = sizeof(v);

	EXPECT_ERR(ENOPROTOOPT, setsockopt(s, SOL_SOCKET, 12345, &v, sizeof(v)));
	EXPECT_ERR(ENOPROTOOPT, getsockopt(s, SOL_SOCKET, 12345, &v, &len));
	EXPECT_ERR(ENOPROTOOPT, setsockopt(s, SOL_SOCKET, -1, &v, sizeof(v)));
	EXPECT_ERR(ENOPROTOOPT, setsockopt(s, 9999, 1, &v, sizeof(v)));
	len = sizeof(v);
	EXPECT_ERR(ENOPROTOOPT, getsockopt(s, 9999, 1, &v, &len));
	// TCP options on a raw ICMP socket.
	EXPECT_ERR2(ENOPROTOOPT, EOPNOTSUPP,
		    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)));
	// Known options with a short value or a bad pointer.
	EXPECT_ERR(EINVAL, setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, 1));
	EXPECT_ERR(EFAULT, setsockopt(s, SOL_SOCKET, SO_RCVBUF, freed, sizeof(v)));
	EXPECT_ERR(EFAULT, getsockopt(s, SOL_SOCKET, SO_ERROR, freed, &len));
	EXPECT_ERR(EFAULT, getsockopt(s, SOL_SOCKET, SO_ERROR, &v, freed));
	// SO_ERROR: no error pending, an int.
	v = -1;
	len = sizeof(v);
	EXPECT_OK(getsockopt(s, SOL_SOCKET, SO_ERROR, &v, &len));
	CHECK(v == 0 && len == sizeof(v), "SO_ERROR %d (len %u)", v, len);
	// SO_RCVBUF reads back at least what was set.
	v = 16384;
	EXPECT_OK(setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)));
	v = 0;
	len = sizeof(v);
	EXPECT_OK(getsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, &len));
	CHECK(v >= 16384, "SO_RCVBUF set 16384, reads %d", v);
	close(s);
}

// Stream-only calls on a raw socket; bad shutdown.
static void
t_rawlisten(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int s = xraw();

	EXPECT_ERR(EOPNOTSUPP, listen(s, 5));
	EXPECT_ERR(EOPNOTSUPP, accept(s, (struct sockaddr *)&sin, &len));
	EXPECT_ERR(EOPNOTSUPP, accept(s, NULL, NULL));
	EXPECT_ERR(EINVAL, shutdown(s, 5));
	EXPECT_ERR(EINVAL, shutdown(s, -1));
	close(s);
}

// recvfrom with bad buffer, address and length pointers.
static void
t_recvbad(void)
{
	struct sockaddr_in from;
	void *freed = (void *)freed_addr();
	void *kern = (void *)0x80000000L;
	socklen_t len = sizeof(from);
	uint8 buf[256];
	struct pollfd pfd;
	int s = xraw();

	EXPECT_ERR(EAGAIN, recvfrom(s, buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL));
	// Something to receive: our own echo request and its reply.
	send_echo(s, LOOP_ADDR, 1, 16);
	pfd = (struct pollfd){ .fd = s, .events = POLLIN };
	CHECK(poll(&pfd, 1, NT_WAIT_MS) == 1, "nothing to receive");
	EXPECT_ERR(EFAULT, recvfrom(s, freed, sizeof(buf), 0, NULL, NULL));
	EXPECT_ERR(EFAULT, recvfrom(s, kern, sizeof(buf), 0, NULL, NULL));
	send_echo(s, LOOP_ADDR, 2, 16);
	CHECK(poll(&pfd, 1, NT_WAIT_MS) == 1, "nothing to receive");
	EXPECT_ERR(EFAULT, recvfrom(s, buf, sizeof(buf), 0, freed, &len));
	EXPECT_ERR(EFAULT,
		   recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from,
			    freed));
	// The socket still works.
	CHECK(ping_ok(s, LOOP_ADDR, 10, 16, 3), "no reply after bad recvfroms");
	close(s);
}
