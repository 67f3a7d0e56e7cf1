// netisr: the network threads -- one per CPU, pinned, each draining its
// own LWKT port (DragonFly BSD's netisr model, written anew).
//
// Problem
//   Protocol state needs protection. Locks around every pcb and every
//   TCP timer would be many, fine-grained and easy to get wrong; one big
//   lock would serialise all CPUs.
//
// Idea
//   Partition instead of lock: every flow (an IPv4 4-tuple) belongs to
//   one CPU, chosen by a hash. Each CPU runs one netisr thread pinned to
//   it, and everything about a flow -- its packets, its socket requests,
//   its timers -- is done by that thread, so protocol state needs no
//   lock at all. Work arrives as LWKT messages (net/lwkt_msg.c) on the
//   thread's port; packets carry their message inside the mbuf header.
//
// Invariants
//   I1 netisr_hashcpu(netisr_hash_...(flow)) is a pure function of the
//      flow: every packet of a flow goes to the same netisr, so they are
//      handled in arrival order by one thread.
//   I2 The hash is symmetric: swapping (saddr, sport) with (daddr, dport)
//      gives the same value, so a connection's received packets and its
//      transmit-side requests (which name the addresses the other way
//      round) land on the same CPU.
//   I3 A netisr thread runs only on its CPU (kthread affinity) and is the
//      only reader of its port.
//   I4 Rollup hooks run after every batch of at most NETISR_BATCH
//      messages, and before the thread sleeps, so work deferred to them
//      (delayed ACKs) waits for at most one batch.
//
// Locking
//   Only the port lock (inside lwkt_msg.c). Counters are atomics, read by
//   sysctl on other CPUs. The tables of input functions and rollups are
//   filled at boot, before traffic ([i]).
//
// Races (named), and where each is handled
//   "dispatch before init": a driver interrupt delivers a frame before
//     netisr_init ran. netisr_dispatch_proto tests netisr_ready, frees the
//     frame and returns -ENXIO (the driver counts it as an input drop).
//   "packet resent by its handler": an input function turns the received
//     mbuf into a reply and dispatches it again (ICMP echo over loopback).
//     Its embedded message is not DONE while the handler runs;
//     netisr_dispatch_proto re-initialises it (lwkt_initmsg) before
//     sending, which is allowed because the handler owns the mbuf.
//   Everything else (lost wakeups, queue order) is lwkt_msg.c's.
//
// Life of a packet
//   e1000 RX interrupt -> netisr_dispatch(m) -> netisr_hash_mbuf(m, 14)
//   -> lwkt_sendmsg(netisr_cpuport(hash % ncpu), &m->m_pkthdr.ph_msg)
//   -> netisr_thread: lwkt_waitport -> netisr_packet -> ether_input(m)
//   -> ... -> end of batch: rollups (tcp delayed ACKs).
//
// Cost
//   Every received frame is hashed once, in the interrupt (the e1000's
//   steering, then dispatch reuses ph_flowhash); the usual frame (IPv4,
//   TCP or UDP, no options, not a fragment) by netisr_frame_hash_simple.
//
// Testing
//   make hosttest (tests/host/test_netisr.c): same flow -> same CPU, both
//   directions -> same CPU, every packet delivered once, rollups run,
//   lwkt_domsg to a netisr. In the kernel: sysctl net.netisr.
//   gdb: break netisr_packet.
//
// References
//   DragonFly BSD sys/net/netisr.c, netisr2.h (netisr_hashport,
//   cpuport); Toeplitz hash: Microsoft RSS specification (the symmetric
//   key trick is the motivation for I2; our mix is simpler).
#include "net/netisr.h"

static struct netisr netisrs[NETISR_MAXCPU];
static int netisr_ncpu;                                   // [i]
static int netisr_ready;                                  // [a]
static netisr_input_t netisr_inputs[NETISR_NPROTO];       // [i]
static netisr_rollup_t netisr_rollups[NETISR_MAXROLLUP];  // [i]
static int netisr_nrollup;                                // [i]

int netisr_register(enum netisr_proto proto, netisr_input_t fn)
{
	if ((int)proto < 0 || proto >= NETISR_NPROTO)
		return -EINVAL;
	netisr_inputs[proto] = fn;
	return 0;
}

int netisr_register_rollup(netisr_rollup_t fn)
{
	if (netisr_nrollup >= NETISR_MAXROLLUP)
		return -ENOSPC;
	netisr_rollups[netisr_nrollup++] = fn;
	return 0;
}

// ---- flow hash ---------------------------------------------------------------

// Murmur3's 32-bit finaliser: every input bit affects every output bit.
static uint32 fmix32(uint32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

// Arguments are numbers in host order (10.0.2.15 is 0x0a00020f). Ports
// count only for TCP (6) and UDP (17); pass 0 otherwise. I2: only
// symmetric combinations (xor, sum) of the two ends are used.
uint32 netisr_hash_ipv4(uint32 saddr, uint32 daddr, uint8 proto,
			uint16 sport, uint16 dport)
{
	if (proto != 6 && proto != 17)
		sport = dport = 0;
	uint32 a = (saddr ^ daddr) * 0x9e3779b1u + (saddr + daddr);
	uint32 p = (uint32)(sport ^ dport) | ((uint32)(uint16)(sport + dport) << 16);
	return fmix32(a ^ fmix32(p ^ proto));
}

static uint32 be32(const uint8 *p)
{
	return (uint32)p[0] << 24 | (uint32)p[1] << 16 | (uint32)p[2] << 8 | p[3];
}

static uint16 be16(const uint8 *p)
{
	return (uint16)(p[0] << 8 | p[1]);
}

// The n bytes at offset off of m: in place when the first mbuf holds
// them (a received frame always does: it is one cluster), else copied
// into buf. NULL if the packet is shorter. Borrows m.
static const uint8 *hdr_bytes(struct mbuf *m, int off, int n, uint8 *buf)
{
	if (m->m_len >= off + n)
		return mtod(m, const uint8 *) + off;
	return m_copydata(m, off, n, buf) < 0 ? NULL : buf;
}

uint32 netisr_hash_mbuf(struct mbuf *m, int off)
{
	uint8 ipbuf[20], portbuf[4];
	const uint8 *ip = hdr_bytes(m, off, sizeof(ipbuf), ipbuf), *ports = NULL;
	if (ip == NULL || (ip[0] >> 4) != 4)
		return 0;   // not IPv4 (or too short): CPU 0
	int hlen = (ip[0] & 0xf) * 4;
	uint8 proto = ip[9];
	bool fragment = (be16(ip + 6) & 0x3fff) != 0;   // MF or offset
	// RFC 791: fragments carry no ports after the first; hash them (and
	// every non-TCP/UDP packet) on the addresses only.
	if ((proto == 6 || proto == 17) && !fragment && hlen >= 20)
		ports = hdr_bytes(m, off + hlen, sizeof(portbuf), portbuf);
	if (fragment)
		proto = 0;
	return netisr_hash_ipv4(be32(ip + 12), be32(ip + 16), proto,
				ports ? be16(ports) : 0, ports ? be16(ports + 2) : 0);
}

int netisr_hashcpu(uint32 hash)
{
	int n = netisr_ncpu > 0 ? netisr_ncpu : net_ncpu();
	return hash % n;
}

// ---- ports ---------------------------------------------------------------------

struct netisr *netisr_get(int cpu)
{
	KASSERT(cpu >= 0 && cpu < NETISR_MAXCPU);
	return &netisrs[cpu];
}

struct lwkt_port *netisr_cpuport(int cpu)
{
	KASSERT(cpu >= 0 && cpu < netisr_ncpu);
	return &netisrs[cpu].ni_port;
}

// Packets queued on one netisr at most (sysctl net.netisr.maxqlen): under
// a flood the input queue would otherwise grow until memory runs out and
// delay every packet behind it; beyond the bound the packet is dropped at
// dispatch and counted in net.netisr.<cpu>.qdrops.
static int netisr_maxqlen = NETISR_MAXQLEN;  // [a]
// 0 would drop every packet: the range starts at 1.
NET_SYSCTL_INT_RANGE(netisr_maxqlen, "net.netisr.maxqlen", SYSCTL_RW, &netisr_maxqlen,
		     1, NETISR_MAXQLEN_MAX, "packets queued per netisr before input is dropped");

static void count(uint64 *c)
{
	__atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
}

// Handler of packet messages: runs in the netisr thread of this CPU.
// Consumes the mbuf (and with it the message).
static void netisr_packet(struct lwkt_msg *msg)
{
	struct mbuf *m = container_of(msg, struct mbuf, m_pkthdr.ph_msg);
	struct netisr *ni = &netisrs[net_cpuid()];
	int proto = m->m_pkthdr.ph_proto;
	__atomic_sub_fetch(&ni->ni_qlen, 1, __ATOMIC_RELAXED);
	count(&ni->ni_pkts);
	netisr_input_t fn = proto >= 0 && proto < NETISR_NPROTO ? netisr_inputs[proto] : NULL;
	if (fn == NULL) {
		count(&ni->ni_dropped);
		m_freem(m);
		return;
	}
	// Indirect call: the input registered for ph_proto -- ether_input
	// (net/ether.c) for NETISR_ETHER, ip_input (net/ip.c) for NETISR_IP.
	fn(m);
}

int netisr_dispatch_proto(enum netisr_proto proto, struct mbuf *m)
{
	KASSERT(m->m_flags & M_PKTHDR);
	if (!__atomic_load_n(&netisr_ready, __ATOMIC_ACQUIRE)) {
		m_freem(m);   // race "dispatch before init"
		return -ENXIO;
	}
	if ((m->m_pkthdr.ph_flags & PH_HASHVALID) == 0) {
		m->m_pkthdr.ph_flowhash =
			netisr_hash_mbuf(m, proto == NETISR_ETHER ? 14 : 0);
		m->m_pkthdr.ph_flags |= PH_HASHVALID;
	}
	m->m_pkthdr.ph_proto = proto;
	// Race "packet resent by its handler": re-initialise the message.
	lwkt_initmsg(&m->m_pkthdr.ph_msg, NULL, netisr_packet, 0);
	int cpu = netisr_hashcpu(m->m_pkthdr.ph_flowhash);
	struct netisr *ni = &netisrs[cpu];
	if (__atomic_add_fetch(&ni->ni_qlen, 1, __ATOMIC_RELAXED) >
	    __atomic_load_n(&netisr_maxqlen, __ATOMIC_RELAXED)) {
		__atomic_sub_fetch(&ni->ni_qlen, 1, __ATOMIC_RELAXED);
		count(&ni->ni_qdrops);
		m_freem(m);
		return -ENOBUFS;
	}
	lwkt_sendmsg(netisr_cpuport(cpu), &m->m_pkthdr.ph_msg);
	return 0;
}

// The frame nearly every packet is -- IPv4 without options, TCP or UDP,
// not a fragment, its headers in the first mbuf (a received frame is one
// cluster) -- hashed from its bytes in place: the value netisr_hash_mbuf
// gives it (the same fields: addresses, protocol, ports), without its
// general path and calls. False for any other frame. 1.2% of a Linux ->
// guest segment's instructions (bench/icountab.py --dir l2g, one boot,
// temporary switch: 4,713 / 4,700 -> 4,652 / 4,643 per 1460 B).
static bool netisr_frame_hash_simple(struct mbuf *m)
{
	const uint8 *f = mtod(m, const uint8 *), *ip = f + 14;
	if (m->m_len < 14 + 20 + 4 || f[12] != 0x08 || f[13] != 0x00 || ip[0] != 0x45 ||
	    (ip[9] != 6 && ip[9] != 17) || (be16(ip + 6) & 0x3fff) != 0)
		return false;
	m->m_pkthdr.ph_flowhash = netisr_hash_ipv4(be32(ip + 12), be32(ip + 16), ip[9],
						   be16(ip + 20), be16(ip + 22));
	return true;
}

// An Ethernet frame: hash only IPv4 (ethertype 0x0800); ARP and the rest
// hash to 0 through netisr_hash_mbuf's version test failing -- unless we
// check the type here, which we do so an ARP payload is never mistaken.
static void netisr_frame_hash(struct mbuf *m)
{
	uint8 buf[2];
	const uint8 *type;
	if (m->m_pkthdr.ph_flags & PH_HASHVALID)
		return;
	if (netisr_frame_hash_simple(m)) {
		m->m_pkthdr.ph_flags |= PH_HASHVALID;
		return;
	}
	if ((type = hdr_bytes(m, 12, 2, buf)) == NULL || be16(type) != 0x0800)
		m->m_pkthdr.ph_flowhash = 0;
	else
		m->m_pkthdr.ph_flowhash = netisr_hash_mbuf(m, 14);
	m->m_pkthdr.ph_flags |= PH_HASHVALID;
}

int netisr_frame_cpu(struct mbuf *m)
{
	netisr_frame_hash(m);
	return netisr_hashcpu(m->m_pkthdr.ph_flowhash);
}

int netisr_dispatch(struct mbuf *m)
{
	netisr_frame_hash(m);
	return netisr_dispatch_proto(NETISR_ETHER, m);
}

// ---- the thread ----------------------------------------------------------------

// Run one message. Any message's handler owns it from here (lwkt_msg.c I1).
static void netisr_run(struct netisr *ni, struct lwkt_msg *msg)
{
	count(&ni->ni_msgs);
	// Indirect call: netisr_packet (above) for a received packet,
	// so_pru_dispatch (net/socket.c) for a socket request, or TCP's
	// tcp_timer_handler / tcp_connmsg_handler (net/tcp_timer.c,
	// net/tcp_usrreq.c) for a tcpcb's timer or connect message.
	msg->ms_handler(msg);
}

// The dispatch loop: sleep for a message, then drain up to a batch, then
// run the rollups (I4). Runs forever in the netisr thread of ni->ni_cpu.
static void netisr_thread(void *arg)
{
	struct netisr *ni = arg;
	lwkt_port_setowner(&ni->ni_port);
	for (;;) {
		/* LAB lwkt BEGIN: exercise 1, the dispatch loop */
		struct lwkt_msg *msg = lwkt_waitport(&ni->ni_port);
		int n = 0;
		do {
			netisr_run(ni, msg);
			n++;
		} while (n < NETISR_BATCH && (msg = lwkt_getport(&ni->ni_port)) != NULL);
		count(&ni->ni_batches);
		// Indirect call: the hooks of netisr_register_rollup -- in this
		// kernel tcp_rollup (net/tcp_output.c: TCP's delayed ACKs).
		for (int i = 0; i < netisr_nrollup; i++)
			netisr_rollups[i](ni->ni_cpu);
		/* LAB lwkt STUB
		netisr_run(ni, lwkt_waitport(&ni->ni_port));
		   LAB lwkt END */
	}
}

// Register net.netisr.<cpu>.<what> for one counter.
static void netisr_oid(struct netisr *ni, int i, const char *what, uint64 *p)
{
	char name[NET_SYSCTL_NAMELEN] = "net.netisr.";
	size_t len = strlen(name);
	name[len++] = '0' + ni->ni_cpu;   // NETISR_MAXCPU <= 10
	name[len++] = '.';
	size_t wl = MIN(strlen(what), sizeof(name) - 1 - len);
	memcpy(name + len, what, wl);
	name[len + wl] = 0;
	net_sysctl_add_u64(&ni->ni_oids[i], name, p, "netisr counter");
}

int netisr_init_ports(void)
{
	int n = net_ncpu();
	if (n > NETISR_MAXCPU)
		n = NETISR_MAXCPU;
	netisr_ncpu = n;
	for (int cpu = 0; cpu < n; cpu++) {
		struct netisr *ni = &netisrs[cpu];
		memcpy(ni->ni_name, "netisr0", 8);
		ni->ni_name[6] = '0' + cpu;
		ni->ni_cpu = cpu;
		lwkt_initport(&ni->ni_port, ni->ni_name);
		netisr_oid(ni, 0, "msgs", &ni->ni_msgs);
		netisr_oid(ni, 1, "batches", &ni->ni_batches);
		netisr_oid(ni, 2, "pkts", &ni->ni_pkts);
		netisr_oid(ni, 3, "dropped", &ni->ni_dropped);
		netisr_oid(ni, 4, "qdrops", &ni->ni_qdrops);
	}
	// Ports are ready before any thread runs: a message sent now simply
	// waits on the port until its thread starts.
	__atomic_store_n(&netisr_ready, 1, __ATOMIC_RELEASE);
	return 0;
}

int netisr_poll(int cpu)
{
	struct netisr *ni = &netisrs[cpu];
	struct lwkt_msg *msg;
	int n = 0;
	while ((msg = lwkt_getport(&ni->ni_port)) != NULL) {
		netisr_run(ni, msg);
		n++;
	}
	count(&ni->ni_batches);
	for (int i = 0; i < netisr_nrollup; i++)
		netisr_rollups[i](ni->ni_cpu);
	return n;
}

int netisr_init(void)
{
	int err = netisr_init_ports();
	if (err < 0)
		return err;
	for (int cpu = 0; cpu < netisr_ncpu; cpu++) {
		int pid = net_kthread_create(netisrs[cpu].ni_name, netisr_thread,
					     &netisrs[cpu], cpu);
		if (pid < 0)
			return pid;
		__atomic_store_n(&netisrs[cpu].ni_pid, pid, __ATOMIC_RELAXED);
	}
	return 0;
}
