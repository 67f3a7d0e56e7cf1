// e1000 receive hold (dev.e1000.N.rx_hold, rx_release, rx_waiting): let a
// bench or a test choose how many frames one interrupt takes.
//
// Problem: what a received frame costs depends on how many frames one
// interrupt finds in the ring: the interrupt entry and exit, the netisr's
// wake-up and its way back to idle are paid once per batch, not once per
// frame. How many frames a batch has depends on when they arrive against
// when the guest runs -- under QEMU, on the host's load -- so a cost
// measured while frames stream in moves from run to run (make bench's
// "e1000 frame received" moved by 13%). To measure the cost of a frame at
// a given batch, the batch must be chosen, not hoped for.
//
// Idea: hold the ring. While rx_hold is 1 the receive causes are masked
// (IMC) and e1000_rxeof takes no frame: the device goes on filling the
// descriptors it owns and the frames wait there (rx_waiting counts them:
// RDH minus the next descriptor the driver looks at; at most
// E1000_NRXDESC - 1, then the device refuses frames and QEMU keeps them
// queued). Writing K to rx_release grants K more frames: the causes are
// unmasked and RXT0 posted (ICS), so one interrupt takes K of the waiting
// frames, and the drain that used up the grant masks the causes again.
// Writing 0 to rx_hold hands everything over the same way. A bench fills
// the ring while held, then releases one frame at a time (a batch of one,
// one interrupt per frame) or all of them at once (one interrupt for the
// whole batch), reading the instruction counter around the releases
// (bench/rxbatch.py).
//
// Invariants:
//   - not held: e1000_rx_quota() is E1000_NRXDESC, as if this file did
//     not exist (one load per interrupt).
//   - held: a drain takes at most sc_rx_grant frames and lowers the grant
//     by what it took; the receive causes are masked whenever the grant is
//     0 and no drain runs.
//   - 0 <= sc_rx_grant <= E1000_RX_GRANT_MAX: a drain never lowers it
//     below 0, a release never lifts it past the bound (no wrap to a
//     negative quota, which would take every frame and lose the
//     ring's-worth bound of e1000_rxeof).
//
// Locking: sc_rx_hold and sc_rx_grant are [a]: written by sysctl writers
// on any hart, read (and the grant lowered) by the interrupt handler,
// which runs on one hart at a time.
//
// Races:
//   - a release while a drain runs on another hart: the release adds to
//     the grant (never overwrites it), then unmasks and posts RXT0; the
//     drain masks only after lowering the grant, and unmasks again if it
//     then finds a grant (or no hold): whichever of the two writes the
//     mask register last, the frames granted are taken.
//   - rx_hold=1 while a drain runs: that pass ends as it would have; the
//     hold applies from the next interrupt on. The pass decided once, at
//     its start, whether it is held (e1000_rx_quota's *held): an unheld
//     pass charges nothing to the grant (its frames were never granted;
//     charging them drove the grant below 0, and the next release of K
//     then granted nothing or K minus them), and a held pass whose grant
//     a new rx_hold=1 reset lowers it to 0, not below.
//
// Testing: tests/test_e1000_hold.py (frames wait while held, a release
// takes exactly K, nothing is lost, the knobs' bounds); make hosttest
// (tests/host/drv/test_e1000_hold.c: the grant through the races above,
// each interleaving as a fixed order of calls).
// References: [E1000 13.4.19-13.4.21] ICS, IMS, IMC; 13.4.28 RDH.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/lock.h"
#include "kernel/errno.h"
#include "kernel/sysctl.h"
#include "drivers/e1000.h"

#define E1000_RX_CAUSES (E1000_ICR_RXT0 | E1000_ICR_RXO | E1000_ICR_RXDMT0)
#define E1000_RX_GRANT_MAX (1 << 30)   // releases saturate here (invariant)

// Unmask the receive causes and post RXT0: the next interrupt drains.
static void e1000_rx_kick(struct e1000_softc *sc)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);  // hold/grant before the device sees it
	e1000_wr(sc, E1000_IMS, E1000_RX_CAUSES);
	e1000_wr(sc, E1000_ICS, E1000_ICR_RXT0);
}

// The frames a held ring may still give: the grant, at most a ring's
// worth per pass. Interrupt handler ([rx]).
int e1000_rx_held_quota(struct e1000_softc *sc)
{
	int g = __atomic_load_n(&sc->sc_rx_grant, __ATOMIC_SEQ_CST);
	return g <= 0 ? 0 : g < E1000_NRXDESC ? g : E1000_NRXDESC;
}

// A drain of a held ring took n frames: lower the grant; once it is used
// up, mask the receive causes -- and unmask them again if a release or
// the end of the hold came meanwhile (see Races). Interrupt handler.
void e1000_rx_held_took(struct e1000_softc *sc, int n)
{
	int g = __atomic_load_n(&sc->sc_rx_grant, __ATOMIC_SEQ_CST), left;
	do
		left = g > n ? g - n : 0;   // a reset grant stays 0 (invariant)
	while (!__atomic_compare_exchange_n(&sc->sc_rx_grant, &g, left, false, __ATOMIC_SEQ_CST,
					    __ATOMIC_SEQ_CST));
	if (left > 0)
		return;
	e1000_wr(sc, E1000_IMC, E1000_RX_CAUSES);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&sc->sc_rx_hold, __ATOMIC_SEQ_CST) ||
	    __atomic_load_n(&sc->sc_rx_grant, __ATOMIC_SEQ_CST) > 0)
		e1000_wr(sc, E1000_IMS, E1000_RX_CAUSES);
}

// dev.e1000.N.rx_hold: 1 = frames wait in the ring; 0 = normal (and what
// waits is taken at once).
int e1000_sysctl_rx_hold(struct sysctl_oid *oid, int64 *val, bool write)
{
	struct e1000_knob *k = container_of(oid, struct e1000_knob, k_oid);
	struct e1000_softc *sc = k->k_sc;
	if (!write) {
		*val = __atomic_load_n(&sc->sc_rx_hold, __ATOMIC_RELAXED);
		return 0;
	}
	if (*val) {   // [0, 1] is checked by sysctl
		__atomic_store_n(&sc->sc_rx_grant, 0, __ATOMIC_SEQ_CST);
		__atomic_store_n(&sc->sc_rx_hold, 1, __ATOMIC_SEQ_CST);
		e1000_wr(sc, E1000_IMC, E1000_RX_CAUSES);
		return 0;
	}
	__atomic_store_n(&sc->sc_rx_hold, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&sc->sc_rx_grant, 0, __ATOMIC_SEQ_CST);
	e1000_rx_kick(sc);
	return 0;
}

// dev.e1000.N.rx_release=K: a held ring gives up K more frames (0: none,
// no interrupt). Read: the frames granted and not yet taken.
int e1000_sysctl_rx_release(struct sysctl_oid *oid, int64 *val, bool write)
{
	struct e1000_knob *k = container_of(oid, struct e1000_knob, k_oid);
	struct e1000_softc *sc = k->k_sc;
	if (!write) {
		*val = __atomic_load_n(&sc->sc_rx_grant, __ATOMIC_RELAXED);
		return 0;
	}
	if (*val == 0 || !__atomic_load_n(&sc->sc_rx_hold, __ATOMIC_SEQ_CST))
		return 0;     // nothing granted, or nothing held
	int g = __atomic_load_n(&sc->sc_rx_grant, __ATOMIC_SEQ_CST), add = (int)*val;
	while (!__atomic_compare_exchange_n(&sc->sc_rx_grant, &g,
					    g > E1000_RX_GRANT_MAX - add ? E1000_RX_GRANT_MAX : g + add,
					    false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		;   // g reloaded: saturate, never wrap (invariant)
	e1000_rx_kick(sc);
	return 0;
}

// dev.e1000.N.rx_waiting: frames the device has put in the ring that the
// driver has not taken yet (RDH - sc_rx_next). A snapshot: exact only
// while the ring is held or quiet.
int e1000_sysctl_rx_waiting(struct sysctl_oid *oid, int64 *val, bool write)
{
	struct e1000_knob *k = container_of(oid, struct e1000_knob, k_oid);
	struct e1000_softc *sc = k->k_sc;
	int head = e1000_rd(sc, E1000_RDH) % E1000_NRXDESC;
	int next = __atomic_load_n(&sc->sc_rx_next, __ATOMIC_RELAXED);
	*val = (head - next + E1000_NRXDESC) % E1000_NRXDESC;
	return 0;
}
