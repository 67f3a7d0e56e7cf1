// inetd: the classic small Internet services, on TCP and UDP.
//
// Usage: inetd [-d] [-q]
//   (none)  bind the services, then go to the background (fork; the
//           parent exits, so `inetd` alone returns to the prompt)
//   -d      stay in the foreground (debugging; kill it by pid)
//   -q      say nothing about services that cannot be bound
//
// init starts `inetd -q` at boot (user/init.c), so the services are up
// as soon as the shell prompt appears; `inetd` starts another by hand
// (it fails with "nothing to serve" while the first one holds the ports).
//
// Services, each on TCP and UDP (nothing on port 8):
//   echo     7  RFC 862  TCP: every byte read is sent back, until EOF.
//                        UDP: every datagram is sent back to its sender.
//   discard  9  RFC 863  TCP: read and drop until EOF. UDP: drop.
//   daytime 13  RFC 867  TCP: one line, then close. UDP: one datagram
//                        with that line to whoever sent one. netkern has
//                        no real-time clock, so the line is the time
//                        since boot: "netkern up 0d 00:12:34.567\r\n".
//   chargen 19  RFC 864  TCP: the rotating 72-character line pattern,
//                        sent until the peer closes (what it sends is
//                        read and dropped). UDP: one datagram of 1 to 6
//                        pattern lines (at most 512 characters) per
//                        datagram received.
//
// One process, poll(): every socket is nonblocking, a connection's
// pending output waits for POLLOUT. A process has NOFILE (32) file
// descriptors; at most MAXCONN TCP connections are served at once, and
// while all slots are busy the listeners are not polled, so further
// connections wait (complete) in the kernel's accept queue.
#include "user/user.h"

#define MAXCONN 20
#define BUFSZ 4096

enum svc { ECHO, DISCARD, DAYTIME, CHARGEN, NSVC };

static const struct {
	const char *name;
	int port;
} svcs[NSVC] = {
	{ "echo", 7 }, { "discard", 9 }, { "daytime", 13 }, { "chargen", 19 },
};

struct conn {
	int fd;          // -1: free slot
	enum svc svc;
	int len, off;    // pending output in buf[off..len)
	int rot;         // chargen: rotation of the next line
	bool eof;        // echo: peer sent FIN; close once buf is flushed
	char buf[BUFSZ];
};

static int tcpl[NSVC] = { -1, -1, -1, -1 }, udps[NSVC] = { -1, -1, -1, -1 };
static struct conn conns[MAXCONN];
static bool quiet;
static char dgram[65536];

static void
warn(const char *fmt, const char *a, int port, int err)
{
	if (!quiet)
		fprintf(2, fmt, a, port, strerror(err));
}

static int
bind_service(int type, enum svc i)
{
	struct sockaddr_in me;
	int s, one = 1;

	if ((s = socket(AF_INET, type, 0)) < 0) {
		warn("inetd: %s/%d: socket: %s\n", type == SOCK_STREAM ? "tcp" : "udp",
		     svcs[i].port, errno);
		return -1;
	}
	memset(&me, 0, sizeof(me));
	me.sin_family = AF_INET;
	me.sin_port = htons(svcs[i].port);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&me, sizeof(me)) < 0 ||
	    (type == SOCK_STREAM && listen(s, SOMAXCONN) < 0) ||
	    fcntl(s, F_SETFL, O_NONBLOCK) < 0) {
		warn("inetd: %s/%d: %s\n", type == SOCK_STREAM ? "tcp" : "udp",
		     svcs[i].port, errno);
		close(s);
		return -1;
	}
	return s;
}

// RFC 864: line r of the pattern is the 72 printable characters starting
// at the r-th of the 95 (' ' .. '~'), then CR LF.
static int
chargen_line(char *p, int r)
{
	for (int k = 0; k < 72; k++)
		p[k] = (char)(' ' + (r + k) % 95);
	p[72] = '\r';
	p[73] = '\n';
	return 74;
}

static int
daytime_line(char *p, int n)
{
	long ms = uptime(), s = ms / 1000;

	return snprintf(p, n, "netkern up %ldd %02ld:%02ld:%02ld.%03ld\r\n",
			s / 86400, s / 3600 % 24, s / 60 % 60, s % 60, ms % 1000);
}

// ---- UDP -------------------------------------------------------------------

static void
udp_serve(enum svc i)
{
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(udps[i], dgram, sizeof(dgram), 0,
			     (struct sockaddr *)&from, &fl);
	int len = 0;

	if (n < 0)
		return;
	if (i == ECHO)
		len = n;
	else if (i == DAYTIME)
		len = daytime_line(dgram, sizeof(dgram));
	else if (i == CHARGEN) {
		// whole lines (at most 512 characters: 1 to 6 lines)
		int lines = 1 + (int)(uptime() % 6), r = (int)(uptime() % 95);
		while (lines-- > 0)
			len += chargen_line(dgram + len, r++ % 95);
	} else
		return;   // discard
	sendto(udps[i], dgram, len, 0, (struct sockaddr *)&from, fl);
}

// ---- TCP -------------------------------------------------------------------

static void
conn_close(struct conn *c)
{
	close(c->fd);
	c->fd = -1;
}

static void
tcp_accept(enum svc i)
{
	struct conn *c = NULL;
	int fd;

	for (int k = 0; k < MAXCONN && c == NULL; k++)
		if (conns[k].fd < 0)
			c = &conns[k];
	if (c == NULL || (fd = accept(tcpl[i], NULL, NULL)) < 0)
		return;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	c->len = c->off = c->rot = 0;
	c->eof = false;
	c->fd = fd;
	c->svc = i;
	if (i == DAYTIME) {
		c->len = daytime_line(c->buf, BUFSZ);
		c->eof = true;   // close once the line is out
	}
}

// Fill a chargen connection's buffer with whole lines.
static void
chargen_fill(struct conn *c)
{
	c->off = c->len = 0;
	while (c->len + 74 <= BUFSZ)
		c->len += chargen_line(c->buf + c->len, c->rot++ % 95);
}

// Write pending output; false if the connection is finished.
static bool
conn_flush(struct conn *c)
{
	while (c->off < c->len) {
		ssize_t n = write(c->fd, c->buf + c->off, c->len - c->off);
		if (n < 0)
			return errno == EAGAIN;
		c->off += n;
	}
	c->off = c->len = 0;
	return !c->eof;
}

// The connection is readable: echo keeps what it reads, the others drop
// it. false if the connection is finished (EOF or error).
// What discard (and a chargen peer's stray input) is read into and
// dropped: one buffer for every connection, large enough that a bulk
// sender into discard costs one poll round per 64 KB, not per 1 KB.
static char sink[65536];

static bool
conn_read(struct conn *c)
{
	ssize_t n;

	if (c->svc == ECHO && c->len > c->off)
		return true;   // room first: POLLOUT flushes, or fails on reset
	if (c->svc == ECHO) {
		n = read(c->fd, c->buf, BUFSZ);
		if (n > 0) {
			c->off = 0;
			c->len = n;
			return conn_flush(c);
		}
	} else {
		n = read(c->fd, sink, sizeof(sink));
		if (n > 0)
			return true;
	}
	if (n < 0 && errno == EAGAIN)
		return true;
	if (n == 0 && c->len > c->off) {   // flush what is left, then close
		c->eof = true;
		return true;
	}
	return false;
}

// What to poll a connection for.
static short
conn_events(struct conn *c)
{
	if (c->svc == CHARGEN)
		return POLLOUT | POLLIN;   // POLLIN: the peer's close
	if (c->len > c->off)
		return POLLOUT;
	return POLLIN;
}

static void
conn_event(struct conn *c, short rev)
{
	bool alive = true;

	if (rev & (POLLIN | POLLHUP | POLLERR))
		alive = conn_read(c);
	if (alive && (rev & POLLOUT)) {
		if (c->svc == CHARGEN && c->len == c->off)
			chargen_fill(c);
		alive = conn_flush(c);
	}
	if (!alive)
		conn_close(c);
}

// ---- the loop --------------------------------------------------------------

static void __attribute__((noreturn))
serve(void)
{
	struct pollfd pf[2 * NSVC + MAXCONN];
	int owner[2 * NSVC + MAXCONN];   // >= 0 conn, -1 - i tcp i, -10 - i udp i

	for (;;) {
		int n = 0, nfree = 0;

		for (int k = 0; k < MAXCONN; k++) {
			if (conns[k].fd < 0) {
				nfree++;
				continue;
			}
			pf[n] = (struct pollfd){ conns[k].fd, conn_events(&conns[k]), 0 };
			owner[n++] = k;
		}
		for (int i = 0; i < NSVC; i++) {
			if (udps[i] >= 0) {
				pf[n] = (struct pollfd){ udps[i], POLLIN, 0 };
				owner[n++] = -10 - i;
			}
			if (tcpl[i] >= 0 && nfree > 0) {
				pf[n] = (struct pollfd){ tcpl[i], POLLIN, 0 };
				owner[n++] = -1 - i;
			}
		}
		if (poll(pf, n, -1) < 0) {
			sleep(100);
			continue;
		}
		for (int k = 0; k < n; k++) {
			if (pf[k].revents == 0)
				continue;
			if (owner[k] >= 0)
				conn_event(&conns[owner[k]], pf[k].revents);
			else if (owner[k] <= -10)
				udp_serve(-10 - owner[k]);
			else
				tcp_accept(-1 - owner[k]);
		}
	}
}

int
main(int argc, char *argv[])
{
	bool fg = false;
	int bound = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-d") == 0)
			fg = true;
		else if (strcmp(argv[i], "-q") == 0)
			quiet = true;
		else
			die("usage: inetd [-d] [-q]");
	}
	for (int k = 0; k < MAXCONN; k++)
		conns[k].fd = -1;
	for (int i = 0; i < NSVC; i++) {
		tcpl[i] = bind_service(SOCK_STREAM, i);
		udps[i] = bind_service(SOCK_DGRAM, i);
		bound += (tcpl[i] >= 0) + (udps[i] >= 0);
	}
	if (bound == 0)
		die("inetd: nothing to serve");
	if (!fg) {
		int pid = fork();
		if (pid < 0)
			die("inetd: fork: %s", strerror(errno));
		if (pid > 0)
			exit(0);
	}
	close(0);   // one more descriptor; nothing is read from the console
	serve();
}
