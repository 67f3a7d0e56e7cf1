// rcvdrace: make the lost window update of asynchronous PRU_RCVD visible
// (net/tcp_rcvd_async.c, after DragonFly commit 96c6eb29).
// Usage: rcvdrace [-l 0|1] [-i iterations] [-H hold_ms] [-p port]
//   -l 1: net.inet.tcp.async_rcvd_reply_late=1, the netisr replies AFTER
//         tcp_output (the wrong order); 0 (default): before it
//   -i rounds (default 5)   -H handler hold in ms (default 100)
//
// A writer (child) fills the reader's 8 KB receive buffer and waits. Each
// round the reader (parent) reads 500 bytes -- too little for a window
// update, but the read sends the PRU_RCVD message -- then, while the
// netisr handler holds between its two steps (net.inet.tcp.async_rcvd_hold_ms
// widens that window so any CPU can hit it), reads the rest. Correct
// order: the message was DONE, the second read sends it again, TCP
// advertises the room at once. Late reply: the second read finds it in
// flight and sends nothing, tcp_output already looked: no window update,
// the writer waits for its persist timer (a stall).
// Prints one line per round and a summary, for a test to parse:
//   round 0: update, data after 104 ms
//   round 1: lost, data after 1630 ms
//   rcvdrace: late=1 hold=100 rounds=5 lost=5
// Restores the three knobs it changed. Errors: "rcvdrace: ..." and exit 1.
#include "user/user.h"

static uint8 buf[8192];

static void
setknob(const char *name, int64 v)
{
	if (sysctl(name, 0, 0, &v, sizeof(v)) < 0)
		die("rcvdrace: sysctl %s: %s", name, strerror(errno));
}

static int64
knob(const char *name)
{
	int64 v = 0;
	if (sysctl_getint(name, &v) < 0)
		die("rcvdrace: sysctl %s: %s", name, strerror(errno));
	return v;
}

static void
writer(int port, long total)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	a.sin_addr.s_addr = htonl(0x7f000001);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("rcvdrace: connect: %s", strerror(errno));
	memset(buf, 'w', sizeof(buf));
	for (long sent = 0; sent < total;) {
		long n = write(s, buf, MIN((long)sizeof(buf), total - sent));
		if (n <= 0)
			die("rcvdrace: write: %s", strerror(errno));
		sent += n;
	}
	close(s);
	exit(0);
}

int
main(int argc, char *argv[])
{
	int late = 0, rounds = 5, hold = 100, port = 7310, one = 1, small = 8192;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "-l") == 0)
			late = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "-i") == 0)
			rounds = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "-H") == 0)
			hold = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "-p") == 0)
			port = atoi(argv[i + 1]);
		else
			die("usage: rcvdrace [-l 0|1] [-i rounds] [-H hold_ms] [-p port]");
	}
	if (rounds < 1 || rounds > 100 || hold < 10 || hold > 1000 || (late != 0 && late != 1))
		die("usage: rcvdrace [-l 0|1] [-i 1..100] [-H 10..1000] [-p port]");
	int64 async0 = knob("net.inet.tcp.async_rcvd"), late0 = knob("net.inet.tcp.async_rcvd_reply_late");
	int64 hold0 = knob("net.inet.tcp.async_rcvd_hold_ms");
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	a.sin_addr.s_addr = htonl(0x7f000001);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(l, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0)
		die("rcvdrace: listen: %s", strerror(errno));
	int pid = fork();
	if (pid == 0)
		writer(port, (long)(rounds + 2) * 2 * small);
	int c = accept(l, 0, 0);
	if (c < 0)
		die("rcvdrace: accept: %s", strerror(errno));
	setknob("net.inet.tcp.async_rcvd", 1);
	setknob("net.inet.tcp.async_rcvd_reply_late", late);
	setknob("net.inet.tcp.async_rcvd_hold_ms", hold);
	int lost = 0;
	for (int r = 0; r < rounds; r++) {
		// The writer fills the buffer and waits: soon, or seconds later
		// on a loaded host. Round on a full buffer only: one not yet full
		// needs no window update, and would be reported as a lost one.
		sleep(hold + 300);
		long full_by = uptime() + 20000;
		while (recv(c, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT) < small &&
		       uptime() < full_by)
			sleep(10);
		int64 upd = knob("net.inet.tcp.sndwinup");
		long t0 = uptime();
		if (read(c, buf, 500) != 500)
			die("rcvdrace: read: %s", strerror(errno));
		sleep(hold / 2);     // the handler is inside its hold now
		if (recv(c, buf, sizeof(buf), MSG_DONTWAIT) <= 0)
			die("rcvdrace: read the rest: %s", strerror(errno));
		struct pollfd pf = { c, POLLIN, 0 };
		poll(&pf, 1, 20000);   // until the writer's next data arrives
		bool updated = knob("net.inet.tcp.sndwinup") > upd;
		lost += !updated;
		printf("round %d: %s, data after %ld ms\n", r, updated ? "update" : "lost",
		       uptime() - t0);
	}
	setknob("net.inet.tcp.async_rcvd_hold_ms", hold0);
	setknob("net.inet.tcp.async_rcvd_reply_late", late0);
	setknob("net.inet.tcp.async_rcvd", async0);
	while (read(c, buf, sizeof(buf)) > 0)
		;
	close(c);
	close(l);
	wait(0);
	printf("rcvdrace: late=%d hold=%d rounds=%d lost=%d\n", late, hold, rounds, lost);
	return 0;
}
