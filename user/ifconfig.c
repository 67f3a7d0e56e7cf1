// ifconfig: show and configure network interfaces (BSD style).
//
// Usage:
//   ifconfig [-a]                   every interface
//   ifconfig ifname                 one interface
//   ifconfig ifname [inet] addr[/len] [netmask mask] [up|down]
//   ifconfig ifname up|down
//
// Output for one interface:
//   em0: flags=<UP,BROADCAST,RUNNING> mtu 1500
//           inet 10.0.2.15 netmask 255.255.255.0 broadcast 10.0.2.255
//           ether 52:54:00:12:34:56
//           RX packets 12  bytes 1180  errors 0  dropped 0
//           TX packets 9  bytes 798  errors 0
//
// How it works: interface configuration is ioctl(2) on any socket with a
// struct ifreq naming the interface (kernel/sockio.h): SIOCGIFNAME walks
// the interfaces by index from 1 until the kernel says there is no such
// interface; SIOCGIF{FLAGS,MTU,ADDR,NETMASK,BRDADDR,HWADDR} read, and
// SIOCSIF{ADDR,NETMASK,FLAGS} write. The packet counters are not in the
// ifreq: they are sysctl knobs net.link.<ifname>.{ipackets,ibytes,...}.
//
// Setting an address also brings the interface up (as BSD does) unless
// "down" is given too; the netmask is kept if none is given. Exit status
// 1 on any error, with the reason on stderr.
#include "user/user.h"

static const char *prog = "ifconfig";

static void
usage(void)
{
	fprintf(2, "usage: ifconfig [-a | ifname [[inet] addr[/len]] "
		   "[netmask mask] [up | down]]\n");
	exit(1);
}

// A socket to hand the ioctls to. Any will do: a datagram socket if the
// kernel has them, else a raw ICMP socket.
static int
ctl_socket(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	if (s < 0)
		s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	if (s < 0)
		die("%s: socket: %s", prog, strerror(errno));
	return s;
}

static bool
no_such_interface(int err)
{
	return err == ENXIO || err == ENODEV;
}

// ioctl cmd on interface name; on failure report it (naming the request
// what) and exit.
static void
xioctl(int s, unsigned long cmd, struct ifreq *ifr, const char *what)
{
	if (ioctl(s, cmd, ifr) == 0)
		return;
	if (no_such_interface(errno))
		die("%s: %s: no such interface", prog, ifr->ifr_name);
	die("%s: %s %s: %s", prog, what, ifr->ifr_name, strerror(errno));
}

static void
ifreq_init(struct ifreq *ifr, const char *name)
{
	memset(ifr, 0, sizeof(*ifr));
	strncpy(ifr->ifr_name, name, IFNAMSIZ - 1);
}

static struct in_addr
ifr_in(const struct ifreq *ifr)
{
	return ((const struct sockaddr_in *)&ifr->ifr_addr)->sin_addr;
}

static void
set_ifr_in(struct ifreq *ifr, struct in_addr a)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr->ifr_addr;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr = a;
}

// Integer sysctl knob net.link.<ifname>.<ctr>; false if unreadable.
static bool
link_counter(const char *ifname, const char *ctr, int64 *v)
{
	char name[64];

	snprintf(name, sizeof(name), "net.link.%s.%s", ifname, ctr);
	return sysctl_getint(name, v) == 0;
}

static void
show_flags(short flags)
{
	static const struct {
		short bit;
		const char *name;
	} names[] = {
		{ IFF_UP, "UP" },
		{ IFF_BROADCAST, "BROADCAST" },
		{ IFF_LOOPBACK, "LOOPBACK" },
		{ IFF_RUNNING, "RUNNING" },
	};
	const char *sep = "";

	printf("flags=<");
	for (size_t i = 0; i < nelem(names); i++) {
		if (flags & names[i].bit) {
			printf("%s%s", sep, names[i].name);
			sep = ",";
		}
	}
	printf(">");
}

static void
show_counters(const char *name)
{
	int64 ip, ib, ie, id, op, ob, oe;

	if (!link_counter(name, "ipackets", &ip) ||
	    !link_counter(name, "ibytes", &ib) ||
	    !link_counter(name, "ierrors", &ie) ||
	    !link_counter(name, "iqdrops", &id) ||
	    !link_counter(name, "opackets", &op) ||
	    !link_counter(name, "obytes", &ob) ||
	    !link_counter(name, "oerrors", &oe))
		return;
	printf("\tRX packets %ld  bytes %ld  errors %ld  dropped %ld\n", ip, ib,
	       ie, id);
	printf("\tTX packets %ld  bytes %ld  errors %ld\n", op, ob, oe);
}

// Print everything about interface name; exits if it does not exist.
static void
show(int s, const char *name)
{
	struct ifreq ifr;
	short flags;
	uint8 *hw;

	ifreq_init(&ifr, name);
	xioctl(s, SIOCGIFFLAGS, &ifr, "SIOCGIFFLAGS");
	flags = ifr.ifr_flags;
	printf("%s: ", name);
	show_flags(flags);
	ifreq_init(&ifr, name);
	if (ioctl(s, SIOCGIFMTU, &ifr) == 0)
		printf(" mtu %d", ifr.ifr_mtu);
	printf("\n");

	ifreq_init(&ifr, name);
	if (ioctl(s, SIOCGIFADDR, &ifr) == 0 && ifr_in(&ifr).s_addr != 0) {
		printf("\tinet %s", inet_ntoa(ifr_in(&ifr)));
		ifreq_init(&ifr, name);
		if (ioctl(s, SIOCGIFNETMASK, &ifr) == 0)
			printf(" netmask %s", inet_ntoa(ifr_in(&ifr)));
		ifreq_init(&ifr, name);
		if ((flags & IFF_BROADCAST) &&
		    ioctl(s, SIOCGIFBRDADDR, &ifr) == 0)
			printf(" broadcast %s", inet_ntoa(ifr_in(&ifr)));
		printf("\n");
	}

	ifreq_init(&ifr, name);
	hw = ifr.ifr_hwaddr;
	if (!(flags & IFF_LOOPBACK) && ioctl(s, SIOCGIFHWADDR, &ifr) == 0 &&
	    (hw[0] | hw[1] | hw[2] | hw[3] | hw[4] | hw[5]) != 0)
		printf("\tether %02x:%02x:%02x:%02x:%02x:%02x\n", hw[0], hw[1],
		       hw[2], hw[3], hw[4], hw[5]);
	show_counters(name);
}

// Every interface, by index from 1 until the kernel has no more.
static void
show_all(int s)
{
	struct ifreq ifr;

	for (int i = 1;; i++) {
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_index = i;
		if (ioctl(s, SIOCGIFNAME, &ifr) < 0) {
			if (no_such_interface(errno) || errno == EINVAL)
				break;
			die("%s: SIOCGIFNAME %d: %s", prog, i, strerror(errno));
		}
		ifr.ifr_name[IFNAMSIZ - 1] = '\0';
		show(s, ifr.ifr_name);
	}
}

// "255.255.255.0", "0xffffff00" or a prefix length (from addr/len) into
// a mask in network order; false if malformed or not contiguous.
static bool
parse_mask(const char *str, struct in_addr *mask)
{
	uint32 m;
	char *end;

	if (str[0] == '0' && str[1] == 'x') {
		long v = strtol(str, &end, 16);
		if (end == str + 2 || *end != '\0' || v < 0 || v > 0xffffffffL)
			return false;
		m = (uint32)v;
	} else if (inet_aton(str, mask)) {
		m = ntohl(mask->s_addr);
	} else {
		return false;
	}
	if ((~m & (~m + 1)) != 0)   // ones, then zeros
		return false;
	mask->s_addr = htonl(m);
	return true;
}

static bool
parse_prefix(const char *str, struct in_addr *mask)
{
	char *end;
	long len = strtol(str, &end, 10);

	if (end == str || *end != '\0' || len < 0 || len > 32)
		return false;
	mask->s_addr = htonl(len == 0 ? 0 : 0xffffffffU << (32 - len));
	return true;
}

// ifconfig name args...: parse everything first, then apply in the order
// address, netmask, flags.
static void
configure(int s, const char *name, int argc, char *argv[])
{
	struct in_addr addr, mask;
	bool have_addr = false, have_mask = false;
	int updown = 0;   // 1 up, -1 down
	struct ifreq ifr;

	for (int i = 0; i < argc; i++) {
		char *a = argv[i], *slash;

		if (strcmp(a, "up") == 0) {
			updown = 1;
		} else if (strcmp(a, "down") == 0) {
			updown = -1;
		} else if (strcmp(a, "inet") == 0) {
			continue;
		} else if (strcmp(a, "netmask") == 0) {
			if (++i >= argc)
				usage();
			if (!parse_mask(argv[i], &mask))
				die("%s: %s: invalid netmask", prog, argv[i]);
			have_mask = true;
		} else if (strcmp(a, "mtu") == 0 || strcmp(a, "broadcast") == 0) {
			die("%s: setting %s is not supported", prog, a);
		} else if (!have_addr) {
			if ((slash = strchr(a, '/')) != NULL) {
				*slash = '\0';
				if (!parse_prefix(slash + 1, &mask))
					die("%s: %s: invalid prefix length", prog,
					    slash + 1);
				have_mask = true;
			}
			if (!inet_aton(a, &addr)) {
				fprintf(2, "%s: %s: invalid address\n", prog, a);
				usage();
			}
			have_addr = true;
		} else {
			usage();
		}
	}

	// Existence first, so a typo gives "no such interface".
	ifreq_init(&ifr, name);
	xioctl(s, SIOCGIFFLAGS, &ifr, "SIOCGIFFLAGS");
	if (have_addr) {
		ifreq_init(&ifr, name);
		set_ifr_in(&ifr, addr);
		xioctl(s, SIOCSIFADDR, &ifr, "SIOCSIFADDR");
		if (updown == 0)
			updown = 1;
	}
	if (have_mask) {
		ifreq_init(&ifr, name);
		set_ifr_in(&ifr, mask);
		xioctl(s, SIOCSIFNETMASK, &ifr, "SIOCSIFNETMASK");
	}
	if (updown != 0) {
		ifreq_init(&ifr, name);
		xioctl(s, SIOCGIFFLAGS, &ifr, "SIOCGIFFLAGS");
		if (updown > 0 && !(ifr.ifr_flags & IFF_UP)) {
			ifr.ifr_flags |= IFF_UP;
			xioctl(s, SIOCSIFFLAGS, &ifr, "SIOCSIFFLAGS");
		} else if (updown < 0 && (ifr.ifr_flags & IFF_UP)) {
			ifr.ifr_flags &= ~IFF_UP;
			xioctl(s, SIOCSIFFLAGS, &ifr, "SIOCSIFFLAGS");
		}
	}
}

int
main(int argc, char *argv[])
{
	int s;

	if (argc > 1 && argv[1][0] == '-' && strcmp(argv[1], "-a") != 0)
		usage();
	if (argc > 2 && strcmp(argv[1], "-a") == 0)
		usage();
	if (argc > 1 && strlen(argv[1]) >= IFNAMSIZ)
		die("%s: %s: no such interface", prog, argv[1]);
	s = ctl_socket();
	if (argc == 1 || strcmp(argv[1], "-a") == 0)
		show_all(s);
	else if (argc == 2)
		show(s, argv[1]);
	else
		configure(s, argv[1], argc - 2, argv + 2);
	close(s);
	return 0;
}
