// Callouts: timed function calls with millisecond resolution.
//
// Each CPU has a list of pending callouts sorted by deadline, protected by
// its own spinlock; callout_reset() puts the callout on the calling CPU's
// list and that CPU's timer interrupt (every 1 ms, HZ in param.h) runs the
// due ones. So a callout armed by a pinned thread (a netisr) fires on that
// thread's CPU, and two CPUs never contend for one list on the fast path.
//
// Invariants: c_pending iff c is on cpu c_cpu's list; callouts[cpu].running
// points to c exactly while c's function runs on that cpu.
// Locking: callouts[cpu].lock protects that list, its running pointer, and
// the [s] fields of the callouts on it.
// Races:
//   - stop vs fire on another CPU: callout_stop() takes the owning list's
//     lock; if the function is already running there, it waits until the
//     list's running pointer no longer names c (unless it is that very
//     function stopping itself).
//   - reset of a callout pending on another CPU: removed from the old list
//     under that list's lock first, then added here.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/lock.h"
#include "kernel/proc.h"
#include "kernel/printf.h"
#include "kernel/callout.h"
#include "kernel/sysctl.h"

static struct callout_cpu {
	struct spinlock lock;
	struct callout *head;   // [s] sorted by c_time
	struct callout *running;// [s] callout whose function runs now
	uint64 nfired;          // [s]
} callouts[NCPU];

uint64 uptime_ms(void)
{
	return r_time() / (TIMEBASE / 1000);
}

void callout_sysinit(void)
{
	for (int i = 0; i < NCPU; i++)
		initlock(&callouts[i].lock, "callout");
}

void callout_init(struct callout *c)
{
	c->c_next = NULL;
	c->c_cpu = -1;
	c->c_pending = false;
	c->c_fn = NULL;
	c->c_arg = NULL;
}

// Unlink c from its list. Caller holds that list's lock.
static void unlink(struct callout_cpu *cc, struct callout *c)
{
	for (struct callout **pp = &cc->head; *pp; pp = &(*pp)->c_next) {
		if (*pp == c) {
			*pp = c->c_next;
			c->c_next = NULL;
			c->c_pending = false;
			return;
		}
	}
	panic("callout: not on its list");
}

// Remove c from whatever list holds it; returns true if it was pending.
static bool dequeue(struct callout *c)
{
	for (;;) {
		int cpu = __atomic_load_n(&c->c_cpu, __ATOMIC_ACQUIRE);
		if (cpu < 0)
			return false;
		struct callout_cpu *cc = &callouts[cpu];
		acquire(&cc->lock);
		if (c->c_cpu != cpu) {   // moved while we took the lock
			release(&cc->lock);
			continue;
		}
		bool was = c->c_pending;
		if (was)
			unlink(cc, c);
		release(&cc->lock);
		return was;
	}
}

void callout_reset(struct callout *c, int ms, void (*fn)(void *), void *arg)
{
	dequeue(c);
	if (ms < 0)
		ms = 0;
	push_off();
	int me = cpuid();
	struct callout_cpu *cc = &callouts[me];
	acquire(&cc->lock);
	c->c_fn = fn;
	c->c_arg = arg;
	c->c_time = uptime_ms() + ms;
	c->c_cpu = me;
	c->c_pending = true;
	struct callout **pp = &cc->head;
	while (*pp && (*pp)->c_time <= c->c_time)
		pp = &(*pp)->c_next;
	c->c_next = *pp;
	*pp = c;
	release(&cc->lock);
	pop_off();
}

bool callout_stop(struct callout *c)
{
	bool was = dequeue(c);
	int cpu = __atomic_load_n(&c->c_cpu, __ATOMIC_ACQUIRE);
	if (cpu < 0)
		return was;
	struct callout_cpu *cc = &callouts[cpu];
	// Wait for a concurrent run of c_fn on another CPU to finish.
	for (;;) {
		acquire(&cc->lock);
		bool busy = cc->running == c && cpu != cpuid();
		release(&cc->lock);
		if (!busy)
			break;
	}
	return was;
}

bool callout_pending(struct callout *c)
{
	return __atomic_load_n(&c->c_pending, __ATOMIC_ACQUIRE);
}

// Timer interrupt of this CPU: run every due callout, each with the list
// lock released so that the function may re-arm callouts.
void callout_tick(void)
{
	struct callout_cpu *cc = &callouts[cpuid()];
	uint64 now = uptime_ms();
	acquire(&cc->lock);
	while (cc->head && cc->head->c_time <= now) {
		struct callout *c = cc->head;
		cc->head = c->c_next;
		c->c_next = NULL;
		c->c_pending = false;
		cc->running = c;
		cc->nfired++;
		void (*fn)(void *) = c->c_fn;
		void *arg = c->c_arg;
		release(&cc->lock);
		fn(arg);
		acquire(&cc->lock);
		cc->running = NULL;
		// c may have been freed by fn (after stopping itself); only the
		// list's own bookkeeping is touched from here on.
	}
	release(&cc->lock);
}

static int sysctl_fired(struct sysctl_oid *oid, int64 *val, bool write)
{
	*val = 0;
	for (int i = 0; i < NCPU; i++)
		*val += callouts[i].nfired;
	return 0;
}
SYSCTL_PROC(kern_callouts_fired, "kern.callouts_fired", SYSCTL_RD, sysctl_fired,
	    "callout functions run, all CPUs");
