// netstat: network statistics (BSD style), read from sysctl.
//
// Usage: netstat [-anT] | -i | -m | -s   (several may be given: -i -m)
//   (none)  active TCP connections (BSD's default listing):
//         Proto Recv-Q Send-Q Local Address         Foreign Address       State
//         tcp        0      0 10.0.2.15:7           10.0.2.2:41234        ESTABLISHED
//   -a  also the listening sockets (LISTEN)
//   -n  numeric addresses (always: there is no name service)
//   -T  TCP internals after the state: cwnd and ssthresh (bytes), smoothed
//       RTT and current RTO (ms), the CPU whose netisr owns the
//       connection, and the options in use ("sack", or "-")
//   -i  the interface table:
//         Name    Mtu Address             Ipkts Ierrs     Opkts Oerrs
//         em0    1500 10.0.2.15              12     0         9     0
//   -m  mbuf usage: mbufs and clusters in use (current/peak), failed
//       allocations (net.mbuf.*)
//   -s  per-protocol counters, every integer knob under net.inet.ip.,
//       net.inet.icmp., net.inet.udp., net.inet.tcp., net.link.ether.arp.
//       and net.link.ether. (those that exist), grouped as
//         ip:
//                 12 received
//
// How it works: the connections are the lines of the string knob
// net.inet.tcp.pcblist, one per TCP control block, written by the kernel
// as "<laddr>:<lport> <faddr>:<fport> <STATE> <recvq> <sendq> <cwnd>
// <ssthresh> <srtt_ms> <rto_ms> <cpu> <opts>" (see net/tcp_subr.c); interfaces are the names <n> with a knob
// net.link.<n>.ipackets (their counters live there); the MTU and address
// come from ioctl(SIOCGIFMTU/SIOCGIFADDR) on a socket when there is one
// ("-" otherwise). The -s groups are found by walking the sysctl names
// with sysctlnext(), so new counters show up without changing netstat.
// Knobs that are settings rather than counters (the gateway, test
// switches) are left out by name: see is_setting().
#include "user/user.h"

#define NAMEMAX 128

static void
usage(void)
{
	fprintf(2, "usage: netstat [-anT] | -i | -m | -s\n");
	exit(1);
}

// ---- netstat -i ----------------------------------------------------------

static int ctl = -2;   // socket for the ioctls; -1 if none could be made

static bool
if_ioctl(const char *name, unsigned long cmd, struct ifreq *ifr)
{
	if (ctl == -2) {
		ctl = socket(AF_INET, SOCK_DGRAM, 0);
		if (ctl < 0)
			ctl = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	}
	if (ctl < 0)
		return false;
	memset(ifr, 0, sizeof(*ifr));
	strncpy(ifr->ifr_name, name, IFNAMSIZ - 1);
	return ioctl(ctl, cmd, ifr) == 0;
}

static void
if_row(const char *name)
{
	static const char *const ctrs[] = { "ipackets", "ierrors", "opackets",
					    "oerrors" };
	char mtu[12] = "-", addr[INET_ADDRSTRLEN] = "-", knob[NAMEMAX];
	int64 v[4];
	struct ifreq ifr;

	for (int i = 0; i < 4; i++) {
		snprintf(knob, sizeof(knob), "net.link.%s.%s", name, ctrs[i]);
		if (sysctl_getint(knob, &v[i]) < 0)
			v[i] = -1;
	}
	if (if_ioctl(name, SIOCGIFMTU, &ifr))
		snprintf(mtu, sizeof(mtu), "%d", ifr.ifr_mtu);
	if (if_ioctl(name, SIOCGIFADDR, &ifr))
		inet_ntop(AF_INET,
			  &((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr, addr,
			  sizeof(addr));
	printf("%-5s %5s %-15s %9ld %5ld %9ld %5ld\n", name, mtu, addr, v[0],
	       v[1], v[2], v[3]);
}

static void
interfaces(void)
{
	char cur[NAMEMAX] = "net.link.", next[NAMEMAX];
	const char *p = "net.link.";
	size_t plen = strlen(p);

	printf("%-5s %5s %-15s %9s %5s %9s %5s\n", "Name", "Mtu", "Address",
	       "Ipkts", "Ierrs", "Opkts", "Oerrs");
	while (sysctlnext(cur, next, sizeof(next)) > 0 &&
	       strncmp(next, p, plen) == 0) {
		char *dot = strchr(next + plen, '.');

		if (dot != NULL && strcmp(dot, ".ipackets") == 0) {
			*dot = '\0';
			if_row(next + plen);
			*dot = '.';
		}
		strcpy(cur, next);
	}
}

// ---- netstat [-anT]: TCP connections ------------------------------------------

// The pcblist text (malloc'ed, NUL-terminated), or NULL with errno; the
// slack covers connections opened between asking for the size and reading.
static char *
pcblist(void)
{
	return sysctl_getstr("net.inet.tcp.pcblist", 1024);
}

static void
connections(bool all, bool internals)
{
	char *list = pcblist(), *line, *next;

	if (list == NULL)
		die("netstat: net.inet.tcp.pcblist: %s", strerror(errno));
	printf("Active Internet connections%s\n", all ? " (including servers)" : "");
	printf("%-5s %6s %6s %-21s %-21s %-12s", "Proto", "Recv-Q", "Send-Q",
	       "Local Address", "Foreign Address", "State");
	if (internals)
		printf(" %8s %10s %6s %6s %3s %s", "cwnd", "ssthresh", "srtt", "rto", "cpu",
		       "opts");
	printf("\n");
	for (line = list; *line; line = next) {
		char *f[11];
		int n = 0;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		else
			next = line + strlen(line);
		for (char *p = line; *p && n < 11;) {
			while (*p == ' ')
				*p++ = '\0';
			if (*p == '\0')
				break;
			f[n++] = p;
			while (*p && *p != ' ')
				p++;
		}
		if (n < 10)
			continue;   // not a pcb line
		if (!all && strcmp(f[2], "LISTEN") == 0)
			continue;
		printf("%-5s %6s %6s %-21s %-21s %-12s", "tcp", f[3], f[4], f[0],
		       f[1], f[2]);
		if (internals)
			printf(" %8s %10s %6s %6s %3s %s", f[5], f[6], f[7], f[8], f[9],
			       n > 10 ? f[10] : "-");
		printf("\n");
	}
	free(list);
}

// ---- netstat -m ----------------------------------------------------------

static void
mbufs(void)
{
	int64 inuse, peak, cl, clpeak, pg, pgpeak, failed;

	if (sysctl_getint("net.mbuf.inuse", &inuse) < 0 ||
	    sysctl_getint("net.mbuf.peak", &peak) < 0)
		die("netstat: net.mbuf.inuse: %s", strerror(errno));
	printf("%ld/%ld mbufs in use (current/peak)\n", inuse, peak);
	if (sysctl_getint("net.mbuf.clusters_inuse", &cl) == 0 &&
	    sysctl_getint("net.mbuf.clusters_peak", &clpeak) == 0)
		printf("%ld/%ld mbuf clusters in use (current/peak)\n", cl,
		       clpeak);
	if (sysctl_getint("net.mbuf.pages_inuse", &pg) == 0 &&
	    sysctl_getint("net.mbuf.pages_peak", &pgpeak) == 0)
		printf("%ld/%ld mbuf page clusters in use (current/peak)\n", pg,
		       pgpeak);
	if (sysctl_getint("net.mbuf.failed", &failed) == 0)
		printf("%ld requests for mbufs denied\n", failed);
}

// ---- netstat -s ----------------------------------------------------------

static const struct {
	const char *prefix;  // knobs directly under this name
	const char *title;
} groups[] = {
	{ "net.inet.ip.", "ip" },
	{ "net.inet.icmp.", "icmp" },
	{ "net.inet.udp.", "udp" },
	{ "net.inet.tcp.", "tcp" },
	{ "net.inet.tcp.syncache.", "tcp syncache" },
	{ "net.link.ether.arp.", "arp" },
	{ "net.link.ether.", "ether" },
};

// Knobs in those groups that configure rather than count: by name, and
// every time setting (a name ending in "_ms": TCP's timers).
static bool
is_setting(const char *leaf)
{
	static const char *const settings[] = {
		"gateway", "test_ping", "errppslimit", "dump", "fast_demux",
		"reuseport_ext", "entries", "checksum", "pcq_maxlen",
		"iw_segs", "rexmt_max", "syn_rexmt_max", "keepcnt",
		"async_rcvd", "async_rcvd_reply_late", "soreceive_stream",
		"challenge_ack_limit", "sack", "limit", "rexmtlimit", "cookies",
		"wscale", "timestamps", "recvbuf_auto", "recvbuf_max",
	};
	size_t n = strlen(leaf);

	if (n > 3 && strcmp(leaf + n - 3, "_ms") == 0)
		return true;
	for (size_t i = 0; i < nelem(settings); i++)
		if (strcmp(leaf, settings[i]) == 0)
			return true;
	return false;
}

// Print the integer knobs directly under prefix (not deeper); false if
// there are none.
static bool
group(const char *prefix, const char *title)
{
	char cur[NAMEMAX], next[NAMEMAX];
	size_t plen = strlen(prefix);
	bool any = false;
	int type;
	int64 v;

	strcpy(cur, prefix);
	while ((type = sysctlnext(cur, next, sizeof(next))) > 0 &&
	       strncmp(next, prefix, plen) == 0) {
		const char *leaf = next + plen;

		strcpy(cur, next);
		if (type != SYSCTL_TYPE_INT || strchr(leaf, '.') != NULL ||
		    is_setting(leaf) || sysctl_getint(next, &v) < 0)
			continue;
		if (!any)
			printf("%s:\n", title);
		any = true;
		printf("\t%ld %s\n", v, leaf);
	}
	return any;
}

static void
protocols(void)
{
	for (size_t i = 0; i < nelem(groups); i++)
		group(groups[i].prefix, groups[i].title);
}

int
main(int argc, char *argv[])
{
	bool conns = argc < 2, all = false, internals = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] != '-' || a[1] == '\0')
			usage();
		for (const char *p = a + 1; *p; p++) {
			if (strchr("imsanT", *p) == NULL)
				usage();
			if (strchr("anT", *p) != NULL)
				conns = true;
			all |= *p == 'a';
			internals |= *p == 'T';
		}
	}
	if (conns)
		connections(all, internals);
	for (int i = 1; i < argc; i++) {
		for (const char *p = argv[i] + 1; *p; p++) {
			if (*p == 'i')
				interfaces();
			else if (*p == 'm')
				mbufs();
			else if (*p == 's')
				protocols();
		}
	}
	return 0;
}
