// e1000 knobs and statistics (dev.e1000.N.*), and the driver's self-test.
//
// Problem: a student (or a test) must see what the NIC did -- link, frames
// and bytes each way, drops and why -- and the hardware keeps its own
// counters in registers that clear when read [E1000 13.7].
//
// Idea: every statistic register we care about is read (a) once a second
// from a callout and (b) whenever one of its knobs is read, and added into
// a 64-bit software total under sc_stat_lock, so no read loses counts and
// 32-bit registers cannot wrap unseen. Software counters kept by the
// driver itself (drivers/e1000.c) are exposed directly.
//
// Knobs, per unit N (all read-only unless marked):
//   dev.e1000.N.mac            station address
//   dev.e1000.N.link           1 if STATUS.LU
//   dev.e1000.N.itr            (rw) interrupt rate limit per second, 0 = off
//   dev.e1000.N.txcsum, tso    (rw) TCP checksum offload, TCP segmentation
//                              offload (1 = on, the default)
//   dev.e1000.N.tx_tso/tx_csum/tx_collapsed  offload counters
//   dev.e1000.N.txblast        (rw) bench: raw frames flat out, see below
//   dev.e1000.N.txblast_size/txblast_frames/txblast_us  its size and result
//   dev.e1000.N.rx_packets/rx_bytes/rx_errors/rx_drops/rx_overruns,
//   dev.e1000.N.tx_packets/tx_bytes/tx_drops, intr, rx_max_batch,
//   dev.e1000.N.irq_moves      (interrupt steering: net/netisr_steer.c)
//   dev.e1000.N.link_changes   software counters (see drivers/e1000.h)
//   dev.e1000.N.hw.<register>  hardware statistics, lower-case manual names
//   dev.e1000.N.test_arp       (rw) driver test aid, see below
//   dev.e1000.N.rx_hold, rx_release (rw), rx_waiting  receive hold, a bench
//                              and test aid: drivers/e1000_hold.c
//
// Test aid: writing 1 to dev.e1000.N.test_arp sends a hand-built ARP
// request "who has 10.0.2.2? tell 10.0.2.15"; writing N <= 256 sends N of
// them back to back (a burst, to see batching); a bigger value
// is the target IPv4 address as a number (0x0a000203); the next ARP reply
// is printed on the console. Reading it gives the number of ARP replies
// seen. With slirp (even restrict=on) the gateway 10.0.2.2 answers. The
// request is queued straight onto the driver's send queue and the reply
// is spotted in the RX interrupt (e1000_test_rx), so it exercises reset,
// TX, RX and the interrupt without IP, ARP or the netisrs (the reply
// still goes up to the stack as every frame does); keep it for driver
// debugging only.
//
// Locking: sc_stat_lock protects sc_hw[] and the read-accumulate of the
// registers; the knob descriptors are [i] after e1000_sysctl_attach.
// sc_stat_callout is not under sc_stat_lock: attach arms it once, and
// after that only its own handler re-arms it (kernel/callout.c locks the
// callout itself).
// Testing: `sysctl dev.e1000`; `sysctl dev.e1000.0.test_arp=1`.
// References: [E1000 13.7] statistics; RFC 826 (ARP packet format).
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/lock.h"
#include "kernel/printf.h"
#include "kernel/string.h"
#include "kernel/errno.h"
#include "kernel/kalloc.h"
#include "kernel/sysctl.h"
#include "drivers/e1000.h"

// [E1000 13.7] the statistics registers we accumulate; `wide` ones are
// 64 bits in two registers (low first: reading high clears both).
static const struct {
	const char *name;
	uint32 reg;
	bool wide;
	const char *descr;
} e1000_hwstats[E1000_NHWSTAT] = {
	{ "crcerrs", E1000_CRCERRS, false, "frames with CRC errors" },
	{ "rxerrc", E1000_RXERRC, false, "receive errors" },
	{ "mpc", E1000_MPC, false, "missed packets: receive FIFO full" },
	{ "colc", E1000_COLC, false, "collisions" },
	{ "rlec", E1000_RLEC, false, "receive length errors" },
	{ "gprc", E1000_GPRC, false, "good packets received" },
	{ "bprc", E1000_BPRC, false, "broadcast packets received" },
	{ "mprc", E1000_MPRC, false, "multicast packets received" },
	{ "gptc", E1000_GPTC, false, "good packets transmitted" },
	{ "gorc", E1000_GORCL, true, "good octets received" },
	{ "gotc", E1000_GOTCL, true, "good octets transmitted" },
	{ "rnbc", E1000_RNBC, false, "receive no buffers: RX ring was empty" },
	{ "ruc", E1000_RUC, false, "receive undersize" },
	{ "roc", E1000_ROC, false, "receive oversize" },
	{ "tpr", E1000_TPR, false, "total packets received" },
	{ "tpt", E1000_TPT, false, "total packets transmitted" },
};

// Add the hardware counters into sc_hw[]. Any context; does not sleep.
void e1000_stats_update(struct e1000_softc *sc)
{
	acquire(&sc->sc_stat_lock);
	for (int i = 0; i < E1000_NHWSTAT; i++) {
		uint64 v = e1000_rd(sc, e1000_hwstats[i].reg);
		if (e1000_hwstats[i].wide)
			v |= (uint64)e1000_rd(sc, e1000_hwstats[i].reg + 4) << 32;
		sc->sc_hw[i] += v;
	}
	release(&sc->sc_stat_lock);
}

// Callout, once a second on hart 0 (interrupt context).
static void e1000_stat_tick(void *arg)
{
	struct e1000_softc *sc = arg;
	e1000_stats_update(sc);
	callout_reset(&sc->sc_stat_callout, 1000, e1000_stat_tick, sc);
}

static int e1000_sysctl_hw(struct sysctl_oid *oid, int64 *val, bool write)
{
	struct e1000_knob *k = container_of(oid, struct e1000_knob, k_oid);
	struct e1000_softc *sc = k->k_sc;
	e1000_stats_update(sc);
	acquire(&sc->sc_stat_lock);
	*val = sc->sc_hw[k->k_idx];
	release(&sc->sc_stat_lock);
	return 0;
}

static int e1000_sysctl_rxtime(struct sysctl_oid *oid, int64 *val, bool write)
{
	struct e1000_knob *k = container_of(oid, struct e1000_knob, k_oid);
	*val = __atomic_load_n(&k->k_sc->sc_rx_ticks, __ATOMIC_RELAXED) / (TIMEBASE / 1000000);
	return 0;
}

static int e1000_sysctl_itr(struct sysctl_oid *oid, int64 *val, bool write)
{
	struct e1000_knob *k = container_of(oid, struct e1000_knob, k_oid);
	if (!write) {
		*val = __atomic_load_n(&k->k_sc->sc_itr_rate, __ATOMIC_RELAXED);
		return 0;
	}
	// ITR is 16 bits of 256 ns: rates below ~60/s do not fit.
	if (*val > 0 && *val < 100)   // the range [0, E1000_ITR_MAX] is checked
		return -EINVAL;
	e1000_set_itr(k->k_sc, *val);
	return 0;
}

// dev.e1000.N.txcsum / tso: whether the stack may leave TCP checksums
// (IFCAP_TXCSUM) or the cutting of large TCP packets (IFCAP_TSO) to this
// interface. A packet already marked is still offloaded after a switch
// goes off: the driver goes by the packet's flags.
static int e1000_sysctl_cap(struct sysctl_oid *oid, int64 *val, bool write)
{
	struct e1000_knob *k = container_of(oid, struct e1000_knob, k_oid);
	int *hw = &k->k_sc->sc_if.if_hwassist;
	if (!write) {
		*val = (__atomic_load_n(hw, __ATOMIC_RELAXED) & k->k_idx) != 0;
		return 0;
	}
	if (*val)
		__atomic_or_fetch(hw, k->k_idx, __ATOMIC_RELAXED);
	else
		__atomic_and_fetch(hw, ~k->k_idx, __ATOMIC_RELAXED);
	return 0;
}

// Build "who has target? tell 10.0.2.15" [RFC 826] in one mbuf and queue
// it (without starting: the caller does, once for a whole burst).
// Returns ifq_enqueue's result (-ENOBUFS: queue full, counted by ifq).
static int e1000_test_arp_queue(struct e1000_softc *sc, uint32 target)
{
	static const uint8 hdr[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };  // Ethernet, IPv4, request
	static const uint8 me[4] = { 10, 0, 2, 15 };
	struct mbuf *m = m_gethdr();
	if (m == NULL)
		return -ENOMEM;
	uint8 *p = mtod(m, uint8 *);
	memset(p, 0xff, 6);            // to: broadcast
	memcpy(p + 6, sc->sc_mac, 6);  // from: us
	p[12] = 0x08, p[13] = 0x06;    // EtherType ARP
	memcpy(p + 14, hdr, 8);
	memcpy(p + 22, sc->sc_mac, 6); // sender hardware address
	memcpy(p + 28, me, 4);         // sender protocol address
	memset(p + 32, 0, 6);          // target hardware address: unknown
	for (int i = 0; i < 4; i++)
		p[38 + i] = target >> (24 - 8 * i);
	m->m_len = m->m_pkthdr.ph_len = 42;  // TCTL.PSP pads it to the minimum
	return ifq_enqueue(&sc->sc_ifq, m);  // consumes m
}

static int e1000_sysctl_test_arp(struct sysctl_oid *oid, int64 *val, bool write)
{
	struct e1000_knob *k = container_of(oid, struct e1000_knob, k_oid);
	struct e1000_softc *sc = k->k_sc;
	if (!write) {
		*val = __atomic_load_n(&sc->sc_test_arp_replies, __ATOMIC_RELAXED);
		return 0;
	}
	// 1..256: that many requests for 10.0.2.2, queued back to back (a
	// burst: the ring takes them in one start pass, one TDT write);
	// larger: one request for that IPv4 address.
	int count = *val <= 256 ? *val : 1;
	uint32 target = *val <= 256 ? 0x0a000202 : (uint32)*val;
	int r = 0;
	__atomic_store_n(&sc->sc_test_arp_armed, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < count; i++)
		if ((r = e1000_test_arp_queue(sc, target)) == -ENOMEM)
			break;
	ifq_start(&sc->sc_ifq);
	return r == -ENOMEM ? r : 0;
}

// dev.e1000.N.txblast=MS: the raw transmit rate (make bench's "e1000
// raw transmit"): for MS milliseconds, frames of dev.e1000.N.txblast_size
// bytes (destination broadcast, the bench's ethertype 0x88B5, which
// nothing handles) go through the send queue and start routine as fast
// as they can be built, 32 per ifq_start; the frames sent and the
// microseconds it took are read back from txblast_frames / txblast_us.
// Runs in the writer's system call, interrupts on; nothing else of this
// interface's traffic stops, it only waits in the same queue.
static int e1000_sysctl_txblast(struct sysctl_oid *oid, int64 *val, bool write)
{
	struct e1000_knob *k = container_of(oid, struct e1000_knob, k_oid);
	struct e1000_softc *sc = k->k_sc;
	if (!write) {
		*val = 0;
		return 0;
	}
	int size = __atomic_load_n(&sc->sc_txblast_size, __ATOMIC_RELAXED);
	uint64 t0 = r_time(), end = t0 + (uint64)*val * (TIMEBASE / 1000);
	uint64 sent0 = sc->sc_tx_packets;
	while (r_time() < end) {
		for (int i = 0; i < 32 && ifq_len(&sc->sc_ifq) < E1000_IFQ_MAXLEN / 2; i++) {
			struct mbuf *m = m_getspace(size, 0);
			if (m == NULL)
				break;
			uint8 *p = mtod(m, uint8 *);
			memset(p, 0xff, 6);
			memcpy(p + 6, sc->sc_mac, 6);
			p[12] = 0x88, p[13] = 0xb5;
			if (ifq_enqueue(&sc->sc_ifq, m) < 0)
				break;
		}
		ifq_start(&sc->sc_ifq);
	}
	__atomic_store_n(&sc->sc_txblast_us, (r_time() - t0) / (TIMEBASE / 1000000),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&sc->sc_txblast_frames, sc->sc_tx_packets - sent0, __ATOMIC_RELAXED);
	return 0;
}

// Called for every good received frame (interrupt handler): count ARP
// replies; print the first one after the knob was written.
void e1000_test_rx(struct e1000_softc *sc, const uint8 *fr, int len)
{
	if (len < 42 || fr[12] != 0x08 || fr[13] != 0x06 || fr[20] != 0 || fr[21] != 2)
		return;
	__atomic_add_fetch(&sc->sc_test_arp_replies, 1, __ATOMIC_RELAXED);
	if (!__atomic_exchange_n(&sc->sc_test_arp_armed, 0, __ATOMIC_RELAXED))
		return;
	printf("e1000 %d: test_arp: reply: %d.%d.%d.%d is at "
	       "%02x:%02x:%02x:%02x:%02x:%02x\n", sc->sc_unit, fr[28], fr[29], fr[30],
	       fr[31], fr[22], fr[23], fr[24], fr[25], fr[26], fr[27]);
}

// Fill in and register the next knob of sc.
// A writable knob (a handler) takes the values [min, max].
static void e1000_knob(struct e1000_softc *sc, int *n, const char *name, enum sysctl_kind kind,
		       int flags, void *ptr, int (*handler)(struct sysctl_oid *, int64 *, bool),
		       int idx, int64 min, int64 max, const char *descr)
{
	KASSERT(*n < E1000_NKNOB);
	struct e1000_knob *k = &sc->sc_knob[(*n)++];
	snprintf(k->k_name, sizeof(k->k_name), "dev.e1000.%d.%s", sc->sc_unit, name);
	k->k_sc = sc;
	k->k_idx = idx;
	k->k_oid.name = k->k_name;
	k->k_oid.descr = descr;
	k->k_oid.kind = kind;
	k->k_oid.flags = flags;
	k->k_oid.min = min;
	k->k_oid.max = max;
	k->k_oid.ptr = ptr;
	k->k_oid.handler = handler;
	sysctl_add(&k->k_oid);
}

#define E1000_SWKNOB(field, nm, d) \
	e1000_knob(sc, &n, nm, SYSCTL_K_UINT64, SYSCTL_RD, &sc->field, NULL, 0, 0, 0, d)

// Register the knobs of sc and start the statistics callout. Boot, hart 0.
void e1000_sysctl_attach(struct e1000_softc *sc)
{
	char hwname[24];
	int n = 0;

	e1000_knob(sc, &n, "mac", SYSCTL_K_STRING, SYSCTL_RD, sc->sc_macstr, NULL, 0, 0, 0,
		   "station address");
	e1000_knob(sc, &n, "link", SYSCTL_K_INT, SYSCTL_RD, &sc->sc_link_up, NULL, 0, 0, 0,
		   "link up (STATUS.LU)");
	e1000_knob(sc, &n, "itr", SYSCTL_K_PROC, SYSCTL_RW, NULL, e1000_sysctl_itr, 0,
		   0, E1000_ITR_MAX, "interrupt rate limit per second (ITR), 0 = none");
	e1000_knob(sc, &n, "test_arp", SYSCTL_K_PROC, SYSCTL_RW | SYSCTL_ACT, NULL,
		   e1000_sysctl_test_arp, 0, 1, 0xffffffffL,
		   "test aid: write 1 (or N<=256) to ARP for 10.0.2.2; read: replies seen");
	e1000_knob(sc, &n, "txcsum", SYSCTL_K_PROC, SYSCTL_RW, NULL, e1000_sysctl_cap,
		   IFCAP_TXCSUM, 0, 1, "1: the device computes TCP checksums (context descriptor)");
	e1000_knob(sc, &n, "tso", SYSCTL_K_PROC, SYSCTL_RW, NULL, e1000_sysctl_cap,
		   IFCAP_TSO, 0, 1, "1: the device cuts TCP packets of up to 64 KB (TSO)");
	e1000_knob(sc, &n, "txblast", SYSCTL_K_PROC, SYSCTL_RW | SYSCTL_ACT, NULL,
		   e1000_sysctl_txblast, 0, 1, 10000,
		   "bench: write MS to send raw frames flat out for MS ms");
	e1000_knob(sc, &n, "txblast_size", SYSCTL_K_INT, SYSCTL_RW, &sc->sc_txblast_size, NULL,
		   0, 60, 1514, "bench: frame size (bytes, no CRC) txblast sends");
	e1000_knob(sc, &n, "rx_hold", SYSCTL_K_PROC, SYSCTL_RW, NULL, e1000_sysctl_rx_hold, 0,
		   0, 1, "bench/test: 1 = received frames wait in the ring (e1000_hold.c)");
	e1000_knob(sc, &n, "rx_release", SYSCTL_K_PROC, SYSCTL_RW | SYSCTL_ACT, NULL,
		   e1000_sysctl_rx_release, 0, 0, E1000_NRXDESC - 1,
		   "bench/test: write K: a held ring gives K frames to one interrupt");
	e1000_knob(sc, &n, "rx_waiting", SYSCTL_K_PROC, SYSCTL_RD, NULL, e1000_sysctl_rx_waiting,
		   0, 0, 0, "frames in the RX ring not yet taken (RDH - next)");
	E1000_SWKNOB(sc_txblast_frames, "txblast_frames", "bench: frames the last txblast sent");
	E1000_SWKNOB(sc_txblast_us, "txblast_us", "bench: microseconds the last txblast took");
	E1000_SWKNOB(sc_tx_tso, "tx_tso", "TSO packets sent (each several frames)");
	E1000_SWKNOB(sc_tx_csum, "tx_csum", "packets sent with the TCP checksum offloaded");
	E1000_SWKNOB(sc_tx_collapsed, "tx_collapsed", "packets copied: too many mbufs");
	E1000_SWKNOB(sc_rx_packets, "rx_packets", "frames received and handed up");
	E1000_SWKNOB(sc_rx_bytes, "rx_bytes", "bytes received (without CRC)");
	E1000_SWKNOB(sc_rx_errors, "rx_errors", "bad frames dropped");
	E1000_SWKNOB(sc_rx_drops, "rx_drops", "frames dropped: no memory to hand up");
	E1000_SWKNOB(sc_rx_overruns, "rx_overruns", "receiver overrun interrupts (RXO)");
	E1000_SWKNOB(sc_tx_packets, "tx_packets", "frames given to the device");
	E1000_SWKNOB(sc_tx_bytes, "tx_bytes", "bytes given to the device");
	E1000_SWKNOB(sc_tx_drops, "tx_drops", "frames dropped: too many segments or bad size");
	E1000_SWKNOB(sc_intr, "intr", "interrupts handled");
	E1000_SWKNOB(sc_rx_max_batch, "rx_max_batch", "most frames drained by one interrupt");
	E1000_SWKNOB(sc_steer.st_moves, "irq_moves",
		     "times the interrupt line moved to its frames' netisr (net.netisr.irq_follow)");
	E1000_SWKNOB(sc_link_changes, "link_changes", "link status change interrupts");
	e1000_knob(sc, &n, "rx_time_us", SYSCTL_K_PROC, SYSCTL_RD, NULL, e1000_sysctl_rxtime, 0,
		   0, 0, "microseconds spent draining the RX ring (under -icount shift=0: "
		   "thousands of guest instructions)");
	for (int i = 0; i < E1000_NHWSTAT; i++) {
		snprintf(hwname, sizeof(hwname), "hw.%s", e1000_hwstats[i].name);
		e1000_knob(sc, &n, hwname, SYSCTL_K_PROC, SYSCTL_RD, NULL, e1000_sysctl_hw, i,
			   0, 0, e1000_hwstats[i].descr);
	}
	callout_reset(&sc->sc_stat_callout, 1000, e1000_stat_tick, sc);
}
