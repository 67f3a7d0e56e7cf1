// Host tests of net/ifq.c (the serializer) against a fake interface whose start
// routine checks the serializer's promises: never two runs at once (an
// atomic in-flag), FIFO per producer, every packet exactly once, nothing
// stranded, nothing after ifq_barrier. Run in both modes.
#include <sched.h>
#include "tests/host/test.h"
#include "net/ifq.h"

#define NPROD 4
#define PERPROD 3000

// The fake interface: a "TX ring" that records what it was handed.
struct fakeif {
	struct ifqueue fi_ifq;
	int fi_inflag;              // [a] 1 while the start routine runs
	int fi_overlaps;            // [a] runs that found fi_inflag set
	int fi_barrier;             // [a] set by the test after ifq_barrier
	int fi_after_barrier;       // [a] runs while fi_barrier was set
	int fi_last[NPROD];         // [z] last seq seen per producer
	int fi_order_errors;        // [z]
	unsigned char fi_seen[NPROD][PERPROD];  // [z] times each packet seen
	uint64 fi_sent;             // [z]
	uint64 fi_calls;            // [z]
};

static void fakeif_start(struct ifqueue *ifq, void *softc)
{
	struct fakeif *fi = softc;
	if (__atomic_exchange_n(&fi->fi_inflag, 1, __ATOMIC_SEQ_CST))
		__atomic_add_fetch(&fi->fi_overlaps, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&fi->fi_barrier, __ATOMIC_SEQ_CST))
		__atomic_add_fetch(&fi->fi_after_barrier, 1, __ATOMIC_SEQ_CST);
	struct mbuf *m;
	while ((m = ifq_dequeue(ifq)) != NULL) {
		int prod = m->m_pkthdr.ph_flowhash >> 16;
		int seq = m->m_pkthdr.ph_flowhash & 0xffff;
		if (seq <= fi->fi_last[prod])
			fi->fi_order_errors++;
		fi->fi_last[prod] = seq;
		fi->fi_seen[prod][seq]++;
		fi->fi_sent++;
		m_freem(m);
		if ((fi->fi_sent & 63) == 0)
			sched_yield();   // widen the race windows
	}
	// Race "lost restart" lives between the last (empty) dequeue and the
	// serializer's exit: linger there now and then.
	if ((++fi->fi_calls & 7) == 0)
		sched_yield();
	__atomic_store_n(&fi->fi_inflag, 0, __ATOMIC_SEQ_CST);
}

static struct fakeif *fakeif_new(int maxlen)
{
	struct fakeif *fi = calloc(1, sizeof(*fi));
	CHECK(fi != NULL);
	for (int i = 0; i < NPROD; i++)
		fi->fi_last[i] = -1;
	CHECK(ifq_init(&fi->fi_ifq, "fake0", maxlen, fakeif_start, fi) == 0);
	ifq_set_running(&fi->fi_ifq, true);
	return fi;
}

static struct mbuf *packet(int prod, int seq)
{
	struct mbuf *m = m_gethdr();
	CHECK(m != NULL);
	m->m_len = m->m_pkthdr.ph_len = 60;
	m->m_pkthdr.ph_flowhash = (uint32)prod << 16 | seq;
	return m;
}

struct stress {
	struct fakeif *fi;
	int prod;
	int stop;          // [a] tells the restarter and the toggler to end
	int toggle;        // flip net.ifq.serializer while running
	int from, to;      // producer: sequence numbers to send
};

static void *producer(void *p)
{
	struct stress *s = p;
	for (int seq = s->from; seq < s->to; seq++) {
		int err;
		// Queue full: the drop is counted; retry so every packet goes.
		while ((err = ifq_enqueue(&s->fi->fi_ifq, packet(s->prod, seq))) == -ENOBUFS)
			ifq_start(&s->fi->fi_ifq);
		CHECK(err == 0);
		ifq_start(&s->fi->fi_ifq);
	}
	return NULL;
}

// Plays the TX-done interrupt: keeps restarting transmission. In the
// stress tests it stops half-way, so that at the end only the producers'
// own ifq_start calls can drain the queue (or strand a packet).
static void *restarter(void *p)
{
	struct stress *s = p;
	struct ifq_stats *is = &s->fi->fi_ifq.ifq_stats;
	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		if (s->prod < 0 && __atomic_load_n(&is->ifs_enqueued, __ATOMIC_RELAXED) >=
					   NPROD * PERPROD / 2)
			break;
		ifq_start(&s->fi->fi_ifq);
		if (s->toggle)
			__atomic_store_n(&ifq_serializer_enabled,
					 !ifq_serializer_enabled, __ATOMIC_RELAXED);
	}
	return NULL;
}

// Several producers + a restarter; afterwards (no further ifq_start) the
// queue must be empty and every packet seen exactly once, in order.
static void run_stress(int serializer, int toggle)
{
	ifq_serializer_enabled = serializer;
	struct fakeif *fi = fakeif_new(64);
	struct stress st[NPROD], rs = { .fi = fi, .prod = -1, .toggle = toggle };
	pthread_t th[NPROD], rt;
	pthread_create(&rt, NULL, restarter, &rs);
	for (int i = 0; i < NPROD; i++) {
		st[i] = (struct stress){ .fi = fi, .prod = i, .to = PERPROD };
		pthread_create(&th[i], NULL, producer, &st[i]);
	}
	for (int i = 0; i < NPROD; i++)
		pthread_join(th[i], NULL);
	__atomic_store_n(&rs.stop, 1, __ATOMIC_RELEASE);
	pthread_join(rt, NULL);
	// Nothing stranded: the last ifq_start of each producer saw to it.
	CHECK(ifq_len(&fi->fi_ifq) == 0);
	CHECK(fi->fi_overlaps == 0);
	CHECK(fi->fi_order_errors == 0);
	CHECK(fi->fi_sent == NPROD * PERPROD);
	for (int p = 0; p < NPROD; p++)
		for (int q = 0; q < PERPROD; q++)
			CHECK(fi->fi_seen[p][q] == 1);
	struct ifq_stats *is = &fi->fi_ifq.ifq_stats;
	CHECK(is->ifs_enqueued == NPROD * PERPROD);
	CHECK(is->ifs_dequeued == NPROD * PERPROD);
	CHECK(is->ifs_enqueued + is->ifs_dropped >= NPROD * PERPROD);
	CHECK(sysctl_get("net.ifq.fake0.enqueued") == NPROD * PERPROD);
	if (serializer && !toggle)
		CHECK(is->ifs_runs <= is->ifs_starts);
	printf("  starts %lu runs %lu contended %lu restarts %lu dropped %lu\n",
	       (unsigned long)is->ifs_starts, (unsigned long)is->ifs_runs,
	       (unsigned long)is->ifs_contended, (unsigned long)is->ifs_restarts,
	       (unsigned long)is->ifs_dropped);
	ifq_set_running(&fi->fi_ifq, false);
	ifq_barrier(&fi->fi_ifq);
	ifq_destroy(&fi->fi_ifq);
	CHECK(mbstat.mbs_inuse == 0);
	free(fi);
}

// Race "lost restart", hunted in many short rounds: after each round's
// producers are done (and nobody else calls ifq_start) the queue must be
// empty.
static void run_rounds(int serializer)
{
	ifq_serializer_enabled = serializer;
	struct fakeif *fi = fakeif_new(1 << 20);
	int per = 6;
	for (int r = 0; r < PERPROD / per; r++) {
		struct stress st[NPROD];
		pthread_t th[NPROD];
		for (int i = 0; i < NPROD; i++) {
			st[i] = (struct stress){ .fi = fi, .prod = i, .from = r * per,
						 .to = (r + 1) * per };
			pthread_create(&th[i], NULL, producer, &st[i]);
		}
		for (int i = 0; i < NPROD; i++)
			pthread_join(th[i], NULL);
		CHECK(ifq_len(&fi->fi_ifq) == 0);   // nothing stranded
		CHECK(fi->fi_sent == (uint64)NPROD * (r + 1) * per);
	}
	CHECK(fi->fi_overlaps == 0 && fi->fi_order_errors == 0);
	printf("  %d rounds: restarts %lu contended %lu\n", PERPROD / per,
	       (unsigned long)fi->fi_ifq.ifq_stats.ifs_restarts,
	       (unsigned long)fi->fi_ifq.ifq_stats.ifs_contended);
	ifq_set_running(&fi->fi_ifq, false);
	ifq_barrier(&fi->fi_ifq);
	ifq_destroy(&fi->fi_ifq);
	free(fi);
	CHECK(mbstat.mbs_inuse == 0);
}

// The same rounds with the fault point open: the owner spins between its
// pass and its compare-and-swap (debug.ifq.exit_spin), so requests land in
// the "lost restart" window all the time. Nothing may be stranded, and
// the owner's extra passes (restarts) show the window was hit.
static void ifq_serializer_lost_restart_window_widened(void)
{
	CHECK(host_sysctl_write("debug.ifq.exit_spin", 20000) == 0);
	run_rounds(1);
	CHECK(host_sysctl_write("debug.ifq.exit_spin", 0) == 0);
}

static void ifq_serializer_never_strands_a_packet(void)
{
	run_rounds(1);
}

static void ifq_plain_lock_never_strands_a_packet(void)
{
	run_rounds(0);
}

static void ifq_serializer_one_runner_nothing_stranded(void)
{
	run_stress(1, 0);
}

static void ifq_plain_lock_one_runner_nothing_stranded(void)
{
	run_stress(0, 0);
}

static void ifq_mode_switch_under_load_keeps_one_runner(void)
{
	run_stress(1, 1);
}

static void ifq_enqueue_drops_when_full_or_down(void)
{
	struct fakeif *fi = fakeif_new(3);
	for (int i = 0; i < 3; i++)
		CHECK(ifq_enqueue(&fi->fi_ifq, packet(0, i)) == 0);
	CHECK(ifq_enqueue(&fi->fi_ifq, packet(0, 3)) == -ENOBUFS);
	CHECK(ifq_len(&fi->fi_ifq) == 3 && fi->fi_ifq.ifq_stats.ifs_dropped == 1);
	ifq_start(&fi->fi_ifq);
	CHECK(ifq_len(&fi->fi_ifq) == 0 && fi->fi_sent == 3);
	ifq_set_running(&fi->fi_ifq, false);
	CHECK(ifq_enqueue(&fi->fi_ifq, packet(0, 4)) == -ENETDOWN);
	CHECK(fi->fi_ifq.ifq_stats.ifs_dropped == 2);
	ifq_barrier(&fi->fi_ifq);
	ifq_destroy(&fi->fi_ifq);
	CHECK(mbstat.mbs_inuse == 0);   // dropped packets were freed
	free(fi);
}

// Producers keep enqueueing and starting; the test takes the interface
// down with ifq_barrier: from then on the start routine must not run
// until the interface is up again; then the queue drains.
static void ifq_barrier_stops_start_routine(void)
{
	for (int mode = 1; mode >= 0; mode--) {
		ifq_serializer_enabled = mode;
		struct fakeif *fi = fakeif_new(1 << 20);
		struct stress rs = { .fi = fi };
		pthread_t rt;
		pthread_create(&rt, NULL, restarter, &rs);
		for (int round = 0; round < 50; round++) {
			for (int i = 0; i < 20; i++)
				ifq_enqueue(&fi->fi_ifq, packet(0, round * 20 + i));
			ifq_set_running(&fi->fi_ifq, false);
			ifq_barrier(&fi->fi_ifq);
			CHECK(__atomic_load_n(&fi->fi_inflag, __ATOMIC_SEQ_CST) == 0);
			__atomic_store_n(&fi->fi_barrier, 1, __ATOMIC_SEQ_CST);
			for (int i = 0; i < 200; i++)
				ifq_start(&fi->fi_ifq);   // must not run it
			msleep(round % 10 == 0 ? 1 : 0);
			__atomic_store_n(&fi->fi_barrier, 0, __ATOMIC_SEQ_CST);
			ifq_set_running(&fi->fi_ifq, true);
		}
		ifq_start(&fi->fi_ifq);
		__atomic_store_n(&rs.stop, 1, __ATOMIC_RELEASE);
		pthread_join(rt, NULL);
		CHECK(fi->fi_after_barrier == 0);
		CHECK(fi->fi_overlaps == 0);
		CHECK(ifq_len(&fi->fi_ifq) == 0 && fi->fi_sent == 1000);
		ifq_set_running(&fi->fi_ifq, false);
		ifq_barrier(&fi->fi_ifq);
		ifq_destroy(&fi->fi_ifq);
		free(fi);
	}
	CHECK(mbstat.mbs_inuse == 0);
}

// The serializer's bookkeeping without threads: a request made while the
// routine runs (ifq_start from inside it) makes the owner go round again.
static struct fakeif *nested_fi;
static int nested_calls;

static void nested_start(struct ifqueue *ifq, void *softc)
{
	if (nested_calls++ == 0) {
		ifq_enqueue(ifq, packet(1, 0));
		ifq_start(ifq);   // contended: returns at once
	}
	fakeif_start(ifq, softc);
}

static void ifq_start_from_inside_makes_owner_restart(void)
{
	ifq_serializer_enabled = 1;
	nested_fi = fakeif_new(8);
	nested_fi->fi_ifq.ifq_start_fn = nested_start;
	ifq_enqueue(&nested_fi->fi_ifq, packet(0, 0));
	ifq_start(&nested_fi->fi_ifq);
	struct ifq_stats *is = &nested_fi->fi_ifq.ifq_stats;
	CHECK(is->ifs_contended == 1 && is->ifs_restarts == 1 && is->ifs_runs == 2);
	CHECK(nested_fi->fi_sent == 2 && ifq_len(&nested_fi->fi_ifq) == 0);
	CHECK(nested_fi->fi_ifq.ifq_serializer == 0);
}

// The serializer's promise to a caller that finds it busy: return at
// once, the owner goes round again for it. The start routine (the owner)
// lets a second thread call ifq_start and waits -- up to 5 s, a deadline,
// not a measurement -- for that call to RETURN while the owner is still
// inside. A lock would keep the second thread waiting for the owner,
// which waits for it: the deadline passes and the test fails.
static int busy_returned;   // [a]
static int busy_phase;      // [a] 1: the owner is inside, go
static int busy_missed;     // [z] owner saw no return before the deadline

static void *busy_caller(void *p)
{
	struct fakeif *fi = p;
	while (__atomic_load_n(&busy_phase, __ATOMIC_ACQUIRE) == 0)
		sched_yield();
	ifq_enqueue(&fi->fi_ifq, packet(2, 0));
	ifq_start(&fi->fi_ifq);
	__atomic_store_n(&busy_returned, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void busy_start(struct ifqueue *ifq, void *softc)
{
	if (__atomic_exchange_n(&busy_phase, 1, __ATOMIC_ACQ_REL) == 0) {
		int waited = 0;
		while (!__atomic_load_n(&busy_returned, __ATOMIC_ACQUIRE) && waited < 5000) {
			msleep(1);
			waited++;
		}
		busy_missed = !__atomic_load_n(&busy_returned, __ATOMIC_ACQUIRE);
	}
	fakeif_start(ifq, softc);
}

static void ifq_busy_caller_returns_at_once(void)
{
	ifq_serializer_enabled = 1;
	struct fakeif *fi = fakeif_new(8);
	fi->fi_ifq.ifq_start_fn = busy_start;
	pthread_t th;
	CHECK(pthread_create(&th, NULL, busy_caller, fi) == 0);
	ifq_enqueue(&fi->fi_ifq, packet(0, 0));
	ifq_start(&fi->fi_ifq);   // owner: runs busy_start, which waits for th
	pthread_join(th, NULL);
	CHECK(!busy_missed);      // th's ifq_start returned while we were inside
	struct ifq_stats *is = &fi->fi_ifq.ifq_stats;
	CHECK(is->ifs_contended == 1 && is->ifs_restarts == 1);
	CHECK(fi->fi_sent == 2 && ifq_len(&fi->fi_ifq) == 0);   // its packet went
	ifq_set_running(&fi->fi_ifq, false);
	ifq_barrier(&fi->fi_ifq);
	ifq_destroy(&fi->fi_ifq);
	free(fi);
}

const struct host_test ifq_tests[] = {
	{ ifq_busy_caller_returns_at_once, "ifq_busy_caller_returns_at_once" },
	{ ifq_enqueue_drops_when_full_or_down, "ifq_enqueue_drops_when_full_or_down" },
	{ ifq_start_from_inside_makes_owner_restart, "ifq_start_from_inside_makes_owner_restart" },
	{ ifq_serializer_one_runner_nothing_stranded, "ifq_serializer_one_runner_nothing_stranded" },
	{ ifq_plain_lock_one_runner_nothing_stranded, "ifq_plain_lock_one_runner_nothing_stranded" },
	{ ifq_mode_switch_under_load_keeps_one_runner, "ifq_mode_switch_under_load_keeps_one_runner" },
	{ ifq_barrier_stops_start_routine, "ifq_barrier_stops_start_routine" },
	{ ifq_serializer_never_strands_a_packet, "ifq_serializer_never_strands_a_packet" },
	{ ifq_serializer_lost_restart_window_widened, "ifq_serializer_lost_restart_window_widened" },
	{ ifq_plain_lock_never_strands_a_packet, "ifq_plain_lock_never_strands_a_packet" },
	{ NULL, NULL },
};
