// Host tests of net/netisr.c: the flow hash (same flow -> same CPU, both
// directions -> same CPU), dispatch of packets to the owning netisr (each
// delivered once, in order per flow), rollups after batches, lwkt_domsg to
// a netisr port, the sysctl counters. Two fake CPUs.
#include "tests/host/test.h"
#include "net/netisr.h"

#define NFLOW 16
#define PERFLOW 200

static void netisr_hash_same_flow_same_cpu_both_directions(void)
{
	host_set_ncpu(2);
	uint32 a = 0x0a00020f, b = 0x0a000202;
	uint32 h1 = netisr_hash_ipv4(a, b, 6, 1234, 80);
	CHECK(h1 == netisr_hash_ipv4(a, b, 6, 1234, 80));
	CHECK(h1 == netisr_hash_ipv4(b, a, 6, 80, 1234));   // reply direction
	CHECK(h1 != netisr_hash_ipv4(a, b, 6, 1235, 80));
	// ICMP: addresses only.
	CHECK(netisr_hash_ipv4(a, b, 1, 5, 6) == netisr_hash_ipv4(a, b, 1, 0, 0));
	// Spread: 256 flows use both CPUs, neither gets fewer than a quarter.
	int per[2] = { 0, 0 };
	for (int p = 0; p < 256; p++)
		per[netisr_hashcpu(netisr_hash_ipv4(a, b, 17, 1024 + p, 53))]++;
	CHECK(per[0] > 64 && per[1] > 64);
}

// An Ethernet + IPv4 + UDP frame of flow f, with seq in the payload.
static struct mbuf *frame(int f, int seq)
{
	uint8 pkt[14 + 20 + 8 + 4] = { 0 };
	pkt[12] = 0x08;                           // ethertype IPv4
	uint8 *ip = pkt + 14;
	ip[0] = 0x45;
	ip[9] = 17;                               // UDP
	ip[12] = 10, ip[15] = 1 + f % 4;          // 10.0.0.x
	ip[16] = 10, ip[19] = 99;
	uint8 *udp = ip + 20;
	udp[0] = 0x40, udp[1] = f;                // sport 0x40ff-ish
	udp[2] = 0, udp[3] = 7;                   // dport 7
	memcpy(udp + 8, &seq, 4);
	struct mbuf *m = m_gethdr();
	CHECK(m != NULL);
	CHECK(m_copyback(m, 0, sizeof(pkt), pkt) == 0);
	return m;
}

// The hash is read from the headers in place when the first mbuf holds
// them, and copied out when they straddle mbufs: the same value either
// way, and the value netisr_hash_ipv4 gives the host-order 4-tuple.
static void netisr_hash_mbuf_same_in_place_and_split(void)
{
	struct mbuf *m = frame(5, 0);
	int len = m->m_len;
	uint32 want = netisr_hash_ipv4(0x0a000002, 0x0a000063, 17, 0x4005, 7);
	CHECK(netisr_hash_mbuf(m, 14) == want);
	uint8 pkt[64];
	CHECK(m_copydata(m, 0, len, pkt) == 0);
	// Splits inside the IP header, between header and ports, in the ports.
	int cuts[] = { 1, 20, 27, 34, 35, 36, 40 };
	for (unsigned c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
		struct mbuf *a = m_gethdr(), *b = m_get();
		CHECK(a != NULL && b != NULL);
		memcpy(a->m_data, pkt, cuts[c]);
		a->m_len = cuts[c];
		memcpy(b->m_data, pkt + cuts[c], len - cuts[c]);
		b->m_len = len - cuts[c];
		a->m_next = b;
		a->m_pkthdr.ph_len = len;
		CHECK(netisr_hash_mbuf(a, 14) == want);
		m_freem(a);
	}
	// Too short for an IPv4 header: 0, read in place or not.
	m->m_len = m->m_pkthdr.ph_len = 14 + 19;
	CHECK(netisr_hash_mbuf(m, 14) == 0);
	m_freem(m);
}

static int got_count;                 // [a]
static int got_cpu[NFLOW];            // cpu that saw flow f, -1 none
static int got_last[NFLOW];           // last seq per flow
static int got_errors;                // [a]
static int rollups;                   // [a]

static void test_ether_input(struct mbuf *m)
{
	uint8 hdr[14 + 20 + 8 + 4];
	CHECK(m_copydata(m, 0, sizeof(hdr), hdr) == 0);
	int f = hdr[14 + 20 + 1], seq;
	memcpy(&seq, hdr + 14 + 20 + 8, 4);
	int cpu = net_cpuid();
	uint32 want = netisr_hash_mbuf(m, 14);
	if (cpu != netisr_hashcpu(want) || m->m_pkthdr.ph_flowhash != want)
		__atomic_add_fetch(&got_errors, 1, __ATOMIC_SEQ_CST);
	if (got_cpu[f] != -1 && got_cpu[f] != cpu)
		__atomic_add_fetch(&got_errors, 1, __ATOMIC_SEQ_CST);
	got_cpu[f] = cpu;
	if (seq != got_last[f] + 1)   // in order, each once
		__atomic_add_fetch(&got_errors, 1, __ATOMIC_SEQ_CST);
	got_last[f] = seq;
	m_freem(m);
	__atomic_add_fetch(&got_count, 1, __ATOMIC_SEQ_CST);
}

static void test_rollup(int cpu)
{
	(void)cpu;
	__atomic_add_fetch(&rollups, 1, __ATOMIC_SEQ_CST);
}

static void start_netisrs(void)
{
	host_set_ncpu(2);
	for (int f = 0; f < NFLOW; f++) {
		got_cpu[f] = -1;
		got_last[f] = -1;
	}
	CHECK(netisr_register(NETISR_ETHER, test_ether_input) == 0);
	CHECK(netisr_register_rollup(test_rollup) == 0);
	CHECK(netisr_init() == 0);
}

static void wait_count(int *ctr, int want)
{
	for (int i = 0; i < 5000 && __atomic_load_n(ctr, __ATOMIC_SEQ_CST) < want; i++)
		msleep(1);
	CHECK(__atomic_load_n(ctr, __ATOMIC_SEQ_CST) == want);
}

static void netisr_dispatch_delivers_in_order_on_flow_cpu(void)
{
	struct mbuf *m = frame(0, 0);
	CHECK(netisr_dispatch(m) == -ENXIO);   // before init: dropped, freed
	CHECK(mbstat.mbs_inuse == 0);
	start_netisrs();
	// Every packet must be queued here, however far the threads lag.
	CHECK(host_sysctl_write("net.netisr.maxqlen", NFLOW * PERFLOW) == 0);
	for (int seq = 0; seq < PERFLOW; seq++)
		for (int f = 0; f < NFLOW; f++)
			CHECK(netisr_dispatch(frame(f, seq)) == 0);
	wait_count(&got_count, NFLOW * PERFLOW);
	CHECK(got_errors == 0);
	for (int f = 0; f < NFLOW; f++)
		CHECK(got_last[f] == PERFLOW - 1);
	int used[2] = { 0, 0 };
	for (int f = 0; f < NFLOW; f++)
		used[got_cpu[f]]++;
	CHECK(used[0] > 0 && used[1] > 0);
	msleep(5);
	CHECK(mbstat.mbs_inuse == 0);
	int64 pkts = sysctl_get("net.netisr.0.pkts") + sysctl_get("net.netisr.1.pkts");
	CHECK(pkts == NFLOW * PERFLOW);
	CHECK(sysctl_get("net.netisr.0.msgs") + sysctl_get("net.netisr.1.msgs") == pkts);
	int64 batches = sysctl_get("net.netisr.0.batches") + sysctl_get("net.netisr.1.batches");
	CHECK(batches >= pkts / NETISR_BATCH && batches <= pkts);
	CHECK(__atomic_load_n(&rollups, __ATOMIC_SEQ_CST) == batches);
}

static int gate_entered, gate_open;   // [a] blocking_input's handshake

// A handler that holds its netisr until the test opens the gate.
static void blocking_input(struct mbuf *m)
{
	__atomic_add_fetch(&gate_entered, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&gate_open, __ATOMIC_SEQ_CST))
		msleep(1);
	m_freem(m);
	__atomic_add_fetch(&got_count, 1, __ATOMIC_SEQ_CST);
}

// At the queue bound every further packet is dropped at dispatch, freed,
// and counted in qdrops (a flood cannot queue without limit). A bound of 0
// would drop everything: the knob refuses it.
static void netisr_full_queue_drops_and_counts(void)
{
	start_netisrs();
	CHECK(netisr_register(NETISR_ETHER, blocking_input) == 0);
	CHECK(host_sysctl_write("net.netisr.maxqlen", 0) == -EINVAL);
	CHECK(host_sysctl_write("net.netisr.maxqlen", 1) == 0);
	// The first packet is taken off the queue and holds the thread ...
	CHECK(netisr_dispatch(frame(0, 0)) == 0);
	wait_count(&gate_entered, 1);
	// ... the second waits in the queue (its bound is 1) ...
	CHECK(netisr_dispatch(frame(0, 1)) == 0);
	// ... and the rest of the same flow (same netisr) are dropped.
	for (int seq = 2; seq < 12; seq++)
		CHECK(netisr_dispatch(frame(0, seq)) == -ENOBUFS);
	CHECK(sysctl_get("net.netisr.0.qdrops") + sysctl_get("net.netisr.1.qdrops") == 10);
	__atomic_store_n(&gate_open, 1, __ATOMIC_SEQ_CST);
	wait_count(&got_count, 2);
	CHECK(mbstat.mbs_inuse == 0);
	CHECK(host_sysctl_write("net.netisr.maxqlen", NETISR_MAXQLEN) == 0);
}

static void netisr_non_ip_goes_to_cpu0(void)
{
	start_netisrs();
	struct mbuf *m = frame(3, 0);
	uint8 arp[2] = { 0x08, 0x06 };
	CHECK(m_copyback(m, 12, 2, arp) == 0);
	CHECK(netisr_dispatch(m) == 0);
	wait_count(&got_count, 1);
	CHECK(got_cpu[3] == 0);
}

struct cpumsg {
	struct lwkt_msg msg;
	int cpu;
};

static void where_handler(struct lwkt_msg *msg)
{
	struct cpumsg *c = (struct cpumsg *)msg;
	c->cpu = net_cpuid();
	lwkt_replymsg(msg, 42);
}

static void netisr_domsg_runs_on_target_cpu(void)
{
	start_netisrs();
	for (int cpu = 0; cpu < 2; cpu++) {
		struct cpumsg c = { .cpu = -1 };
		lwkt_initmsg(&c.msg, NULL, where_handler, 0);
		CHECK(lwkt_domsg(netisr_cpuport(cpu), &c.msg) == 42);
		CHECK(c.cpu == cpu);
	}
	wait_count(&rollups, 2);
}

// One simulated interrupt of the e1000 handler: n frames of flow f
// counted, then the end-of-interrupt decision.
static bool steer_intr(struct netisr_steer *st, const int *flows, int n)
{
	for (int i = 0; i < n; i++) {
		struct mbuf *m = frame(flows[i], i);
		netisr_steer_frame(st, m);
		m_freem(m);
	}
	return netisr_steer_end(st);
}

// Interrupt steering (net/netisr_steer.c): the line stays on every hart
// until 4 interrupts in a row sent most frames to one netisr, then moves
// there; a mix without a majority and a single stray interrupt do not
// move it; irq_follow=0 gives it back to every hart.
static void netisr_steer_follows_the_flow(void)
{
	host_set_ncpu(2);
	int f0 = -1, f1 = -1;   // a flow of each netisr
	for (int f = 0; f < 64 && (f0 < 0 || f1 < 0); f++) {
		struct mbuf *m = frame(f, 0);
		int cpu = netisr_frame_cpu(m);
		m_freem(m);
		if (cpu == 0 && f0 < 0)
			f0 = f;
		if (cpu == 1 && f1 < 0)
			f1 = f;
	}
	CHECK(f0 >= 0 && f1 >= 0);
	int to1[] = { f1, f1, f1, f0 }, to0[] = { f0, f0, f0, f1 }, mix[] = { f0, f1 };
	struct netisr_steer st;
	netisr_steer_init(&st);
	CHECK(st.st_cpu == -1);
	for (int i = 0; i < 3; i++)
		CHECK(!steer_intr(&st, to1, 4));
	CHECK(steer_intr(&st, to1, 4) && st.st_cpu == 1 && st.st_moves == 1);
	CHECK(!steer_intr(&st, to1, 4));                 // already there
	for (int i = 0; i < 10; i++)                     // no majority: stays
		CHECK(!steer_intr(&st, mix, 2));
	for (int i = 0; i < 3; i++)                      // a streak broken ...
		CHECK(!steer_intr(&st, to0, 4));
	CHECK(!steer_intr(&st, to1, 4));                 // ... starts again
	for (int i = 0; i < 3; i++)
		CHECK(!steer_intr(&st, to0, 4));
	CHECK(steer_intr(&st, to0, 4) && st.st_cpu == 0 && st.st_moves == 2);
	CHECK(!steer_intr(&st, NULL, 0));                // an interrupt without frames
	CHECK(host_sysctl_write("net.netisr.irq_follow", 2) == -EINVAL);
	CHECK(host_sysctl_write("net.netisr.irq_follow", 0) == 0);
	CHECK(steer_intr(&st, to1, 4) && st.st_cpu == -1);
	for (int i = 0; i < 5; i++)
		CHECK(!steer_intr(&st, to1, 4) && st.st_cpu == -1);
	CHECK(host_sysctl_write("net.netisr.irq_follow", 1) == 0);
	host_set_ncpu(1);                                // one hart: nothing to steer
	netisr_steer_init(&st);
	for (int i = 0; i < 6; i++)
		CHECK(!steer_intr(&st, to1, 4) && st.st_cpu == -1);
	host_set_ncpu(2);
}

static void shim_virtual_clock_advances(void)
{
	uint64 t0 = net_now_ms();
	host_clock_advance(250);
	CHECK(net_now_ms() == t0 + 250);
}

// A frame's CPU (netisr_frame_cpu: a simple TCP or UDP frame is hashed in
// place by a shortcut) is the one netisr_hash_mbuf gives, for TCP and UDP
// frames and for the ones the shortcut leaves to it: a fragment, IP
// options, another protocol, a frame split before the ports.
static void netisr_frame_hash_shortcut_agrees(void)
{
	host_set_ncpu(2);
	for (int v = 0; v < 7; v++) {
		for (int f = 0; f < 40; f++) {
			struct mbuf *m = frame(f, 0);
			uint8 *ip = mtod(m, uint8 *) + 14;
			ip[12 + f % 4] = (uint8)(f * 37 + v);   // vary the addresses
			if (v == 1)
				ip[9] = 6;                        // TCP
			if (v == 2)
				ip[6] = 0x20;                     // MF: a first fragment
			if (v == 3)
				ip[7] = 0x10;                     // a later fragment
			if (v == 4)
				ip[9] = 1;                        // ICMP
			if (v == 5)
				ip[0] = 0x46;                     // options (IHL 6)
			if (v == 6)
				m->m_len = 14 + 20 + 2;           // the ports not all there
			uint32 want = netisr_hash_mbuf(m, 14);
			CHECK(netisr_frame_cpu(m) == netisr_hashcpu(want));
			CHECK(m->m_pkthdr.ph_flowhash == want);
			m->m_len = m->m_pkthdr.ph_len;
			m_freem(m);
		}
	}
}

const struct host_test netisr_tests[] = {
	{ netisr_frame_hash_shortcut_agrees, "netisr_frame_hash_shortcut_agrees" },
	{ netisr_hash_same_flow_same_cpu_both_directions,
	  "netisr_hash_same_flow_same_cpu_both_directions" },
	{ netisr_hash_mbuf_same_in_place_and_split,
	  "netisr_hash_mbuf_same_in_place_and_split" },
	{ netisr_dispatch_delivers_in_order_on_flow_cpu,
	  "netisr_dispatch_delivers_in_order_on_flow_cpu" },
	{ netisr_non_ip_goes_to_cpu0, "netisr_non_ip_goes_to_cpu0" },
	{ netisr_full_queue_drops_and_counts, "netisr_full_queue_drops_and_counts" },
	{ netisr_domsg_runs_on_target_cpu, "netisr_domsg_runs_on_target_cpu" },
	{ netisr_steer_follows_the_flow, "netisr_steer_follows_the_flow" },
	{ shim_virtual_clock_advances, "shim_virtual_clock_advances" },
	{ NULL, NULL },
};
