// ifq: the interface send queue and the start-routine serializer (after
// OpenBSD's MP-safe if_start, David Gwynne 2015), written anew.
//
// Problem
//   Any CPU may transmit: netisr threads on every CPU run ip_output, and
//   the e1000's TX-done interrupt wants to restart transmission when ring
//   slots free up. The driver's start routine moves packets from the send
//   queue to the TX ring; two CPUs running it at once would corrupt the
//   ring and reorder packets. A plain lock around it works, but every CPU
//   that finds it taken spins (interrupts off) doing nothing useful, while
//   the holder would have sent its packet anyway.
//
// Idea
//   Work is queued under the queue's lock (ifq_enqueue); then the CPU
//   tries to enter a critical section that services the queue
//   (ifq_start). Entry is one atomic increment of ifq_serializer: the CPU
//   that raises it from 0 is the owner and runs the start routine in a
//   loop; any other CPU only adds 1 -- "please go round again" -- and
//   returns at once. Before each pass the owner resets the count to 1
//   (absorbing the requests seen so far); after the pass it tries to move
//   the count from 1 to 0 with compare-and-swap. If that fails, somebody
//   asked while it was running, so it runs another pass (a "restart").
//
// Invariants
//   I1 At most one CPU runs ifq_start_fn for an ifq at any time.
//   I2 A packet enqueued before an ifq_start call is handed to the start
//      routine by a pass that begins after that call's increment (by this
//      CPU or by the owner); no packet is stranded while running.
//   I3 While ifq_running is 0 the start routine is not called; after
//      ifq_barrier returns it is not running anywhere either.
//   I4 The queue holds at most ifq_maxlen packets; beyond that
//      ifq_enqueue drops and counts, it never panics or blocks.
//
// Locking
//   ifq_lock (spinlock) protects the queue [s]. ifq_serializer and
//   ifq_running are atomics [a] (sequentially consistent, which I2 and
//   I3 rely on). ifq_start_lock is held around every run of the start
//   routine in both modes; in serializer mode only the owner takes it, so
//   it is uncontended there. Lock order (kernel/lock.h): ifq_start_lock ->
//   the driver's lock (e1000: sc_tx_lock) -> ifq_lock: the start routine
//   runs under ifq_start_lock and calls ifq_dequeue, which takes ifq_lock,
//   under its own lock.
//
// Races (named), and where each is handled
//   "lost restart": CPU B enqueues while CPU A is about to leave the start
//      routine (the queue looked empty to A). B's increment happens
//      either before A's compare-and-swap (the CAS fails, A runs another
//      pass and sees B's packet) or after it (B raises 0 -> 1 and becomes
//      the owner). See the do/while in serializer_start.
//   "absorbed request": B increments between A's entry and A's reset of
//      the count to 1. Harmless: A's pass starts after the reset, so it
//      sees everything B queued before incrementing.
//   "start after down": CPU C passed the running test in ifq_start just
//      before the interface went down. Every pass tests ifq_running again
//      inside the critical section, so C's pass does nothing (I3).
//   "barrier versus owner": the owner is mid-pass when the interface goes
//      down. ifq_barrier waits until the count drops to 0 (the owner has
//      left) and then takes ifq_start_lock once (a plain-lock caller has
//      left too).
//   "mode switch": net.ifq.serializer flips while packets flow, so one
//      CPU runs in plain mode and another in serializer mode. Both modes
//      hold ifq_start_lock around the start routine, so I1 still holds.
//   "interrupt on the owner's CPU": the TX-done interrupt calls ifq_start
//      on the CPU that holds the serializer. It can only arrive outside
//      the start_lock section (spinlocks keep interrupts off), increments
//      and returns; the owner runs again for it.
//
// Life of a packet
//   ip_output -> ether_output -> ifq_enqueue(ifq, m) -> ifq_start(ifq)
//   -> serializer_start -> e1000_start(ifq, sc) -> ifq_dequeue -> TX ring
//   -> TX-done interrupt -> m_freem, and ifq_start if the queue is not empty.
//
// Testing
//   make hosttest (tests/host/test_ifq_model.c: the serializer run with a
//   switch point at every atomic step, thousands of seeded schedules --
//   it finds two-instruction windows no real-thread test hits;
//   tests/host/test_ifq.c): several producers enqueue and
//   start while another thread keeps restarting; an atomic in-flag checks
//   I1; every packet seen exactly once, in order per producer; nothing
//   runs after ifq_barrier; the same in plain-lock mode. Counters:
//   sysctl net.ifq. Fault injection: debug.ifq.exit_spin widens the
//   "lost restart" window (ifq_serializer_lost_restart_window_widened).
//   gdb: break ifq_start if ifq->ifq_serializer > 1.
//
// References
//   David Gwynne's OpenBSD diff serialising if_start and adding
//   if_start_barrier (tech@ mailing-list thread, 30 Nov - 2 Dec 2015);
//   OpenBSD if_start_mpsafe / ifq_serialize / if_start_barrier.
#include "net/ifq.h"

int ifq_serializer_enabled = 1;
NET_SYSCTL_INT_RANGE(ifq_serializer, "net.ifq.serializer", SYSCTL_RW,
		     &ifq_serializer_enabled, 0, 1,
	       "1: serializer runs if_start on one CPU; 0: plain lock");

// [a] Fault injection (tests and the lab only; 0, the default, is off):
// the serializer's owner spins this many rounds after its pass, before it
// tries to leave -- the window of race "lost restart" -- so that another
// CPU's request lands there often instead of rarely. A spin, not a
// yield: the owner may be the TX-done interrupt.
int ifq_fault_exit_spin = 0;
NET_SYSCTL_INT_RANGE(ifq_fault_exit_spin, "debug.ifq.exit_spin", SYSCTL_RW,
		     &ifq_fault_exit_spin, 0, 10000000,
		     "fault injection: serializer owner spins N rounds before leaving");

// The fault point of race "lost restart" (see ifq_fault_exit_spin).
static inline void ifq_fault_exit_window(struct ifqueue *ifq)
{
	int n = __atomic_load_n(&ifq_fault_exit_spin, __ATOMIC_RELAXED);
	for (int i = 0; i < n; i++)
		(void)__atomic_load_n(&ifq->ifq_serializer, __ATOMIC_RELAXED);
}

static void stat_inc(uint64 *c)
{
	__atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
}

static void stat_add(uint64 *c, uint64 n)
{
	__atomic_add_fetch(c, n, __ATOMIC_RELAXED);
}

static const struct {
	const char *name;
	size_t off;
	const char *descr;
} ifq_oid_tab[] = {
	{ "enqueued", offsetof(struct ifq_stats, ifs_enqueued), "packets queued" },
	{ "dropped", offsetof(struct ifq_stats, ifs_dropped), "packets dropped" },
	{ "dequeued", offsetof(struct ifq_stats, ifs_dequeued), "packets to driver" },
	{ "starts", offsetof(struct ifq_stats, ifs_starts), "ifq_start calls" },
	{ "contended", offsetof(struct ifq_stats, ifs_contended), "found busy" },
	{ "restarts", offsetof(struct ifq_stats, ifs_restarts), "extra passes" },
	{ "runs", offsetof(struct ifq_stats, ifs_runs), "start routine calls" },
	{ "run_us", offsetof(struct ifq_stats, ifs_run_us), "us in start routine" },
	{ "waits", offsetof(struct ifq_stats, ifs_waits), "plain lock: found it taken" },
	{ "wait_us", offsetof(struct ifq_stats, ifs_wait_us), "plain lock: us spun" },
};
_Static_assert(nelem(ifq_oid_tab) == nelem(((struct ifqueue *)0)->ifq_oids),
	       "one oid per counter");

int ifq_init(struct ifqueue *ifq, const char *name, int maxlen,
	     ifq_start_t start, void *softc)
{
	char oname[NET_SYSCTL_NAMELEN];
	if (maxlen <= 0 || start == NULL)
		return -EINVAL;
	memset(ifq, 0, sizeof(*ifq));
	net_lock_init(&ifq->ifq_lock, "ifq");
	net_lock_init(&ifq->ifq_start_lock, "ifq_start");
	ifq->ifq_maxlen = maxlen;
	ifq->ifq_start_fn = start;
	ifq->ifq_softc = softc;
	size_t n = strlen(name);
	n = MIN(n, sizeof(ifq->ifq_name) - 1);
	memcpy(ifq->ifq_name, name, n);
	ifq->ifq_name[n] = 0;
	for (size_t i = 0; i < nelem(ifq_oid_tab); i++) {
		// "net.ifq." + name + "." + counter, built without snprintf
		// (the kernel shim has one, the host's libc too, but keep
		// the shim small).
		const char *parts[] = { "net.ifq.", ifq->ifq_name, ".",
					ifq_oid_tab[i].name };
		size_t len = 0;
		for (size_t j = 0; j < nelem(parts); j++) {
			size_t pl = strlen(parts[j]);
			pl = MIN(pl, sizeof(oname) - 1 - len);
			memcpy(oname + len, parts[j], pl);
			len += pl;
		}
		oname[len] = 0;
		uint64 *ctr = (uint64 *)((char *)&ifq->ifq_stats + ifq_oid_tab[i].off);
		net_sysctl_add_u64(&ifq->ifq_oids[i], oname, ctr, ifq_oid_tab[i].descr);
	}
	return 0;
}

void ifq_purge(struct ifqueue *ifq)
{
	struct mbuf *m;
	net_lock_acquire(&ifq->ifq_lock);
	m = ifq->ifq_head;
	ifq->ifq_head = ifq->ifq_tail = NULL;
	ifq->ifq_len = 0;
	net_lock_release(&ifq->ifq_lock);
	while (m != NULL) {
		struct mbuf *next = m->m_nextpkt;
		m->m_nextpkt = NULL;
		m_freem(m);
		stat_inc(&ifq->ifq_stats.ifs_dropped);
		m = next;
	}
}

void ifq_destroy(struct ifqueue *ifq)
{
	KASSERT(__atomic_load_n(&ifq->ifq_running, __ATOMIC_SEQ_CST) == 0);
	for (size_t i = 0; i < nelem(ifq->ifq_oids); i++)
		net_sysctl_del(&ifq->ifq_oids[i]);
	ifq_purge(ifq);
}

int ifq_enqueue(struct ifqueue *ifq, struct mbuf *m)
{
	int err = 0;
	KASSERT(m->m_flags & M_PKTHDR);
	KASSERT(m->m_nextpkt == NULL);
	net_lock_acquire(&ifq->ifq_lock);
	if (!__atomic_load_n(&ifq->ifq_running, __ATOMIC_SEQ_CST)) {
		err = -ENETDOWN;
		goto out_unlock;
	}
	if (ifq->ifq_len >= ifq->ifq_maxlen) {
		err = -ENOBUFS;   // I4: full -- drop, never block or panic
		goto out_unlock;
	}
	if (ifq->ifq_tail != NULL)
		ifq->ifq_tail->m_nextpkt = m;
	else
		ifq->ifq_head = m;
	ifq->ifq_tail = m;
	ifq->ifq_len++;
out_unlock:
	net_lock_release(&ifq->ifq_lock);
	if (err < 0) {
		m_freem(m);
		stat_inc(&ifq->ifq_stats.ifs_dropped);
	} else {
		stat_inc(&ifq->ifq_stats.ifs_enqueued);
	}
	return err;
}

struct mbuf *ifq_dequeue(struct ifqueue *ifq)
{
	net_lock_acquire(&ifq->ifq_lock);
	struct mbuf *m = ifq->ifq_head;
	if (m != NULL) {
		ifq->ifq_head = m->m_nextpkt;
		if (ifq->ifq_head == NULL)
			ifq->ifq_tail = NULL;
		ifq->ifq_len--;
		m->m_nextpkt = NULL;
	}
	net_lock_release(&ifq->ifq_lock);
	if (m != NULL)
		stat_inc(&ifq->ifq_stats.ifs_dequeued);
	return m;
}

int ifq_len(struct ifqueue *ifq)
{
	net_lock_acquire(&ifq->ifq_lock);
	int n = ifq->ifq_len;
	net_lock_release(&ifq->ifq_lock);
	return n;
}

// One run of the start routine, if the interface is still running (race
// "start after down"). Caller holds ifq_start_lock.
static void run_start(struct ifqueue *ifq)
{
	KASSERT(net_lock_held(&ifq->ifq_start_lock));
	if (!__atomic_load_n(&ifq->ifq_running, __ATOMIC_SEQ_CST))
		return;
	stat_inc(&ifq->ifq_stats.ifs_runs);
	// Indirect call: the driver's start routine given to ifq_init --
	// e1000_start (drivers/e1000.c) for em0, loop_start (net/if_loop.c)
	// for lo0, a capture routine in the host tests.
	uint64 t0 = net_now_us();
	ifq->ifq_start_fn(ifq, ifq->ifq_softc);
	stat_add(&ifq->ifq_stats.ifs_run_us, net_now_us() - t0);
}

// Naive mode: every caller takes the lock, so CPUs that arrive while the
// start routine runs spin (interrupts off) until it is their turn; waits
// and wait_us count them and the time they spun -- the work the
// serializer's "leave a note and go" saves.
static void plain_start(struct ifqueue *ifq)
{
	net_lock_acquire_counted(&ifq->ifq_start_lock, &ifq->ifq_stats.ifs_waits,
				 &ifq->ifq_stats.ifs_wait_us);
	run_start(ifq);
	net_lock_release(&ifq->ifq_start_lock);
}

// The serializer (after OpenBSD's if_start, Gwynne 2015). See the file
// header for I1, I2 and the races.
static void serializer_start(struct ifqueue *ifq)
{
	/* LAB ifq BEGIN: exercises 1 and 2, the serializer */
	if (__atomic_fetch_add(&ifq->ifq_serializer, 1, __ATOMIC_SEQ_CST) != 0) {
		// Busy: the owner will go round again for us. Return now.
		stat_inc(&ifq->ifq_stats.ifs_contended);
		return;
	}
	// We raised it from 0: we own the serializer.
	for (;;) {
		net_lock_acquire(&ifq->ifq_start_lock);   // uncontended here
		// Race "absorbed request": requests so far are served by
		// the pass that follows.
		__atomic_store_n(&ifq->ifq_serializer, 1, __ATOMIC_SEQ_CST);
		run_start(ifq);
		net_lock_release(&ifq->ifq_start_lock);
		ifq_fault_exit_window(ifq);   // tests widen the window here
		// Race "lost restart": leave only if nobody asked meanwhile.
		uint one = 1;
		if (__atomic_compare_exchange_n(&ifq->ifq_serializer, &one, 0, false,
						__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			break;
		stat_inc(&ifq->ifq_stats.ifs_restarts);
	}
	/* LAB ifq STUB
	plain_start(ifq);   // the plain lock: correct, but every CPU waits its turn
	   LAB ifq END */
}

void ifq_start(struct ifqueue *ifq)
{
	stat_inc(&ifq->ifq_stats.ifs_starts);
	if (!__atomic_load_n(&ifq->ifq_running, __ATOMIC_SEQ_CST))
		return;
	if (__atomic_load_n(&ifq_serializer_enabled, __ATOMIC_RELAXED))
		serializer_start(ifq);
	else
		plain_start(ifq);
}

void ifq_set_running(struct ifqueue *ifq, bool running)
{
	__atomic_store_n(&ifq->ifq_running, running ? 1 : 0, __ATOMIC_SEQ_CST);
}

void ifq_barrier(struct ifqueue *ifq)
{
	KASSERT(__atomic_load_n(&ifq->ifq_running, __ATOMIC_SEQ_CST) == 0);
	// Race "barrier versus owner": wait for the serializer's owner to
	// leave. New owners only appear if some CPU passed the running test
	// before we cleared it, and their passes do nothing (I3), so this
	// wait is short.
	while (__atomic_load_n(&ifq->ifq_serializer, __ATOMIC_SEQ_CST) != 0)
		net_yield();
	// A plain-mode caller (or a serializer owner) inside the start lock
	// leaves before we get it; any later one sees !running.
	net_lock_acquire(&ifq->ifq_start_lock);
	net_lock_release(&ifq->ifq_start_lock);
}
