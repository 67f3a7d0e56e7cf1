// nettests: the test program of the network stack as user space sees it
// (sockets, raw ICMP, poll, interface ioctls, the network tools).
//
// Usage: nettests [-q] [name ...]
//   (none)   run every test         -q   only the quick ones
//   name...  run only these tests (see the table below)
//
// Same driver as usertests (user/ut/run.c): each test runs in a forked
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
// The tests expect the standard setup (docs/design.md 9): em0 10.0.2.15/24,
// gateway 10.0.2.2 answering ICMP echo (slirp, or the Linux peer of the
// tap rig), lo0 127.0.0.1/8.
//
// Testing: make qemu, then "nettests -q" or "nettests pinglo".
// The test files are in user/nt/ (nt/nt.h says how they fit together).
#include "user/nt/nt.h"
#include "user/ut/util.c"
#include "user/ut/run.c"
#include "user/nt/util.c"
#include "user/nt/sock.c"
#include "user/nt/raw.c"
#include "user/nt/poll.c"
#include "user/nt/ioctl.c"
#include "user/nt/udp.c"
#include "user/nt/tcp.c"
#include "user/nt/tcpsock.c"
#include "user/nt/tcpmech.c"
#include "user/nt/tools.c"

#define TIMEOUT_MS 120000   // a loaded host: see NT_WAIT_MS in nt/nt.h


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
	{ t_ifflap, "ifflap", false },
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
	{ t_udppcqmax, "udppcqmax", true },
	{ t_udpfrag, "udpfrag", true },
	{ t_udpbroadcast, "udpbroadcast", true },
	// ---- end of UDP -------------------------------------------------------
	// TCP (nt/tcp.c)
	{ t_tcpecho, "tcpecho", true },
	{ t_tcpechoem0, "tcpechoem0", true },
	{ t_tcprefused, "tcprefused", true },
	{ t_tcpnonblock, "tcpnonblock", true },
	{ t_tcpnbrefused, "tcpnbrefused", true },
	{ t_tcpepipe, "tcpepipe", true },
	{ t_tcpaddrinuse, "tcpaddrinuse", true },
	{ t_tcpnodelay, "tcpnodelay", true },
	{ t_tcppcblist, "tcppcblist", true },
	{ t_tcpwaitall, "tcpwaitall", true },
	{ t_tcplinger, "tcplinger", true },
	// more TCP over lo0, the em0 address and the e1000 (nt/tcpsock.c)
	{ t_tcpeof, "tcpeof", true },
	{ t_tcphalfclose, "tcphalfclose", true },
	{ t_tcpgwrefused, "tcpgwrefused", true },
	{ t_tcprecvflags, "tcprecvflags", true },
	{ t_tcpbadinput, "tcpbadinput", true },
	{ t_tcplinger0, "tcplinger0", true },
	{ t_tcpbacklog, "tcpbacklog", true },
	{ t_tcpsockname, "tcpsockname", true },
	{ t_tcpreusetw, "tcpreusetw", true },
	{ t_tcpmany, "tcpmany", true },
	{ t_tcpreuseport, "tcpreuseport", true },
	{ t_tcpefaultmid, "tcpefaultmid", true },
	{ t_tcpefaultro, "tcpefaultro", true },
	{ t_tcprcvdclose, "tcprcvdclose", true },
	{ t_tcpmbufs, "tcpmbufs", false },
	// the tools (nt/tools.c)
	{ t_toolifconfig, "toolifconfig", true },
	{ t_toolping, "toolping", true },
	{ t_toolnetstat, "toolnetstat", true },
};

static long
mbufs_inuse(void)
{
	int64 v;

	return sysctl_getint("net.mbuf.inuse", &v) < 0 ? -1 : v;
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

// Wait (up to 30 s) for the mbuf count to come back to before: packets in
// flight (on lo0, in the netisr queues) settle at once, but a packet held
// by ARP for an address nobody answers (toolping pings 10.0.2.99) is
// freed only when ARP gives up, after 5 requests a second apart (later
// when a loaded host runs the netisrs late).
static bool
mbuf_check(long before)
{
	long after = mbufs_inuse(), end = uptime() + 30000;

	while (after >= 0 && after > before && uptime() < end) {
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


static const struct suite suite = {
	"nettests", tests, nelem(tests), TIMEOUT_MS
};

int
main(int argc, char *argv[])
{
	bool quick;
	int first = ut_parse(&suite, argc, argv, &quick);
	long before;
	int failed;

	if (first < 0)
		return 1;
	printf("nettests starting\n");
	warm_up();
	before = mbufs_inuse();
	failed = ut_run(&suite, argc, argv, first, quick);
	failed += !mbuf_check(before);
	return ut_summary(failed);
}
