// Intel 8254x (e1000) Ethernet driver: QEMU's 82540EM on the PCIe bus.
//
// Problem: move Ethernet frames between the network stack and the wire at
// full speed, on several harts, without losing frames in a burst and
// without an interrupt per frame, and never panic because of a packet.
//
// Idea: two rings of descriptors in memory, shared with the device
// [E1000 3.2.6, 3.4]. Each ring has a head (HEAD register, advanced by the
// device) and a tail (TAIL register, advanced by us):
//   RX: the device owns [RDH, RDT): empty 2 KiB buffers it may fill. When it
//       has written a frame into a buffer it sets DD in the descriptor and
//       moves RDH on. We take every descriptor with DD from sc_rx_next on,
//       hand the frame up, clear the descriptor and give it back by moving
//       RDT. Each buffer is an mbuf cluster, and a frame is handed up
//       without a copy: its mbuf goes to the stack and a fresh cluster
//       takes its place in the descriptor -- except a frame of at most
//       E1000_RX_COPYBREAK bytes, which is cheaper to copy into a small
//       mbuf. If no memory can be had, the frame is dropped (counted) and
//       its buffer stays: the ring never empties.
//   TX: we fill descriptors at TDT and move TDT on; the device sends from
//       TDH and, because every frame's last descriptor has RS, writes DD
//       back when done. [sc_tx_clean, sc_tx_tail) is in flight; reclaim
//       frees each frame once its EOP descriptor has DD. One slot is kept
//       empty so that TDH == TDT means "empty", never "full".
//   Offload: a TCP packet may leave its checksum to the device, and may
//     be up to 64 KB for the device to cut into frames (TSO); a context
//     descriptor before it says where the headers are, extended data
//     descriptors carry it (e1000_offload; docs/e1000.md 7b).
// One interrupt line (PLIC 33) signals "frames received" (RXT0), "ring
// running low" (RXDMT0), "overrun" (RXO), "link changed" (LSC) and "sent"
// (TXDW). ITR caps the interrupt rate; each interrupt drains every
// finished RX descriptor, so under load one interrupt carries many frames.
//
// Invariants:
//   - RX: descriptors sc_rx_next .. RDT-1 (mod N) belong to the device, and
//     RDT is always one behind sc_rx_next: RDT == sc_rx_next - 1 (mod N)
//     between interrupts. Every descriptor always has its buffer:
//     rd_addr == sc_rx_mbuf[i]->m_data, a cluster the stack never sees.
//   - TX: slots [sc_tx_clean, sc_tx_tail) are in flight; sc_tx_tail == TDT;
//     sc_tx_mbuf[i] != NULL exactly for in-flight EOP slots (the packet's
//     whole chain is freed when its EOP descriptor is done).
//   - the driver never writes a descriptor the device owns.
//
// Locking (lock legend: kernel/lock.h; field tags: drivers/e1000.h):
//   - RX runs only in e1000_intr, the PLIC handler, on whichever hart
//     claimed line 33. A claimed line is not delivered again until the
//     claim is completed, so one hart at a time: RX state is [rx], no lock.
//     (When the netisr polls the ring, this must become a lock.)
//   - start (e1000_start) is called by the interface send queue's
//     serializer (net/ifq: one CPU at a time) and, after reclaim, from the
//     interrupt. sc_tx_lock, "the driver lock", protects the TX ring, its
//     indices, its frame slots and TDT, so start and reclaim exclude each
//     other.
//   - the send queue (sc_ifq, net/ifq.c) has its own lock; start takes it
//     (ifq_dequeue) inside sc_tx_lock. sc_stat_lock: the accumulated
//     hardware statistics. Order (kernel/lock.h): ifq_start_lock (the
//     serializer's, around start) -> sc_tx_lock -> ifq_lock.
//   - the ring memory is shared with the device: a fence orders our
//     descriptor writes before the tail write that hands them over, and
//     our read of DD before our reads of the rest of the descriptor.
//
// Races:
//   - frame arrives while we drain: the device sets DD after we looked;
//     ICR.RXT0 is set again, so the line stays asserted and we run again.
//   - TX ring full: start stops dequeuing (packets wait in the send queue;
//     only a full queue drops, counted by ifq); TXDW reclaims and calls
//     ifq_start again. Nothing spins.
//   - TXDW on one hart while start runs on another: ifq_start from the
//     interrupt returns at once and the running owner makes another pass.
//   - reclaim vs. start on two harts: both under sc_tx_lock.
//   - statistics read by sysctl vs. the 1 s callout: sc_stat_lock.
//   - frames that arrive in the first second: QEMU's model holds every
//     frame for 1 s after RCTL is written (a quirk of the emulation, not
//     of the 82540EM), then delivers them in one burst. Attach waits that
//     second out (e1000_wait_rx_live), so boot ends with a receiver that
//     delivers at once: the first reply is not 0.85 s late.
//
// Life of a packet:
//   receive: wire -> device DMA into sc_rx_mbuf[i]'s cluster, DD -> PLIC
//     33 -> e1000_intr -> e1000_rxeof -> e1000_input (a fresh cluster
//     into the descriptor; the filled mbuf -> netisr_dispatch, hash read
//     from the headers in place -> ether_input on the flow's netisr)
//     -> RDT every E1000_RX_REFILL descriptors.
//   send: ip_output -> ifq_enqueue + ifq_start -> (serializer)
//     e1000_start -> ifq_dequeue -> e1000_encap (e1000_offload: a context
//     descriptor if the packet needs one; then a descriptor per mbuf)
//     -> fence, TDT -> device DMA, DD -> TXDW -> e1000_intr ->
//     e1000_txeof -> m_freem; ifq_start if packets wait.
//
// Testing: boot, then `sysctl dev.e1000` (link, MAC, counters);
// `sysctl dev.e1000.0.test_arp=1` sends an ARP request for 10.0.2.2 and
// the reply shows up on the console and in rx_packets / test_arp. gdb:
// break e1000_intr, e1000_rxeof, e1000_encap.
// References: [E1000] 8254x Software Developer's Manual (see
// drivers/e1000_reg.h): 3.2 RX descriptors/ring, 3.3-3.4 TX, 13.4
// registers, 13.7 statistics, 14.3-14.5 initialization; OpenBSD if_em.c
// and xv6-riscv's e1000 lab for understanding only.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/lock.h"
#include "kernel/printf.h"
#include "kernel/string.h"
#include "kernel/errno.h"
#include "kernel/kalloc.h"
#include "kernel/intr.h"
#include "drivers/pci.h"
#include "drivers/e1000.h"
#include "net/netisr.h"
#include "net/ether.h"
#include "net/byteorder.h"
#include "net/ip.h"

static struct e1000_softc e1000_softcs[E1000_MAXUNITS];
static int e1000_nunits;  // [i] boot, hart 0

static int e1000_attach(struct pci_dev *pd);

struct pci_driver e1000_pci_driver = {
	.pdrv_name = "e1000",
	.pdrv_vendor = 0x8086,
	.pdrv_device = 0x100e,  // 82540EM, QEMU's "e1000"
	.pdrv_attach = e1000_attach,
};

// Order all earlier memory and device accesses before all later ones:
// descriptor writes before the tail write that hands them to the device,
// the read of DD before the reads of the descriptor it guards.
// (RISC-V: "fence iorw, iorw" covers both memory and device I/O.)
static inline void e1000_barrier(void)
{
	asm volatile("fence iorw, iorw" ::: "memory");
}

static void e1000_delay_us(uint64 us)
{
	uint64 end = r_time() + us * (TIMEBASE / 1000000);
	while (r_time() < end)
		;
}

// ---- initialization [E1000 14] ---------------------------------------------

// Global reset [E1000 14.7, 13.4.1 CTRL.RST], then the general
// configuration of [E1000 14.3]. Interrupts are masked before and after:
// the reset does not clear IMS on every model. Boot only (busy-waits).
static int e1000_reset(struct e1000_softc *sc)
{
	e1000_wr(sc, E1000_IMC, 0xffffffff);
	e1000_wr(sc, E1000_CTRL, e1000_rd(sc, E1000_CTRL) | E1000_CTRL_RST);
	e1000_delay_us(10);  // [E1000 13.4.1]: wait at least 1 us after RST
	int us = 0;
	while (e1000_rd(sc, E1000_CTRL) & E1000_CTRL_RST) {
		if (++us > 10000)
			return -EIO;  // the bit should self-clear within ~1 us
		e1000_delay_us(1);
	}
	e1000_wr(sc, E1000_IMC, 0xffffffff);
	(void)e1000_rd(sc, E1000_ICR);  // clear anything pending

	// [E1000 14.3]: set link up, let the MAC take speed from the PHY;
	// clear link reset, PHY reset, invert-loss-of-signal and VLAN mode.
	uint32 ctrl = e1000_rd(sc, E1000_CTRL);
	ctrl |= E1000_CTRL_SLU | E1000_CTRL_ASDE;
	ctrl &= ~(E1000_CTRL_LRST | E1000_CTRL_PHY_RST | E1000_CTRL_ILOS | E1000_CTRL_VME);
	e1000_wr(sc, E1000_CTRL, ctrl);
	// [E1000 14.3]: no flow control, so these are zero.
	e1000_wr(sc, E1000_FCAL, 0);
	e1000_wr(sc, E1000_FCAH, 0);
	e1000_wr(sc, E1000_FCT, 0);
	e1000_wr(sc, E1000_FCTTV, 0);
	return 0;
}

// One 16-bit word of the EEPROM [E1000 13.4.4], or -EIO.
static int e1000_eeprom_read(struct e1000_softc *sc, int addr)
{
	e1000_wr(sc, E1000_EERD, E1000_EERD_ADDR(addr) | E1000_EERD_START);
	for (int us = 0; us < 10000; us++) {
		uint32 r = e1000_rd(sc, E1000_EERD);
		if (r & E1000_EERD_DONE)
			return E1000_EERD_DATA(r);
		e1000_delay_us(1);
	}
	return -EIO;
}

// The station address: RAL0/RAH0, loaded from the EEPROM at reset
// [E1000 13.5.2]; if they are empty, words 0..2 of the EEPROM [E1000 5.6.1].
static int e1000_read_mac(struct e1000_softc *sc)
{
	uint32 lo = e1000_rd(sc, E1000_RAL0), hi = e1000_rd(sc, E1000_RAH0);
	if (!(hi & E1000_RAH_AV)) {
		int w[3];
		for (int i = 0; i < 3; i++)
			if ((w[i] = e1000_eeprom_read(sc, i)) < 0)
				return w[i];
		lo = w[0] | w[1] << 16;
		hi = w[2];
	}
	for (int i = 0; i < 4; i++)
		sc->sc_mac[i] = lo >> (8 * i);
	sc->sc_mac[4] = hi;
	sc->sc_mac[5] = hi >> 8;
	// Make sure the receive filter matches exactly this address.
	e1000_wr(sc, E1000_RAL0, lo);
	e1000_wr(sc, E1000_RAH0, (hi & 0xffff) | E1000_RAH_AV);
	snprintf(sc->sc_macstr, sizeof(sc->sc_macstr), "%02x:%02x:%02x:%02x:%02x:%02x",
		 sc->sc_mac[0], sc->sc_mac[1], sc->sc_mac[2], sc->sc_mac[3],
		 sc->sc_mac[4], sc->sc_mac[5]);
	return 0;
}

static void e1000_free_rings(struct e1000_softc *sc)
{
	for (int i = 0; i < E1000_NRXDESC; i++) {
		if (sc->sc_rx_mbuf[i])
			m_freem(sc->sc_rx_mbuf[i]);
		sc->sc_rx_mbuf[i] = NULL;
	}
	if (sc->sc_rx_ring)
		kfree_page(sc->sc_rx_ring);
	if (sc->sc_tx_ring)
		kfree_page(sc->sc_tx_ring);
	sc->sc_rx_ring = NULL;
	sc->sc_tx_ring = NULL;
}

// A fresh receive buffer: a packet-header mbuf with a 2 KiB cluster whose
// data starts E1000_RX_ALIGN bytes in, so the IP header that follows the
// 14-byte Ethernet header is 4-aligned (and a TCP payload 8-aligned: see
// e1000.h). A cluster is kmalloc(2048): 2048-aligned inside one page, so
// physically contiguous (kernel virtual = physical) and one DMA segment.
// RCTL.BSIZE says 2048 bytes, but the device never writes more than 1522
// there: RCTL.LPE is off, so it discards longer frames [E1000 13.4.22]. NULL when memory ran out. Any context.
static struct mbuf *e1000_newbuf(void)
{
	struct mbuf *m = m_getcl(M_PKTHDR);
	if (m == NULL)
		return NULL;
	m->m_data += E1000_RX_ALIGN;
	return m;
}

// Receive initialization [E1000 14.4]: ring, buffers, then RCTL.
static int e1000_rx_init(struct e1000_softc *sc)
{
	_Static_assert(E1000_NRXDESC * sizeof(struct e1000_rx_desc) == PGSIZE,
		       "the RX ring is one page");
	_Static_assert(E1000_RXBUFSZ == MCLBYTES, "RCTL.BSIZE is the cluster size");
	_Static_assert(E1000_RX_ALIGN + 1522 <= MCLBYTES, "a frame fits a cluster");
	if ((sc->sc_rx_ring = kalloc()) == NULL)
		return -ENOMEM;
	memset(sc->sc_rx_ring, 0, PGSIZE);
	for (int i = 0; i < E1000_NRXDESC; i++) {
		if ((sc->sc_rx_mbuf[i] = e1000_newbuf()) == NULL)
			return -ENOMEM;
		sc->sc_rx_ring[i].rd_addr = (uint64)sc->sc_rx_mbuf[i]->m_data;
	}
	// [E1000 14.4]: multicast table zeroed, receive address set (done).
	for (int i = 0; i < E1000_MTA_N; i++)
		e1000_wr(sc, E1000_MTA + 4 * i, 0);
	uint64 pa = (uint64)sc->sc_rx_ring;
	e1000_wr(sc, E1000_RDBAL, (uint32)pa);
	e1000_wr(sc, E1000_RDBAH, (uint32)(pa >> 32));
	e1000_wr(sc, E1000_RDLEN, E1000_NRXDESC * sizeof(struct e1000_rx_desc));
	// Give the device every descriptor but one: RDH == RDT would mean
	// "no buffers" [E1000 3.2.6].
	sc->sc_rx_next = 0;
	e1000_wr(sc, E1000_RDH, 0);
	e1000_wr(sc, E1000_RDT, E1000_NRXDESC - 1);
	// No per-frame delay timer: ITR alone paces the interrupts.
	e1000_wr(sc, E1000_RDTR, 0);
	e1000_wr(sc, E1000_RADV, 0);
	e1000_wr(sc, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_SECRC |
		 E1000_RCTL_BSIZE_2048 | E1000_RCTL_RDMTS_HALF | E1000_RCTL_LBM_NO |
		 E1000_RCTL_MO_36);
	sc->sc_rx_live_at = r_time() + E1000_QEMU_RXHOLD_MS * (TIMEBASE / 1000);
	return 0;
}

// Wait until QEMU's model delivers frames. Every write of RCTL starts a
// one-second timer in QEMU's e1000 (hw/net/e1000.c, set_rx_control:
// flush_queue_timer), and while it runs the device refuses every frame:
// they wait in QEMU's queue and arrive all at once when it expires. A
// real 82540EM has no such delay. Without this wait, the shell is up
// about 0.15 s after the RCTL write, so the first reply (an ARP reply)
// reached arp_input ~0.85 s after it was on the wire, and a `ping -i 0.1`
// right after boot filled ARP's pending queue (ENOBUFS). Boot, hart 0:
// busy-waits; nothing else has started yet.
static void e1000_wait_rx_live(struct e1000_softc *sc)
{
	while (r_time() < sc->sc_rx_live_at)
		;
}

// Transmit initialization [E1000 14.5]: ring, TCTL, TIPG.
static int e1000_tx_init(struct e1000_softc *sc)
{
	_Static_assert(E1000_NTXDESC * sizeof(struct e1000_tx_desc) == PGSIZE,
		       "the TX ring is one page");
	if ((sc->sc_tx_ring = kalloc()) == NULL)
		return -ENOMEM;
	memset(sc->sc_tx_ring, 0, PGSIZE);
	uint64 pa = (uint64)sc->sc_tx_ring;
	e1000_wr(sc, E1000_TDBAL, (uint32)pa);
	e1000_wr(sc, E1000_TDBAH, (uint32)(pa >> 32));
	e1000_wr(sc, E1000_TDLEN, E1000_NTXDESC * sizeof(struct e1000_tx_desc));
	sc->sc_tx_tail = sc->sc_tx_clean = 0;
	e1000_wr(sc, E1000_TDH, 0);
	e1000_wr(sc, E1000_TDT, 0);
	e1000_wr(sc, E1000_TIDV, 0);
	e1000_wr(sc, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP |
		 E1000_TCTL_CT(E1000_TCTL_CT_DEFAULT) | E1000_TCTL_COLD(E1000_TCTL_COLD_FULL));
	e1000_wr(sc, E1000_TIPG, E1000_TIPG_IPGT | E1000_TIPG_IPGR1 | E1000_TIPG_IPGR2);
	return 0;
}

// Read STATUS.LU [E1000 13.4.2]; print when it changed (or always if
// verbose). Any context.
static void e1000_link_update(struct e1000_softc *sc, bool verbose)
{
	static const int speed[4] = { 10, 100, 1000, 1000 };
	uint32 st = e1000_rd(sc, E1000_STATUS);
	int up = (st & E1000_STATUS_LU) != 0;
	int old = __atomic_exchange_n(&sc->sc_link_up, up, __ATOMIC_RELAXED);
	if (!verbose && old == up)
		return;
	if (up)
		printf("e1000 %d: link up, %d Mb/s %s duplex\n", sc->sc_unit,
		       speed[E1000_STATUS_SPEED(st)], (st & E1000_STATUS_FD) ? "full" : "half");
	else
		printf("e1000 %d: link down\n", sc->sc_unit);
}

// ---- receive ------------------------------------------------------------------

// The mbuf that carries the frame in descriptor i up. A small frame (an
// ARP packet, a TCP ACK) is copied into an mbuf of its own and the
// cluster stays in the ring: one allocation and a copy of a few words
// cost less than a fresh mbuf and cluster, and the frame then holds 256
// bytes of a socket buffer, not 2304 (sb_mbcnt). Any other frame goes up
// in its cluster without a copy and a fresh cluster takes its place.
// NULL if memory ran out: the frame is dropped and descriptor i keeps its
// buffer, so the ring never runs short. [rx].
static struct mbuf *e1000_rx_take(struct e1000_softc *sc, int i, int len)
{
	/* LAB e1000 BEGIN: exercise 1, take the frame out of the ring */
	struct mbuf *m = sc->sc_rx_mbuf[i];
	if (len <= E1000_RX_COPYBREAK) {
		struct mbuf *n = m_gethdr();
		if (n == NULL)
			return NULL;
		n->m_data += E1000_RX_ALIGN;
		memcpy(n->m_data, m->m_data, len);
		return n;
	}
	struct mbuf *fresh = e1000_newbuf();
	if (fresh == NULL)
		return NULL;
	sc->sc_rx_mbuf[i] = fresh;
	sc->sc_rx_ring[i].rd_addr = (uint64)fresh->m_data;
	return m;
	/* LAB e1000 STUB
	(void)sc;
	(void)i;
	(void)len;
	return NULL;
	   LAB e1000 END */
}

// Hand the good frame in descriptor i up to the netisr that owns its
// flow (which runs ether_input). Interrupt handler only ([rx]); does not
// write RDT.
static void e1000_input(struct e1000_softc *sc, int i, int len)
{
	sc->sc_rx_packets++;
	sc->sc_rx_bytes += len;
	e1000_test_rx(sc, mtod(sc->sc_rx_mbuf[i], uint8 *), len);
	struct mbuf *m = e1000_rx_take(sc, i, len);
	if (m == NULL) {
		sc->sc_rx_drops++;
		IF_COUNT(&sc->sc_if, ifc_iqdrops, 1);
		return;
	}
	m->m_len = m->m_pkthdr.ph_len = len;
	m->m_pkthdr.ph_rcvif = &sc->sc_if;
	netisr_steer_frame(&sc->sc_steer, m);
	if (netisr_dispatch(m) < 0)   // consumes m; fails before net_init or
				      // when that netisr's queue is full
		IF_COUNT(&sc->sc_if, ifc_iqdrops, 1);
}

// Give the device back every descriptor before sc_rx_next: RDT = the last
// one taken [E1000 3.2.6]. [rx].
static void e1000_rx_refill(struct e1000_softc *sc)
{
	/* LAB e1000 BEGIN: exercise 2, give the descriptors back */
	e1000_barrier();  // written descriptors before the tail moves over them
	e1000_wr(sc, E1000_RDT, (sc->sc_rx_next + E1000_NRXDESC - 1) % E1000_NRXDESC);
	/* LAB e1000 STUB
	(void)sc;
	   LAB e1000 END */
}

// Drain the finished RX descriptors, at most one ring's worth. The tail
// moves every E1000_RX_REFILL descriptors, not only at the end, so that
// under load the device goes on filling buffers while a long batch is
// handed up. Because it does, the ring may never run dry under a flood:
// the bound keeps one interrupt from running forever (netisrs and
// processes on this hart get their turn), and if frames are left, a
// self-posted RXT0 (ICS) brings us back after the ITR gap.
// Interrupt handler only ([rx]).
static void e1000_rxeof(struct e1000_softc *sc)
{
	bool held;
	int n = 0, max = e1000_rx_quota(sc, &held);  // a ring's worth unless held
	uint64 t0 = r_time();

	for (;;) {
		if (n == max) {
			if (n == E1000_NRXDESC)
				e1000_wr(sc, E1000_ICS, E1000_ICR_RXT0);  // come back for the rest
			break;
		}
		int i = sc->sc_rx_next;
		struct e1000_rx_desc *d = &sc->sc_rx_ring[i];
		if (!(__atomic_load_n(&d->rd_status, __ATOMIC_RELAXED) & E1000_RXD_STAT_DD))
			break;
		e1000_barrier();  // read DD before the length and the data
		uint8 status = d->rd_status, errors = d->rd_errors;
		int len = d->rd_length;
		if (!(status & E1000_RXD_STAT_EOP)) {
			// A frame longer than one buffer: cannot happen with LPE
			// off; drop it and every descriptor up to its EOP.
			if (!sc->sc_rx_discard)
				sc->sc_rx_errors++;
			sc->sc_rx_discard = true;
		} else if (sc->sc_rx_discard) {
			sc->sc_rx_discard = false;  // the tail of a dropped frame
		} else if ((errors & E1000_RXD_ERR_FRAME) || len < 14 || len > E1000_MAXFRAME) {
			sc->sc_rx_errors++;
		} else {
			e1000_input(sc, i, len);
		}
		d->rd_status = 0;  // ours until RDT passes it back
		sc->sc_rx_next = (i + 1) % E1000_NRXDESC;
		if (++n % E1000_RX_REFILL == 0)
			e1000_rx_refill(sc);
	}
	e1000_rx_took(sc, held, n);   // a held ring (e1000_hold.c) counts them
	if (n == 0)
		return;
	if (n % E1000_RX_REFILL != 0)
		e1000_rx_refill(sc);
	if (n > sc->sc_rx_max_batch)
		sc->sc_rx_max_batch = n;
	sc->sc_rx_ticks += r_time() - t0;
}

// ---- transmit -------------------------------------------------------------------

static int e1000_tx_inflight(struct e1000_softc *sc)
{
	return (sc->sc_tx_tail - sc->sc_tx_clean + E1000_NTXDESC) % E1000_NTXDESC;
}

// Free the frames the device has finished with [E1000 3.3.3.2: DD].
// Only a frame's EOP descriptor has RS, so only it gets DD written back:
// look at the EOP slot of the oldest frame (the first slot from
// sc_tx_clean that holds an mbuf), not at sc_tx_clean itself, which for a
// multi-descriptor frame never gets DD. Caller holds sc_tx_lock. Any
// context.
static void e1000_txeof(struct e1000_softc *sc)
{
	KASSERT(holding(&sc->sc_tx_lock));
	while (sc->sc_tx_clean != sc->sc_tx_tail) {
		int last = sc->sc_tx_clean;
		while (sc->sc_tx_mbuf[last] == NULL && last != sc->sc_tx_tail)
			last = (last + 1) % E1000_NTXDESC;
		if (last == sc->sc_tx_tail)
			panic("e1000_txeof: in-flight slots without a frame");
		struct e1000_tx_desc *d = &sc->sc_tx_ring[last];
		if (!(__atomic_load_n(&d->td_status, __ATOMIC_RELAXED) & E1000_TXD_STAT_DD))
			break;  // the device is not done with it yet
		e1000_barrier();
		struct mbuf *m = sc->sc_tx_mbuf[last];
		sc->sc_tx_mbuf[last] = NULL;
		m_freem(m);
		for (int i = sc->sc_tx_clean; i != last; i = (i + 1) % E1000_NTXDESC)
			sc->sc_tx_ring[i].td_status = 0;
		d->td_status = 0;
		sc->sc_tx_clean = (last + 1) % E1000_NTXDESC;
	}
}

// ---- checksum offload and TSO [E1000 3.3.5-3.3.7] -------------------------
// A TCP packet from the stack may leave its checksum to us (PH_CSUM_TCP:
// th_sum holds the pseudo-header sum) and may be larger than the MTU
// (PH_TSO: cut it into frames of ph_tso_mss payload bytes). The device
// does both from a context descriptor that says where the headers are;
// it keeps the last one, so the checksum-only context is written once
// and again only after a TSO context replaced it (sc_tx_ctx).

#define E1000_IPOFF 14                    // the IP header, after Ethernet's
#define E1000_TCPOFF (E1000_IPOFF + 20)   // the TCP header (IP has no options)

// Write a context descriptor at the tail. tso: payload bytes paylen in
// frames of mss payload bytes after hdrlen bytes of headers. [tx].
static void e1000_put_ctx(struct e1000_softc *sc, bool tso, uint32 paylen, int hdrlen, int mss)
{
	struct e1000_ctx_desc *c = (struct e1000_ctx_desc *)&sc->sc_tx_ring[sc->sc_tx_tail];
	c->cd_ipcss = E1000_IPOFF;
	c->cd_ipcso = E1000_IPOFF + 10;          // ip_sum
	c->cd_ipcse = E1000_TCPOFF - 1;
	c->cd_tucss = E1000_TCPOFF;
	c->cd_tucso = E1000_TCPOFF + 16;         // th_sum
	c->cd_tucse = 0;
	c->cd_cmdlen = E1000_TXC_DEXT | E1000_TXC_TCP | E1000_TXC_IP |
		       (tso ? E1000_TXC_TSE | paylen : 0);
	c->cd_status = 0;
	c->cd_hdrlen = tso ? (uint8)hdrlen : 0;
	c->cd_mss = tso ? (uint16)mss : 0;
	sc->sc_tx_ctx = tso ? E1000_CTX_TSO : E1000_CTX_CSUM;
	sc->sc_tx_tail = (sc->sc_tx_tail + 1) % E1000_NTXDESC;
}

// Prepare the offload of packet m (len bytes): a context descriptor if
// needed, and the POPTS and command bits its data descriptors carry.
// Returns false if m cannot be offloaded (headers not where the device
// would look): a checksum is then finished in software; a TSO packet is
// dropped by the caller. [tx].
static bool e1000_offload(struct e1000_softc *sc, struct mbuf *m, int len, uint8 *popts,
			  uint8 *dcmd)
{
	*popts = 0;
	*dcmd = 0;
	if (!(m->m_pkthdr.ph_flags & PH_CSUM_TCP))
		return true;
	uint8 *p = mtod(m, uint8 *);
	if (m->m_len < E1000_TCPOFF + 20 || p[12] != 0x08 || p[13] != 0x00 ||
	    p[E1000_IPOFF] != 0x45)
		return false;   // not Ethernet + IPv4 without options + TCP in one mbuf
	int hdrlen = E1000_TCPOFF + (p[E1000_TCPOFF + 12] >> 4) * 4;
	if (m->m_pkthdr.ph_flags & PH_TSO) {
		int mss = (int)m->m_pkthdr.ph_tso_mss;
		if (m->m_len < hdrlen || mss <= 0 || hdrlen + mss > E1000_MAXFRAME - 4)
			return false;
		// The device sums each frame's IP header over ip_sum: zero it.
		p[E1000_IPOFF + 10] = p[E1000_IPOFF + 11] = 0;
		e1000_put_ctx(sc, true, (uint32)(len - hdrlen), hdrlen, mss);
		*popts = E1000_TXD_POPTS_TXSM | E1000_TXD_POPTS_IXSM;
		*dcmd = E1000_TXD_CMD_DEXT | E1000_TXD_CMD_TSE;
		sc->sc_tx_tso++;
		return true;
	}
	if (sc->sc_tx_ctx != E1000_CTX_CSUM)
		e1000_put_ctx(sc, false, 0, 0, 0);
	*popts = E1000_TXD_POPTS_TXSM;
	*dcmd = E1000_TXD_CMD_DEXT;
	sc->sc_tx_csum++;
	return true;
}

// m as a chain of at most E1000_TX_MAXSEG mbufs: itself, or a copy into
// clusters (m freed). NULL if memory ran out (m freed). [tx].
static struct mbuf *e1000_tx_collapse(struct e1000_softc *sc, struct mbuf *m, int nseg, int len)
{
	if (nseg <= E1000_TX_MAXSEG)
		return m;
	struct mbuf *n = m_getspace(len, 0);
	if (n != NULL) {
		n->m_pkthdr.ph_flags = m->m_pkthdr.ph_flags;
		n->m_pkthdr.ph_tso_mss = m->m_pkthdr.ph_tso_mss;
		int off = 0;
		for (struct mbuf *k = n; k; k = k->m_next) {
			m_copydata(m, off, k->m_len, mtod(k, char *));
			off += k->m_len;
		}
		sc->sc_tx_collapsed++;
	}
	m_freem(m);
	return n;
}

// Packet m made ready for the ring: its length checked (*len), its chain
// collapsed to at most E1000_TX_MAXSEG mbufs, its offload prepared (a
// context descriptor if needed; *popts, *dcmd for its data descriptors)
// or its checksum finished in software. Returns m (or its copy), or NULL
// if it was dropped (bad length, no memory, TSO the device cannot do);
// consumes m then. [tx].
static struct mbuf *e1000_tx_prepare(struct e1000_softc *sc, struct mbuf *m, int *len,
				     uint8 *popts, uint8 *dcmd)
{
	int nseg = 0;
	*len = 0;
	for (struct mbuf *n = m; n; n = n->m_next) {
		if (n->m_len > 0)
			nseg++;
		*len += n->m_len;
	}
	bool tso = m->m_pkthdr.ph_flags & PH_TSO;
	int maxlen = tso ? E1000_IPOFF + IP_MAXPACKET : E1000_MAXFRAME - 4;
	if (nseg == 0 || *len < 14 || *len > maxlen) {
		sc->sc_tx_drops++;  // a bad length: drop
		m_freem(m);
		return NULL;
	}
	if ((m = e1000_tx_collapse(sc, m, nseg, *len)) == NULL) {
		sc->sc_tx_drops++;
		return NULL;
	}
	if (!e1000_offload(sc, m, *len, popts, dcmd)) {
		if (tso) {
			sc->sc_tx_drops++;
			m_freem(m);
			return NULL;
		}
		in_cksum_finish(m, E1000_TCPOFF);
	}
	return m;
}

// Offload: the data descriptors from dfirst to the tail become extended
// data descriptors that ask for the checksums (and TSO) the context says
// (nothing to do if dcmd is 0: plain descriptors). [tx].
static void e1000_tx_offload_descs(struct e1000_softc *sc, int dfirst, uint8 popts, uint8 dcmd)
{
	for (int i = dfirst; dcmd && i != sc->sc_tx_tail; i = (i + 1) % E1000_NTXDESC) {
		sc->sc_tx_ring[i].td_cso = E1000_TXD_DTYP_D;
		sc->sc_tx_ring[i].td_css = popts;
		sc->sc_tx_ring[i].td_cmd |= dcmd;
	}
}

// Put packet m on the ring at the tail, one descriptor per non-empty
// mbuf [E1000 3.3.3] (does not write TDT), after a context descriptor if
// its offload needs one. Consumes m. Caller holds sc_tx_lock and has
// made sure E1000_TX_MAXSEG + 1 slots are free.
static void e1000_encap(struct e1000_softc *sc, struct mbuf *m)
{
	KASSERT(holding(&sc->sc_tx_lock));
	int len;
	uint8 popts, dcmd;
	if ((m = e1000_tx_prepare(sc, m, &len, &popts, &dcmd)) == NULL)
		return;
	int dfirst = sc->sc_tx_tail;   // the packet's first data descriptor
	/* LAB e1000 BEGIN: exercise 3, a descriptor per mbuf */
	int last = -1;
	for (struct mbuf *n = m; n; n = n->m_next) {
		if (n->m_len == 0)
			continue;
		// An mbuf's data (internal, a 2 KiB cluster or a page cluster,
		// all kmalloc objects aligned to their size) never crosses a
		// page, and kernel virtual = physical: one DMA segment.
		int i = sc->sc_tx_tail;
		struct e1000_tx_desc *d = &sc->sc_tx_ring[i];
		d->td_addr = (uint64)n->m_data;
		d->td_length = n->m_len;
		d->td_cso = d->td_css = 0;
		d->td_special = 0;
		d->td_status = 0;
		d->td_cmd = E1000_TXD_CMD_IFCS;
		last = i;
		sc->sc_tx_tail = (i + 1) % E1000_NTXDESC;
	}
	// [E1000 3.3.3.1] EOP on the frame's last descriptor; RS there only:
	// its DD means the whole frame is done, so the chain is freed then.
	sc->sc_tx_ring[last].td_cmd |= E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS;
	sc->sc_tx_mbuf[last] = m;
	/* LAB e1000 STUB
	sc->sc_tx_drops++;
	m_freem(m);
	return;
	   LAB e1000 END */
	e1000_tx_offload_descs(sc, dfirst, popts, dcmd);
	sc->sc_tx_packets++;
	sc->sc_tx_bytes += len;
}

// The start routine: reclaim, then move packets from the send queue to
// the ring while a worst-case packet fits, then hand them to the device
// with one TDT write [E1000 3.4]. Packets that do not fit stay queued
// until TXDW calls ifq_start again. Runs under ifq's serializer (one CPU
// at a time), in thread or interrupt context; does not sleep.
void e1000_start(struct ifqueue *ifq, void *softc)
{
	struct e1000_softc *sc = softc;
	struct mbuf *m;
	int posted = 0;

	acquire(&sc->sc_tx_lock);
	e1000_txeof(sc);
	// Keep one slot empty: TDT == TDH means empty [E1000 3.4].
	while (e1000_tx_inflight(sc) + E1000_TX_MAXSEG + 1 < E1000_NTXDESC &&
	       (m = ifq_dequeue(ifq)) != NULL) {
		e1000_encap(sc, m);
		posted++;
	}
	if (posted) {
		e1000_barrier();  // descriptors in memory before the device looks
		e1000_wr(sc, E1000_TDT, sc->sc_tx_tail);
	}
	release(&sc->sc_tx_lock);
}

// ---- interrupt ----------------------------------------------------------------

// PLIC line handler: runs on the hart that claimed the line, interrupts
// off, must not sleep. Reading ICR acknowledges every cause it returns
// [E1000 13.4.17]; a cause raised while we work sets ICR again, and the
// line stays asserted, so nothing is missed.
static void e1000_intr(void *arg)
{
	struct e1000_softc *sc = arg;
	uint32 icr = e1000_rd(sc, E1000_ICR);
	if (icr == 0)
		return;
	sc->sc_intr++;
	if (icr & E1000_ICR_LSC) {
		sc->sc_link_changes++;
		e1000_link_update(sc, false);
	}
	if (icr & E1000_ICR_RXO)
		sc->sc_rx_overruns++;
	// Drain RX on every interrupt, whatever the cause: a look at one
	// descriptor is cheap, and a TXDW interrupt then also picks up frames
	// whose own RXT0 is still held back by ITR.
	e1000_rxeof(sc);
	// The line follows the netisr the frames went to (net/netisr_steer.c).
	if (netisr_steer_end(&sc->sc_steer))
		intr_route(sc->sc_irq, sc->sc_steer.st_cpu);
	if (icr & E1000_ICR_TXDW) {
		acquire(&sc->sc_tx_lock);
		e1000_txeof(sc);
		release(&sc->sc_tx_lock);
		// Room again: run start for what waits (here, or on the CPU
		// that already runs it -- the serializer decides).
		if (ifq_len(&sc->sc_ifq) > 0)
			ifq_start(&sc->sc_ifq);
	}
}

// Set the interrupt throttle: at most rate interrupts per second, 0 for
// no limit [E1000 13.4.18]. Any context.
void e1000_set_itr(struct e1000_softc *sc, int rate)
{
	uint32 itr = rate > 0 ? 1000000000u / (rate * E1000_ITR_UNIT_NS) : 0;
	__atomic_store_n(&sc->sc_itr_rate, rate, __ATOMIC_RELAXED);
	e1000_wr(sc, E1000_ITR, itr);
}

// ---- attach ---------------------------------------------------------------------

// Attach the network interface em<unit>: MAC, MTU 1500, Ethernet output,
// 10.0.2.15/24 (QEMU slirp's guest address), up. Boot, hart 0.
static int e1000_ifattach(struct e1000_softc *sc)
{
	struct ifnet *ifp = &sc->sc_if;
	int r;
	snprintf(ifp->if_name, sizeof(ifp->if_name), "em%d", sc->sc_unit);
	ifp->if_mtu = 1500;
	ifp->if_hwassist = IFCAP_TXCSUM | IFCAP_TSO;   // dev.e1000.N.txcsum, tso
	memmove(ifp->if_lladdr, sc->sc_mac, ETHER_ADDR_LEN);
	ifp->if_softc = sc;
	ether_ifattach(ifp);
	if ((r = if_attach(ifp)) < 0)
		return r;
	if (sc->sc_unit == 0 && (r = if_setaddr(ifp, IPV4(10, 0, 2, 15), IPV4(255, 255, 255, 0))) < 0)
		return r;
	return if_up(ifp);   // the announcement waits for net_init (net/if.c)
}

// Bring up one e1000: reset, MAC, rings, interrupts [E1000 14.3-14.5].
// Boot, hart 0. Returns 0 or -Exxx (and leaves the device quiet).
static int e1000_attach(struct pci_dev *pd)
{
	int r;

	if (e1000_nunits == E1000_MAXUNITS)
		return -ENOSPC;
	if (pd->pd_bar[0] == 0 || pd->pd_barsize[0] < 0x20000 || pd->pd_irq < 0)
		return -ENXIO;
	struct e1000_softc *sc = &e1000_softcs[e1000_nunits];
	memset(sc, 0, sizeof(*sc));
	sc->sc_unit = e1000_nunits;
	sc->sc_regs = (volatile uint32 *)pd->pd_bar[0];
	sc->sc_irq = pd->pd_irq;
	sc->sc_txblast_size = 60;
	netisr_steer_init(&sc->sc_steer);
	initlock(&sc->sc_tx_lock, "e1000_tx");
	initlock(&sc->sc_stat_lock, "e1000_stat");
	callout_init(&sc->sc_stat_callout);

	if ((r = e1000_reset(sc)) < 0)
		goto fail;
	if ((r = e1000_read_mac(sc)) < 0)
		goto fail;
	if ((r = e1000_rx_init(sc)) < 0)
		goto fail_rings;
	if ((r = e1000_tx_init(sc)) < 0)
		goto fail_rings;
	snprintf(sc->sc_ifqname, sizeof(sc->sc_ifqname), "e1000.%d", sc->sc_unit);
	if ((r = ifq_init(&sc->sc_ifq, sc->sc_ifqname, E1000_IFQ_MAXLEN, e1000_start, sc)) < 0)
		goto fail_rings;
	if ((r = e1000_ifattach(sc)) < 0)
		goto fail_ifq;
	e1000_set_itr(sc, E1000_ITR_DEFAULT);
	if ((r = intr_register(sc->sc_irq, e1000_intr, sc)) < 0)
		goto fail_ifq;
	// [E1000 13.4.20] unmask the causes we handle (a frame that arrived
	// since RCTL.EN is still in ICR and interrupts at once).
	e1000_wr(sc, E1000_IMS, E1000_ICR_RXT0 | E1000_ICR_RXO | E1000_ICR_RXDMT0 |
		 E1000_ICR_LSC | E1000_ICR_TXDW);
	pd->pd_softc = sc;
	e1000_nunits++;
	printf("e1000 %d: %s, irq %d, %d rx / %d tx descriptors, itr %d/s\n",
	       sc->sc_unit, sc->sc_macstr, sc->sc_irq, E1000_NRXDESC, E1000_NTXDESC,
	       E1000_ITR_DEFAULT);
	e1000_link_update(sc, true);
	e1000_sysctl_attach(sc);
	e1000_wait_rx_live(sc);
	return 0;

fail_ifq:
	ifq_set_running(&sc->sc_ifq, false);
	ifq_destroy(&sc->sc_ifq);
fail_rings:
	e1000_wr(sc, E1000_RCTL, 0);
	e1000_wr(sc, E1000_TCTL, 0);
	e1000_free_rings(sc);
fail:
	e1000_wr(sc, E1000_IMC, 0xffffffff);
	return r;
}
