// reuseport: N processes share one UDP port (or, with -T, one TCP
// listening port) with SO_REUSEPORT (DragonFly
// 740d1d9f) and count who gets what.
// Usage: reuseport [-T] [-n N] [-p port] [-t seconds] [-c count] [-e]
//   -T TCP: each process listens, accepts, reads each connection to EOF
//   -n processes (default 4, at most 16)     -p port (default 9000)
//   -t stop after this many seconds (default 10)
//   -c stop after this many datagrams (connections) in all (default: no limit)
//   -e also echo every datagram back to its sender (UDP only)
//
// TCP: the lines are the same with "connections" for "datagrams" and the
// client's port for the source port, and the last line is
//   reuseport: tcp accepted=12,9,11,8                   (one count per proc)
// A child reports a connection once it has read it to EOF (and closed it),
// to the parent in batches (child_tcp).
//
// Each child makes a socket, sets SO_REUSEPORT, binds 0.0.0.0:port and
// receives; per datagram it tells the parent its source port through a
// pipe. The parent prints, for a test to parse (one fact per line):
//   reuseport: ready n=4 port=9000 reuseport_ext=1     (all bound: send now)
//   proc 0: 2507 datagrams                              (one line per proc)
//   proc 0 ports: 40001 40007 ...                       (source ports it got)
//   total: 10000 datagrams, 1000 ports, 0 split
// "split" counts source ports that reached more than one process (0 while
// the group is unchanged: a flow always lands on the same member).
// On error: "reuseport: <what>: <strerror>" and exit status 1.
#include "user/user.h"

#define MAXPROCS 16

static uint8 owner[65536];      // 0: unseen; i+1: proc i; 255: several
static char dgram[65536];
static long counts[MAXPROCS];

static void
child(int i, int port, int wfd, bool echo)
{
	int s, one = 1;
	struct sockaddr_in me, from;
	socklen_t fl;
	if ((s = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
		die("reuseport: socket: %s", strerror(errno));
	if (setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		die("reuseport: setsockopt: %s", strerror(errno));
	memset(&me, 0, sizeof(me));
	me.sin_family = AF_INET;
	me.sin_port = htons(port);
	if (bind(s, (struct sockaddr *)&me, sizeof(me)) < 0)
		die("reuseport: proc %d: bind: %s", i, strerror(errno));
	write(wfd, "b", 1);   // bound
	for (;;) {
		fl = sizeof(from);
		ssize_t n = recvfrom(s, dgram, sizeof(dgram), 0, (struct sockaddr *)&from, &fl);
		if (n < 0)
			continue;
		if (echo)
			sendto(s, dgram, n, 0, (struct sockaddr *)&from, fl);
		uint16 sp = ntohs(from.sin_port);
		write(wfd, &sp, 2);
	}
}

// A TCP child reports its connections' source ports in batches: one
// pipe write per connection would wake the parent, and (poll's wake-up
// is global for pipes, kernel/sys_poll.c) every other poller, inetd
// among them, once or twice per connection: work that is not accepting
// but would be measured with it. It writes when BATCH ports are waiting
// and whenever its accept queue is empty (the listener is nonblocking:
// accept says EAGAIN), then waits in poll on the listener, which wakes
// only it (net/sockbuf.c, sb_poller). So every port is reported before
// the child sleeps: the parent's count reaches -c.
#define BATCH 64

static void
report(int wfd, uint16 *ports, int *np)
{
	if (*np > 0)
		write(wfd, ports, *np * (int)sizeof(ports[0]));
	*np = 0;
}

static void
child_tcp(int i, int port, int wfd)
{
	int s, one = 1, np = 0;
	uint16 ports[BATCH];
	struct sockaddr_in me, from;
	socklen_t fl;
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		die("reuseport: socket: %s", strerror(errno));
	if (setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		die("reuseport: setsockopt: %s", strerror(errno));
	memset(&me, 0, sizeof(me));
	me.sin_family = AF_INET;
	me.sin_port = htons(port);
	if (bind(s, (struct sockaddr *)&me, sizeof(me)) < 0)
		die("reuseport: proc %d: bind: %s", i, strerror(errno));
	if (listen(s, 128) < 0)   // joins the group (net/in_localgroup.c)
		die("reuseport: proc %d: listen: %s", i, strerror(errno));
	if (fcntl(s, F_SETFL, O_NONBLOCK) < 0)   // accepted sockets block
		die("reuseport: proc %d: fcntl: %s", i, strerror(errno));
	write(wfd, "b", 1);   // listening
	for (;;) {
		fl = sizeof(from);
		int c = accept(s, (struct sockaddr *)&from, &fl);
		if (c < 0) {
			if (errno == EAGAIN) {   // nothing queued: report, then wait
				report(wfd, ports, &np);
				struct pollfd pf = { s, POLLIN, 0 };
				poll(&pf, 1, -1);
			}
			continue;
		}
		while (read(c, dgram, sizeof(dgram)) > 0)
			;   // to EOF (or a reset)
		close(c);
		ports[np++] = ntohs(from.sin_port);
		if (np == BATCH)
			report(wfd, ports, &np);
	}
}

static void
tally(int i, uint16 sp)
{
	counts[i]++;
	if (owner[sp] == 0)
		owner[sp] = i + 1;
	else if (owner[sp] != i + 1)
		owner[sp] = 255;
}

int
main(int argc, char *argv[])
{
	int n = 4, port = 9000, secs = 10, fds[MAXPROCS], pids[MAXPROCS], p[2];
	long count = -1, total = 0;
	bool echo = false, tcp = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-e") == 0)
			echo = true;
		else if (strcmp(argv[i], "-T") == 0)
			tcp = true;
		else if (i + 1 >= argc)
			die("usage: reuseport [-T] [-n N] [-p port] [-t seconds] [-c count] [-e]");
		else if (strcmp(argv[i], "-n") == 0)
			n = atoi(argv[++i]);
		else if (strcmp(argv[i], "-p") == 0)
			port = atoi(argv[++i]);
		else if (strcmp(argv[i], "-t") == 0)
			secs = atoi(argv[++i]);
		else if (strcmp(argv[i], "-c") == 0)
			count = atoi(argv[++i]);
		else
			die("usage: reuseport [-T] [-n N] [-p port] [-t seconds] [-c count] [-e]");
	}
	if (n < 1 || n > MAXPROCS || port <= 0 || port > 65535 || secs <= 0)
		die("usage: reuseport [-T] [-n 1..%d] [-p port] [-t seconds] [-c count] [-e]", MAXPROCS);
	for (int i = 0; i < n; i++) {
		if (pipe(p) < 0)
			die("reuseport: pipe: %s", strerror(errno));
		if ((pids[i] = fork()) < 0)
			die("reuseport: fork: %s", strerror(errno));
		if (pids[i] == 0) {
			close(p[0]);
			if (tcp)
				child_tcp(i, port, p[1]);
			child(i, port, p[1], echo);
		}
		close(p[1]);
		fds[i] = p[0];
		char c;
		// One at a time, so "proc i" is the i-th to join the group.
		if (read(fds[i], &c, 1) != 1)
			die("reuseport: proc %d did not bind", i);
	}
	int64 ext = -1;
	sysctl_getint(tcp ? "net.inet.tcp.reuseport_ext" : "net.inet.udp.reuseport_ext", &ext);
	printf("reuseport: ready n=%d port=%d reuseport_ext=%d\n", n, port, (int)ext);
	long deadline = uptime() + secs * 1000L;
	while ((count < 0 || total < count) && uptime() < deadline) {
		struct pollfd pf[MAXPROCS];
		for (int i = 0; i < n; i++)
			pf[i] = (struct pollfd){ fds[i], POLLIN, 0 };
		long left = deadline - uptime();
		if (poll(pf, n, left > 0 ? (int)left : 0) <= 0)
			continue;
		for (int i = 0; i < n; i++) {
			static uint8 b[MAXPROCS][130];
			static int have[MAXPROCS];   // a port may arrive split in two reads
			if (!(pf[i].revents & POLLIN))
				continue;
			ssize_t got = read(fds[i], b[i] + have[i], 128);
			if (got <= 0)
				continue;
			int len = have[i] + (int)got, k;
			for (k = 0; k + 1 < len; k += 2, total++) {
				uint16 sp;
				memcpy(&sp, b[i] + k, 2);
				tally(i, sp);
			}
			have[i] = len - k;
			if (have[i])
				b[i][0] = b[i][k];
		}
	}
	for (int i = 0; i < n; i++)
		kill(pids[i]);
	for (int i = 0; i < n; i++)
		wait(0);
	long ports = 0, split = 0;
	const char *what = tcp ? "connections" : "datagrams";
	for (int i = 0; i < n; i++)
		printf("proc %d: %ld %s\n", i, counts[i], what);
	for (int i = 0; i < n; i++) {
		char line[512];
		int off = snprintf(line, sizeof(line), "proc %d ports:", i);
		for (int sp = 0; sp < 65536; sp++) {
			if (owner[sp] != i + 1)
				continue;
			if (off > (int)sizeof(line) - 8) {
				printf("%s\n", line);   // long lists continue on a new line
				off = snprintf(line, sizeof(line), "proc %d ports:", i);
			}
			off += snprintf(line + off, sizeof(line) - off, " %d", sp);
		}
		printf("%s\n", line);
	}
	for (int sp = 0; sp < 65536; sp++) {
		ports += owner[sp] != 0;
		split += owner[sp] == 255;
	}
	printf("total: %ld %s, %ld ports, %ld split\n", total, what, ports, split);
	if (tcp) {
		char line[16 * 12 + 32];
		int off = snprintf(line, sizeof(line), "reuseport: tcp accepted=");
		for (int i = 0; i < n; i++)
			off += snprintf(line + off, sizeof(line) - off, "%s%ld", i ? "," : "", counts[i]);
		printf("%s\n", line);
	}
	return 0;
}
