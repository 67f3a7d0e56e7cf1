// nettests: helpers shared by the tests (see nt.h).
#include "user/nt/nt.h"

void
expect_err2(int line, const char *what, long r, int e1, int e2)
{
	int got = errno;

	if (r == -1 && (got == e1 || got == e2))
		return;
	if (r == -1)
		fail("line %d: %s: %s, want %s or %s", line, what,
		     strerror(got), strerror(e1), strerror(e2));
	fail("line %d: %s returned %ld, want -1 (%s or %s)", line, what, r,
	     strerror(e1), strerror(e2));
}

void
expect_err3(int line, const char *what, long r, int e1, int e2, int e3)
{
	if (r == -1 && errno == e3)
		return;
	expect_err2(line, what, r, e1, e2);
}

int
xraw(void)
{
	int s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);

	if (s < 0)
		fail("socket(AF_INET, SOCK_RAW, IPPROTO_ICMP): %s",
		     strerror(errno));
	return s;
}

struct sockaddr_in
sin_of(const char *dotted)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (!inet_aton(dotted, &sin.sin_addr))
		fail("bad address %s", dotted);
	return sin;
}

// Computed once: a child forked after the first call sends with its
// parent's identifier, so the parent recognises the replies.
uint16
nt_ident(void)
{
	static uint16 id;

	if (id == 0)
		id = (uint16)(getpid() * 31 + 0x4e54) | 1;
	return id;
}

// Packet buffers. Static rather than malloc'ed: a malloc may grow the
// heap over the page freed_addr() released, which tests use as a bad
// pointer.
static uint8 nt_out[65536 + 64], nt_in[65536 + 128];

// Data byte i of an echo request with sequence number seq.
static uint8
pattern(uint16 seq, size_t i)
{
	return (uint8)(i * 7 + seq);
}

static ssize_t
echo_out(int s, const char *dst, uint16 seq, size_t datalen)
{
	size_t len = sizeof(struct icmp_hdr) + datalen;
	uint8 *pkt = nt_out;
	struct icmp_hdr *icp = (struct icmp_hdr *)pkt;
	struct sockaddr_in to;
	ssize_t r;

	CHECK(len <= sizeof(nt_out), "send_echo: %lu bytes", (unsigned long)len);
	memset(icp, 0, sizeof(*icp));
	icp->icmp_type = ICMP_ECHO;
	icp->icmp_id = htons(nt_ident());
	icp->icmp_seq = htons(seq);
	for (size_t i = 0; i < datalen; i++)
		pkt[sizeof(*icp) + i] = pattern(seq, i);
	icp->icmp_cksum = in_cksum(pkt, len);
	if (dst != NULL) {
		to = sin_of(dst);
		r = sendto(s, pkt, len, 0, (struct sockaddr *)&to, sizeof(to));
	} else {
		r = send(s, pkt, len, 0);
	}
	return r;
}

bool
try_echo(int s, const char *dst, uint16 seq, size_t datalen)
{
	return echo_out(s, dst, seq, datalen) == (ssize_t)(sizeof(struct icmp_hdr) + datalen);
}

void
send_echo(int s, const char *dst, uint16 seq, size_t datalen)
{
	size_t len = sizeof(struct icmp_hdr) + datalen;
	ssize_t r = echo_out(s, dst, seq, datalen);

	if (r != (ssize_t)len)
		fail("sendto %s (%lu bytes): %s", dst ? dst : "(connected)",
		     (unsigned long)len, r < 0 ? strerror(errno) : "short");
}

// Is pkt (n bytes) the echo reply to our request seq? Fails the test if
// it is but is damaged.
static bool
is_reply(const uint8 *pkt, size_t n, uint16 seq)
{
	const struct ip_hdr *ip = (const struct ip_hdr *)pkt;
	const struct icmp_hdr *icp;
	size_t hlen;

	CHECK(n >= sizeof(*ip), "packet of %lu bytes: no IP header",
	      (unsigned long)n);
	CHECK((ip->ip_vhl >> 4) == 4, "IP version %d", ip->ip_vhl >> 4);
	hlen = (ip->ip_vhl & 0xf) * 4;
	CHECK(hlen >= sizeof(*ip) && n >= hlen + sizeof(*icp),
	      "IHL %lu, packet %lu bytes", (unsigned long)hlen,
	      (unsigned long)n);
	CHECK(ip->ip_p == IPPROTO_ICMP, "IP protocol %d on a raw ICMP socket",
	      ip->ip_p);
	icp = (const struct icmp_hdr *)(pkt + hlen);
	if (icp->icmp_type != ICMP_ECHOREPLY || ntohs(icp->icmp_id) != nt_ident()
	    || ntohs(icp->icmp_seq) != seq)
		return false;
	CHECK(ntohs(ip->ip_len) == n, "ip_len %d, received %lu bytes",
	      ntohs(ip->ip_len), (unsigned long)n);
	CHECK(in_cksum(icp, n - hlen) == 0, "echo reply seq %d: bad checksum",
	      seq);
	for (size_t i = 0; i < n - hlen - sizeof(*icp); i++)
		CHECK(((const uint8 *)(icp + 1))[i] == pattern(seq, i),
		      "echo reply seq %d: data byte %lu wrong", seq,
		      (unsigned long)i);
	return true;
}

long
wait_reply(int s, uint16 seq, int ms, uint8 *buf, size_t max)
{
	long deadline = uptime() + ms;

	for (;;) {
		struct pollfd pfd = { .fd = s, .events = POLLIN };
		long left = deadline - uptime();
		ssize_t n;
		int r;

		if (left < 0)
			left = 0;
		r = poll(&pfd, 1, (int)left);
		if (r < 0)
			fail("poll: %s", strerror(errno));
		if (r == 0)
			return -1;
		n = recvfrom(s, buf, max, MSG_DONTWAIT, NULL, NULL);
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n < 0)
			fail("recvfrom: %s", strerror(errno));
		if (is_reply(buf, n, seq))
			return n;
	}
}

bool
ping_ok(int s, const char *dst, uint16 seq, size_t datalen, int tries)
{
	bool ok = false;

	for (int i = 0; i < tries && !ok; i++) {
		send_echo(s, dst, seq + i, datalen);
		ok = wait_reply(s, seq + i, NT_WAIT_MS / 4, nt_in, sizeof(nt_in)) >= 0;
	}
	return ok;
}

void
raw_bufsize(int s, int bytes)
{
	EXPECT_OK(setsockopt(s, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes)));
	bytes *= 3;   // our request and the reply may both be queued
	EXPECT_OK(setsockopt(s, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes)));
}

int
if_ioctl(int s, const char *name, unsigned long cmd, struct ifreq *ifr)
{
	memset(ifr, 0, sizeof(*ifr));
	strncpy(ifr->ifr_name, name, IFNAMSIZ - 1);
	return ioctl(s, cmd, ifr);
}

const char *
ifr_addr_str(const struct ifreq *ifr)
{
	return inet_ntoa(((const struct sockaddr_in *)&ifr->ifr_addr)->sin_addr);
}
