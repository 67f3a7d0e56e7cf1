// nettests: the network tools, run as a user would run them -- ifconfig,
// ping, netstat: their output and exit status.
// Part of nettests (#included by user/nettests.c).
#include "user/nt/nt.h"

static char out[4096];

// Run /prog with args (NULL-terminated), its stdout and stderr into out;
// returns the exit status.
static int
run(char *prog, ...)
{
	char *argv[10], path[32];
	size_t got = 0;
	ssize_t n;
	va_list ap;
	int argc = 0, p[2], pid;

	argv[argc++] = prog;
	va_start(ap, prog);
	while (argc < 9 && (argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	snprintf(path, sizeof(path), "/%s", prog);
	xpipe(p);
	pid = xfork();
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[1]);
		exec(path, argv);
		fail("exec %s: %s", path, strerror(errno));
	}
	close(p[1]);
	while (got + 1 < sizeof(out) &&
	       (n = read(p[0], out + got, sizeof(out) - 1 - got)) > 0)
		got += n;
	out[got] = '\0';
	close(p[0]);
	return xwait(pid);
}

#define CHECK_OUT(s) CHECK(strstr(out, s) != NULL, "no \"%s\" in:\n%s", s, out)

static void
t_toolifconfig(void)
{
	CHECK(run("ifconfig", NULL) == 0, "ifconfig failed:\n%s", out);
	CHECK_OUT("em0: flags=<UP,BROADCAST,RUNNING> mtu 1500");
	CHECK_OUT("inet 10.0.2.15 netmask 255.255.255.0 broadcast 10.0.2.255");
	CHECK_OUT("ether ");
	CHECK_OUT("lo0: flags=<UP,LOOPBACK,RUNNING> mtu 16384");
	CHECK_OUT("inet 127.0.0.1 netmask 255.0.0.0");
	CHECK_OUT("RX packets ");
	CHECK(run("ifconfig", "lo0", NULL) == 0, "ifconfig lo0 failed");
	CHECK(strstr(out, "em0") == NULL, "ifconfig lo0 shows em0");
	CHECK(run("ifconfig", "em9", NULL) == 1, "ifconfig em9 did not fail");
	CHECK_OUT("ifconfig: em9: no such interface");
	CHECK(run("ifconfig", "em0", "bogus", NULL) == 1,
	      "ifconfig em0 bogus did not fail");
	CHECK(run("ifconfig", "-x", NULL) == 1, "ifconfig -x did not fail");
	CHECK_OUT("usage: ifconfig");
}

static void
t_toolping(void)
{
	// -W 20: a reply a loaded host delays still counts (ping ends when all
	// are in, so this costs nothing when they are quick)
	CHECK(run("ping", "-c", "2", "-i", "0.2", "-W", "20", LOOP_ADDR, NULL) == 0,
	      "ping 127.0.0.1 failed:\n%s", out);
	CHECK_OUT("bytes from 127.0.0.1: icmp_seq=0 ttl=");
	CHECK_OUT("icmp_seq=1 ");
	CHECK_OUT("--- 127.0.0.1 ping statistics ---");
	CHECK_OUT("2 packets transmitted, 2 received, 0% packet loss");
	CHECK_OUT("rtt min/avg/max = ");
	CHECK(run("ping", "-c", "1", "-W", "20", "-s", "1000", GUEST_ADDR, NULL) == 0,
	      "ping -s 1000 10.0.2.15 failed:\n%s", out);
	CHECK_OUT("1008 bytes from 10.0.2.15");
	// Nobody at 10.0.2.99: no reply, exit 1.
	CHECK(run("ping", "-c", "1", "-W", "0.5", "10.0.2.99", NULL) == 1,
	      "ping of a silent host did not exit 1:\n%s", out);
	CHECK_OUT("1 packets transmitted, 0 received, 100% packet loss");
	CHECK(run("ping", "localhost", NULL) == 1, "ping localhost did not fail");
	CHECK_OUT("host names are not supported");
	CHECK(run("ping", "-c", NULL) == 1, "ping -c did not fail");
	CHECK_OUT("usage: ping");
	CHECK(run("ping", "-c", "x", LOOP_ADDR, NULL) == 1,
	      "ping -c x did not fail");
}

static void
t_toolnetstat(void)
{
	CHECK(run("netstat", "-i", NULL) == 0, "netstat -i failed");
	CHECK_OUT("Name");
	CHECK_OUT("em0");
	CHECK_OUT("lo0");
	CHECK(run("netstat", "-m", NULL) == 0, "netstat -m failed");
	CHECK_OUT("mbufs in use (current/peak)");
	CHECK(run("netstat", "-s", NULL) == 0, "netstat -s failed");
	CHECK_OUT("ip:\n");
	CHECK_OUT("icmp:\n");
	CHECK_OUT("arp:\n");
	CHECK(run("netstat", "-q", NULL) == 1, "netstat -q did not fail");
	CHECK_OUT("usage: netstat");
}
