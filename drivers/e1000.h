// Intel 8254x (e1000) driver: the per-device state and the entry points.
// The design essay is at the top of drivers/e1000.c; registers and
// descriptors are in drivers/e1000_reg.h; a student's guide is
// docs/e1000.md.
#pragma once
#include "kernel/types.h"
#include "kernel/lock.h"
#include "kernel/callout.h"
#include "kernel/sysctl.h"
#include "drivers/e1000_reg.h"
#include "net/mbuf.h"
#include "net/ifq.h"
#include "net/if.h"
#include "net/netisr.h"

// Ring sizes. Each ring of 256 16-byte descriptors is exactly one page, so
// it is physically contiguous and 128-byte aligned as RDLEN/TDLEN require
// [E1000 13.4.27]. 256 RX descriptors (512 KiB of 2 KiB buffers) absorb a
// burst of ~370 KB -- e.g. a TCP window's worth of segments arriving
// back to back -- while the interrupt is throttled (ITR) and the netisr
// catches up; at 1 Gb/s that is ~3 ms of line rate, more than one ITR
// period. 256 TX descriptors let a sender queue a whole window without
// waiting for reclaim. Both must be multiples of 8 [E1000 3.2.6].
#define E1000_NRXDESC 256
#define E1000_NTXDESC 256
#define E1000_RXBUFSZ 2048   // RCTL.BSIZE = 2048 = MCLBYTES, an mbuf cluster
// The frame starts 6 bytes into its cluster: the IP header is 4-aligned
// (20), and a TCP segment with the timestamp option (66 bytes of headers,
// what Linux sends) has its header (40) and payload (72) 8-aligned, so the
// receive checksum and the copy to the reader move 8-byte words (with 2,
// the payload was 4 bytes off and the copy moved 4-byte halves).
#define E1000_RX_ALIGN 6
#define E1000_RX_REFILL 32   // RX descriptors handed back per RDT write
// Frames up to this long are copied into a small mbuf (e1000_rx_take).
#define E1000_RX_COPYBREAK (MHLEN - E1000_RX_ALIGN)
#define E1000_MAXFRAME 1518  // without CRC: 1514; RCTL.LPE is off
#define E1000_MAXUNITS 2
#define E1000_IFQ_MAXLEN 256 // interface send queue (net/ifq) bound
// Most descriptors (mbufs) one packet may use: a TSO packet of 64 KB is
// ~32 clusters of so_snd plus its header; a longer chain is copied into
// clusters first (e1000_tx_collapse). One more slot for a context.
#define E1000_TX_MAXSEG 40
#define E1000_ITR_DEFAULT 8000  // interrupts/s at most (ITR) [E1000 13.4.18]
#define E1000_ITR_MAX 1000000   // largest rate dev.e1000.N.itr accepts
// QEMU's e1000 accepts no frame for 1000 ms (virtual clock = the time
// CSR) after each RCTL write; a little more, so its timer has fired.
#define E1000_QEMU_RXHOLD_MS 1010

// Hardware statistics the driver accumulates (e1000.c: e1000_hwstats[]).
#define E1000_NHWSTAT 16
// Run-time sysctl knobs per unit (dev.e1000.N.*).
#define E1000_NKNOB 48

struct e1000_knob {
	struct sysctl_oid k_oid;          // [i] on sysctl's dynamic list
	struct e1000_softc *k_sc;         // [i]
	int k_idx;                        // [i] which statistic/knob
	char k_name[48];                  // [i] "dev.e1000.0.rx_packets"
};

// Lock legend: kernel/lock.h. [rx] = owned by the interrupt handler: the
// PLIC never delivers a claimed line to two harts at once, so the RX ring
// has one owner at a time and needs no lock. [tx] = sc_tx_lock.
// [st] = sc_stat_lock. Lock order (kernel/lock.h): ifq_start_lock ->
// sc_tx_lock -> ifq_lock (ifq_dequeue inside start); sc_stat_lock alone.
struct e1000_softc {
	int sc_unit;                      // [i]
	volatile uint32 *sc_regs;         // [i] BAR0, mapped by kernel/vm.c
	int sc_irq;                       // [i] PLIC line
	uint8 sc_mac[6];                  // [i]
	char sc_macstr[18];               // [i] "52:54:00:12:34:56"

	// Receive ring: the device owns descriptors [RDH, RDT), we own the rest.
	struct e1000_rx_desc *sc_rx_ring; // [rx] one page, kalloc
	struct mbuf *sc_rx_mbuf[E1000_NRXDESC]; // [rx] the mbuf+cluster the
	                                  //   descriptor's buffer belongs to
	int sc_rx_next;                   // [rx] next descriptor to look at
	bool sc_rx_discard;               // [rx] dropping the rest of a bad frame
	uint64 sc_rx_live_at;             // [i] time CSR when QEMU will deliver

	// Transmit ring: the device owns [TDH, TDT); [clean, tail) is in flight.
	struct spinlock sc_tx_lock;       // the driver lock: TX ring and counters
	struct e1000_tx_desc *sc_tx_ring; // [tx] one page, kalloc
	struct mbuf *sc_tx_mbuf[E1000_NTXDESC];  // [tx] the packet, on its EOP slot
	int sc_tx_tail;                   // [tx] next free slot, = TDT
	int sc_tx_clean;                  // [tx] oldest slot not yet reclaimed
	int sc_tx_ctx;                    // [tx] E1000_CTX_*: the device's context

	// The network interface ("em0"); its send queue sc_if.if_snd (alias
	// sc_ifq) has a serializer that calls e1000_start.
	struct ifnet sc_if;
	char sc_ifqname[16];              // [i] "e1000.0"

	// Software counters. Readers (sysctl) read without a lock: one word.
	uint64 sc_rx_packets;             // [rx] frames handed up
	uint64 sc_rx_bytes;               // [rx]
	uint64 sc_rx_errors;              // [rx] bad frames (errors, too long, runt)
	uint64 sc_rx_drops;               // [rx] no memory to hand a frame up
	uint64 sc_rx_overruns;            // [rx] ICR.RXO: device FIFO overran
	uint64 sc_tx_packets;             // [tx]
	uint64 sc_tx_bytes;               // [tx]
	uint64 sc_tx_tso;                 // [tx] TSO packets (each several frames)
	uint64 sc_tx_csum;                // [tx] packets with the TCP checksum offloaded
	uint64 sc_tx_collapsed;           // [tx] chains copied: too many mbufs
	uint64 sc_tx_drops;               // [tx] too many segments or bad size
                                  //   (queue-full drops: net.ifq.e1000.N)
	uint64 sc_intr;                   // [rx] interrupts handled
	struct netisr_steer sc_steer;     // [rx] the line follows the frames' netisr
	uint64 sc_rx_max_batch;           // [rx] most frames drained by one interrupt
	uint64 sc_rx_ticks;               // [rx] time CSR ticks spent draining RX
	uint64 sc_link_changes;           // [rx] LSC interrupts
	int sc_link_up;                   // [a] STATUS.LU as last seen
	int sc_itr_rate;                  // [a] interrupts/s limit, 0 = none

	// Hardware statistics, accumulated (the registers clear on read).
	struct spinlock sc_stat_lock;
	uint64 sc_hw[E1000_NHWSTAT];      // [st]
	struct callout sc_stat_callout;   // re-reads them every second; armed at
	                                  // attach, then re-armed only by its
	                                  // own handler (callout.c's locking)

	// Raw transmit bench (dev.e1000.N.txblast*).
	int sc_txblast_size;              // [a] frame size, 60..1514
	uint64 sc_txblast_frames;         // [a] result of the last run
	uint64 sc_txblast_us;             // [a]

	// Receive hold (dev.e1000.N.rx_hold/rx_release: drivers/e1000_hold.c).
	int sc_rx_hold;                   // [a] 1: frames wait in the ring
	int sc_rx_grant;                  // [a] held frames a drain may still take

	// Driver test aid (dev.e1000.N.test_arp).
	uint64 sc_test_arp_replies;       // [a] ARP replies seen
	int sc_test_arp_armed;            // [a] print the next ARP reply

	struct e1000_knob sc_knob[E1000_NKNOB];  // [i]
};

#define sc_ifq sc_if.if_snd   // the send queue lives in the ifnet

// The context descriptor the device holds (sc_tx_ctx).
#define E1000_CTX_NONE 0   // none written since reset
#define E1000_CTX_CSUM 1   // TCP checksum, no segmentation
#define E1000_CTX_TSO  2   // the last TSO packet's

struct pci_driver;
extern struct pci_driver e1000_pci_driver;

// The start routine (ifq_start_t): move packets from sc->sc_ifq onto the
// TX ring. Called by ifq_start's serializer, one CPU at a time; thread or
// interrupt context; does not sleep. Send with ifq_enqueue + ifq_start.
void e1000_start(struct ifqueue *ifq, void *softc);

// e1000_sysctl.c: knobs, hardware statistics, the ARP self-test.
void e1000_sysctl_attach(struct e1000_softc *sc);
void e1000_stats_update(struct e1000_softc *sc);
void e1000_test_rx(struct e1000_softc *sc, const uint8 *frame, int len);
void e1000_set_itr(struct e1000_softc *sc, int rate);

// e1000_hold.c: the receive hold, a bench and test aid.
int e1000_rx_held_quota(struct e1000_softc *sc);
void e1000_rx_held_took(struct e1000_softc *sc, int n);
int e1000_sysctl_rx_hold(struct sysctl_oid *oid, int64 *val, bool write);
int e1000_sysctl_rx_release(struct sysctl_oid *oid, int64 *val, bool write);
int e1000_sysctl_rx_waiting(struct sysctl_oid *oid, int64 *val, bool write);

// Frames the RX drain may take now: a ring's worth, or what a hold grants.
// *held says which, for the whole pass: a hold set or ended while the pass
// runs applies from the next one (e1000_hold.c, Races).
static inline int e1000_rx_quota(struct e1000_softc *sc, bool *held)
{
	*held = __atomic_load_n(&sc->sc_rx_hold, __ATOMIC_SEQ_CST) != 0;
	return *held ? e1000_rx_held_quota(sc) : E1000_NRXDESC;
}

// The RX drain took n frames (after e1000_rx_quota said it may); only a
// held pass counts them against the grant.
static inline void e1000_rx_took(struct e1000_softc *sc, bool held, int n)
{
	if (held)
		e1000_rx_held_took(sc, n);
}

static inline uint32 e1000_rd(struct e1000_softc *sc, uint32 reg)
{
	return sc->sc_regs[reg / 4];
}

static inline void e1000_wr(struct e1000_softc *sc, uint32 reg, uint32 val)
{
	sc->sc_regs[reg / 4] = val;
}
