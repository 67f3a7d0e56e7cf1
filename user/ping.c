// ping: send ICMP echo requests and report the replies (RFC 792).
//
// Usage: ping [-c count] [-i interval] [-s size] [-W timeout] host
//   -c count     stop after count requests (default: until killed, as in
//                BSD; there are no signals here, so use -c or `kill`)
//   -i interval  seconds between requests, fractions allowed (-i 0.2);
//                default 1
//   -s size      bytes of data after the ICMP header (default 56)
//   -W timeout   seconds to wait for the replies after the last request
//                (default 2)
//   host         a dotted quad; host names are not supported
//
// How it works: a raw ICMP socket (socket(AF_INET, SOCK_RAW,
// IPPROTO_ICMP)). We build each ICMP echo request ourselves -- type 8,
// identifier = our pid, sequence number, the send time (clock_us(), an
// int64 of microseconds) in the first 8 data bytes and a byte pattern
// after it -- and
// compute its checksum; the kernel adds the IP header. Every ICMP packet
// the host receives is copied to every raw ICMP socket, IP header
// included, so we skip the header (IHL * 4 bytes) and keep only echo
// replies (type 0) carrying our identifier; the RTT is now minus the
// time stamp the reply carries back. One loop sends when the next request
// is due and otherwise waits in poll() for a reply until then.
//
// Output, as Linux/BSD ping:
//   PING 10.0.2.2 (10.0.2.2): 56 data bytes
//   64 bytes from 10.0.2.2: icmp_seq=0 ttl=255 time=0.843 ms
//   --- 10.0.2.2 ping statistics ---
//   3 packets transmitted, 3 received, 0% packet loss
//   rtt min/avg/max = 0.611/0.702/0.843 ms
// Times are in milliseconds with three decimals, measured in microseconds
// with the time CSR (user/lib/clock.c). Exit status 0 if any reply came
// back, 1 otherwise or on error.
#include "user/user.h"

#define DEFDATALEN 56
#define MAXDATALEN (65535 - 20 - 8)  // IP length limit minus both headers
#define TSLEN 8                      // the time stamp at the start of data
#define MAXIPHDR 60
#define SEQWIN 4096                  // duplicates are detected this far back

static int s;                 // the raw socket
static struct sockaddr_in to;
static uint16 ident;
static int datalen = DEFDATALEN;
static uint8 *outpack, *inpack;
static long ntransmitted, nreceived, nrepeats;
static long tmin = -1, tmax, tsum, ntimed;   // round trips, microseconds
static long lastsend;          // uptime of the last request
static uint8 seen[SEQWIN / 8];   // bit per sequence number: reply seen

static void
usage(void)
{
	fprintf(2, "usage: ping [-c count] [-i interval] [-s size] "
		   "[-W timeout] host\n");
	exit(1);
}

// Parse "2", "0.2" or "1.25" seconds into milliseconds; -1 if malformed.
static long
parse_secs(const char *s)
{
	long ms = 0, scale = 1000;
	const char *p = s;

	for (; isdigit(*p); p++) {
		ms = ms * 10 + (*p - '0') * 1000;
		if (ms > 100000000)
			return -1;
	}
	if (*p == '.')
		for (p++; isdigit(*p); p++)
			if ((scale /= 10) > 0)
				ms += (*p - '0') * scale;
	if (*p != '\0' || p == s || (p == s + 1 && *s == '.'))
		return -1;
	return ms;
}

// A non-negative decimal integer no larger than max; -1 if malformed.
static long
parse_count(const char *s, long max)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end != '\0' || v < 0 || v > max)
		return -1;
	return v;
}

// Build and send echo request number ntransmitted.
static void
pinger(void)
{
	struct icmp_hdr *icp = (struct icmp_hdr *)outpack;
	size_t len = sizeof(*icp) + datalen;
	int64 now = clock_us();
	ssize_t r;

	lastsend = uptime();

	icp->icmp_type = ICMP_ECHO;
	icp->icmp_code = 0;
	icp->icmp_cksum = 0;
	icp->icmp_id = htons(ident);
	icp->icmp_seq = htons((uint16)ntransmitted);
	if (datalen >= TSLEN)
		memcpy(outpack + sizeof(*icp), &now, TSLEN);
	icp->icmp_cksum = in_cksum(outpack, len);
	seen[(ntransmitted % SEQWIN) / 8] &= ~(1 << (ntransmitted % 8));
	ntransmitted++;
	r = sendto(s, outpack, len, 0, (struct sockaddr *)&to, sizeof(to));
	if (r < 0)
		fprintf(2, "ping: sendto %s: %s\n", inet_ntoa(to.sin_addr),
			strerror(errno));
	else if ((size_t)r != len)
		fprintf(2, "ping: wrote %s %lu chars, ret=%ld\n",
			inet_ntoa(to.sin_addr), (unsigned long)len, (long)r);
}

// An ICMP error (unreachable, time exceeded) that quotes one of our
// requests: say so, as Linux does ("From A icmp_seq=S ...").
static void
error_reply(struct icmp_hdr *icp, size_t len, struct in_addr from)
{
	struct ip_hdr *oip = (struct ip_hdr *)(icp + 1);
	struct icmp_hdr *oicp;
	size_t ohl;

	if (len < sizeof(*icp) + sizeof(*oip))
		return;
	ohl = (oip->ip_vhl & 0xf) * 4;
	if (ohl < sizeof(*oip) || len < sizeof(*icp) + ohl + sizeof(*oicp))
		return;
	oicp = (struct icmp_hdr *)((uint8 *)oip + ohl);
	if (oip->ip_p != IPPROTO_ICMP || oicp->icmp_type != ICMP_ECHO ||
	    ntohs(oicp->icmp_id) != ident)
		return;
	printf("From %s icmp_seq=%d %s (type %d code %d)\n", inet_ntoa(from),
	       ntohs(oicp->icmp_seq),
	       icp->icmp_type == ICMP_UNREACH ? "Destination Unreachable"
	       : icp->icmp_type == ICMP_TIMXCEED ? "Time to live exceeded"
					       : "ICMP error",
	       icp->icmp_type, icp->icmp_code);
}

// Look at one received packet (IP header included, n bytes).
static void
handle(uint8 *pkt, size_t n)
{
	struct ip_hdr *ip = (struct ip_hdr *)pkt;
	struct icmp_hdr *icp;
	struct in_addr from;
	size_t hlen, len;
	uint16 seq;
	bool dup;
	long rtt = -1;

	if (n < sizeof(*ip))
		return;
	hlen = (ip->ip_vhl & 0xf) * 4;
	if (hlen < sizeof(*ip) || n < hlen + sizeof(*icp))
		return;
	icp = (struct icmp_hdr *)(pkt + hlen);
	len = n - hlen;
	from.s_addr = ip->ip_src;
	if (icp->icmp_type == ICMP_UNREACH || icp->icmp_type == ICMP_TIMXCEED) {
		error_reply(icp, len, from);
		return;
	}
	// Echo requests (our own, to 127.0.0.1) and other hosts' replies are
	// copied to us too: not ours.
	if (icp->icmp_type != ICMP_ECHOREPLY || ntohs(icp->icmp_id) != ident)
		return;
	seq = ntohs(icp->icmp_seq);
	if (in_cksum(icp, len) != 0) {
		printf("%lu bytes from %s: icmp_seq=%d: bad checksum\n",
		       (unsigned long)len, inet_ntoa(from), seq);
		return;
	}
	dup = seen[(seq % SEQWIN) / 8] & (1 << (seq % 8));
	seen[(seq % SEQWIN) / 8] |= 1 << (seq % 8);
	if (dup) {
		nrepeats++;
	} else {
		nreceived++;
	}
	if (datalen >= TSLEN && len >= sizeof(*icp) + TSLEN) {
		int64 sent;

		memcpy(&sent, icp + 1, TSLEN);
		rtt = clock_us() - sent;
		if (rtt < 0)
			rtt = 0;
		if (!dup) {
			tsum += rtt;
			ntimed++;
			if (tmin < 0 || rtt < tmin)
				tmin = rtt;
			if (rtt > tmax)
				tmax = rtt;
		}
	}
	printf("%lu bytes from %s: icmp_seq=%d ttl=%d", (unsigned long)len,
	       inet_ntoa(from), seq, ip->ip_ttl);
	if (rtt >= 0)
		printf(" time=%ld.%03ld ms", rtt / 1000, rtt % 1000);
	if (dup)
		printf(" (DUP!)");
	if (len != sizeof(*icp) + datalen)
		printf(" (%lu data bytes, sent %d)",
		       (unsigned long)(len - sizeof(*icp)), datalen);
	else
		for (int i = TSLEN; i < datalen; i++)
			if (((uint8 *)(icp + 1))[i] != (uint8)i) {
				printf(" (wrong data byte #%d)", i);
				break;
			}
	printf("\n");
}

// Make socket buffer opt (SO_SNDBUF, SO_RCVBUF) at least bytes: a
// datagram bigger than SO_SNDBUF cannot be sent (EMSGSIZE), and the
// receive buffer must hold a big reply, and our own request when we ping
// a local address.
static void
bufsize(int opt, int bytes)
{
	int cur = 0;
	socklen_t len = sizeof(cur);

	if (getsockopt(s, SOL_SOCKET, opt, &cur, &len) == 0 && cur >= bytes)
		return;
	if (setsockopt(s, SOL_SOCKET, opt, &bytes, sizeof(bytes)) < 0)
		fprintf(2, "ping: %s %d: %s\n",
			opt == SO_SNDBUF ? "SO_SNDBUF" : "SO_RCVBUF", bytes,
			strerror(errno));
}

// Receive and handle every packet queued on the socket, without blocking.
static void
drain(size_t max)
{
	ssize_t n;

	while ((n = recvfrom(s, inpack, max, MSG_DONTWAIT, NULL, NULL)) >= 0)
		handle(inpack, n);
	if (errno != EAGAIN)
		die("ping: recvfrom: %s", strerror(errno));
}

static void
summary(void)
{
	printf("\n--- %s ping statistics ---\n", inet_ntoa(to.sin_addr));
	printf("%ld packets transmitted, %ld received, ", ntransmitted,
	       nreceived);
	if (nrepeats)
		printf("+%ld duplicates, ", nrepeats);
	printf("%ld%% packet loss\n",
	       ntransmitted ? (ntransmitted - nreceived) * 100 / ntransmitted
			    : 0);
	if (ntimed > 0) {
		long avg = (tsum + ntimed / 2) / ntimed;

		printf("rtt min/avg/max = %ld.%03ld/%ld.%03ld/%ld.%03ld ms\n",
		       tmin / 1000, tmin % 1000, avg / 1000, avg % 1000,
		       tmax / 1000, tmax % 1000);
	}
}

int
main(int argc, char *argv[])
{
	long count = 0, interval = 1000, waittime = 2000, v;
	long next, deadline, now;
	const char *host;
	size_t inmax;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		char opt = argv[i][1];
		const char *arg;

		if (strchr("cisW", opt) == NULL)
			usage();
		if (argv[i][2] != '\0')        // -c3
			arg = argv[i] + 2;
		else if (++i < argc)            // -c 3
			arg = argv[i];
		else
			usage();
		switch (opt) {
		case 'c':
			if ((count = parse_count(arg, 1L << 30)) <= 0)
				die("ping: invalid count: %s", arg);
			break;
		case 'i':
			if ((interval = parse_secs(arg)) < 0)
				die("ping: invalid interval: %s", arg);
			break;
		case 's':
			if ((v = parse_count(arg, MAXDATALEN)) < 0)
				die("ping: invalid packet size: %s (0 to %d)", arg,
				    MAXDATALEN);
			datalen = v;
			break;
		case 'W':
			if ((waittime = parse_secs(arg)) < 0)
				die("ping: invalid timeout: %s", arg);
			break;
		}
	}
	if (i != argc - 1)
		usage();
	host = argv[i];
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	if (!inet_aton(host, &to.sin_addr)) {
		for (const char *p = host; *p; p++)
			if (isalpha(*p))
				die("ping: %s: host names are not supported, "
				    "give a dotted quad (a.b.c.d)", host);
		die("ping: %s: invalid address", host);
	}
	inmax = MAXIPHDR + sizeof(struct icmp_hdr) + datalen + 64;
	outpack = malloc(sizeof(struct icmp_hdr) + datalen);
	inpack = malloc(inmax);
	if (outpack == NULL || inpack == NULL)
		die("ping: out of memory");
	for (int k = 0; k < datalen; k++)
		outpack[sizeof(struct icmp_hdr) + k] = (uint8)k;
	if ((s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)) < 0)
		die("ping: socket: %s", strerror(errno));
	ident = getpid() & 0xffff;
	bufsize(SO_SNDBUF, sizeof(struct icmp_hdr) + datalen + 64);
	bufsize(SO_RCVBUF, 3 * (MAXIPHDR + sizeof(struct icmp_hdr) + datalen));

	printf("PING %s (%s): %d data bytes\n", host, inet_ntoa(to.sin_addr),
	       datalen);
	next = uptime();
	for (;;) {
		struct pollfd pfd = { .fd = s, .events = POLLIN };

		now = uptime();
		if ((count == 0 || ntransmitted < count) && now >= next) {
			pinger();
			next += interval;
			if (next < now)   // we fell behind: do not burst
				next = now;
			continue;
		}
		if (count != 0 && ntransmitted >= count) {
			if (nreceived >= count)
				break;
			deadline = lastsend + waittime;
			if (now >= deadline)
				break;
		} else {
			deadline = next;
		}
		if (poll(&pfd, 1, (int)(deadline - now)) < 0)
			die("ping: poll: %s", strerror(errno));
		if (pfd.revents & (POLLIN | POLLERR))
			drain(inmax);
	}
	summary();
	close(s);
	return nreceived > 0 ? 0 : 1;
}
