// A schedule explorer for the ifq serializer (net/ifq.c): runs the real
// ifq_enqueue / ifq_start / serializer_start with every atomic access and
// every lock operation a point where another thread may run, under a
// seeded random scheduler, thousands of times.
//
// Why: the serializer's "lost restart" windows are a few instructions
// wide. The real-thread stress tests (test_ifq.c) catch an owner that
// clears the count with a plain store (a whole pass wide), but not one
// that LOADS the count, finds 1, and then STORES 0 -- a request that lands
// between that load and that store is lost, and no thread schedule on a
// PC hits those two instructions often enough to notice. Here a switch
// between any two atomic steps is an ordinary event.
//
// How: this file #includes net/ifq.c a second time with its functions
// renamed, each __atomic builtin wrapped so that it first yields to the
// scheduler, and the locks replaced by yielding spinlocks of the model
// (a lock held across a switch is held; others spin-yield). The threads
// are coroutines (ucontext), the memory is the real one: every
// interleaving explored is sequentially consistent, as the serializer's
// SEQ_CST atomics promise. The scheduler is sticky (a thread keeps
// running for a random stretch of steps), so that a whole enqueue-and-
// start of one thread fits in another's two-instruction window. Three producers each enqueue two packets,
// calling ifq_start after each; the fake start routine dequeues all it
// finds. When every thread is done, the queue must be empty (I2: nothing
// stranded), the start routine must never have run twice at once (I1),
// and every packet must have gone out once. A failing run prints its
// seed.
//
// What it catches (labs/mistakes/ifq/*.patch): the owner leaving by a
// plain store of 0, by a load-then-store instead of a compare-and-swap,
// or resetting the count after its pass instead of before.
#include <ucontext.h>
#include <string.h>
#include "tests/host/test.h"
#include "net/ifq.h"

#define IM_NTHR 3
#define IM_PER 2               // packets per producer
#define IM_STACK (256 * 1024)

static ucontext_t im_sched_ctx, im_ctx[IM_NTHR];
static bool im_done[IM_NTHR];
static char *im_stack[IM_NTHR];
static int im_cur = -1, im_steps;
static uint64 im_rand_state;

static uint32 im_rand(uint32 n)
{
	im_rand_state = im_rand_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32)(im_rand_state >> 33) % n;
}

static void im_yield(void)
{
	if (im_cur < 0)
		return;   // set-up and tear-down run outside the threads
	im_steps++;
	swapcontext(&im_ctx[im_cur], &im_sched_ctx);
}

// The model's locks: owner in nl_held (thread + 1), spin-yield to acquire.
static void im_lock_init(struct net_lock *lk, const char *name)
{
	memset(lk, 0, sizeof(*lk));
	lk->nl_name = name;
}

static bool im_lock_held(struct net_lock *lk)
{
	return lk->nl_held == im_cur + 1;
}

static void im_lock_acquire(struct net_lock *lk)
{
	CHECK(!im_lock_held(lk));   // as the real shim: no recursion
	im_yield();
	while (lk->nl_held != 0)
		im_yield();
	lk->nl_held = im_cur + 1;
}

static void im_lock_release(struct net_lock *lk)
{
	CHECK(im_lock_held(lk));
	lk->nl_held = 0;
	im_yield();
}

// ---- net/ifq.c on the model --------------------------------------------------

#undef NET_SYSCTL_INT_RANGE
#define NET_SYSCTL_INT_RANGE(id, nm, fl, p, lo, hi, d) \
	_Static_assert((lo) <= (hi), "range")
#define net_sysctl_add_u64(ns, name, p, d) ((void)(ns), (void)(name), (void)(p), (void)(d))
#define net_sysctl_del(ns) ((void)(ns))
#define net_lock_init im_lock_init
#define net_lock_acquire im_lock_acquire
#define net_lock_release im_lock_release
#define net_lock_held im_lock_held
#define net_yield im_yield
// Each atomic step is a switch point (the builtin inside the expansion is
// not expanded again: it is the compiler's).
#define __atomic_load_n(p, o) (im_yield(), __atomic_load_n(p, o))
#define __atomic_store_n(p, v, o) (im_yield(), __atomic_store_n(p, v, o))
#define __atomic_fetch_add(p, v, o) (im_yield(), __atomic_fetch_add(p, v, o))
#define __atomic_compare_exchange_n(p, e, d, w, so, fo) \
	(im_yield(), __atomic_compare_exchange_n(p, e, d, w, so, fo))
#define ifq_serializer_enabled im_serializer_enabled
#define ifq_fault_exit_spin im_fault_exit_spin
#define ifq_init im_ifq_init
#define ifq_purge im_ifq_purge
#define ifq_destroy im_ifq_destroy
#define ifq_enqueue im_ifq_enqueue
#define ifq_dequeue im_ifq_dequeue
#define ifq_len(q) im_ifq_len(q)   // function-like: ifq->ifq_len is a field too
#define ifq_start im_ifq_start
#define ifq_set_running im_ifq_set_running
#define ifq_barrier im_ifq_barrier
extern int im_serializer_enabled, im_fault_exit_spin;
int im_ifq_init(struct ifqueue *ifq, const char *name, int maxlen, ifq_start_t start,
		void *softc);
void im_ifq_purge(struct ifqueue *ifq);
void im_ifq_destroy(struct ifqueue *ifq);
int im_ifq_enqueue(struct ifqueue *ifq, struct mbuf *m);
struct mbuf *im_ifq_dequeue(struct ifqueue *ifq);
int im_ifq_len(struct ifqueue *ifq);
void im_ifq_start(struct ifqueue *ifq);
void im_ifq_set_running(struct ifqueue *ifq, bool running);
void im_ifq_barrier(struct ifqueue *ifq);
#include "net/ifq.c"
#undef __atomic_load_n
#undef __atomic_store_n
#undef __atomic_fetch_add
#undef __atomic_compare_exchange_n

// ---- the explorer -------------------------------------------------------------

static struct ifqueue im_ifq;
static int im_inflag, im_overlaps, im_sent, im_seen[IM_NTHR][IM_PER];

static void im_start_fn(struct ifqueue *ifq, void *softc)
{
	(void)softc;
	if (im_inflag++)
		im_overlaps++;
	struct mbuf *m;
	while ((m = im_ifq_dequeue(ifq)) != NULL) {
		int p = m->m_pkthdr.ph_flowhash >> 8, k = m->m_pkthdr.ph_flowhash & 0xff;
		im_seen[p][k]++;
		im_sent++;
		m_freem(m);
	}
	im_yield();   // the pass ends: another CPU may act here
	im_inflag--;
}

static void im_thread(int t)
{
	for (int k = 0; k < IM_PER; k++) {
		struct mbuf *m = m_gethdr();
		CHECK(m != NULL);
		m->m_len = m->m_pkthdr.ph_len = 60;
		m->m_pkthdr.ph_flowhash = (uint32)t << 8 | (uint32)k;
		CHECK(im_ifq_enqueue(&im_ifq, m) == 0);
		im_ifq_start(&im_ifq);
	}
	im_done[t] = true;
}

// One execution; NULL if every check held.
static const char *im_run(uint64 seed)
{
	im_rand_state = seed * 0x9e3779b97f4a7c15ull + 7;
	im_steps = im_sent = im_overlaps = im_inflag = 0;
	memset(im_seen, 0, sizeof(im_seen));
	memset(im_done, 0, sizeof(im_done));
	CHECK(im_ifq_init(&im_ifq, "model0", 64, im_start_fn, NULL) == 0);
	im_ifq_set_running(&im_ifq, true);   // outside any thread: no switch
	for (int t = 0; t < IM_NTHR; t++) {
		CHECK(getcontext(&im_ctx[t]) == 0);
		im_ctx[t].uc_stack.ss_sp = im_stack[t];
		im_ctx[t].uc_stack.ss_size = IM_STACK;
		im_ctx[t].uc_link = &im_sched_ctx;
		makecontext(&im_ctx[t], (void (*)(void))im_thread, 1, t);
	}
	int live = IM_NTHR, t = 0;
	const char *why = NULL;
	while (live > 0) {
		// Sticky: the running thread goes on (about 7 steps of 8), so
		// that one thread does a whole enqueue-and-start inside another's
		// two-instruction window -- a uniform pick per step almost never
		// lets it.
		if (im_done[t] || im_rand(8) == 0) {
			int pick = im_rand(live);
			for (t = 0; t < IM_NTHR; t++)
				if (!im_done[t] && pick-- == 0)
					break;
		}
		im_cur = t;
		CHECK(swapcontext(&im_sched_ctx, &im_ctx[t]) == 0);
		im_cur = -1;
		if (im_done[t])
			live--;
		if (im_steps > 100000) {
			why = "no progress in 100000 steps (an owner that never leaves?)";
			break;
		}
	}
	if (why == NULL && im_overlaps > 0)
		why = "the start routine ran on two threads at once (I1)";
	if (why == NULL && im_ifq.ifq_len != 0)
		why = "a packet was left in the queue after every ifq_start returned (I2)";
	for (int p = 0; why == NULL && p < IM_NTHR; p++)
		for (int k = 0; k < IM_PER; k++)
			if (im_seen[p][k] != 1)
				why = "a packet went out twice or never";
	// Tear down outside the threads (the model locks are free now).
	__atomic_store_n(&im_ifq.ifq_running, 0, __ATOMIC_SEQ_CST);
	im_ifq.ifq_serializer = 0;
	im_ifq.ifq_start_lock.nl_held = im_ifq.ifq_lock.nl_held = 0;
	struct mbuf *m = im_ifq.ifq_head;
	while (m != NULL) {
		struct mbuf *n = m->m_nextpkt;
		m->m_nextpkt = NULL;
		m_freem(m);
		m = n;
	}
	return why;
}

static void ifq_model_no_request_is_lost(void)
{
	int runs = 4000;
	for (int t = 0; t < IM_NTHR; t++)
		CHECK((im_stack[t] = malloc(IM_STACK)) != NULL);
	im_serializer_enabled = 1;
	for (int r = 0; r < runs; r++) {
		const char *why = im_run((uint64)r);
		if (why != NULL) {
			printf("schedule %d (random seed %d): %s\n", r, r, why);
			CHECK(why == NULL);
		}
	}
	printf("  %d schedules of 3 producers x %d packets: nothing stranded\n", runs, IM_PER);
	for (int t = 0; t < IM_NTHR; t++)
		free(im_stack[t]);
	CHECK(mbstat.mbs_inuse == 0);
}

const struct host_test ifq_model_tests[] = {
	{ ifq_model_no_request_is_lost, "ifq_model_no_request_is_lost" },
	{ NULL, NULL },
};
