// nettests: the test program of the network stack as user space sees it
// (sockets, raw ICMP, poll, interface ioctls, the network tools).
//
// Usage: nettests [-q] [name ...]
//   (none)   run every test         -q   only the quick ones
//   name...  run only these tests (see the table below)
//
// Same driver as usertests (user/usertests.c): each test runs in a forked
// child while the parent waits, with a watchdog child; the parent prints
// "name: OK" or "name: FAIL reason" (the reason comes through a pipe from
// fail(), user/ut/util.c). A child that dies or runs past TIMEOUT_MS
// fails too.
//
// Mbufs: before the first test (after a warm-up that pings lo0 and the
// gateway, so ARP has resolved and nothing is pending) and after the last
// one, the parent reads net.mbuf.inuse; after a short wait for queues to
// drain the two must be equal: "mbufs: OK" or "mbufs: FAIL N more in use".
//
// The last line is "ALL TESTS PASSED" or "SOME TESTS FAILED (n)", and the
// exit status 0 or 1.
//
// The tests expect the standard setup (DESIGN.md 9): em0 10.0.2.15/24,
// gateway 10.0.2.2 answering ICMP echo (slirp, or the Linux peer of the
// tap rig), lo0 127.0.0.1/8.
//
// Testing: make qemu, then "nettests -q" or "nettests pinglo".
// The test files are in user/nt/ (nt/nt.h says how they fit together).
#include "user/nt/nt.h"
#include "user/ut/util.c"
#include "user/nt/util.c"
#include "user/nt/sock.c"
#include "user/nt/raw.c"
#include "user/nt/poll.c"
#include "user/nt/ioctl.c"
#include "user/nt/udp.c"
#include "user/nt/tools.c"

#define TIMEOUT_MS 60000

struct test {
	void (*fn)(void);
	const char *name;
	bool quick;   // part of nettests -q
};

static const struct test tests[] = {
	// sockets with bad input (nt/sock.c)
	{ t_sockdomain, "sockdomain", true },
	{ t_socktype, "socktype", true },
	{ t_sockproto, "sockproto", true },
	{ t_sockclose, "sockclose", true },
	{ t_sockmany, "sockmany", true },
	{ t_notsock, "notsock", true },
	{ t_sockbadfd, "sockbadfd", true },
	{ t_badsockaddr, "badsockaddr", true },
	{ t_badbindaddr, "badbindaddr", true },
	{ t_sockname, "sockname", true },
	{ t_sockopt, "sockopt", true },
	{ t_rawlisten, "rawlisten", true },
	{ t_recvbad, "recvbad", true },
	// raw ICMP sockets (nt/raw.c)
	{ t_pinglo, "pinglo", true },
	{ t_pingself, "pingself", true },
	{ t_pinggw, "pinggw", true },
	{ t_pingbiglo, "pingbiglo", true },
	{ t_pingfrag, "pingfrag", true },
	{ t_rawtwo, "rawtwo", true },
	{ t_rawconnect, "rawconnect", true },
	{ t_rawpeek, "rawpeek", true },
	{ t_rawnonblock, "rawnonblock", true },
	{ t_rawblock, "rawblock", true },
	{ t_rawfork, "rawfork", true },
	{ t_rawbadsum, "rawbadsum", true },
	{ t_rawsizes, "rawsizes", true },
	{ t_rawclosequeued, "rawclosequeued", true },
	{ t_rawburst, "rawburst", false },
	// poll (nt/poll.c)
	{ t_pollzero, "pollzero", true },
	{ t_polltimeout, "polltimeout", true },
	{ t_pollpipe, "pollpipe", true },
	{ t_pollnval, "pollnval", true },
	{ t_pollbad, "pollbad", true },
	{ t_pollsock, "pollsock", true },
	{ t_pollwake, "pollwake", true },
	// interface ioctls (nt/ioctl.c)
	{ t_ifaddr, "ifaddr", true },
	{ t_ifflags, "ifflags", true },
	{ t_ifindex, "ifindex", true },
	{ t_ifbadname, "ifbadname", true },
	{ t_ioctlbad, "ioctlbad", true },
	{ t_ifsetbad, "ifsetbad", true },
	{ t_ifsetaddr, "ifsetaddr", false },
	{ t_ifdownup, "ifdownup", false },
	// ---- UDP (nt/udp.c): to be added with UDP (issue 4) ----------------
	{ t_udpbadinput, "udpbadinput", true },
	{ t_udpecho, "udpecho", true },
	{ t_udpboundary, "udpboundary", true },
	{ t_udppeek, "udppeek", true },
	{ t_udpdontwait, "udpdontwait", true },
	{ t_udpconnect, "udpconnect", true },
	{ t_udpsockname, "udpsockname", true },
	{ t_udpaddrinuse, "udpaddrinuse", true },
	{ t_udpreuseport, "udpreuseport", true },
	{ t_udpfastdemux, "udpfastdemux", true },
	{ t_udpfrag, "udpfrag", true },
	{ t_udpbroadcast, "udpbroadcast", true },
	// ---- end of UDP -------------------------------------------------------
	// the tools (nt/tools.c)
	{ t_toolifconfig, "toolifconfig", true },
	{ t_toolping, "toolping", true },
	{ t_toolnetstat, "toolnetstat", true },
};

// Print the result line of test t, which exited with status (or timed
// out); reasonfd is the read end of its reason pipe. True if it passed.
static bool
report(const struct test *t, int status, bool timedout, int reasonfd)
{
	static char reason[600];
	ssize_t n;

	if (timedout) {
		printf("%s: FAIL timed out after %d s\n", t->name, TIMEOUT_MS / 1000);
		return false;
	}
	if (status == 0) {
		printf("%s: OK\n", t->name);
		return true;
	}
	if (status != 1) {
		printf("%s: FAIL test process died (exit status %d)\n", t->name,
		       status);
		return false;
	}
	fcntl(reasonfd, F_SETFL, O_NONBLOCK);
	n = read(reasonfd, reason, sizeof(reason) - 1);
	reason[n > 0 ? n : 0] = '\0';
	if (n > 0 && reason[n - 1] == '\n')
		reason[--n] = '\0';
	for (char *nl; (nl = strchr(reason, '\n')) != NULL;)
		*nl = ';';
	printf("%s: FAIL %s\n", t->name, n > 0 ? reason : "exit status 1");
	return false;
}

// Run one test in a child, with a watchdog child; true if it passed.
static bool
run_test(const struct test *t)
{
	int p[2], dog, pid = -1, w, status = -1;
	bool timedout = false, ok;

	if (pipe(p) < 0) {
		printf("%s: FAIL pipe: %s\n", t->name, strerror(errno));
		return false;
	}
	if ((dog = fork()) == 0) {
		close(p[0]);
		close(p[1]);
		sleep(TIMEOUT_MS);
		exit(0);
	}
	if (dog > 0 && (pid = fork()) == 0) {
		close(p[0]);
		ut_reason_fd = p[1];
		t->fn();
		exit(0);
	}
	close(p[1]);
	if (dog < 0 || pid < 0) {
		printf("%s: FAIL fork: %s\n", t->name, strerror(errno));
		if (dog > 0)
			kill(dog);
		while (wait(NULL) >= 0)
			;
		close(p[0]);
		return false;
	}
	while ((w = wait(&status)) != pid && w >= 0) {
		if (w == dog) {
			timedout = true;
			kill(pid);
		}
	}
	if (!timedout) {
		kill(dog);
		while ((w = wait(NULL)) >= 0 && w != dog)
			;
	}
	ok = report(t, status, timedout, p[0]);
	close(p[0]);
	return ok;
}

static long
mbufs_inuse(void)
{
	int64 v;
	size_t len = sizeof(v);

	if (sysctl("net.mbuf.inuse", &v, &len, NULL, 0) < 0)
		return -1;
	return v;
}

// Ping lo0 and the gateway once, so ARP has resolved the gateway and
// nothing is held in a pending queue when we count mbufs.
static void
warm_up(void)
{
	int pid = fork();

	if (pid == 0) {
		int s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);

		if (s >= 0) {
			ping_ok(s, LOOP_ADDR, 1, 8, 1);
			ping_ok(s, GATEWAY_ADDR, 2, 8, 2);
			close(s);
		}
		exit(0);
	}
	if (pid > 0)
		wait(NULL);
	sleep(100);
}

static const struct test *
find_test(const char *name)
{
	for (size_t i = 0; i < nelem(tests); i++)
		if (strcmp(tests[i].name, name) == 0)
			return &tests[i];
	return NULL;
}

// Wait (up to 10 s) for the mbuf count to come back to before: packets in
// flight (on lo0, in the netisr queues) settle at once, but a packet held
// by ARP for an address nobody answers (toolping pings 10.0.2.99) is
// freed only when ARP gives up, after 5 requests a second apart.
static bool
mbuf_check(long before)
{
	long after = mbufs_inuse();

	for (int i = 0; i < 200 && after >= 0 && after > before; i++) {
		sleep(50);
		after = mbufs_inuse();
	}
	if (before < 0 || after < 0) {
		printf("mbufs: FAIL cannot read net.mbuf.inuse: %s\n",
		       strerror(errno));
		return false;
	}
	if (after > before) {
		printf("mbufs: FAIL %ld more in use (%ld before, %ld after)\n",
		       after - before, before, after);
		return false;
	}
	printf("mbufs: OK\n");
	return true;
}

int
main(int argc, char *argv[])
{
	bool quick = false, selected = false;
	int failed = 0, i = 1;
	long before;

	if (argc > 1 && strcmp(argv[1], "-q") == 0) {
		quick = true;
		i++;
	}
	for (int j = i; j < argc; j++) {
		if (find_test(argv[j]) == NULL) {
			fprintf(2, "nettests: no test named '%s'\n", argv[j]);
			fprintf(2, "usage: nettests [-q] [name ...]\n");
			return 1;
		}
		selected = true;
	}
	printf("nettests starting\n");
	warm_up();
	before = mbufs_inuse();
	if (selected) {
		for (; i < argc; i++)
			failed += !run_test(find_test(argv[i]));
	} else {
		for (size_t k = 0; k < nelem(tests); k++)
			if (!quick || tests[k].quick)
				failed += !run_test(&tests[k]);
	}
	failed += !mbuf_check(before);
	if (failed == 0)
		printf("ALL TESTS PASSED\n");
	else
		printf("SOME TESTS FAILED (%d)\n", failed);
	return failed == 0 ? 0 : 1;
}
