// Host tests of the one flow hash (net/netisr.h, netisr_hash_ipv4 with
// host-order arguments): for many random UDP flows and 1, 2, 4 and 8
// CPUs, the netisr a received frame is dispatched to (netisr_hash_mbuf on
// the built Ethernet frame) is the netisr that owns the connected socket
// of its 4-tuple (so_cpu after connect), a reuseport group hands the
// datagram to the member in_localgroup_pick chooses from that same value,
// and a TCP connection is owned (tcp_tuplecpu) by the netisr its
// segments arrive on.
// If any layer hashed differently (network order, other argument order),
// a flow's packets and its socket's requests would run on different
// netisrs -- which TCP's one-owner rule forbids.
#include <string.h>
#include "tests/host/net_fake.h"
#include "net/socket.h"
#include "net/in_pcb.h"
#include "net/netisr.h"
#include "net/tcp_var.h"

#define FLOWS 400   // per CPU count

static uint32 rng = 0x2545f491;

static uint32 rnd(void)
{
	rng ^= rng << 13;   // xorshift32: reproducible, no libc state
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

// A random unicast foreign address: 1.0.0.0 - 223.255.255.255, not in
// 10.0.2.0/24 (fx0's subnet, which holds its broadcast) nor 127/8.
static uint32 rnd_faddr(void)
{
	for (;;) {
		uint32 a = rnd();
		uint32 top = a >> 24;
		if (top == 0 || top == 127 || top >= 224 || (a >> 8) == (FX_ADDR >> 8))
			continue;
		return a;
	}
}

static uint16 rnd_port(void)
{
	return (uint16)(1024 + rnd() % 60000);
}

// fx0 and UDP once per test (a forked child); the CPU count may change
// between flows: netisr_hashcpu reads it while no netisr thread runs.
static void setup(void)
{
	fx_setup();
	CHECK(udp_init() == 0);
	fx_learn_gw();
	fx_clear();
}

static void sin_of(struct sockaddr_in *sin, uint32 a, uint16 port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = hton32(a);
	sin->sin_port = hton16(port);
}

// An Ethernet frame carrying a UDP datagram faddr:fport -> laddr:lport
// (4 payload bytes, no checksum) into frame; returns its length.
static int mk_frame(uint8 *frame, uint32 faddr, uint16 fport, uint32 laddr, uint16 lport)
{
	uint8 u[12] = { fport >> 8, fport & 0xff, lport >> 8, lport & 0xff, 0, 12, 0, 0,
			'f', 'l', 'o', 'w' };
	memcpy(frame, fx_mac, 6);
	memcpy(frame + 6, gw_mac, 6);
	frame[12] = ETHERTYPE_IP >> 8, frame[13] = ETHERTYPE_IP & 0xff;
	return ETHER_HDR_LEN + fx_ip(frame + ETHER_HDR_LEN, IPPROTO_UDP, faddr, laddr,
				     1, 0, u, sizeof(u));
}

// The hash the driver's dispatch computes for the frame (netisr_dispatch).
static uint32 rx_hash(const uint8 *frame, int len)
{
	struct mbuf *m = m_devget(frame, len, &fx);
	CHECK(m != NULL);
	uint32 h = netisr_hash_mbuf(m, ETHER_HDR_LEN);
	m_freem(m);
	return h;
}

static void check_connect_placement(int ncpu)
{
	host_set_ncpu(ncpu);
	uint8 frame[128];
	for (int i = 0; i < FLOWS; i++) {
		uint32 faddr = rnd_faddr();
		uint16 fport = rnd_port(), lport = rnd_port();
		struct socket *so = fx_udp_socket(0);
		struct sockaddr_in sin;
		sin_of(&sin, FX_ADDR, lport);
		CHECK(so->so_proto->pr_usrreqs->pru_bind(so, &sin) == 0);
		sin_of(&sin, faddr, fport);
		CHECK(so->so_proto->pr_usrreqs->pru_connect(so, &sin) == 0);
		uint32 h = rx_hash(frame, mk_frame(frame, faddr, fport, FX_ADDR, lport));
		// The value itself is the host-order hash of the tuple...
		CHECK(h == netisr_hash_ipv4(faddr, FX_ADDR, IPPROTO_UDP, fport, lport));
		// ...and the socket lives on the netisr its datagrams arrive on.
		int cpu = __atomic_load_n(&so->so_cpu, __ATOMIC_ACQUIRE);
		if (cpu != netisr_hashcpu(h))
			fprintf(stderr, "ncpu %d flow %08x:%u -> :%u: rx netisr %d, socket %d\n",
				ncpu, faddr, fport, lport, netisr_hashcpu(h), cpu);
		CHECK(cpu == netisr_hashcpu(h));
		CHECK(cpu >= 0 && cpu < ncpu);
		fx_udp_close(so);
	}
}

static void flowhash_rx_netisr_is_connected_socket_netisr(void)
{
	setup();
	check_connect_placement(1);
	check_connect_placement(2);
	check_connect_placement(4);
	check_connect_placement(8);
}

// Read one datagram without blocking: its length or -EAGAIN.
static long rd(struct socket *so)
{
	uint8 buf[64];
	struct uio uio = { (uint64)(unsigned long)buf, sizeof(buf), false };
	return soreceive(so, &uio, NULL, 0, true);
}

static void check_reuseport_pick(int ncpu)
{
	enum { N = 5 };   // prime: no common factor with any CPU count
	host_set_ncpu(ncpu);
	struct socket *g[N];
	uint16 lport = (uint16)(7000 + ncpu);
	for (int k = 0; k < N; k++) {
		struct sockaddr_in sin;
		g[k] = fx_udp_socket(SO_OPT_REUSEPORT);
		sin_of(&sin, INADDR_ANY, lport);
		CHECK(g[k]->so_proto->pr_usrreqs->pru_bind(g[k], &sin) == 0);
	}
	uint8 frame[128];
	int hits[N] = { 0 };
	for (int i = 0; i < FLOWS; i++) {
		uint32 faddr = rnd_faddr();
		uint16 fport = rnd_port();
		int len = mk_frame(frame, faddr, fport, FX_ADDR, lport);
		uint32 h = rx_hash(frame, len);
		uint32 want = in_localgroup_pick(h, N);   // members in bind order
		fx_inject(ETHERTYPE_IP, frame + ETHER_HDR_LEN, len - ETHER_HDR_LEN);
		for (int k = 0; k < N; k++) {
			long got = rd(g[k]);
			CHECK(got == ((uint32)k == want ? 4 : -EAGAIN));
		}
		hits[want]++;
	}
	for (int k = 0; k < N; k++)
		CHECK(hits[k] > 0);   // the test did exercise every member
	for (int k = 0; k < N; k++)
		fx_udp_close(g[k]);
}

static void flowhash_reuseport_pick_uses_rx_hash(void)
{
	setup();
	check_reuseport_pick(1);
	check_reuseport_pick(2);
	check_reuseport_pick(4);
	check_reuseport_pick(8);
}

// TCP: the netisr that owns a connection (tcp_tuplecpu: where connect
// moves it, and what tcp_input checks a segment against) is the netisr
// its received segments are dispatched to.
static void flowhash_tcp_owner_is_rx_netisr(void)
{
	uint8 frame[128];
	setup();
	for (int ncpu = 1; ncpu <= 8; ncpu *= 2) {
		host_set_ncpu(ncpu);
		for (int i = 0; i < FLOWS; i++) {
			uint32 faddr = rnd_faddr();
			uint16 fport = rnd_port(), lport = rnd_port();
			uint8 th[20] = { fport >> 8, fport & 0xff, lport >> 8, lport & 0xff };
			th[12] = 5 << 4;   // data offset: 20 bytes
			th[13] = 0x10;     // ACK
			memcpy(frame, fx_mac, 6);
			memcpy(frame + 6, gw_mac, 6);
			frame[12] = ETHERTYPE_IP >> 8, frame[13] = ETHERTYPE_IP & 0xff;
			int len = ETHER_HDR_LEN + fx_ip(frame + ETHER_HDR_LEN, IPPROTO_TCP, faddr,
							FX_ADDR, 1, 0, th, sizeof(th));
			int rx = netisr_hashcpu(rx_hash(frame, len));
			CHECK(tcp_tuplecpu(FX_ADDR, lport, faddr, fport) == rx);
		}
	}
}

const struct host_test flowhash_tests[] = {
	{ flowhash_tcp_owner_is_rx_netisr, "flowhash_tcp_owner_is_rx_netisr" },
	{ flowhash_rx_netisr_is_connected_socket_netisr,
	  "flowhash_rx_netisr_is_connected_socket_netisr" },
	{ flowhash_reuseport_pick_uses_rx_hash, "flowhash_reuseport_pick_uses_rx_hash" },
	{ NULL, NULL },
};
