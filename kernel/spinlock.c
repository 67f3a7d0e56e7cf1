// Spinlocks: mutual exclusion between harts, with interrupts off while
// held so an interrupt handler on this hart cannot deadlock on a lock its
// own hart holds.
//
// The lock-order checker (kernel/lockcheck.c) hooks in here and in
// kernel/sleeplock.c only: one load and branch on lockcheck_on each.
//
// push_off/pop_off nest: interrupts are turned back on only when the
// outermost pop_off runs, and only if they were on at the first push_off.
//
// A loopback ping takes and drops about 50 spinlocks: acquire and
// release find their struct cpu once (below); at -Og each recomputed
// &cpus[tp] three times.
#include "kernel/types.h"
#include "kernel/riscv.h"
#include "kernel/lock.h"
#include "kernel/proc.h"
#include "kernel/printf.h"

void initlock(struct spinlock *lk, const char *name)
{
	lk->name = name;
	lk->locked = 0;
	lk->cpu = NULL;
	lk->cls = 0;
}

// The bodies of push_off/pop_off/holding, inline so acquire and release
// find their struct cpu once and make no further calls (in the -O0 debug
// kernel too, where every call costs a frame). Interrupts are off when they look at c.
static inline __attribute__((always_inline)) struct cpu *push_off_here(void)
{
	bool old = intr_get();
	intr_off();
	struct cpu *c = mycpu();
	if (c->noff == 0)
		c->intena = old;
	c->noff++;
	return c;
}

static inline __attribute__((always_inline)) void pop_off_here(struct cpu *c)
{
	if (intr_get())
		panic("pop_off: interrupts on");
	if (c->noff < 1)
		panic("pop_off: unbalanced");
	c->noff--;
	if (c->noff == 0 && c->intena)
		intr_on();
}

static inline __attribute__((always_inline)) bool held_by(struct spinlock *lk, struct cpu *c)
{
	return __atomic_load_n(&lk->locked, __ATOMIC_RELAXED) && lk->cpu == c;
}

// Spin until the lock is ours. Any thread, any CPU; never sleeps.
void acquire(struct spinlock *lk)
{
	struct cpu *c = push_off_here();
	if (held_by(lk, c))
		panic("acquire: %s already held by this cpu", lk->name);
	if (__builtin_expect(lockcheck_on, 0))
		lockcheck_acquire(lk, false);  // before spinning: report, not hang

	// amoswap.w.aq: the acquire ordering keeps the critical section's
	// loads and stores after the lock is taken.
	while (__atomic_exchange_n(&lk->locked, 1, __ATOMIC_ACQUIRE) != 0)
		;
	lk->cpu = c;
}

bool tryacquire(struct spinlock *lk)
{
	struct cpu *c = push_off_here();
	if (held_by(lk, c))
		panic("tryacquire: %s already held by this cpu", lk->name);
	if (__atomic_exchange_n(&lk->locked, 1, __ATOMIC_ACQUIRE) != 0) {
		pop_off_here(c);
		return false;
	}
	lk->cpu = c;
	if (__builtin_expect(lockcheck_on, 0))
		lockcheck_acquire(lk, true);
	return true;
}

void release(struct spinlock *lk)
{
	struct cpu *c = mycpu();  // interrupts are off: we hold lk
	if (!held_by(lk, c))
		panic("release: %s not held", lk->name);
	if (__builtin_expect(lockcheck_on, 0))
		lockcheck_release(lk);
	lk->cpu = NULL;
	// Release ordering: the critical section's stores are visible before
	// another hart can see the lock free.
	__atomic_store_n(&lk->locked, 0, __ATOMIC_RELEASE);
	pop_off_here(c);
}

// Does this cpu hold the lock? Interrupts must be off (they are, inside
// acquire/release, and for callers that hold any spinlock).
bool holding(struct spinlock *lk)
{
	return held_by(lk, mycpu());
}

void push_off(void)
{
	push_off_here();
}

void pop_off(void)
{
	pop_off_here(mycpu());
}
