// nettests: raw ICMP sockets -- echo to lo0, to our own address and to the
// gateway, big and fragmented echoes, several sockets, connected sockets,
// peek and truncation, non-blocking receive, bad checksums and sizes.
// Part of nettests (#included by user/nettests.c).
#include "user/nt/nt.h"

static void
ping_test(const char *dst, size_t datalen)
{
	int s = xraw();

	if (datalen > 4000)
		raw_bufsize(s, datalen + 64);
	CHECK(ping_ok(s, dst, 1, datalen, 3), "no echo reply from %s (%lu data "
	      "bytes)", dst, (unsigned long)datalen);
	close(s);
}

static void
t_pinglo(void)
{
	uint8 buf[256];
	struct ip_hdr *ip = (struct ip_hdr *)buf;
	int s = xraw();
	long n;

	send_echo(s, LOOP_ADDR, 7, 56);
	n = wait_reply(s, 7, NT_WAIT_MS, buf, sizeof(buf));
	CHECK(n >= 0, "no echo reply from %s", LOOP_ADDR);
	CHECK(n == 20 + 8 + 56, "reply of %ld bytes, want 84", n);
	CHECK(ip->ip_src == htonl(INADDR_LOOPBACK), "reply from %s",
	      inet_ntoa((struct in_addr){ ip->ip_src }));
	CHECK(ip->ip_ttl > 0, "reply with TTL 0");
	CHECK(in_cksum(ip, 20) == 0, "IP header checksum of the reply is bad");
	close(s);
}

static void
t_pingself(void)
{
	ping_test(GUEST_ADDR, 56);
}

static void
t_pinggw(void)
{
	ping_test(GATEWAY_ADDR, 56);
}

// Bigger than em0's MTU, below lo0's: through lo0 in one piece.
static void
t_pingbiglo(void)
{
	ping_test(LOOP_ADDR, 8000);
	ping_test(GUEST_ADDR, 8000);
}

// Fragmented both ways on em0 (the gateway reassembles and replies in
// fragments), and over lo0 above its MTU.
static void
t_pingfrag(void)
{
	ping_test(GATEWAY_ADDR, 3000);
	ping_test(LOOP_ADDR, 20000);
}

// Every raw ICMP socket gets a copy of every ICMP packet.
static void
t_rawtwo(void)
{
	uint8 buf[256];
	int a = xraw(), b = xraw();

	send_echo(a, LOOP_ADDR, 3, 32);
	CHECK(wait_reply(a, 3, NT_WAIT_MS, buf, sizeof(buf)) >= 0, "no reply on a");
	CHECK(wait_reply(b, 3, NT_WAIT_MS, buf, sizeof(buf)) >= 0, "no reply on b");
	close(a);
	close(b);
}

// A connected raw socket: send/write without an address, the peer's
// name, and read().
static void
t_rawconnect(void)
{
	struct sockaddr_in sin = sin_of(LOOP_ADDR), peer;
	socklen_t len = sizeof(peer);
	uint8 buf[256];
	int s = xraw();

	EXPECT_OK(connect(s, (struct sockaddr *)&sin, sizeof(sin)));
	EXPECT_OK(getpeername(s, (struct sockaddr *)&peer, &len));
	CHECK(peer.sin_family == AF_INET &&
		      peer.sin_addr.s_addr == sin.sin_addr.s_addr,
	      "getpeername: %s", inet_ntoa(peer.sin_addr));
	send_echo(s, NULL, 4, 24);
	CHECK(wait_reply(s, 4, NT_WAIT_MS, buf, sizeof(buf)) >= 0,
	      "no reply on a connected socket");
	close(s);
}

// MSG_PEEK leaves the packet queued; a short buffer truncates it.
static void
t_rawpeek(void)
{
	uint8 a[256], b[256], c[8];
	int s = xraw();
	long n, m;

	send_echo(s, LOOP_ADDR, 5, 40);
	// Wait for the reply, then drop what came before it (our request).
	CHECK(wait_reply(s, 5, NT_WAIT_MS, a, sizeof(a)) >= 0, "no reply");
	// Two more requests: at least two packets (the replies) to read.
	send_echo(s, LOOP_ADDR, 6, 40);
	send_echo(s, LOOP_ADDR, 7, 40);
	struct pollfd pfd = { .fd = s, .events = POLLIN };
	CHECK(poll(&pfd, 1, NT_WAIT_MS) == 1, "nothing to receive");
	sleep(100);
	n = EXPECT_OK(recvfrom(s, a, sizeof(a), MSG_PEEK, NULL, NULL));
	m = EXPECT_OK(recvfrom(s, b, sizeof(b), 0, NULL, NULL));
	CHECK(n == m && memcmp(a, b, n) == 0, "peeked %ld bytes, then read a "
	      "different packet of %ld", n, m);
	// The next packet (the request or the reply): read 8 bytes of it.
	CHECK(poll(&pfd, 1, NT_WAIT_MS) == 1, "second packet missing");
	n = EXPECT_OK(recvfrom(s, c, sizeof(c), 0, NULL, NULL));
	CHECK(n == (long)sizeof(c), "read %ld bytes into an 8-byte buffer", n);
	CHECK(memcmp(c, a, 1) == 0, "truncated packet starts with 0x%x", c[0]);
	close(s);
}

static void
t_rawnonblock(void)
{
	uint8 buf[64];
	int s = xraw();

	EXPECT_ERR(EAGAIN, recvfrom(s, buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL));
	EXPECT_OK(fcntl(s, F_SETFL, O_NONBLOCK));
	EXPECT_ERR(EAGAIN, recv(s, buf, sizeof(buf), 0));
	EXPECT_ERR(EAGAIN, read(s, buf, sizeof(buf)));
	close(s);
}

// A blocking recvfrom wakes up when a packet arrives; the sender's address
// is filled in.
static void
t_rawblock(void)
{
	struct sockaddr_in from;
	socklen_t len = sizeof(from);
	uint8 buf[256];
	int s = xraw(), pid;

	pid = xfork();
	if (pid == 0) {
		int t = xraw();

		sleep(200);
		send_echo(t, LOOP_ADDR, 8, 16);
		close(t);
		exit(0);
	}
	EXPECT_OK(recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from,
			   &len));
	CHECK(from.sin_family == AF_INET &&
		      from.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
	      "recvfrom says from %s", inet_ntoa(from.sin_addr));
	CHECK(xwait(pid) == 0, "sender failed");
	close(s);
}

// A socket shared with a child: the child sends, the parent receives.
static void
t_rawfork(void)
{
	uint8 buf[256];
	int s = xraw(), pid;

	nt_ident();   // the child sends with our identifier
	pid = xfork();
	if (pid == 0) {
		send_echo(s, LOOP_ADDR, 9, 16);
		exit(0);
	}
	CHECK(xwait(pid) == 0, "child failed");
	CHECK(wait_reply(s, 9, NT_WAIT_MS, buf, sizeof(buf)) >= 0, "no reply");
	close(s);
}

// A request with a bad checksum gets no reply and is counted.
static void
t_rawbadsum(void)
{
	uint8 pkt[sizeof(struct icmp_hdr) + 16] = { 0 }, buf[256];
	struct icmp_hdr *icp = (struct icmp_hdr *)pkt;
	struct sockaddr_in to = sin_of(LOOP_ADDR);
	int64 before = sysctl_int("net.inet.icmp.badsum");
	int s = xraw();

	icp->icmp_type = ICMP_ECHO;
	icp->icmp_id = htons(nt_ident());
	icp->icmp_seq = htons(11);
	icp->icmp_cksum = in_cksum(pkt, sizeof(pkt)) ^ 0x0101;
	EXPECT_OK(sendto(s, pkt, sizeof(pkt), 0, (struct sockaddr *)&to,
			 sizeof(to)));
	// The netisr that drops it may run late on a loaded host: wait for
	// the count, then make sure no reply came after all.
	long end = uptime() + NT_WAIT_MS;
	while (sysctl_int("net.inet.icmp.badsum") <= before && uptime() < end)
		sleep(10);
	CHECK(sysctl_int("net.inet.icmp.badsum") > before,
	      "net.inet.icmp.badsum did not count it");
	CHECK(wait_reply(s, 11, 500, buf, sizeof(buf)) < 0,
	      "a reply to a request with a bad checksum");
	CHECK(ping_ok(s, LOOP_ADDR, 12, 16, 3), "no reply afterwards");
	close(s);
}

// Odd sizes: too big is EMSGSIZE; empty and runt ICMP messages are
// refused (EINVAL) or sent and dropped by the receiver; either way the
// kernel goes on answering.
static void
t_rawsizes(void)
{
	struct sockaddr_in to = sin_of(LOOP_ADDR);
	static uint8 big[70000];
	int s = xraw();
	long r;

	EXPECT_ERR(EMSGSIZE, sendto(s, big, sizeof(big), 0,
				    (struct sockaddr *)&to, sizeof(to)));
	// Above the IP limit even with room in the socket buffer.
	raw_bufsize(s, 128 * 1024);
	EXPECT_ERR(EMSGSIZE, sendto(s, big, 65536 - 20, 0,
				    (struct sockaddr *)&to, sizeof(to)));
	for (size_t n = 0; n < 8; n += 3) {
		r = sendto(s, big, n, 0, (struct sockaddr *)&to, sizeof(to));
		CHECK(r == (long)n || (r < 0 && errno == EINVAL),
		      "sendto of %lu bytes: %ld (%s)", (unsigned long)n, r,
		      r < 0 ? strerror(errno) : "");
	}
	CHECK(ping_ok(s, LOOP_ADDR, 13, 16, 3), "no reply afterwards");
	close(s);
}

// Close sockets with packets still queued on them (the mbuf check at the
// end of the run sees whether they were freed).
static void
t_rawclosequeued(void)
{
	uint8 buf[256];

	for (int i = 0; i < 5; i++) {
		int s = xraw(), t = xraw();

		for (int k = 0; k < 4; k++)
			send_echo(s, LOOP_ADDR, 20 + k, 100);
		CHECK(wait_reply(s, 23, NT_WAIT_MS, buf, sizeof(buf)) >= 0, "no reply");
		close(s);
		close(t);
	}
}

// Many echoes in a row, none lost over lo0.
static void
t_rawburst(void)
{
	uint8 buf[256];
	int s = xraw(), got = 0;

	for (int round = 0; round < 10; round++) {
		for (int k = 0; k < 10; k++)
			send_echo(s, LOOP_ADDR, 100 + k, 32);
		for (int k = 0; k < 10; k++)
			got += wait_reply(s, 100 + k, NT_WAIT_MS, buf, sizeof(buf)) >= 0;
	}
	CHECK(got == 100, "%d of 100 replies", got);
	close(s);
}
