// Scheduling: the per-CPU scheduler loop, context switches, and
// sleep/wakeup.
//
// Each CPU runs scheduler() on its boot stack. It scans the process table
// (resuming where its last scan stopped, so slots are served round-robin)
// for a RUNNABLE thread that is free to run here (affinity -1 or this CPU)
// and swtch()es to it. The thread comes back with sched(), holding its
// p->lock, which the scheduler releases. p->lock is thus held across
// swtch() in both directions: that is what makes "mark RUNNABLE, then
// switch" atomic with respect to other CPUs' schedulers.
//
// Kernel threads first: the scheduler picks a runnable kernel thread
// (a netisr, say) before any user process, and a kernel thread made
// runnable while a user process holds its CPU asks that CPU to reschedule
// (need_resched + IPI), so packets do not wait out a 10 ms quantum.
//
// Wake-up IPIs: a hart with nothing to run waits in wfi. When a thread
// becomes runnable (make_runnable), an idle hart allowed to run it is
// kicked with a supervisor software interrupt (ACLINT SSWI), so it does
// not sleep until its next timer tick. A hart marks itself idle before it
// scans the table, so a kick that races with the scan is not lost: the
// pending SSIP makes the following wfi return at once.
//
// sleep(chan, lk) / wakeup(chan): a sleeper holds p->lock from before it
// releases lk until the scheduler has switched away, and wakeup() takes
// p->lock of every sleeper, so a wakeup between "release lk" and "sleep"
// cannot be lost.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/errno.h"
#include "kernel/lock.h"
#include "kernel/proc.h"
#include "kernel/printf.h"
#include "kernel/callout.h"
#include "kernel/memlayout.h"
#include "kernel/sysctl.h"

struct cpu cpus[NCPU];
int ncpu = 1;

void swtch(struct context *old, struct context *new);

// Hart id of this CPU. Interrupts must be off, or the thread may move.
int cpuid(void)
{
	return r_tp();
}

// Caller must have interrupts off.
struct cpu *mycpu(void)
{
	return &cpus[cpuid()];
}

struct proc *myproc(void)
{
	push_off();
	struct proc *p = mycpu()->proc;
	pop_off();
	return p;
}

static bool runs_here(struct proc *p, int cpu)
{
	return p->state == RUNNABLE && (p->affinity < 0 || p->affinity == cpu);
}

// Per-CPU scheduler loop; never returns.
void scheduler(void)
{
	struct cpu *c = mycpu();
	c->proc = NULL;
	for (;;) {
		// Interrupts on, so devices (and other CPUs' kicks) can make
		// something runnable.
		intr_on();
		__atomic_store_n(&c->idle, true, __ATOMIC_SEQ_CST);
		__atomic_store_n(&c->need_resched, false, __ATOMIC_RELAXED);
		bool found = false;
		// Pass 0: kernel threads only; pass 1: everything. After a
		// kernel thread used up a whole quantum (a flood), skip pass 0
		// once, so user processes on this CPU are not starved.
		int start = c->kthread_hogged ? NPROC : 0;
		c->kthread_hogged = false;
		for (int i = start; i < 2 * NPROC && !found; i++) {
			struct proc *p = &proc[(c->next_slot + i) % NPROC];
			if (i < NPROC && !p->kthread)
				continue;
			acquire(&p->lock);
			if (runs_here(p, c->id)) {
				__atomic_store_n(&c->idle, false, __ATOMIC_RELAXED);
				p->state = RUNNING;
				c->proc = p;
				c->nswitch++;
				c->quantum_end = uptime_ms() + QUANTUM_MS;
				swtch(&c->context, &p->context);
				c->proc = NULL;
				c->next_slot = (p - proc + 1) % NPROC;
				found = true;
			}
			release(&p->lock);
		}
		if (!found)
			asm volatile("wfi");
	}
}

// Switch to this CPU's scheduler. Caller holds p->lock only, and has
// changed p->state. Saves and restores intena because it belongs to this
// kernel thread, not to the CPU.
void sched(void)
{
	struct proc *p = myproc();
	if (!holding(&p->lock))
		panic("sched: p->lock not held");
	if (mycpu()->noff != 1)
		panic("sched: %d locks held", mycpu()->noff);
	if (p->state == RUNNING)
		panic("sched: running");
	if (intr_get())
		panic("sched: interruptible");
	bool intena = mycpu()->intena;
	swtch(&p->context, &mycpu()->context);
	mycpu()->intena = intena;
}

// Give up the CPU for one scheduling round.
void yield(void)
{
	struct proc *p = myproc();
	acquire(&p->lock);
	p->state = RUNNABLE;
	sched();
	release(&p->lock);
}

// Common part of sleep() and sleep_timeout(): called holding p->lock and
// not lk (already released); returns holding p->lock.
static void sleep_locked(struct proc *p, void *chan)
{
	p->chan = chan;
	p->state = SLEEPING;
	sched();
	p->chan = NULL;
}

void sleep(void *chan, struct spinlock *lk)
{
	struct proc *p = myproc();
	acquire(&p->lock);
	release(lk);
	sleep_locked(p, chan);
	release(&p->lock);
	acquire(lk);
}

// Callout function of sleep_timeout(): runs on the arming CPU's timer
// interrupt. Only wakes p if it is still asleep in that call.
static void sleep_timeout_fire(void *arg)
{
	struct proc *p = arg;
	acquire(&p->lock);
	if (p->state == SLEEPING) {
		p->timedout = true;
		make_runnable(p);
	}
	release(&p->lock);
}

// Like sleep(), but give up after ms milliseconds: returns -ETIMEDOUT
// then, 0 when woken. The callout lives on this stack, so it is stopped
// (and waited for, if it is running on another CPU) before returning.
// p->lock is held while arming: the callout cannot fire on this CPU
// before sched() has switched away (interrupts are off), and on no other
// CPU because it was armed here.
int sleep_timeout(void *chan, struct spinlock *lk, int ms)
{
	if (ms <= 0) {
		sleep(chan, lk);
		return 0;
	}
	struct proc *p = myproc();
	struct callout c;
	callout_init(&c);
	acquire(&p->lock);
	release(lk);
	p->timedout = false;
	callout_reset(&c, ms, sleep_timeout_fire, p);
	sleep_locked(p, chan);
	bool timedout = p->timedout;
	release(&p->lock);
	callout_stop(&c);
	acquire(lk);
	return timedout ? -ETIMEDOUT : 0;
}

static int kick_enabled = 1;   // int: the knob stores an int
SYSCTL_INT_RANGE(kern_sched_kick, "kern.sched_kick", SYSCTL_RW, &kick_enabled, 0, 1,
	   "1: wake idle harts with an IPI when a thread becomes runnable; 0: they notice at their next timer tick");

// Wake one idle hart that may run p (not this one: it will reschedule by
// itself). Any context.
static void cpu_kick(struct proc *p)
{
	if (!kick_enabled)
		return;
	int me = cpuid();
	for (int i = 0; i < ncpu; i++) {
		if (i == me || (p->affinity >= 0 && p->affinity != i))
			continue;
		if (__atomic_load_n(&cpus[i].idle, __ATOMIC_SEQ_CST)) {
			*(volatile uint32 *)ACLINT_SETSSIP(i) = 1;
			return;
		}
	}
	// No idle hart: a pinned kernel thread preempts the user process on
	// its CPU (the flag is read on that CPU's way out of its next trap).
	if (p->kthread && p->affinity >= 0) {
		struct cpu *c = &cpus[p->affinity];
		__atomic_store_n(&c->need_resched, true, __ATOMIC_RELEASE);
		if (p->affinity != me)
			*(volatile uint32 *)ACLINT_SETSSIP(p->affinity) = 1;
	}
}

void resched_if_needed(void)
{
	struct proc *p = myproc();
	push_off();
	bool want = __atomic_load_n(&mycpu()->need_resched, __ATOMIC_ACQUIRE);
	pop_off();
	if (want && p != NULL && !p->kthread)
		yield();
}

void make_runnable(struct proc *p)
{
	KASSERT(holding(&p->lock));
	p->state = RUNNABLE;
	cpu_kick(p);
}

// Wake every thread sleeping on chan. Caller must not hold any p->lock.
void wakeup(void *chan)
{
	struct proc *me = myproc();
	for (struct proc *p = proc; p < &proc[NPROC]; p++) {
		if (p == me)
			continue;
		acquire(&p->lock);
		if (p->state == SLEEPING && p->chan == chan)
			make_runnable(p);
		release(&p->lock);
	}
}

static int sysctl_ipis(struct sysctl_oid *oid, int64 *val, bool write)
{
	*val = 0;
	for (int i = 0; i < ncpu; i++)
		*val += cpus[i].nipi;
	return 0;
}
SYSCTL_PROC(kern_ipis, "kern.ipis", SYSCTL_RD, sysctl_ipis, "wake-up IPIs received, all harts");
