// nc: netcat, TCP (the default) and UDP, as BSD nc is used.
// Usage:
//   nc [-dKN] [-w secs] [-p srcport] host port
//        TCP client: connect to host:port, copy stdin to the connection
//        and the connection to stdout, until the peer closes it.
//   nc -l [-dkKN] [-p] port
//        TCP server: accept one connection on port and do the same;
//        with -k accept the next one when it ends, forever.
//   nc -u [-d] [-w secs] [-p srcport] host port
//        UDP: send each line of stdin as one datagram to host:port and
//        print every datagram that comes back; at end of input keep
//        printing replies until secs (default 1) pass without one.
//   nc -u -l [-d] [-p] port
//        print every datagram received on port; each line of stdin is
//        sent to the sender of the last datagram. Runs until killed.
// Options:
//   -d  do not read stdin (a background `nc -l ... > file &` must not
//       take the shell's console input)
//   -N  TCP: shutdown(SHUT_WR) when stdin ends, so the peer sees EOF
//       (without -N the connection stays open until the peer closes it)
//   -k  with -l: keep listening after a connection ends
//   -w  UDP: quiet time before exiting; TCP client: after stdin ends,
//       give up when the peer sends nothing for secs (default: wait)
//   -b  TCP: set SO_RCVBUF and SO_SNDBUF to bytes (before connect or
//       listen: the window scale of the SYN is chosen from it)
//   -K  TCP: SO_KEEPALIVE (a server's listener has it, so each accepted
//       connection inherits it): a silent dead peer is found by the
//       keepalive probes (net.inet.tcp.keepidle_ms, keepintvl_ms, keepcnt)
// host is a dotted quad or "localhost". Every mode polls stdin and the
// socket together, so replies appear while you type. Exit status 0, or
// 1 with "nc: <what>: <error>" (connection refused, reset, ...).
#include "user/user.h"

static char buf[65536];
static int sockbuf;   // -b: SO_RCVBUF and SO_SNDBUF, 0: the defaults
static int keepalive; // -K: SO_KEEPALIVE

// Apply -b and -K to TCP socket s.
static void
set_sockbuf(int s)
{
	if (keepalive &&
	    setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &keepalive, sizeof(keepalive)) < 0)
		die("nc: setsockopt: %s", strerror(errno));
	if (sockbuf == 0)
		return;
	if (setsockopt(s, SOL_SOCKET, SO_RCVBUF, &sockbuf, sizeof(sockbuf)) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_SNDBUF, &sockbuf, sizeof(sockbuf)) < 0)
		die("nc: setsockopt: %s", strerror(errno));
}

static void
usage(void)
{
	die("usage: nc [-u] [-dKN] [-w secs] [-p srcport] [-b bytes] host port\n"
	    "       nc -l [-u] [-dkKN] [-b bytes] [-p] port");
}

static int
parse_port(const char *s)
{
	char *end;
	long p = strtol(s, &end, 10);
	if (*end != '\0' || p <= 0 || p > 65535)
		usage();
	return (int)p;
}

static struct sockaddr_in
address(const char *host, int port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	if (host == NULL)
		return a;
	if (strcmp(host, "localhost") == 0)
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (!inet_aton(host, &a.sin_addr))
		die("nc: bad address %s", host);
	return a;
}

// Write all n bytes of b to fd; false on error.
static bool
write_all(int fd, const char *b, ssize_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, b, n);
		if (k <= 0)
			return false;
		b += k;
		n -= k;
	}
	return true;
}

// ---- TCP -------------------------------------------------------------------

// Why a write to s failed: a write after the connection was dropped gets
// EPIPE (BSD: the socket can send no more), while the drop's own error
// (ECONNRESET, ETIMEDOUT) waits in SO_ERROR; report that one. (Here, as
// in Linux, the first write after a drop gets the error itself.)
static const char *
write_error(int s)
{
	int e = errno, pending = 0;
	socklen_t len = sizeof(pending);

	if (e == EPIPE && getsockopt(s, SOL_SOCKET, SO_ERROR, &pending, &len) == 0 &&
	    pending != 0)
		e = pending;
	return strerror(e);
}

// Copy between stdin/stdout and the connection s until the peer closes it
// (or, after stdin ended, wait_s seconds pass in silence). 0, or -1 after
// printing the error.
static int
tcp_session(int s, bool use_stdin, bool half_close, int wait_s)
{
	bool in_open = use_stdin;

	for (;;) {
		struct pollfd pf[2] = { { s, POLLIN, 0 }, { 0, POLLIN, 0 } };
		int n = poll(pf, in_open ? 2 : 1,
			     in_open || wait_s < 0 ? -1 : wait_s * 1000);
		if (n < 0)
			die("nc: poll: %s", strerror(errno));
		if (n == 0)
			return 0;   // -w: the peer went quiet after our input
		if (pf[0].revents) {
			ssize_t len = read(s, buf, sizeof(buf));
			if (len == 0)
				return 0;
			if (len < 0) {
				fprintf(2, "nc: read: %s\n", strerror(errno));
				return -1;
			}
			write_all(1, buf, len);
		}
		if (in_open && pf[1].revents) {
			ssize_t len = read(0, buf, sizeof(buf));
			if (len <= 0) {
				in_open = false;
				if (half_close && shutdown(s, SHUT_WR) < 0)
					fprintf(2, "nc: shutdown: %s\n", strerror(errno));
				continue;
			}
			if (!write_all(s, buf, len)) {
				fprintf(2, "nc: write: %s\n", write_error(s));
				return -1;
			}
		}
	}
}

static int
tcp_client(const char *host, int port, int srcport, bool use_stdin,
	   bool half_close, int wait_s)
{
	struct sockaddr_in peer = address(host, port), me = address(NULL, srcport);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	if (s < 0)
		die("nc: socket: %s", strerror(errno));
	set_sockbuf(s);
	if (srcport && bind(s, (struct sockaddr *)&me, sizeof(me)) < 0)
		die("nc: bind: %s", strerror(errno));
	if (connect(s, (struct sockaddr *)&peer, sizeof(peer)) < 0)
		die("nc: connect to %s port %d: %s", host, port, strerror(errno));
	return tcp_session(s, use_stdin, half_close, wait_s) < 0;
}

static int
tcp_server(int port, bool use_stdin, bool half_close, bool keep)
{
	struct sockaddr_in me = address(NULL, port);
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1, rc;

	if (l < 0)
		die("nc: socket: %s", strerror(errno));
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	set_sockbuf(l);   // accepted connections inherit it
	if (bind(l, (struct sockaddr *)&me, sizeof(me)) < 0)
		die("nc: bind port %d: %s", port, strerror(errno));
	if (listen(l, 5) < 0)
		die("nc: listen: %s", strerror(errno));
	do {
		int s = accept(l, NULL, NULL);
		if (s < 0)
			die("nc: accept: %s", strerror(errno));
		rc = tcp_session(s, use_stdin, half_close, -1);
		close(s);
	} while (keep);
	return rc < 0;
}

// ---- UDP -------------------------------------------------------------------

// One datagram from s to stdout; remembers its sender in *peer.
static void
print_datagram(int s, struct sockaddr_in *peer, bool *havepeer)
{
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
	if (n < 0) {
		// ICMP port unreachable on a connected socket shows up here.
		fprintf(2, "nc: recv: %s\n", strerror(errno));
		return;
	}
	write(1, buf, n);
	*peer = from;
	*havepeer = true;
}

static int
udp(const char *host, int port, int srcport, bool listen_mode, bool use_stdin,
    int wait_s)
{
	struct sockaddr_in peer, me = address(NULL, listen_mode ? port : srcport);
	bool havepeer = false, stdin_open = use_stdin;
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	if (s < 0)
		die("nc: socket: %s", strerror(errno));
	if ((listen_mode || srcport) && bind(s, (struct sockaddr *)&me, sizeof(me)) < 0)
		die("nc: bind: %s", strerror(errno));
	if (!listen_mode) {
		peer = address(host, port);
		if (connect(s, (struct sockaddr *)&peer, sizeof(peer)) < 0)
			die("nc: connect: %s", strerror(errno));
		havepeer = true;
	}
	for (;;) {
		struct pollfd pf[2] = { { s, POLLIN, 0 }, { 0, POLLIN, 0 } };
		int n = poll(pf, stdin_open ? 2 : 1,
			     stdin_open || listen_mode ? -1 : wait_s * 1000);
		if (n < 0)
			die("nc: poll: %s", strerror(errno));
		if (n == 0)
			return 0;   // client: input done and the peer went quiet
		if (pf[0].revents & (POLLIN | POLLERR))
			print_datagram(s, &peer, &havepeer);
		if (stdin_open && (pf[1].revents & (POLLIN | POLLHUP))) {
			ssize_t len = read(0, buf, sizeof(buf));
			if (len <= 0) {
				stdin_open = false;
				continue;
			}
			if (!havepeer) {
				fprintf(2, "nc: no peer yet\n");
				continue;
			}
			if (listen_mode)
				len = sendto(s, buf, len, 0, (struct sockaddr *)&peer, sizeof(peer));
			else
				len = send(s, buf, len, 0);
			if (len < 0)
				fprintf(2, "nc: send: %s\n", strerror(errno));
		}
	}
}

int
main(int argc, char *argv[])
{
	bool is_udp = false, listen_mode = false, keep = false, half = false;
	bool use_stdin = true;
	int wait_s = -1, srcport = 0, i;
	const char *host = NULL, *portstr = NULL;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] == '-' && strcmp(a, "-w") != 0 && strcmp(a, "-p") != 0 &&
		    strcmp(a, "-b") != 0) {
			if (a[1] == '\0')
				usage();
			for (const char *p = a + 1; *p; p++) {
				if (*p == 'u')
					is_udp = true;
				else if (*p == 'l')
					listen_mode = true;
				else if (*p == 'k')
					keep = true;
				else if (*p == 'N')
					half = true;
				else if (*p == 'd')
					use_stdin = false;
				else if (*p == 'K')
					keepalive = 1;
				else
					usage();
			}
		} else if (strcmp(a, "-w") == 0 && i + 1 < argc)
			wait_s = atoi(argv[++i]);
		else if (strcmp(a, "-p") == 0 && i + 1 < argc)
			srcport = parse_port(argv[++i]);
		else if (strcmp(a, "-b") == 0 && i + 1 < argc && atoi(argv[i + 1]) > 0)
			sockbuf = atoi(argv[++i]);
		else if (a[0] == '-')
			usage();
		else if (host == NULL && !listen_mode && i + 1 < argc)
			host = a;
		else if (portstr == NULL)
			portstr = a;
		else
			usage();
	}
	if (listen_mode && portstr == NULL && srcport != 0)
		portstr = "";   // nc -l -p port
	if (portstr == NULL || (!listen_mode && host == NULL))
		usage();
	int port = *portstr ? parse_port(portstr) : srcport;
	if (is_udp)
		return udp(host, port, srcport, listen_mode, use_stdin,
			   wait_s < 0 ? 1 : wait_s);
	if (listen_mode)
		return tcp_server(port, use_stdin, half, keep);
	return tcp_client(host, port, srcport, use_stdin, half, wait_s);
}
