// nettests: the TCP mechanisms -- SO_REUSEPORT listeners
// (net/in_localgroup.c). Over lo0.
//   tcpreuseport: 4 listeners on one port with SO_REUSEPORT, 40
//     connections from fixed ports: each reaches the listener its hash
//     picks (computed here as the kernel does), every listener gets some; closing one listener with
//     connections still queued resets those (the clients read
//     ECONNRESET) and leaves the others' connections alone; with
//     net.inet.tcp.reuseport_ext=0 the last listener gets them all.
//   tcprcvdclose: close(2) right after a read sent the asynchronous
//     PRU_RCVD message, 30 times (no panic, RST to the peer, no leak).
//   tcpefaultmid: a read whose buffer runs into an unmapped page half
//     way returns the bytes before it; the rest is still queued, in
//     order (with net.inet.tcp.soreceive_stream=1 it was cut out of the
//     buffer and put back: net/soreceive_stream.c).
// Part of nettests (#included by user/nettests.c, after nt/tcpsock.c,
// whose helpers it uses).
#include "user/nt/nt.h"

#define RP_NL 4
#define RP_NC 12            // 4 listeners + 12 + 12 ends < NOFILE (32)
#define RP_TCP_PORT 7301
#define RP_CPORT 7450       // clients bind 7450..: repeatable, 2+ per listener

// The kernel's flow hash (net/netisr.c, netisr_hash_ipv4, host order) and
// the hash-threshold pick (net/in_localgroup.c), written again here so the
// test can say which listener each connection must reach.
static uint32
rp_fmix32(uint32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

static int
rp_member(uint16 cport, uint16 lport, int n)
{
	uint32 lo = 0x7f000001u;
	uint32 a = (lo ^ lo) * 0x9e3779b1u + (lo + lo);
	uint32 p = (uint32)(cport ^ lport) | ((uint32)(uint16)(cport + lport) << 16);
	uint32 h = rp_fmix32(a ^ rp_fmix32(p ^ 6));
	return (int)(((uint64)h * (uint32)n) >> 32);
}

static int
rp_listener(int port)
{
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = sin_of("127.0.0.1");
	CHECK(l >= 0, "socket: %s", strerror(errno));
	a.sin_port = htons(port);
	EXPECT_OK(setsockopt(l, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)));
	EXPECT_OK(bind(l, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_OK(listen(l, 64));
	EXPECT_OK(fcntl(l, F_SETFL, O_NONBLOCK));
	return l;
}

static int
rp_connect(int port, int cport)
{
	int c = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = sin_of("127.0.0.1");
	CHECK(c >= 0, "socket: %s", strerror(errno));
	EXPECT_OK(setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	a.sin_port = htons(cport);
	EXPECT_OK(bind(c, (struct sockaddr *)&a, sizeof(a)));
	a.sin_port = htons(port);
	EXPECT_OK(connect(c, (struct sockaddr *)&a, sizeof(a)));
	return c;
}

// Accept from every listener in l[0..nl) that may (take[i]) until want
// connections came in all; acc[] gets the server ends. port: the
// listeners' port; 0 = do not check that the hash picked the listener.
static void
rp_accept_all(int *l, int nl, const bool *take, int want, int *got, int *acc, int *nacc,
	      int port)
{
	// Bounded by time, not by rounds: on a loaded host the netisrs that
	// complete the handshakes may run seconds late.
	for (long end = uptime() + NT_WAIT_MS; *nacc < want && uptime() < end;) {
		struct pollfd pf[RP_NL];
		for (int i = 0; i < nl; i++)
			pf[i] = (struct pollfd){ take[i] ? l[i] : -1, POLLIN, 0 };
		poll(pf, nl, 100);
		for (int i = 0; i < nl; i++) {
			int s;
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			while (take[i] && (s = accept(l[i], (struct sockaddr *)&from, &fl)) >= 0) {
				int want = port ? rp_member(ntohs(from.sin_port), port, nl) : i;
				CHECK(want == i, "client port %d reached listener %d, its hash picks %d",
				      ntohs(from.sin_port), i, want);
				acc[(*nacc)++] = s;
				got[i]++;
				fl = sizeof(from);
			}
		}
	}
}

static void
t_tcpreuseport(void)
{
	int l[RP_NL], c[RP_NC], acc[RP_NC], got[RP_NL] = { 0 }, nacc = 0;
	bool take[RP_NL] = { false, true, true, true };
	int64 one = 1, zero = 0;
	for (int i = 0; i < RP_NL; i++)
		l[i] = rp_listener(RP_TCP_PORT);
	int queued0 = 0;
	for (int k = 0; k < RP_NC; k++) {
		c[k] = rp_connect(RP_TCP_PORT, RP_CPORT + k);
		queued0 += rp_member(RP_CPORT + k, RP_TCP_PORT, RP_NL) == 0;
	}
	// Everything but listener 0's share: listeners 1..3 each got some,
	// each connection the listener its hash picks.
	rp_accept_all(l, RP_NL, take, RP_NC - queued0, got, acc, &nacc, RP_TCP_PORT);
	for (int i = 1; i < RP_NL; i++)
		CHECK(got[i] > 0, "listener %d got nothing (%d %d %d)", i, got[1], got[2], got[3]);
	CHECK(nacc == RP_NC - queued0, "accepted %d, want %d", nacc, RP_NC - queued0);
	// Listener 0 has its connections still queued: close it.
	CHECK(queued0 > 0, "listener 0's hash share is empty: change RP_CPORT");
	close(l[0]);
	int reset = 0;
	bool done[RP_NC] = { false };
	// A reset client reports POLLHUP|POLLERR whatever it is asked for
	// (POSIX), so a done one is left out (fd -1), not asked for nothing:
	// otherwise every poll returns at once and the rounds run out before
	// a slow netisr has sent the other RSTs. A round then either finds a
	// new reset or waits its 100 ms, until NT_WAIT_MS have passed.
	for (long end = uptime() + NT_WAIT_MS; reset < queued0 && uptime() < end;) {
		struct pollfd pf[RP_NC];
		for (int k = 0; k < RP_NC; k++)
			pf[k] = (struct pollfd){ done[k] ? -1 : c[k], POLLIN, 0 };
		if (poll(pf, RP_NC, 100) <= 0)
			continue;
		for (int k = 0; k < RP_NC; k++) {
			char b;
			if (done[k] || !(pf[k].revents & (POLLIN | POLLERR | POLLHUP)))
				continue;
			ssize_t r = read(c[k], &b, 1);
			CHECK(r < 0 && errno == ECONNRESET, "client %d: read %d (%s), want ECONNRESET",
			      k, (int)r, strerror(errno));
			done[k] = true;
			reset++;
		}
	}
	CHECK(reset == queued0, "%d connections reset, %d were queued on the closed listener",
	      reset, queued0);
	// The survivors' connections still work: a byte from each server end
	// reaches a client that was not reset.
	for (int k = 0; k < nacc; k++)
		CHECK(write(acc[k], "x", 1) == 1, "write on accepted %d: %s", k, strerror(errno));
	int heard = 0;
	for (int k = 0; k < RP_NC; k++) {
		char b;
		if (!done[k] && read(c[k], &b, 1) == 1 && b == 'x')
			heard++;
	}
	CHECK(heard == nacc, "%d of %d surviving clients got their byte", heard, nacc);
	for (int k = 0; k < nacc; k++)
		close(acc[k]);
	for (int k = 0; k < RP_NC; k++)
		close(c[k]);
	for (int i = 1; i < RP_NL; i++)
		close(l[i]);
	// Switch off: the naive rule, one listener (the last bound) gets all.
	EXPECT_OK(sysctl("net.inet.tcp.reuseport_ext", 0, 0, &zero, sizeof(zero)));
	int l2[RP_NL], got2[RP_NL] = { 0 };
	bool all[RP_NL] = { true, true, true, true };
	nacc = 0;
	for (int i = 0; i < RP_NL; i++)
		l2[i] = rp_listener(RP_TCP_PORT + 1);
	for (int k = 0; k < 8; k++)
		c[k] = rp_connect(RP_TCP_PORT + 1, RP_CPORT + 20 + k);
	rp_accept_all(l2, RP_NL, all, 8, got2, acc, &nacc, 0);
	EXPECT_OK(sysctl("net.inet.tcp.reuseport_ext", 0, 0, &one, sizeof(one)));
	CHECK(got2[RP_NL - 1] == 8, "with reuseport_ext=0: %d %d %d %d, want 0 0 0 8", got2[0],
	      got2[1], got2[2], got2[3]);
	for (int k = 0; k < nacc; k++)
		close(acc[k]);
	for (int k = 0; k < 8; k++)
		close(c[k]);
	for (int i = 0; i < RP_NL; i++)
		close(l2[i]);
}

// A page-aligned end of the heap: [end - 2 * PGSIZE, end) is mapped, end
// is not.
static char *
em_heap_end(void)
{
	uint64 cur = (uint64)sbrk(0);
	uint64 pad = (PGSIZE - cur % PGSIZE) % PGSIZE;
	char *p = sbrk(pad + 2 * PGSIZE);
	CHECK(p != (char *)-1, "sbrk: %s", strerror(errno));
	return (char *)(cur + pad + 2 * PGSIZE);
}

// A loopback pair (*c, *s) with n bytes of ts_pat written by c, all of
// them arrived in s's receive buffer.
static void
em_pair_loaded(int *c, int *s, long n)
{
	ts_pair(LOOP_ADDR, c, s);
	for (long i = 0; i < n; i++)
		ts_tbuf[i] = ts_pat(i);
	EXPECT_OK(write(*c, ts_tbuf, n));
	CHECK(recv(*s, ts_rbuf, n, MSG_PEEK | MSG_WAITALL) == n, "peek: not all arrived");
}

static void
t_tcpefaultmid(void)
{
	enum { N = 10000 };
	int c, s;
	em_pair_loaded(&c, &s, N);
	// The copy out goes a whole mbuf at a time (a buffer whose copy
	// would fault is not copied at all), and a loopback stream's buffers
	// are up to a 4 KiB page cluster (net/mbuf.c): 5000 mapped bytes
	// hold at least one of them, so the read returns what came before.
	enum { MAPPED = 5000 };
	char *end = em_heap_end();
	long n = read(s, end - MAPPED, N);
	CHECK(n > 0 && n <= MAPPED, "read across the unmapped page: %ld (%s)", n, strerror(errno));
	CHECK(memcmp(end - MAPPED, ts_tbuf, n) == 0, "the bytes before the fault differ");
	CHECK(recv(s, ts_rbuf, N - n, MSG_WAITALL) == N - n, "the rest is not there");
	CHECK(memcmp(ts_rbuf, ts_tbuf + n, N - n) == 0, "the rest is out of order");
	sbrk(-2 * (long)PGSIZE);
	close(c);
	close(s);
}

// A read into memory the process may not write (its own code): EFAULT and
// nothing taken. Then a read that fills part of a page mbuf by mbuf (the
// kernel remembers the page it wrote last: net_uiomove_out), another
// read into code, and the rest: every byte once, in order.
static void
t_tcpefaultro(void)
{
	enum { N = 12000 };
	int c, s;
	em_pair_loaded(&c, &s, N);
	long n = read(s, (char *)t_tcpefaultro, 100);
	CHECK(n < 0 && errno == EFAULT, "read into code: %ld (%s)", n, strerror(errno));
	CHECK(recv(s, ts_rbuf, 4000, MSG_WAITALL) == 4000, "the first 4000 are not there");
	n = read(s, (char *)t_tcpefaultro, 100);
	CHECK(n < 0 && errno == EFAULT, "second read into code: %ld (%s)", n, strerror(errno));
	CHECK(recv(s, ts_rbuf + 4000, N - 4000, MSG_WAITALL) == N - 4000, "the rest is not there");
	CHECK(memcmp(ts_rbuf, ts_tbuf, N) == 0, "the bytes differ");
	close(c);
	close(s);
}

// Asynchronous PRU_RCVD (net/tcp_rcvd_async.c): a read that sends the
// window-update message, then close(2) at once, 30 times -- the message
// is often still in flight when the socket is closed. The socket must
// outlive it (the message holds a reference): no panic, the peer sees
// the reset that unread data causes, and nettests' final mbuf count
// finds nothing left behind.
static void
t_tcprcvdclose(void)
{
	int64 sent0 = sysctl_int("net.inet.tcp.rcvd_async_sent");
	for (int i = 0; i < 30; i++) {
		int c, s, small = 4096;
		struct sockaddr_in a;
		int l = ts_listener(LOOP_ADDR, 1, &a);
		EXPECT_OK(setsockopt(l, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)));
		c = ts_socket();
		EXPECT_OK(connect(c, (struct sockaddr *)&a, sizeof(a)));
		s = EXPECT_OK(accept(l, NULL, NULL));
		close(l);
		EXPECT_OK(write(c, ts_tbuf, 4096));
		CHECK(recv(s, ts_rbuf, 4096, MSG_PEEK | MSG_WAITALL) == 4096, "round %d: peek", i);
		CHECK(read(s, ts_rbuf, 100) == 100, "round %d: read", i);   // sends the message
		close(s);                                                  // while it flies
		char b;
		long r = read(c, &b, 1);
		CHECK(r < 0 && errno == ECONNRESET, "round %d: peer read %ld (%s)", i, r,
		      strerror(errno));
		close(c);
	}
	if (sysctl_int("net.inet.tcp.async_rcvd") == 1)
		CHECK(sysctl_int("net.inet.tcp.rcvd_async_sent") > sent0, "no message was sent");
}
