// A weak-memory model checker for the PCQ (net/pcq.c): runs the real
// pcq_put / pcq_get on a simulated C11 memory, where a relaxed access
// really is relaxed -- which no stress test on x86 can show.
//
// Why: x86 is TSO. Every store is a release and every load an acquire
// in hardware, so net/pcq.c with all its orders set to RELAXED passes
// any number of threads hammering it on a PC. The bugs are real on
// RISC-V and ARM (and allowed by the C11 model the code is written
// against), so the lab's grader needs a machine where they show.
//
// How: this file #includes net/pcq.c a second time with every
// __atomic_* builtin replaced by a call into the model below, and runs a
// consumer and two producers as coroutines (ucontext) under a random
// but seeded scheduler: every atomic access is a point where another
// thread may run, so "stalled between the CAS and the store" is simply
// a schedule. The memory model is the view-based operational reading of
// C11 release/acquire ("promising"-style, without promises):
//   - each location keeps ALL its writes, ordered by a timestamp
//     (the modification order), each write with a message view;
//   - each thread has a view: per location, the oldest write it may
//     still read (coherence);
//   - a load may read ANY write at or after the thread's view (the
//     model picks the newest half the time, else a random eligible
//     one); an ACQUIRE load that reads a RELEASE write joins that
//     write's view into its own;
//   - a store is placed anywhere in modification order after the
//     thread's view (not just at the end: a store whose thread has not
//     seen a newer write of the location can be ordered before it),
//     but never between an RMW and the write it read;
//   - a RELEASE store's message view is the thread's whole view; a
//     RELAXED store's is only its own location;
//   - an RMW (CAS, add) reads the newest write and goes right after it;
//     its message view also carries the one it read (release sequence).
// The producers FILL each item (a plain, relaxed store of a magic value
// into the item) before they put it; the consumer reads the field after
// it got the pointer. The checks: every item comes out exactly once, in
// order per producer, with its fill visible, and no KASSERT of pcq.c
// fails. Seeded: a failing run prints its seed, and the same seed
// replays the same schedule.
//
// What it catches (labs/mistakes/pcq/*.patch prove it): the publish
// (item store) RELAXED instead of RELEASE; the consumer's load of the
// slot RELAXED instead of ACQUIRE; the producer's reserving CAS RELAXED
// instead of ACQUIRE and the consumer's CAS RELAXED instead of RELEASE
// (the item store is then ordered before the consumer's clearing NULL:
// the item is lost); a consumer that takes a reserved slot (publish
// before fill). The real-thread test pcq_every_item_once_in_order_per_
// producer (test_pcq.c) catches only the program-order mistakes.
//
// Testing the tester: tests/test_labs_mech.py's mistake check applies
// each patch and requires these units to fail.
#include <ucontext.h>
#include <string.h>
#include "tests/host/test.h"
#include "net/pcq.h"

// ---- the model memory ------------------------------------------------------

#define WM_MAXLOC 24          // locations one run touches (pc, slots, items)
#define WM_MAXW 2048          // writes per run, all locations together
#define WM_NTHR 3             // thread 0 consumes, 1..2 produce

struct wm_write {
	uint64 val;
	double ts;                // position in the location's modification order
	bool rmw;                 // written by an RMW (nothing may go right before it)
	double view[WM_MAXLOC];   // message view (all 0 but its own: a relaxed write)
	struct wm_write *next;    // the location's writes, by ts
};

struct wm_loc {
	void *addr;
	struct wm_write *first;
};

static struct wm_loc wm_locs[WM_MAXLOC];
static int wm_nlocs;
static struct wm_write wm_pool[WM_MAXW];
static int wm_nw;
static double wm_tview[WM_NTHR][WM_MAXLOC];   // per-thread view
static int wm_cur;                            // thread running now
static uint64 wm_rand_state;
static const char *wm_fail;                   // first failure of this run

static uint32 wm_rand(uint32 n)
{
	wm_rand_state = wm_rand_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32)(wm_rand_state >> 33) % n;
}

static void wm_failed(const char *why)
{
	if (wm_fail == NULL)
		wm_fail = why;
}

static struct wm_write *wm_new(uint64 val, double ts, bool rmw)
{
	if (wm_nw == WM_MAXW) {
		wm_failed("model: out of writes (a livelock?)");
		wm_nw = 0;   // keep going; the run is failed anyway
	}
	struct wm_write *w = &wm_pool[wm_nw++];
	memset(w, 0, sizeof(*w));
	w->val = val;
	w->ts = ts;
	w->rmw = rmw;
	return w;
}

// The location of addr; on first touch its initial write is what memory
// holds (written before the threads started: everybody sees it).
static int wm_loc(void *addr)
{
	for (int i = 0; i < wm_nlocs; i++)
		if (wm_locs[i].addr == addr)
			return i;
	CHECK(wm_nlocs < WM_MAXLOC);
	wm_locs[wm_nlocs].addr = addr;
	wm_locs[wm_nlocs].first = wm_new(*(uint64 *)addr, 0, false);
	return wm_nlocs++;
}

static struct wm_write *wm_last(int l)
{
	struct wm_write *w = wm_locs[l].first;
	while (w->next != NULL)
		w = w->next;
	return w;
}

static bool wm_acq(int order)
{
	return order == __ATOMIC_ACQUIRE || order == __ATOMIC_ACQ_REL ||
	       order == __ATOMIC_SEQ_CST || order == __ATOMIC_CONSUME;
}

static bool wm_rel(int order)
{
	return order == __ATOMIC_RELEASE || order == __ATOMIC_ACQ_REL ||
	       order == __ATOMIC_SEQ_CST;
}

static void wm_join(double *v, const double *w)
{
	for (int i = 0; i < WM_MAXLOC; i++)
		if (w[i] > v[i])
			v[i] = w[i];
}

static void wm_yield(void);

// A load: any write at or after this thread's view of l.
__attribute__((unused))   // only the macros below use it (a stub may not)
static uint64 wm_load(void *addr, int order)
{
	wm_yield();
	int l = wm_loc(addr);
	double *tv = wm_tview[wm_cur];
	struct wm_write *elig[WM_MAXW], *w;
	int n = 0;
	for (w = wm_locs[l].first; w != NULL; w = w->next)
		if (w->ts >= tv[l])
			elig[n++] = w;
	CHECK(n > 0);
	w = wm_rand(2) ? elig[n - 1] : elig[wm_rand(n)];
	tv[l] = w->ts;
	if (wm_acq(order))
		wm_join(tv, w->view);
	return w->val;
}

static void wm_msgview(struct wm_write *w, int l, int order)
{
	if (wm_rel(order))
		memcpy(w->view, wm_tview[wm_cur], sizeof(w->view));
	w->view[l] = w->ts;
}

// A store: anywhere in modification order after this thread's view,
// never between an RMW and the write it read.
__attribute__((unused))   // only the macros below use it (a stub may not)
static void wm_store(void *addr, uint64 val, int order)
{
	wm_yield();
	int l = wm_loc(addr);
	double *tv = wm_tview[wm_cur];
	struct wm_write *gaps[WM_MAXW], *w;
	int n = 0;
	for (w = wm_locs[l].first; w != NULL; w = w->next)
		if (w->ts >= tv[l] && (w->next == NULL || !w->next->rmw))
			gaps[n++] = w;   // may go right after w
	CHECK(n > 0);
	struct wm_write *a = wm_rand(2) ? gaps[n - 1] : gaps[wm_rand(n)];
	double ts = a->next ? (a->ts + a->next->ts) / 2 : a->ts + 1;
	struct wm_write *nw = wm_new(val, ts, false);
	nw->next = a->next;
	a->next = nw;
	tv[l] = ts;
	wm_msgview(nw, l, order);
	if (wm_rel(order))
		nw->view[l] = ts;
}

// An RMW: reads the newest write, goes right after it. The caller has
// yielded already (nothing may run between its setup and the RMW).
static uint64 wm_rmw(void *addr, uint64 (*op)(uint64 old, uint64 arg, bool *write),
		     uint64 arg, int order, int fail_order, bool *wrote)
{
	int l = wm_loc(addr);
	double *tv = wm_tview[wm_cur];
	struct wm_write *last = wm_last(l);
	bool write = true;
	uint64 nv = op(last->val, arg, &write);
	*wrote = write;
	if (!write) {   // a failed CAS is a load of the newest value
		tv[l] = last->ts;
		if (wm_acq(fail_order))
			wm_join(tv, last->view);
		return last->val;
	}
	if (wm_acq(order))
		wm_join(tv, last->view);
	struct wm_write *nw = wm_new(nv, last->ts + 1, true);
	last->next = nw;
	tv[l] = nw->ts;
	wm_msgview(nw, l, order);
	wm_join(nw->view, last->view);   // release sequence: RMWs carry it on
	nw->view[l] = nw->ts;
	return last->val;
}

static uint64 wm_op_cas_expect;
static uint64 wm_op_cas(uint64 old, uint64 desired, bool *write)
{
	*write = old == wm_op_cas_expect;
	return desired;
}

__attribute__((unused))   // only the macros below use it (a stub may not)
static bool wm_cas(void *addr, uint64 *expected, uint64 desired, int so, int fo)
{
	bool wrote;
	wm_yield();
	wm_op_cas_expect = *expected;
	uint64 old = wm_rmw(addr, wm_op_cas, desired, so, fo, &wrote);
	*expected = old;
	return wrote;
}

static uint64 wm_op_add(uint64 old, uint64 v, bool *write)
{
	*write = true;
	return old + v;
}

__attribute__((unused))   // only the macros below use it (a stub may not)
static uint64 wm_add(void *addr, uint64 v, int order)
{
	bool wrote;
	wm_yield();
	return wm_rmw(addr, wm_op_add, v, order, order, &wrote) + v;
}

// ---- net/pcq.c on the model --------------------------------------------------

#undef KASSERT
#define KASSERT(c) ((c) ? (void)0 : wm_failed("KASSERT(" #c ") in net/pcq.c"))
#define __atomic_load_n(p, o) ((__typeof__(*(p)))wm_load((void *)(p), (o)))
#define __atomic_store_n(p, v, o) wm_store((void *)(p), (uint64)(v), (o))
#define __atomic_compare_exchange_n(p, e, d, w, so, fo) \
	wm_cas((void *)(p), (uint64 *)(e), (uint64)(d), (so), (fo))
#define __atomic_add_fetch(p, v, o) ((__typeof__(*(p)))wm_add((void *)(p), (uint64)(v), (o)))
#define pcq_create wm_pcq_create
#define pcq_destroy wm_pcq_destroy
#define pcq_put wm_pcq_put
#define pcq_get wm_pcq_get
#define pcq_peek wm_pcq_peek
#define pcq_count wm_pcq_count
#define pcq_maxitems wm_pcq_maxitems
bool wm_pcq_put(struct pcq *q, void *item);
void *wm_pcq_get(struct pcq *q);
void *wm_pcq_peek(struct pcq *q);
uint32 wm_pcq_count(struct pcq *q);
uint32 wm_pcq_maxitems(struct pcq *q);
void wm_pcq_destroy(struct pcq *q);
struct pcq *wm_pcq_create(uint32 maxitems);
#include "net/pcq.c"
#undef __atomic_load_n
#undef __atomic_store_n
#undef __atomic_compare_exchange_n
#undef __atomic_add_fetch
#undef pcq_create
#undef pcq_destroy
#undef pcq_put
#undef pcq_get
#undef pcq_peek
#undef pcq_count
#undef pcq_maxitems

// ---- threads: coroutines under a seeded random scheduler --------------------

#define WM_STACK (256 * 1024)
#define NPROD (WM_NTHR - 1)
#define PER 3                  // items per producer
#define MAGIC(p, k) (0x5eed0000ull + (uint64)(p) * 16 + (k))

struct wm_item {
	uint64 fill;               // written by the producer before the put
	int prod, seq;             // [i] plain, set before the run
};

static ucontext_t wm_sched_ctx, wm_ctx[WM_NTHR];
static bool wm_done[WM_NTHR];
static char *wm_stack[WM_NTHR];
static struct pcq *wm_q;
static struct wm_item wm_items[NPROD][PER];
static int wm_got, wm_steps;

// Every model access starts here: back to the scheduler, which picks who
// goes next (possibly this thread again).
static void wm_yield(void)
{
	wm_steps++;
	swapcontext(&wm_ctx[wm_cur], &wm_sched_ctx);
}

static void wm_producer(int p)
{
	for (int k = 0; k < PER; k++) {
		struct wm_item *it = &wm_items[p][k];
		wm_store(&it->fill, MAGIC(p, k), __ATOMIC_RELAXED);   // fill ...
		while (!wm_pcq_put(wm_q, it))                          // ... then publish
			wm_yield();
	}
}

static void wm_consumer(void)
{
	int next[NPROD] = { 0 };
	int idle = 0;
	while (wm_got < NPROD * PER && idle < 400) {
		struct wm_item *it = wm_pcq_get(wm_q);
		if (it == NULL) {
			// Spinning while a producer still runs is normal; once
			// all are done, the queue must give up what it holds.
			if (wm_done[1] && wm_done[2])
				idle++;
			wm_yield();
			continue;
		}
		idle = 0;
		if (it < &wm_items[0][0] || it > &wm_items[NPROD - 1][PER - 1]) {
			wm_failed("pcq_get returned a pointer that was never put");
			return;
		}
		if (it->seq != next[it->prod]) {
			wm_failed("an item came out twice or out of its producer's order");
			return;
		}
		next[it->prod]++;
		wm_got++;
		if (wm_load(&it->fill, __ATOMIC_RELAXED) != MAGIC(it->prod, it->seq))
			wm_failed("the consumer saw the pointer before the producer's fill");
	}
	if (wm_got < NPROD * PER)
		wm_failed("an item was put but never came out (lost)");
}

static void wm_thread(int t)
{
	if (t == 0)
		wm_consumer();
	else
		wm_producer(t - 1);   // threads 1.. are producers 0..
	wm_done[t] = true;
}

// One execution with this seed; NULL if every check held.
static const char *wm_run(uint64 seed, uint32 qsize)
{
	wm_rand_state = seed * 0x9e3779b97f4a7c15ull + 1;
	wm_fail = NULL;
	wm_nlocs = wm_nw = wm_got = wm_steps = 0;
	memset(wm_tview, 0, sizeof(wm_tview));
	memset(wm_done, 0, sizeof(wm_done));
	wm_q = pcq_create(qsize);   // the real one: plain stores, before the threads
	CHECK(wm_q != NULL);
	for (int p = 0; p < NPROD; p++)
		for (int k = 0; k < PER; k++)
			wm_items[p][k] = (struct wm_item){ 0, p, k };
	for (int t = 0; t < WM_NTHR; t++) {
		CHECK(getcontext(&wm_ctx[t]) == 0);
		wm_ctx[t].uc_stack.ss_sp = wm_stack[t];
		wm_ctx[t].uc_stack.ss_size = WM_STACK;
		wm_ctx[t].uc_link = &wm_sched_ctx;
		makecontext(&wm_ctx[t], (void (*)(void))wm_thread, 1, t);
	}
	int live = WM_NTHR;
	while (live > 0) {
		int pick = wm_rand(live), t;
		for (t = 0; t < WM_NTHR; t++)
			if (!wm_done[t] && pick-- == 0)
				break;
		wm_cur = t;
		CHECK(swapcontext(&wm_sched_ctx, &wm_ctx[t]) == 0);
		if (wm_done[t])
			live--;
		if (wm_fail != NULL)
			break;   // stop at the first failure: the state is garbage now
		if (wm_steps > 200000) {
			wm_failed("model: no progress in 200000 steps");
			break;   // abandon the coroutines: their stacks are reused
		}
	}
	// Leave the queue empty for pcq_destroy's check (the model's memory
	// is not real memory: clear it by hand).
	wm_q->pcq_pc = 0;
	for (uint32 s = 0; s < wm_q->pcq_nslots; s++)
		*pcq_slot(wm_q, s) = NULL;
	pcq_destroy(wm_q);
	return wm_fail;
}

static void wm_explore(int runs, uint32 qsize)
{
	for (int t = 0; t < WM_NTHR; t++)
		CHECK((wm_stack[t] = malloc(WM_STACK)) != NULL);
	for (int r = 0; r < runs; r++) {
		const char *why = wm_run((uint64)r, qsize);
		if (why != NULL) {
			printf("schedule %d (random seed %d, queue of %u): %s\n", r, r, qsize, why);
			CHECK(why == NULL);
		}
	}
	printf("  %d schedules on the weak-memory model, queue of %u: all correct\n",
	       runs, qsize);
	for (int t = 0; t < WM_NTHR; t++)
		free(wm_stack[t]);
}

// A queue of 2 (3 slots): the producers keep finding it full and every
// slot is reused, so the reserve / clear ordering is exercised.
static void pcq_model_small_queue_wraps(void)
{
	wm_explore(3000, 2);
}

// A queue of 4: fewer fulls, more items in flight at once.
static void pcq_model_items_in_flight(void)
{
	wm_explore(3000, 4);
}

const struct host_test pcq_model_tests[] = {
	{ pcq_model_small_queue_wraps, "pcq_model_small_queue_wraps" },
	{ pcq_model_items_in_flight, "pcq_model_items_in_flight" },
	{ NULL, NULL },
};
