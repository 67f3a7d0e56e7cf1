// tcpstream: TCP bulk-transfer throughput, like netperf's TCP_STREAM.
// Usage:
//   tcpstream -s [-p port] [-b bytes]
//        serve on port (default 5201), a process per connection
//   tcpstream [-P streams] [-l secs] [-n bytes] [-m msgsize] [-p port] [-B port] [-R] host
//        open `streams` connections (default 1, at most 16) to host and
//        send msgsize-byte writes (default 65536) on each for secs
//        seconds (default 5), or until bytes were sent on it (-n, if
//        sooner); with -R the server sends and we receive msgsize-byte
//        reads.  The default is netperf's rule (a TCP_STREAM test sends
//        the size of its socket buffer, 64 KB here), and what make
//        bench's Linux sender writes, so both directions are measured
//        with the same application; 16 KB writes cost a system call and
//        a TSO packet per 11 segments (docs/tcp.md, "Where the time goes
//        on a clean e1000 link").
//   -b bytes sets SO_RCVBUF and SO_SNDBUF of every socket (before listen
//   or connect, so the SYN's window scale fits it); without it the
//   kernel's defaults and receive autotuning apply.
//   -B port binds stream i to the local port port+i (default: ephemeral
//   ports). A connection's netisr is a hash of its ports, so a benchmark
//   that compares two settings gives both runs ports that hash to the
//   same netisrs (bench/mechbench.py): otherwise the placement, not the
//   setting, decides the rate.
//
// Output of the client, for people and scripts (one stream per line,
// then the total, always last):
//   stream 0: 123.45 Mbit/s bytes=77162496 ms=5000
//   tcpstream: total=123.45 streams=1 bytes=77162496 elapsed_ns=5001200 idle_ns=3000
// The server prints "tcpstream: server port 5201" once it listens, and
// per connection "tcpstream: served send|recv bytes=N ms=T elapsed_ns=E
// idle_ns=I" (send: it sent, for -R; recv: it received and discarded).
// elapsed_ns is the guest time from before the first fork (server: the
// connection's process start) to the end, idle_ns the part of it all
// harts together spent in wfi (kern.idle_ns): under qemu -icount on one
// hart, elapsed - idle is the instructions the run cost (make bench).
//
// The protocol (what a peer on another system must do, see bench/run.py):
// the client's first byte says the direction: 'S' = the client sends,
// the server reads and discards until EOF, then closes; 'R' = the server
// sends until it reads EOF from the client, then closes. The client ends
// its send or its measurement after secs with shutdown(SHUT_WR) and reads
// (discarding) until the server's close; a stream's time runs from its
// connect to that close, so every byte counted was received and the
// figure is goodput. Bytes counted: for S, what the client wrote; for R,
// what it read within the measurement.
//
// Mbit/s = bytes * 8 / elapsed microseconds (printed with 2 decimals);
// times come from clock_us() (the time CSR), printed in ms.
#include "user/user.h"

#define MAXSTREAMS 16
#define MAXMSG 65536

static char buf[MAXMSG];

struct result {
	int64 bytes;
	int64 us;  // connect to the server's close
	int err;   // 0 or an errno
};

static void
usage(void)
{
	die("usage: tcpstream -s [-p port] [-b bytes]\n"
	    "       tcpstream [-P streams] [-l secs] [-n bytes] [-m msgsize] [-p port] [-b bytes] "
	    "[-B port] [-R] host");
}

static int sockbuf;   // -b: SO_RCVBUF and SO_SNDBUF, 0: the defaults
static int64 maxbytes; // -n: a stream ends after this many bytes, 0: no limit
static int lport;      // -B: stream i binds port lport + i, 0: ephemeral

static void
set_sockbuf(int s)
{
	if (sockbuf > 0 &&
	    (setsockopt(s, SOL_SOCKET, SO_RCVBUF, &sockbuf, sizeof(sockbuf)) < 0 ||
	     setsockopt(s, SOL_SOCKET, SO_SNDBUF, &sockbuf, sizeof(sockbuf)) < 0))
		die("tcpstream: setsockopt: %s", strerror(errno));
}

static void
fill(char *b, int n)
{
	for (int i = 0; i < n; i++)
		b[i] = (char)('a' + i % 26);
}

// "123.45": bytes over us microseconds as Mbit/s.
static void
mbits(char *out, int n, int64 bytes, int64 us)
{
	int64 x100 = us > 0 ? bytes * 8 * 100 / us : 0;

	snprintf(out, n, "%ld.%02ld", x100 / 100, x100 % 100);
}

// Read and drop until EOF or an error.
static void
drain(int s)
{
	while (read(s, buf, sizeof(buf)) > 0)
		;
}

// ---- server ----------------------------------------------------------------

// Send until the client's EOF (POLLIN: read returns 0).
static int64
serve_send(int s)
{
	int64 total = 0;

	fill(buf, sizeof(buf));
	for (;;) {
		struct pollfd pf = { s, POLLIN | POLLOUT, 0 };
		if (poll(&pf, 1, -1) < 0)
			break;
		if (pf.revents & (POLLIN | POLLHUP | POLLERR)) {
			drain(s);
			break;
		}
		ssize_t n = write(s, buf, sizeof(buf));
		if (n < 0)
			break;
		total += n;
	}
	return total;
}

static void
serve_one(int s)
{
	long t0 = clock_us();
	uint64 n0 = clock_ns(), i0 = clock_idle_ns();
	char dir = 0;
	int64 total = 0;
	ssize_t n;

	if (read(s, &dir, 1) != 1)
		exit(1);
	if (dir == 'R') {
		total = serve_send(s);
	} else {
		while ((n = read(s, buf, sizeof(buf))) > 0)
			total += n;
	}
	close(s);
	uint64 n1 = clock_ns(), i1 = clock_idle_ns();
	printf("tcpstream: served %s bytes=%ld ms=%ld elapsed_ns=%lu idle_ns=%lu\n",
	       dir == 'R' ? "send" : "recv", total, (long)(clock_us() - t0) / 1000,
	       n1 - n0, i1 - i0);
	exit(0);
}

static void
server(int port)
{
	struct sockaddr_in me;
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (l < 0)
		die("tcpstream: socket: %s", strerror(errno));
	memset(&me, 0, sizeof(me));
	me.sin_family = AF_INET;
	me.sin_port = htons(port);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	set_sockbuf(l);   // accepted connections inherit it
	if (bind(l, (struct sockaddr *)&me, sizeof(me)) < 0 || listen(l, 32) < 0)
		die("tcpstream: port %d: %s", port, strerror(errno));
	printf("tcpstream: server port %d\n", port);
	for (;;) {
		int s = accept(l, NULL, NULL);
		if (s < 0) {
			sleep(10);
			continue;
		}
		// Double fork: the child forks the server of this connection
		// and exits at once, so we reap it now and init reaps the
		// grandchild (there is no wait without blocking).
		int pid = fork();
		if (pid == 0) {
			close(l);
			if (fork() == 0)
				serve_one(s);
			exit(0);
		}
		close(s);
		if (pid > 0)
			wait(NULL);
	}
}

// ---- client ----------------------------------------------------------------

// Bind s to the local port p (-B); 0 or -1 with errno.
static int
bind_local(int s, int p)
{
	struct sockaddr_in me;

	memset(&me, 0, sizeof(me));
	me.sin_family = AF_INET;
	me.sin_port = htons(p);
	return bind(s, (struct sockaddr *)&me, sizeof(me));
}

static struct result
stream(struct sockaddr_in *to, bool reverse, int secs, int msg, int port)
{
	struct result r = { 0, 0, 0 };
	int s = socket(AF_INET, SOCK_STREAM, 0);
	long t0 = clock_us(), end;
	char dir = reverse ? 'R' : 'S';
	ssize_t n;

	if (s >= 0)
		set_sockbuf(s);
	if (s < 0 || (port != 0 && bind_local(s, port) < 0) || connect(s, (struct sockaddr *)to, sizeof(*to)) < 0 ||
	    write(s, &dir, 1) != 1) {
		r.err = errno;
		return r;
	}
	end = t0 + secs * 1000000L;
	fill(buf, msg);
	while ((long)clock_us() < end && (maxbytes == 0 || r.bytes < maxbytes)) {
		int len = maxbytes && maxbytes - r.bytes < msg ? (int)(maxbytes - r.bytes) : msg;
		n = reverse ? read(s, buf, len) : write(s, buf, len);
		if (n <= 0) {
			r.err = n < 0 ? errno : EPIPE;
			break;
		}
		r.bytes += n;
	}
	shutdown(s, SHUT_WR);
	drain(s);   // until the server closes: everything was received
	close(s);
	r.us = clock_us() - t0;
	return r;
}

static void
client(const char *host, int port, int nstreams, int secs, int msg, bool reverse)
{
	struct sockaddr_in to;
	struct result res[MAXSTREAMS];
	int fds[2], pids[MAXSTREAMS];
	int64 total = 0, maxus = 0;
	char rate[32];
	int failed = 0;

	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_port = htons(port);
	if (strcmp(host, "localhost") == 0)
		to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (!inet_aton(host, &to.sin_addr))
		die("tcpstream: bad address %s", host);
	if (pipe(fds) < 0)
		die("tcpstream: pipe: %s", strerror(errno));
	uint64 n0 = clock_ns(), i0 = clock_idle_ns();
	for (int i = 0; i < nstreams; i++) {
		if ((pids[i] = fork()) < 0)
			die("tcpstream: fork: %s", strerror(errno));
		if (pids[i] == 0) {
			struct { int i; struct result r; } m;
			close(fds[0]);
			m.i = i;
			m.r = stream(&to, reverse, secs, msg, lport ? lport + i : 0);
			write(fds[1], &m, sizeof(m));
			exit(0);
		}
	}
	close(fds[1]);
	for (int k = 0; k < nstreams; k++) {
		struct { int i; struct result r; } m;
		if (read(fds[0], &m, sizeof(m)) != sizeof(m) || m.i < 0 ||
		    m.i >= nstreams)
			die("tcpstream: a stream died");
		res[m.i] = m.r;
	}
	for (int i = 0; i < nstreams; i++)
		wait(NULL);
	uint64 n1 = clock_ns(), i1 = clock_idle_ns();
	for (int i = 0; i < nstreams; i++) {
		if (res[i].err) {
			printf("stream %d: error %s bytes=%ld\n", i,
			       strerror(res[i].err), res[i].bytes);
			failed++;
		} else {
			mbits(rate, sizeof(rate), res[i].bytes, res[i].us);
			printf("stream %d: %s Mbit/s bytes=%ld ms=%ld\n", i, rate,
			       res[i].bytes, res[i].us / 1000);
		}
		total += res[i].bytes;
		if (res[i].us > maxus)
			maxus = res[i].us;
	}
	mbits(rate, sizeof(rate), total, maxus);
	printf("tcpstream: total=%s streams=%d bytes=%ld elapsed_ns=%lu idle_ns=%lu\n", rate,
	       nstreams, total, n1 - n0, i1 - i0);
	exit(failed ? 1 : 0);
}

static int
num(const char *s, int lo, int hi)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end != '\0' || v < lo || v > hi)
		usage();
	return (int)v;
}

int
main(int argc, char *argv[])
{
	bool srv = false, reverse = false;
	int port = 5201, nstreams = 1, secs = 5, msg = MAXMSG;
	const char *host = NULL;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool more = i + 1 < argc;

		if (strcmp(a, "-s") == 0)
			srv = true;
		else if (strcmp(a, "-R") == 0)
			reverse = true;
		else if (strcmp(a, "-p") == 0 && more)
			port = num(argv[++i], 1, 65535);
		else if (strcmp(a, "-P") == 0 && more)
			nstreams = num(argv[++i], 1, MAXSTREAMS);
		else if (strcmp(a, "-l") == 0 && more)
			secs = num(argv[++i], 1, 3600);
		else if (strcmp(a, "-n") == 0 && more)
			maxbytes = num(argv[++i], 1, 1 << 30);
		else if (strcmp(a, "-m") == 0 && more)
			msg = num(argv[++i], 1, MAXMSG);
		else if (strcmp(a, "-b") == 0 && more)
			sockbuf = num(argv[++i], 512, 4 << 20);
		else if (strcmp(a, "-B") == 0 && more)
			lport = num(argv[++i], 1, 65535 - MAXSTREAMS);
		else if (a[0] != '-' && host == NULL)
			host = a;
		else
			usage();
	}
	if (srv) {
		if (host != NULL)
			usage();
		server(port);
	}
	if (host == NULL)
		usage();
	client(host, port, nstreams, secs, msg, reverse);
	return 0;
}
