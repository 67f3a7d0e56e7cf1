// nettests: interface ioctls (kernel/sockio.h) -- addresses, flags, MTU,
// link address, the index walk, bad names and requests, and setting an
// address and the up/down flag (restored afterwards).
// Part of nettests (#included by user/nettests.c).
#include "user/nt/nt.h"

// Interface name's address (SIOCGIFADDR etc.) must be want.
static void
check_addr(int s, const char *name, unsigned long cmd, const char *what,
	   const char *want)
{
	struct ifreq ifr;

	if (if_ioctl(s, name, cmd, &ifr) < 0)
		fail("%s %s: %s", what, name, strerror(errno));
	CHECK(ifr.ifr_addr.sa_family == AF_INET, "%s %s: family %d", what, name,
	      ifr.ifr_addr.sa_family);
	CHECK(strcmp(ifr_addr_str(&ifr), want) == 0, "%s %s: %s, want %s", what,
	      name, ifr_addr_str(&ifr), want);
}

static void
t_ifaddr(void)
{
	int s = xraw();

	check_addr(s, "em0", SIOCGIFADDR, "SIOCGIFADDR", GUEST_ADDR);
	check_addr(s, "em0", SIOCGIFNETMASK, "SIOCGIFNETMASK", "255.255.255.0");
	check_addr(s, "em0", SIOCGIFBRDADDR, "SIOCGIFBRDADDR", "10.0.2.255");
	check_addr(s, "lo0", SIOCGIFADDR, "SIOCGIFADDR", LOOP_ADDR);
	check_addr(s, "lo0", SIOCGIFNETMASK, "SIOCGIFNETMASK", "255.0.0.0");
	close(s);
}

static void
t_ifflags(void)
{
	struct ifreq ifr;
	int s = xraw();

	EXPECT_OK(if_ioctl(s, "em0", SIOCGIFFLAGS, &ifr));
	CHECK((ifr.ifr_flags & (IFF_UP | IFF_RUNNING | IFF_BROADCAST |
				IFF_LOOPBACK)) ==
		      (IFF_UP | IFF_RUNNING | IFF_BROADCAST),
	      "em0 flags 0x%x", ifr.ifr_flags);
	EXPECT_OK(if_ioctl(s, "lo0", SIOCGIFFLAGS, &ifr));
	CHECK((ifr.ifr_flags & (IFF_UP | IFF_RUNNING | IFF_LOOPBACK)) ==
		      (IFF_UP | IFF_RUNNING | IFF_LOOPBACK),
	      "lo0 flags 0x%x", ifr.ifr_flags);
	EXPECT_OK(if_ioctl(s, "em0", SIOCGIFMTU, &ifr));
	CHECK(ifr.ifr_mtu == 1500, "em0 mtu %d", ifr.ifr_mtu);
	EXPECT_OK(if_ioctl(s, "lo0", SIOCGIFMTU, &ifr));
	CHECK(ifr.ifr_mtu == 16384, "lo0 mtu %d", ifr.ifr_mtu);
	EXPECT_OK(if_ioctl(s, "em0", SIOCGIFHWADDR, &ifr));
	uint8 *hw = ifr.ifr_hwaddr;
	CHECK((hw[0] | hw[1] | hw[2] | hw[3] | hw[4] | hw[5]) != 0 &&
		      !(hw[0] & 1),
	      "em0 link address %02x:%02x:%02x:%02x:%02x:%02x", hw[0], hw[1],
	      hw[2], hw[3], hw[4], hw[5]);
	close(s);
}

// SIOCGIFNAME from index 1 up finds em0 and lo0 and then stops;
// SIOCGIFINDEX is its inverse.
static void
t_ifindex(void)
{
	struct ifreq ifr, ifr2;
	bool em0 = false, lo0 = false;
	int s = xraw(), i;

	for (i = 1; i < 64; i++) {
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_index = i;
		if (ioctl(s, SIOCGIFNAME, &ifr) < 0)
			break;
		CHECK(ifr.ifr_name[IFNAMSIZ - 1] == '\0' ||
			      strlen(ifr.ifr_name) < IFNAMSIZ,
		      "index %d: name not terminated", i);
		em0 |= strcmp(ifr.ifr_name, "em0") == 0;
		lo0 |= strcmp(ifr.ifr_name, "lo0") == 0;
		EXPECT_OK(if_ioctl(s, ifr.ifr_name, SIOCGIFINDEX, &ifr2));
		CHECK(ifr2.ifr_index == i, "%s: SIOCGIFINDEX %d, want %d",
		      ifr.ifr_name, ifr2.ifr_index, i);
	}
	CHECK(i < 64, "SIOCGIFNAME never fails");
	CHECK(errno == ENXIO || errno == ENODEV, "end of the walk: %s",
	      strerror(errno));
	CHECK(em0 && lo0, "walk found em0 %d, lo0 %d", em0, lo0);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_index = 0;
	EXPECT_ERR2(ENXIO, ENODEV, ioctl(s, SIOCGIFNAME, &ifr));
	ifr.ifr_index = -1;
	EXPECT_ERR2(ENXIO, ENODEV, ioctl(s, SIOCGIFNAME, &ifr));
	close(s);
}

static void
t_ifbadname(void)
{
	struct ifreq ifr;
	int s = xraw();

	EXPECT_ERR2(ENXIO, ENODEV, if_ioctl(s, "em9", SIOCGIFADDR, &ifr));
	EXPECT_ERR2(ENXIO, ENODEV, if_ioctl(s, "em9", SIOCGIFFLAGS, &ifr));
	EXPECT_ERR2(ENXIO, ENODEV, if_ioctl(s, "", SIOCGIFADDR, &ifr));
	EXPECT_ERR2(ENXIO, ENODEV, if_ioctl(s, "em", SIOCGIFMTU, &ifr));
	EXPECT_ERR2(ENXIO, ENODEV, if_ioctl(s, "em00", SIOCGIFMTU, &ifr));
	// A name that fills the field with no NUL: an error, not a crash.
	memset(&ifr, 'e', sizeof(ifr));
	CHECK(ioctl(s, SIOCGIFADDR, &ifr) < 0, "unterminated name accepted");
	CHECK(errno == ENXIO || errno == ENODEV || errno == EINVAL,
	      "unterminated name: %s", strerror(errno));
	close(s);
}

static void
t_ioctlbad(void)
{
	struct ifreq ifr;
	int s = xraw(), p[2];

	EXPECT_ERR(ENOTTY, if_ioctl(s, "em0", 0x1234, &ifr));
	EXPECT_ERR(ENOTTY, if_ioctl(s, "em0", 0x89ff, &ifr));
	EXPECT_ERR(EFAULT, ioctl(s, SIOCGIFADDR, (void *)freed_addr()));
	EXPECT_ERR(EFAULT, ioctl(s, SIOCGIFADDR, (void *)0x80000000L));
	xpipe(p);
	EXPECT_ERR(ENOTTY, if_ioctl(p[0], "em0", SIOCGIFADDR, &ifr));
	close(p[0]);
	close(p[1]);
	close(s);
	EXPECT_ERR(EBADF, if_ioctl(s, "em0", SIOCGIFADDR, &ifr));
	EXPECT_ERR(EBADF, if_ioctl(-1, "em0", SIOCGIFADDR, &ifr));
}

static int
set_addr(int s, const char *name, unsigned long cmd, const char *addr)
{
	struct ifreq ifr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;

	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	*sin = sin_of(addr);
	return ioctl(s, cmd, &ifr);
}

// Move em0 to 10.0.2.20, ping it, move it back. The checks come after the
// address is restored, so a failure leaves em0 as it was. The old address
// is now a stranger on the wire: the echo to it may be refused at once
// (EHOSTDOWN once ARP gave up on it, in a second run) -- no reply either way.
static void
t_ifsetaddr(void)
{
	struct ifreq ifr;
	int s = xraw(), r1, e1, r2 = -1, okself = 0, okold = 1;
	char got[INET_ADDRSTRLEN] = "?";
	uint8 buf[256];

	r1 = set_addr(s, "em0", SIOCSIFADDR, "10.0.2.20");
	e1 = errno;
	if (r1 == 0) {
		if (if_ioctl(s, "em0", SIOCGIFADDR, &ifr) == 0)
			strcpy(got, ifr_addr_str(&ifr));
		okself = ping_ok(s, "10.0.2.20", 1, 16, 3);
		okold = try_echo(s, GUEST_ADDR, 10, 16) &&
			wait_reply(s, 10, 1000, buf, sizeof(buf)) >= 0;
		r2 = set_addr(s, "em0", SIOCSIFADDR, GUEST_ADDR);
		if (r2 < 0)
			r2 = set_addr(s, "em0", SIOCSIFADDR, GUEST_ADDR);
	}
	CHECK(r1 == 0, "SIOCSIFADDR em0 10.0.2.20: %s", strerror(e1));
	CHECK(r2 == 0, "SIOCSIFADDR em0 back to %s: %s", GUEST_ADDR,
	      strerror(errno));
	CHECK(strcmp(got, "10.0.2.20") == 0, "SIOCGIFADDR after set: %s", got);
	CHECK(okself, "no reply from the new address 10.0.2.20");
	CHECK(!okold, "the old address still answers");
	check_addr(s, "em0", SIOCGIFADDR, "SIOCGIFADDR", GUEST_ADDR);
	CHECK(ping_ok(s, GUEST_ADDR, 20, 16, 3), "no reply after restoring");
	close(s);
}

static void
t_ifsetbad(void)
{
	struct ifreq ifr;
	int s = xraw();

	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "em0");
	ifr.ifr_addr.sa_family = 1;  // AF_UNIX
	EXPECT_ERR2(EAFNOSUPPORT, EINVAL, ioctl(s, SIOCSIFADDR, &ifr));
	EXPECT_ERR2(ENXIO, ENODEV, set_addr(s, "em9", SIOCSIFADDR, "10.0.2.30"));
	// A netmask that is not ones then zeros.
	EXPECT_ERR(EINVAL, set_addr(s, "em0", SIOCSIFNETMASK, "255.0.255.0"));
	check_addr(s, "em0", SIOCGIFADDR, "SIOCGIFADDR", GUEST_ADDR);
	check_addr(s, "em0", SIOCGIFNETMASK, "SIOCGIFNETMASK", "255.255.255.0");
	close(s);
}

// em0 down: no echo reaches the gateway; up again: it does.
static void
t_ifdownup(void)
{
	struct ifreq ifr;
	int s = xraw(), rdown, edown, rup = -1;
	bool downflag = false, reached = false, back = false;
	struct sockaddr_in to = sin_of(GATEWAY_ADDR);
	uint8 pkt[sizeof(struct icmp_hdr)] = { ICMP_ECHO }, buf[256];

	EXPECT_OK(if_ioctl(s, "em0", SIOCGIFFLAGS, &ifr));
	ifr.ifr_flags &= ~IFF_UP;
	rdown = ioctl(s, SIOCSIFFLAGS, &ifr);
	edown = errno;
	if (rdown == 0) {
		if (if_ioctl(s, "em0", SIOCGIFFLAGS, &ifr) == 0)
			downflag = !(ifr.ifr_flags & (IFF_UP | IFF_RUNNING));
		// Sending may fail (ENETUNREACH, ENETDOWN...) or the packet be
		// dropped; no fail() until em0 is up again.
		struct icmp_hdr *icp = (struct icmp_hdr *)pkt;
		icp->icmp_id = htons(nt_ident());
		icp->icmp_seq = htons(1);
		icp->icmp_cksum = in_cksum(pkt, sizeof(pkt));
		sendto(s, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to));
		reached = wait_reply(s, 1, 1000, buf, sizeof(buf)) >= 0;
		if (if_ioctl(s, "em0", SIOCGIFFLAGS, &ifr) == 0) {
			ifr.ifr_flags |= IFF_UP;
			rup = ioctl(s, SIOCSIFFLAGS, &ifr);
		}
		back = ping_ok(s, GATEWAY_ADDR, 10, 16, 5);
	}
	CHECK(rdown == 0, "SIOCSIFFLAGS em0 down: %s", strerror(edown));
	CHECK(rup == 0, "SIOCSIFFLAGS em0 up: %s", strerror(errno));
	CHECK(downflag, "em0 still UP or RUNNING after down");
	CHECK(!reached, "a reply through em0 while it was down");
	CHECK(back, "no reply from %s after em0 came back up", GATEWAY_ADDR);
	EXPECT_OK(if_ioctl(s, "em0", SIOCGIFFLAGS, &ifr));
	CHECK((ifr.ifr_flags & (IFF_UP | IFF_RUNNING)) == (IFF_UP | IFF_RUNNING),
	      "em0 flags 0x%x after up", ifr.ifr_flags);
	close(s);
}

// Set em0 up or down (SIOCSIFFLAGS) on socket s; ioctl's result.
static int
set_em0(int s, bool up)
{
	struct ifreq ifr;

	if (if_ioctl(s, "em0", SIOCGIFFLAGS, &ifr) < 0)
		return -1;
	ifr.ifr_flags = up ? (ifr.ifr_flags | IFF_UP) : (ifr.ifr_flags & ~IFF_UP);
	return ioctl(s, SIOCSIFFLAGS, &ifr);
}

#define IFFLAP_MS 4000

// Two processes toggle em0 up and down for IFFLAP_MS while a third sends
// echoes through it as fast as it can: no panic (the kernel once hit
// KASSERT(ifq_running == 0) when an up ran into a down: net/if.c I4), no
// failed ioctl, and afterwards em0 is UP|RUNNING and reaches the gateway.
static void
t_ifflap(void)
{
	int st, bad = 0;
	long end = uptime() + IFFLAP_MS;

	for (int k = 0; k < 3; k++) {
		if (xfork() != 0)
			continue;
		int s = xraw(), errs = 0;
		if (k < 2) {   // togglers: k = 0 starts with down, k = 1 with up
			for (int i = 0; uptime() < end; i++)
				if (set_em0(s, ((i + k) & 1) != 0) < 0)
					errs++;
		} else {       // the sender
			struct sockaddr_in to = sin_of(GATEWAY_ADDR);
			uint8 pkt[64] = { ICMP_ECHO };
			struct icmp_hdr *icp = (struct icmp_hdr *)pkt;
			icp->icmp_id = htons(nt_ident());
			for (uint16 seq = 1; uptime() < end; seq++) {
				icp->icmp_seq = htons(seq);
				icp->icmp_cksum = 0;
				icp->icmp_cksum = in_cksum(pkt, sizeof(pkt));
				// fails while em0 is down (ENETDOWN...): that is fine
				sendto(s, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to));
			}
		}
		exit(errs == 0 ? 0 : 1);
	}
	for (int k = 0; k < 3; k++) {
		if (wait(&st) < 0)
			fail("wait: %s", strerror(errno));
		if (st != 0)
			bad++;
	}
	int s = xraw();
	EXPECT_OK(set_em0(s, true));
	struct ifreq ifr;
	EXPECT_OK(if_ioctl(s, "em0", SIOCGIFFLAGS, &ifr));
	CHECK((ifr.ifr_flags & (IFF_UP | IFF_RUNNING)) == (IFF_UP | IFF_RUNNING),
	      "em0 flags 0x%x after the flapping", ifr.ifr_flags);
	CHECK(bad == 0, "%d of the 3 processes failed (an ioctl returned an error)", bad);
	CHECK(ping_ok(s, GATEWAY_ADDR, 100, 16, 5), "no reply from %s after the flapping",
	      GATEWAY_ADDR);
	close(s);
}
