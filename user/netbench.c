// netbench: guest side of `make bench` (bench/run.py): packet senders and
// receivers that run as fast as they can and print what they measured.
//
// Usage:
//   netbench icmp [-n N | -d ms] [-P P] [host]
//       P processes each send N raw ICMP echo requests to host (default
//       127.0.0.1) back to back, or as many as they can in ms
//       milliseconds; the replies are not waited for.
//   netbench rtt [-n N] [host]
//       N echo round trips one after the other (send, wait for the reply,
//       send the next), each timed in microseconds.
//   netbench udprtt [-n N] [-k servers] [-p port]
//       N UDP request/response exchanges over lo0 with an echo server
//       (servers processes bound to 127.0.0.1:port with SO_REUSEPORT).
//       A reply more than 5 s late counts as lost (and is dropped when it
//       comes: each request carries its number).
//   netbench udpflows [-F flows] [-d ms] [-p port] [-S 0|1]
//       F (default 2) independent UDP request/response flows over lo0 at
//       once, each a client and an echo server of its own (port + i), for
//       ms milliseconds; exchanges per second of all together. -S 1 (the
//       default): flow i's client takes a source port whose flow the hash
//       gives to CPU i % ncpu (SO_INCOMING_CPU), so F flows on F harts
//       use F netisrs; -S 0: whatever ports the kernel gives.
//   netbench rxcount [-n frames] [-d ms]
//       Count the instructions executed while the e1000 receives: from
//       the first frame until `frames` more arrived (or ms milliseconds);
//       without -n, over ms milliseconds of whatever comes (the idle
//       baseline). make bench blasts frames from the host meanwhile.
//   netbench rxrelease [-n frames] [-B batch] [-b 1]
//       With dev.e1000.0.rx_hold=1 and `frames` frames waiting in the ring
//       (make bench sends them from Linux first): release them `batch` at
//       a time (dev.e1000.0.rx_release: one interrupt takes each batch),
//       sleeping 1 ms after each release while the interrupt and the
//       netisr handle it, and until net.link.ether.unknown_type shows the
//       batch delivered (at most 2 s). Reports the guest time around all
//       of it, the idle time in it (busy = elapsed - idle: under -icount
//       shift=0 on one hart, instructions) and the frames and interrupts.
//       -b 1: the baseline: the same loop writing rx_release=0 (no frame,
//       no interrupt), so (busy - baseline busy) / frames is what a frame
//       costs at that batch.
// rtt and udprtt also report insns= (guest instructions over the
// measured exchanges, from instret: exact under qemu -icount, all harts
// together) and insn_per= per exchange; the first 10 exchanges warm up
// and are not counted. They and udpflows give the wake-up IPIs and
// context switches of all harts over the measured part (kern.ipis,
// kern.ctxsw), and where it ran at the end: the client's home CPU (and
// the server's), and the CPU of the netisr that delivered the last reply
// (cpu_flow, SO_INCOMING_CPU).
//   netbench udp [-n N | -d ms] [-P P] [-s size] [-k socks] host port
//       P processes each send N datagrams of size bytes to host:port,
//       spread round robin over socks sockets (default 8: 8 source ports,
//       so a reuseport group spreads them).
//   netbench udp-recv [-P P] [-p port] [-t secs] [-i idle_ms]
//       P processes bind port with SO_REUSEPORT and count datagrams; each
//       stops idle_ms (default 1000) after its last datagram, and in any
//       case secs (default 30) after it started.
//   netbench udp-lo [-n N | -d ms] [-R R] [-s size] [-p port] [-i idle_ms]
//       R receivers as udp-recv, then this process sends N datagrams to
//       127.0.0.1:port: two (or R + 1) processes talking over lo0.
//
// Output (bench/run.py parses it; one "netbench:" line per result, all
// figures integers; times measured in microseconds with clock_us(), the
// time CSR, and also given in ms):
//   netbench: ready recv P=4 port=9000
//   netbench: send kind=icmp P=2 n=20000 ok=39990 errors=10 us=1234000 ms=1234 pps=32406
//   netbench: recv P=4 got=9000 us=2000000 ms=2000 pps=4500 per=2250,2250,2250,2250
//   netbench: rtt n=1000 lost=0 us=300000 ms=300 avg_us=300 min_us=250 max_us=1200 insns=25000000 insn_per=25000
//   netbench: udprtt n=1000 k=1 lost=0 us=300000 avg_us=300 insns=30000000 insn_per=30000
//             ipis=3 ctxsw=4000 cpu_client=1 cpu_server=1 cpu_flow=1
//   netbench: udpflows F=2 n=20000 lost=0 us=2000000 xps=10000 ipis=4 ctxsw=80000
//             per=10000/0/0,10000/1/1   (exchanges/flow CPU/client's CPU at the end)
//   netbench: rxcount us=2000000 frames=30000 insns=600000000 idle_us=1200
//   netbench: rxrelease n=240 batch=1 base=0 frames=240 intr=240 rounds=240
//             elapsed_ns=240100000 idle_ns=239000000 busy_ns=1100000 insns=240100000
// Under -icount sleep=off instret also counts the time a hart idles (the
// clock jumps over it): rxcount reports kern.idle_us so make bench can
// subtract it (exact with one hart).
// pps for a sender counts the packets sendto() accepted (ok); errors are
// sendto() failures (ENOBUFS when an interface queue is full). A receiver's
// ms runs from the first batch it saw to the last one.
//
// How senders start together: every child blocks reading a pipe; the
// parent notes the time and closes the pipe's write end, which wakes them
// all; each child writes its counts into a result pipe and exits; the
// parent's clock stops when the last result is in.
//
// Testing: make qemu, then "netbench icmp -n 1000 -P 2" or
// "netbench udp-lo -n 2000 -R 4"; make bench runs all of it.
#include "user/user.h"

#define MAXP 16
#define UDPRTT_WAIT_US 5000000   // udprtt: a reply later than this is lost
#define WARMUP 10          // rtt, udprtt: exchanges not counted
#define LOOP "127.0.0.1"

struct result {      // child -> parent, through the result pipe
	long r_ok;       // packets sent / datagrams received
	long r_err;      // sendto failures
	long r_first;    // clock_us() of the first received batch (receivers)
	long r_last;     // clock_us() of the last one
};

static char buf[65536];

static void
usage(void)
{
	die("usage: netbench icmp [-n N | -d ms] [-P P] [host]\n"
	    "       netbench rtt [-n N] [host]\n"
	    "       netbench udprtt [-n N] [-k servers] [-p port]\n"
	    "       netbench udpflows [-F flows] [-d ms] [-p port] [-S spread]\n"
	    "       netbench rxcount [-n frames] [-d ms]\n"
	    "       netbench rxrelease [-n frames] [-B batch] [-b 1]\n"
	    "       netbench idle|spin [-d ms]\n"
	    "       netbench udp [-n N | -d ms] [-P P] [-s size] [-k socks] host port\n"
	    "       netbench udp-recv [-P P] [-p port] [-t secs] [-i idle_ms]\n"
	    "       netbench udp-lo [-n N | -d ms] [-R R] [-s size] [-p port] [-i idle_ms]");
}

static struct sockaddr_in
addr_of(const char *host, int port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	if (!inet_aton(host, &a.sin_addr))
		die("netbench: %s: not a dotted quad", host);
	return a;
}

// One ICMP echo request (8-byte header, 56 bytes of data) in buf.
static size_t
echo_req(uint16 id, uint16 seq)
{
	struct icmp_hdr *icp = (struct icmp_hdr *)buf;
	size_t len = sizeof(*icp) + 56;

	memset(buf, 0xa5, len);
	icp->icmp_type = ICMP_ECHO;
	icp->icmp_code = 0;
	icp->icmp_cksum = 0;
	icp->icmp_id = htons(id);
	icp->icmp_seq = htons(seq);
	icp->icmp_cksum = in_cksum(buf, len);
	return len;
}

// An integer sysctl, or 0 where this kernel has none.
static int64
sysctl_or0(const char *name)
{
	int64 v = 0;
	sysctl_getint(name, &v);
	return v;
}

// Microseconds all harts have idled.
static int64
idle_us(void)
{
	return sysctl_or0("kern.idle_us");
}

// Instructions executed, from an instret delta and the idle time in it
// (kern.idle_ns): under -icount sleep=off instret follows the guest's
// clock, which also jumps over the time a lone hart idles. Exact with one
// hart.
static uint64
busy_insns(uint64 insns, uint64 idle_ns)
{
	return insns > idle_ns ? insns - idle_ns : 0;
}

// The scheduler's counters, all harts: wake-up IPIs and context switches.
struct sched_count {
	long sc_ipis;
	long sc_ctxsw;
};

static void
sched_count(struct sched_count *c)
{
	c->sc_ipis = sysctl_or0("kern.ipis");
	c->sc_ctxsw = sysctl_or0("kern.ctxsw");
}

// The CPU whose run queue process pid joins (procinfo pi_home), or -1.
static int
home_cpu(int pid)
{
	static struct procinfo pi[64];
	int n = procinfo(pi, 64);

	for (int i = 0; i < n && i < 64; i++)
		if (pi[i].pi_pid == pid)
			return pi[i].pi_home;
	return -1;
}

// SO_INCOMING_CPU of socket s: the CPU of the netisr that last delivered
// to it (or of its pcb), -1 if the kernel has no such option.
static int
incoming_cpu(int s)
{
	int c = -1;
	socklen_t len = sizeof(c);

	if (getsockopt(s, SOL_SOCKET, SO_INCOMING_CPU, &c, &len) < 0)
		return -1;
	return c;
}

// ---- children --------------------------------------------------------------

// Fork P children that each run child(spec, ctlfd, resfd), which exits.
// Two pipes: ctl (parent -> children if to_child: the start signal;
// else children -> parent: "ready") and res (the children's results). A
// child gets its end of ctl and res's write end; the parent keeps the
// other end of ctl (*ctlfd) and res's read end (*resfd).
static void
spawn(int P, void (*child)(const void *, int, int), const void *spec, bool to_child,
      int *ctlfd, int *resfd)
{
	int ctl[2], res[2];
	int mine = to_child ? 1 : 0, theirs = to_child ? 0 : 1;

	if (pipe(ctl) < 0 || pipe(res) < 0)
		die("netbench: pipe: %s", strerror(errno));
	for (int i = 0; i < P; i++) {
		int pid = fork();
		if (pid < 0)
			die("netbench: fork: %s", strerror(errno));
		if (pid == 0) {
			close(ctl[mine]);
			close(res[0]);
			child(spec, ctl[theirs], res[1]);
		}
	}
	close(ctl[theirs]);
	close(res[1]);
	*ctlfd = ctl[mine];
	*resfd = res[0];
}

// ---- senders ---------------------------------------------------------------

struct sendspec {
	bool ss_icmp;            // raw ICMP echo requests, else UDP
	long ss_n;               // packets per process (if ss_ms == 0)
	long ss_ms;              // else: send for this many milliseconds
	int ss_size;             // UDP payload bytes
	int ss_socks;            // UDP sockets (source ports) per process
	struct sockaddr_in ss_to;
};

// Child: wait for the start pipe to close, send, report, exit.
static void
sender(const void *spec, int startfd, int resfd)
{
	const struct sendspec *sp = spec;
	struct result r = { 0, 0, 0, 0 };
	int socks[MAXP], ns = sp->ss_icmp ? 1 : sp->ss_socks;
	int small = 1024;
	char c;

	for (int i = 0; i < ns; i++) {
		socks[i] = sp->ss_icmp ? socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)
				       : socket(AF_INET, SOCK_DGRAM, 0);
		if (socks[i] < 0)
			die("netbench: socket: %s", strerror(errno));
		// Every ICMP packet is copied to every raw socket: keep the
		// copies of our own traffic from piling up.
		if (sp->ss_icmp)
			setsockopt(socks[i], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	}
	size_t len = sp->ss_icmp ? echo_req(getpid(), 0) : (size_t)sp->ss_size;
	if (!sp->ss_icmp)
		memset(buf, 'u', len);
	read(startfd, &c, 1);   // returns 0 when the parent closes its end
	long end = clock_us() + sp->ss_ms * 1000;
	for (long i = 0; sp->ss_ms ? (i % 16 != 0 || (long)clock_us() < end) : i < sp->ss_n; i++) {
		if (sendto(socks[i % ns], buf, len, 0, (struct sockaddr *)&sp->ss_to,
			   sizeof(sp->ss_to)) == (ssize_t)len)
			r.r_ok++;
		else
			r.r_err++;
	}
	write(resfd, &r, sizeof(r));
	exit(0);
}

// Fork P senders, start them together, print the totals.
static void
run_senders(const char *kind, const struct sendspec *sp, int P)
{
	int start, res;
	struct result r, tot = { 0, 0, 0, 0 };

	spawn(P, sender, sp, true, &start, &res);
	sleep(100);             // let every child reach its read()
	long t0 = clock_us();
	close(start);
	for (int i = 0; i < P; i++) {
		if (read(res, &r, sizeof(r)) != sizeof(r))
			die("netbench: a sender died");
		tot.r_ok += r.r_ok;
		tot.r_err += r.r_err;
	}
	long us = clock_us() - t0;
	for (int i = 0; i < P; i++)
		wait(NULL);
	close(res);
	if (us < 1)
		us = 1;
	printf("netbench: send kind=%s P=%d n=%ld ok=%ld errors=%ld us=%ld ms=%ld pps=%ld\n",
	       kind, P, tot.r_ok + tot.r_err, tot.r_ok, tot.r_err, us, us / 1000,
	       tot.r_ok * 1000000 / us);
}

// ---- receivers -------------------------------------------------------------

struct recvspec {
	int rs_port;
	long rs_deadline_ms;     // stop this long after starting, whatever comes
	long rs_idle_ms;         // stop this long after the last datagram
};

// Child: bind the shared port, say so on readyfd, count until idle.
static void
receiver(const void *spec, int readyfd, int resfd)
{
	const struct recvspec *rp = spec;
	struct result r = { 0, 0, 0, 0 };
	struct sockaddr_in me = addr_of("0.0.0.0", rp->rs_port);
	int s, one = 1, big = 256 * 1024;
	long start = clock_us();

	if ((s = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
		die("netbench: socket: %s", strerror(errno));
	if (setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		die("netbench: SO_REUSEPORT: %s", strerror(errno));
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (bind(s, (struct sockaddr *)&me, sizeof(me)) < 0)
		die("netbench: bind %d: %s", rp->rs_port, strerror(errno));
	write(readyfd, "b", 1);
	for (;;) {
		struct pollfd pf = { .fd = s, .events = POLLIN };
		long now = clock_us();
		long until = start + rp->rs_deadline_ms * 1000;
		if (r.r_ok && r.r_last + rp->rs_idle_ms * 1000 < until)
			until = r.r_last + rp->rs_idle_ms * 1000;
		if (now >= until)
			break;
		if (poll(&pf, 1, (int)((until - now + 999) / 1000)) <= 0)
			continue;
		// Drain without blocking; the clock is read once per batch (a
		// batch ends at EAGAIN or after 64 datagrams).
		long got = 0;
		if (r.r_ok == 0)
			r.r_first = now;
		while (got < 64 && recvfrom(s, buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL) >= 0)
			got++;
		if (got == 0)
			continue;
		r.r_ok += got;
		r.r_last = clock_us();
	}
	write(resfd, &r, sizeof(r));
	exit(0);
}

// Fork P receivers and wait until all are bound; *resfd gets the result
// pipe to pass to collect_receivers.
static void
start_receivers(const struct recvspec *rp, int P, int *resfd)
{
	int ready;
	char c;

	spawn(P, receiver, rp, false, &ready, resfd);
	for (int i = 0; i < P; i++)
		if (read(ready, &c, 1) != 1)
			die("netbench: a receiver died before binding");
	close(ready);
	printf("netbench: ready recv P=%d port=%d\n", P, rp->rs_port);
}

static void
collect_receivers(int P, int resfd)
{
	struct result r;
	long got = 0, first = -1, last = -1, per[MAXP];
	char list[MAXP * 12] = "";
	size_t off = 0;

	for (int i = 0; i < P; i++) {
		if (read(resfd, &r, sizeof(r)) != sizeof(r))
			die("netbench: a receiver died");
		per[i] = r.r_ok;
		got += r.r_ok;
		if (r.r_ok && (first < 0 || r.r_first < first))
			first = r.r_first;
		if (r.r_ok && r.r_last > last)
			last = r.r_last;
	}
	for (int i = 0; i < P; i++)
		wait(NULL);
	close(resfd);
	for (int i = 0; i < P; i++)
		off += snprintf(list + off, sizeof(list) - off, "%s%ld",
				i ? "," : "", per[i]);
	long us = got ? last - first : 0;
	printf("netbench: recv P=%d got=%ld us=%ld ms=%ld pps=%ld per=%s\n", P, got, us,
	       us / 1000, got * 1000000 / (us < 1 ? 1 : us), list);
}

// ---- rtt -------------------------------------------------------------------

static void
run_rtt(long n, const char *host)
{
	struct sockaddr_in to = addr_of(host, 0);
	uint16 id = getpid() & 0xffff;
	long lost = 0, tmin = -1, tmax = 0;
	int s;

	if ((s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)) < 0)
		die("netbench: socket: %s", strerror(errno));
	long t0 = clock_us();
	uint64 i0 = insn_count(), i1;
	uint64 idle0 = 0;
	struct sched_count c0 = { 0, 0 }, c1;
	for (long i = 0; i < n + WARMUP; i++) {
		if (i == WARMUP) {
			t0 = clock_us();
			idle0 = clock_idle_ns();
			sched_count(&c0);
			i0 = insn_count();
			lost = 0, tmin = -1, tmax = 0;
		}
		size_t len = echo_req(id, (uint16)i);
		long ts = clock_us();
		bool got = false;

		if (sendto(s, buf, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
			lost++;
			continue;
		}
		// Our own request comes back to us too (127.0.0.1): skip it.
		while (!got) {
			struct pollfd pf = { .fd = s, .events = POLLIN };
			long left = ts + 1000000 - (long)clock_us();
			if (left <= 0 || poll(&pf, 1, (int)((left + 999) / 1000)) <= 0)
				break;
			ssize_t m = recvfrom(s, buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL);
			if (m < 20)
				continue;
			struct icmp_hdr *icp = (struct icmp_hdr *)(buf + (buf[0] & 0xf) * 4);
			got = icp->icmp_type == ICMP_ECHOREPLY && ntohs(icp->icmp_id) == id &&
			      ntohs(icp->icmp_seq) == (uint16)i;
		}
		if (!got) {
			lost++;
			continue;
		}
		long rtt = clock_us() - ts;
		if (tmin < 0 || rtt < tmin)
			tmin = rtt;
		if (rtt > tmax)
			tmax = rtt;
	}
	i1 = insn_count();
	long us = clock_us() - t0;
	sched_count(&c1);
	uint64 busy = busy_insns(i1 - i0, clock_idle_ns() - idle0);
	int me = home_cpu(getpid()), flow = incoming_cpu(s);
	close(s);
	printf("netbench: rtt n=%ld lost=%ld us=%ld ms=%ld avg_us=%ld min_us=%ld max_us=%ld "
	       "insns=%lu insn_per=%lu ipis=%ld ctxsw=%ld cpu_client=%d cpu_flow=%d\n",
	       n, lost, us, us / 1000, n > lost ? us / (n - lost) : 0, tmin, tmax, busy,
	       n > lost ? busy / (n - lost) : 0, c1.sc_ipis - c0.sc_ipis,
	       c1.sc_ctxsw - c0.sc_ctxsw, me, flow);
}

// ---- udprtt, rxcount ------------------------------------------------------------

// Child: echo every datagram on 127.0.0.1:port back to its sender, until
// killed. Says "b" on readyfd once bound.
static void
udp_echo_server(int port, bool reuse, int readyfd)
{
	struct sockaddr_in me = addr_of(LOOP, port), from;
	socklen_t fl;
	int s = socket(AF_INET, SOCK_DGRAM, 0), one = 1;

	if (s < 0 || (reuse && setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) ||
	    bind(s, (struct sockaddr *)&me, sizeof(me)) < 0)
		die("netbench: echo server: %s", strerror(errno));
	write(readyfd, "b", 1);
	for (;;) {
		fl = sizeof(from);
		ssize_t m = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (m >= 0)
			sendto(s, buf, m, 0, (struct sockaddr *)&from, fl);
	}
}

// One request/response of udprtt: datagram number i out on s, and its
// echo back within UDPRTT_WAIT_US. The exchange number is in the payload,
// so a reply that comes after its wait ran out (a loaded host can stall a
// hart for a second) is read and dropped, never taken for the next one's.
static bool
udprtt_exchange(int s, const struct sockaddr_in *to, long i)
{
	memset(buf, 0, 32);
	memmove(buf, &i, sizeof(i));
	long ts = clock_us();
	if (sendto(s, buf, 32, 0, (struct sockaddr *)to, sizeof(*to)) != 32)
		return false;
	for (;;) {
		struct pollfd pf = { .fd = s, .events = POLLIN };
		long left = ts + UDPRTT_WAIT_US - (long)clock_us(), got;
		if (left <= 0 || poll(&pf, 1, (int)((left + 999) / 1000)) <= 0)
			return false;
		if (recvfrom(s, buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL) != 32)
			continue;
		memmove(&got, buf, sizeof(got));
		if (got == i)
			return true;
	}
}

static void
run_udprtt(long n, int k, int port)
{
	struct sockaddr_in to = addr_of(LOOP, port);
	int ready[2], pids[MAXP], s;
	long lost = 0;
	char c;

	if (pipe(ready) < 0)
		die("netbench: pipe: %s", strerror(errno));
	for (int i = 0; i < k; i++) {
		if ((pids[i] = fork()) < 0)
			die("netbench: fork: %s", strerror(errno));
		if (pids[i] == 0) {
			close(ready[0]);
			udp_echo_server(port, k > 1, ready[1]);
		}
	}
	close(ready[1]);
	for (int i = 0; i < k; i++)
		if (read(ready[0], &c, 1) != 1)
			die("netbench: an echo server died");
	close(ready[0]);
	if ((s = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
		die("netbench: socket: %s", strerror(errno));
	long t0 = clock_us();
	uint64 i0 = insn_count(), i1;
	uint64 idle0 = 0;
	struct sched_count c0 = { 0, 0 }, c1;
	for (long i = 0; i < n + WARMUP; i++) {
		if (i == WARMUP) {
			t0 = clock_us();
			idle0 = clock_idle_ns();
			sched_count(&c0);
			i0 = insn_count();
			lost = 0;
		}
		if (!udprtt_exchange(s, &to, i))
			lost++;
	}
	i1 = insn_count();
	long us = clock_us() - t0;
	sched_count(&c1);
	uint64 busy = busy_insns(i1 - i0, clock_idle_ns() - idle0);
	// Where the exchange ran at the end: this process's CPU, the first
	// server's home CPU (it sleeps in recvfrom now), and the CPU whose
	// netisr delivered the last reply (SO_INCOMING_CPU).
	int me = home_cpu(getpid()), srv = home_cpu(pids[0]), flow = incoming_cpu(s);
	close(s);
	for (int i = 0; i < k; i++)
		kill(pids[i]);
	for (int i = 0; i < k; i++)
		wait(NULL);
	printf("netbench: udprtt n=%ld k=%d lost=%ld us=%ld avg_us=%ld insns=%lu insn_per=%lu "
	       "ipis=%ld ctxsw=%ld cpu_client=%d cpu_server=%d cpu_flow=%d\n",
	       n, k, lost, us, n > lost ? us / (n - lost) : 0, busy,
	       n > lost ? busy / (n - lost) : 0, c1.sc_ipis - c0.sc_ipis,
	       c1.sc_ctxsw - c0.sc_ctxsw, me, srv, flow);
}

// ---- udpflows ------------------------------------------------------------------

// Child: the client of one flow. A UDP socket connected to 127.0.0.1:port;
// if want >= 0, sockets (each a new ephemeral port, a new flow hash) are
// tried until SO_INCOMING_CPU (for a connected socket: its flow's netisr)
// says want, at most 64 times. Says "b" on readyfd, waits for the start
// pipe to close, then exchanges 32-byte datagrams with the echo server
// for ms milliseconds and writes its counts (r_ok, r_err = lost) to resfd.
static void
flow_client(int port, int want, long ms, int readyfd, int startfd, int resfd)
{
	struct sockaddr_in to = addr_of(LOOP, port);
	struct result r = { 0, 0, 0, 0 };
	int s = -1;
	char c;

	for (int tries = 0; tries < 64; tries++) {
		if ((s = socket(AF_INET, SOCK_DGRAM, 0)) < 0 ||
		    connect(s, (struct sockaddr *)&to, sizeof(to)) < 0)
			die("netbench: flow socket: %s", strerror(errno));
		if (want < 0 || incoming_cpu(s) == want)
			break;
		close(s);
		s = -1;
	}
	if (s < 0)   // the hash never gave want: run where it did
		die("netbench: no flow to 127.0.0.1:%d hashes to cpu %d", port, want);
	r.r_first = incoming_cpu(s);
	write(readyfd, "b", 1);
	read(startfd, &c, 1);   // returns 0 when the parent closes its end
	long end = clock_us() + ms * 1000;
	for (long i = 0; i % 16 != 0 || (long)clock_us() < end; i++) {
		struct pollfd pf = { .fd = s, .events = POLLIN };
		memset(buf, (int)i, 32);
		if (send(s, buf, 32, 0) == 32 && poll(&pf, 1, 1000) > 0 &&
		    recv(s, buf, sizeof(buf), MSG_DONTWAIT) == 32)
			r.r_ok++;
		else
			r.r_err++;
	}
	r.r_last = home_cpu(getpid());
	write(resfd, &r, sizeof(r));
	exit(0);
}

// F independent request/response flows over lo0 at once, each a client
// and an echo server process of its own (server port port + i), for ms
// milliseconds: the exchanges per second of all of them together. With
// spread, flow i's client picks a source port whose flow hashes to CPU
// i % ncpu (SO_INCOMING_CPU), so two flows on two harts use two netisrs.
static void
run_udpflows(int F, long ms, int port, bool spread)
{
	int ready[2], start[2], res[2], pids[2 * MAXP], np = 0;
	int ncpu = (int)sysctl_or0("kern.ncpu");
	struct result r;
	long ok = 0, lost = 0, per[MAXP], cpus[MAXP], homes[MAXP];
	char c, list[3 * MAXP * 12] = "";
	struct sched_count c0, c1;

	if (pipe(ready) < 0 || pipe(start) < 0 || pipe(res) < 0)
		die("netbench: pipe: %s", strerror(errno));
	for (int i = 0; i < 2 * F; i++) {
		if ((pids[np] = fork()) < 0)
			die("netbench: fork: %s", strerror(errno));
		if (pids[np] == 0) {
			close(ready[0]);
			close(start[1]);
			close(res[0]);
			if (i < F)
				udp_echo_server(port + i, false, ready[1]);
			flow_client(port + i - F, spread && ncpu > 0 ? (i - F) % ncpu : -1, ms,
				    ready[1], start[0], res[1]);
		}
		np++;
	}
	close(ready[1]);
	close(start[0]);
	close(res[1]);
	for (int i = 0; i < 2 * F; i++)
		if (read(ready[0], &c, 1) != 1)
			die("netbench: a flow process died before it was ready");
	close(ready[0]);
	sched_count(&c0);
	long t0 = clock_us();
	close(start[1]);
	for (int i = 0; i < F; i++) {
		if (read(res[0], &r, sizeof(r)) != sizeof(r))
			die("netbench: a flow client died");
		per[i] = r.r_ok;
		cpus[i] = r.r_first;
		homes[i] = r.r_last;
		ok += r.r_ok;
		lost += r.r_err;
	}
	long us = clock_us() - t0;
	sched_count(&c1);
	close(res[0]);
	for (int i = 0; i < F; i++)
		kill(pids[i]);   // the servers; the clients have exited
	for (int i = 0; i < 2 * F; i++)
		wait(NULL);
	size_t off = 0;
	for (int i = 0; i < F; i++)
		off += snprintf(list + off, sizeof(list) - off, "%s%ld/%ld/%ld", i ? "," : "",
				per[i], cpus[i], homes[i]);
	if (us < 1)
		us = 1;
	printf("netbench: udpflows F=%d n=%ld lost=%ld us=%ld xps=%ld ipis=%ld ctxsw=%ld "
	       "per=%s\n", F, ok, lost, us, ok * 1000000 / us, c1.sc_ipis - c0.sc_ipis,
	       c1.sc_ctxsw - c0.sc_ctxsw, list);
}

// Frames the e1000 has received.
static int64
rx_frames(void)
{
	return sysctl_or0("dev.e1000.0.rx_packets");
}

// n == 0: count instructions over ms with whatever arrives (the idle
// baseline). Else: from the first new frame, until n more frames or ms
// milliseconds. The loop looks once a millisecond; its own cost is in the
// baseline too.
static void
run_rxcount(long n, long ms)
{
	int64 f0 = rx_frames(), f;
	printf("netbench: rxwait\n");
	if (n > 0) {
		while ((f = rx_frames()) == f0)
			sleep(1);
		f0 = f;
	}
	int64 idle0 = idle_us();
	uint64 i0 = insn_count();
	long t0 = clock_us();
	while ((f = rx_frames()) - f0 < (n ? n : 1L << 40) && (long)clock_us() - t0 < ms * 1000)
		sleep(1);
	uint64 i1 = insn_count();
	long us = clock_us() - t0;
	printf("netbench: rxcount us=%ld frames=%ld insns=%lu idle_us=%ld\n", us,
	       (long)(f - f0), i1 - i0, (long)(idle_us() - idle0));
}

// Frames the stack took of the bench's ethertype (ether_input drops them).
static int64
rx_delivered(void)
{
	return sysctl_or0("net.link.ether.unknown_type");
}

static void
release(int64 k)
{
	if (sysctl("dev.e1000.0.rx_release", NULL, NULL, &k, sizeof(k)) < 0)
		die("netbench: dev.e1000.0.rx_release=%ld: %s", (long)k, strerror(errno));
}

// Release n held frames k at a time (base: the same loop, releasing none).
// Every round does the same: one write, one 1 ms sleep, one read of the
// delivered count (more only if a batch is late), so the baseline's busy
// time is the loop's own and the difference is the frames'.
static void
run_rxrelease(long n, long k, bool base)
{
	long rounds = (n + k - 1) / k;
	int64 u0 = rx_delivered(), intr0 = sysctl_or0("dev.e1000.0.intr");
	uint64 c0 = insn_count(), i0 = clock_idle_ns(), n0 = clock_ns();
	for (long r = 0; r < rounds; r++) {
		long now = n - r * k < k ? n - r * k : k;
		release(base ? 0 : now);
		int64 want = base ? 0 : r * k + now;
		uint64 t0 = clock_ns();
		do
			sleep(1);
		while (rx_delivered() - u0 < want && clock_ns() - t0 < 2000000000UL);
	}
	uint64 n1 = clock_ns(), i1 = clock_idle_ns(), c1 = insn_count();
	int64 u1 = rx_delivered(), intr1 = sysctl_or0("dev.e1000.0.intr");
	printf("netbench: rxrelease n=%ld batch=%ld base=%d frames=%ld intr=%ld rounds=%ld "
	       "elapsed_ns=%lu idle_ns=%lu busy_ns=%lu insns=%lu\n", n, k, base,
	       (long)(u1 - u0), (long)(intr1 - intr0), rounds, n1 - n0, i1 - i0,
	       n1 - n0 - (i1 - i0), c1 - c0);
}

// Sleep ms (spin: loop in user mode for ms) and report the elapsed time,
// the idle time in it and instret: with nothing to do, busy = elapsed -
// idle is the cost of the clock tick (HZ per second), which make bench
// takes off, per ns of elapsed time, figures whose runs wait for a peer;
// a spinning process on one hart leaves no idle time at all.
// tests/test_idle.py checks both.
static void
run_idle(long ms, bool spin)
{
	uint64 n0 = clock_ns(), i0 = clock_idle_ns(), c0 = insn_count();
	if (spin) {
		while (clock_ns() - n0 < (uint64)ms * 1000000)
			;
	} else {
		sleep((int)ms);
	}
	uint64 c1 = insn_count(), n1 = clock_ns(), i1 = clock_idle_ns();
	printf("netbench: %s elapsed_ns=%lu idle_ns=%lu busy_ns=%lu insns=%lu\n",
	       spin ? "spin" : "idle", n1 - n0, i1 - i0, n1 - n0 - (i1 - i0), c1 - c0);
}

// ---- main ------------------------------------------------------------------

// Options "-x value" into vals['x']; the rest are positional.
static int
getopts(int argc, char **argv, const char *opts, long *vals, char **pos, int maxpos)
{
	int np = 0;

	for (int i = 2; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1] && !argv[i][2]) {
			if (!strchr(opts, argv[i][1]) || i + 1 >= argc)
				usage();
			char *end;
			vals[(uint8)argv[i][1]] = strtol(argv[i + 1], &end, 10);
			if (*end || vals[(uint8)argv[i][1]] < 0)
				usage();
			i++;
		} else if (np < maxpos) {
			pos[np++] = argv[i];
		} else {
			usage();
		}
	}
	return np;
}

int
main(int argc, char *argv[])
{
	static long v[128];
	char *pos[2];
	struct sendspec sp = { .ss_size = 64, .ss_socks = 8 };
	struct recvspec rp = { .rs_port = 9000 };
	int np, resfd;

	if (argc < 2)
		usage();
	v['n'] = 10000;
	v['P'] = 1;
	v['R'] = 1;
	v['s'] = 64;
	v['k'] = 8;
	v['p'] = 9000;
	v['t'] = 30;
	v['i'] = 1000;
	v['F'] = 2;
	v['S'] = 1;
	const char *cmd = argv[1];
	np = getopts(argc, argv, "nPRskptidFSBb", v, pos, 2);
	if (v['P'] < 1 || v['P'] > MAXP || v['R'] < 1 || v['R'] > MAXP ||
	    v['k'] < 1 || v['k'] > MAXP || v['s'] > 65507)
		usage();
	sp.ss_n = v['n'];
	sp.ss_ms = v['d'];
	sp.ss_size = v['s'];
	sp.ss_socks = v['k'];
	rp.rs_port = v['p'];
	rp.rs_deadline_ms = v['t'] * 1000;
	rp.rs_idle_ms = v['i'];

	if (strcmp(cmd, "icmp") == 0) {
		sp.ss_icmp = true;
		sp.ss_to = addr_of(np > 0 ? pos[0] : LOOP, 0);
		run_senders("icmp", &sp, v['P']);
	} else if (strcmp(cmd, "rtt") == 0) {
		run_rtt(v['n'], np > 0 ? pos[0] : LOOP);
	} else if (strcmp(cmd, "udprtt") == 0) {
		run_udprtt(v['n'], v['k'] == 8 ? 1 : v['k'], v['p']);
	} else if (strcmp(cmd, "udpflows") == 0) {
		if (v['F'] < 1 || v['F'] > MAXP)
			usage();
		run_udpflows(v['F'], v['d'] ? v['d'] : 2000, v['p'], v['S'] != 0);
	} else if (strcmp(cmd, "rxcount") == 0) {
		run_rxcount(v['n'] == 10000 ? 0 : v['n'], v['d'] ? v['d'] : 2000);
	} else if (strcmp(cmd, "rxrelease") == 0) {
		long n = v['n'] == 10000 ? 240 : v['n'];
		if (n < 1 || v['B'] < 0 || v['B'] > 255)
			usage();
		run_rxrelease(n, v['B'] ? v['B'] : n, v['b'] != 0);
	} else if (strcmp(cmd, "idle") == 0) {
		run_idle(v['d'] ? v['d'] : 1000, false);
	} else if (strcmp(cmd, "spin") == 0) {
		run_idle(v['d'] ? v['d'] : 1000, true);
	} else if (strcmp(cmd, "udp") == 0) {
		if (np != 2)
			usage();
		sp.ss_to = addr_of(pos[0], atoi(pos[1]));
		run_senders("udp", &sp, v['P']);
	} else if (strcmp(cmd, "udp-recv") == 0) {
		start_receivers(&rp, v['P'], &resfd);
		collect_receivers(v['P'], resfd);
	} else if (strcmp(cmd, "udp-lo") == 0) {
		start_receivers(&rp, v['R'], &resfd);
		sp.ss_to = addr_of(LOOP, rp.rs_port);
		run_senders("udp", &sp, 1);
		collect_receivers(v['R'], resfd);
	} else {
		usage();
	}
	return 0;
}
