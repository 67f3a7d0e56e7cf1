// Scheduling: per-CPU run queues, the per-CPU scheduler loop, context
// switches, and sleep/wakeup.
//
// Problem: a scheduler that scans the whole process table (twice: kernel
// threads first, then everything) with an acquire/release of every slot
// costs thousands of instructions per context switch, on every CPU, and
// makes all CPUs read and write every p->lock.
//
// Idea, after Matt Dillon's LWKT scheduler in DragonFly BSD (sys/kern/
// lwkt_thread.c; "a thread runs on the CPU it was scheduled on"): each CPU
// owns two run queues (kernel threads, which run first, and user
// processes) that only it ever touches, with interrupts off. A thread has
// a home CPU (p->cpu) and runs only there; it changes home only when it is
// made runnable (see "Placement") or handed over by a busy CPU ("Work").
//   - Making a thread runnable (make_runnable: wakeup, fork, kill, a
//     timeout) never touches another CPU's queues: it pushes the thread
//     onto the home CPU's ipiq, a lock-free list, and, if that CPU is
//     idle in wfi, sends it an IPI (ACLINT SSWI). That pair is the wake-up
//     message of LWKT's lwkt_schedule() of a remote thread (DragonFly
//     sends an IPI message that runs lwkt_schedule on the owning CPU).
//     The owning scheduler moves its ipiq onto its queues when it next
//     picks a thread.
//   - Pinned kernel threads (netisr) are never moved. A pinned kernel
//     thread made runnable while a user process holds its CPU asks that
//     CPU to reschedule (need_resched, plus the IPI if remote), so packets
//     do not wait out a 10 ms quantum. Except with wakeup_lazy, for a
//     thread woken onto the waker's own CPU: it waits until the waker
//     blocks or yields, at most a quantum, or until sched_hurry (the
//     asynchronous PRU_RCVD: net/tcp_rcvd_async.c).
//   - A switch costs a queue pop and one p->lock: no scan.
// Placement (make_runnable, unpinned threads): stay on the home CPU if it
// is idle, or if it is this CPU and a kernel thread (a netisr about to
// block) is the waker; otherwise move to an idle CPU if there is one, else
// stay home. A new process (fork) counts as woken by its parent, so it
// starts on an idle CPU when there is one. Before all that, wake-affine
// (kern.sched_wake_affine): a user process woken by a pinned kernel
// thread (a netisr) joins that thread's CPU, and remembers it
// (p->flowcpu: "Flow-affine").
// Work (balancing): a CPU with empty queues sets want_work before it
// waits; a CPU that picks a user process while others still wait in its
// queue hands the first of them that is not flow-affine to it to such a
// CPU (ipiq + IPI). Flow-affine (kern.sched_flow_stay): a process woken
// by the netisr of this CPU stays with it -- the client and the server
// of a ping-pong, both runnable on their flow's CPU for a moment each
// exchange, are not split over two harts to meet again by IPI -- until
// it uses two whole quanta in a row (CPU-bound: quantum_used). The send
// side of the same idea is net/so_sendcpu.c. (Not when it
// picks a kernel thread: the user process that waits is usually the one
// that just yielded to it, and runs again as soon as it blocks.) A CPU-bound
// process therefore moves at the latest when its CPU's quantum ends
// (10 ms). Kernel threads are never handed over.
//
// p->lock is held across swtch() in both directions, as in xv6: the
// scheduler takes it before switching to p, the thread drops it once
// running; a thread gives up the CPU (sched()) holding it, and the
// scheduler releases it. That is what makes "mark RUNNABLE or SLEEPING,
// then switch" atomic with respect to wakers on other CPUs.
//
// Invariants: p->onrq iff p is on exactly one run queue or ipiq; a thread
// on CPU c's queues has p->cpu == c and state RUNNABLE; only CPU c links
// or unlinks its run queues.
// Races: (1) a wake-up pushed onto an idle CPU's ipiq while that CPU
// decides to wait: the CPU sets idle (seq_cst) before it empties its
// ipiq, the waker pushes (seq_cst) before it reads idle, so either the
// CPU sees the thread or the waker sees idle and sends the IPI, whose
// pending SSIP ends the wfi at once. (2) a wake-up from an interrupt on
// the CPU itself: the scheduler looks at its ipiq with interrupts off
// right before wfi. (3) a second make_runnable of a queued thread cannot
// happen: only a SLEEPING or new thread is made runnable, and it stays
// RUNNABLE until its scheduler runs it.
//
// sleep(chan, lk) / wakeup(chan): a sleeper holds p->lock from before it
// releases lk until the scheduler has switched away, and wakeup() takes
// p->lock of every sleeper, so a wakeup between "release lk" and "sleep"
// cannot be lost.
//
// Testing: usertests (kern.selftest pins a thread to every CPU), tests/
// test_usertests.py with 1, 2 and 4 CPUs; sysctl kern.ipis and
// kern.sched_handoffs count the IPIs and hand-overs. gdb: break
// scheduler, make_runnable, balance.
// References: Matthew Dillon, "LWKT" design notes and DragonFly BSD
// sys/kern/lwkt_thread.c (lwkt_schedule, lwkt_switch).
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

// ---- run queues (owned by their CPU, interrupts off) ----------------------

static void rq_append(struct runq *q, struct proc *p)
{
	p->rq_next = NULL;
	if (q->rq_tail)
		q->rq_tail->rq_next = p;
	else
		q->rq_head = p;
	q->rq_tail = p;
	q->rq_len++;
}

static struct proc *rq_pop(struct runq *q)
{
	struct proc *p = q->rq_head;
	if (p == NULL)
		return NULL;
	q->rq_head = p->rq_next;
	if (q->rq_head == NULL)
		q->rq_tail = NULL;
	q->rq_len--;
	p->rq_next = NULL;
	return p;
}

static void rq_add(struct cpu *c, struct proc *p)
{
	rq_append(p->kthread ? &c->rq_kthread : &c->rq_user, p);
}

// Push p onto c's ipiq. Any CPU; caller holds p->lock.
static void ipiq_push(struct cpu *c, struct proc *p)
{
	struct proc *old = __atomic_load_n(&c->ipiq, __ATOMIC_RELAXED);
	do
		p->rq_next = old;
	while (!__atomic_compare_exchange_n(&c->ipiq, &old, p, true, __ATOMIC_SEQ_CST,
					    __ATOMIC_RELAXED));
}

// Move everything on this CPU's ipiq onto its run queues, oldest first
// (the list is newest first). Called by c's scheduler, interrupts off.
static void ipiq_drain(struct cpu *c)
{
	struct proc *p = __atomic_exchange_n(&c->ipiq, NULL, __ATOMIC_SEQ_CST);
	struct proc *rev = NULL;
	while (p) {
		struct proc *next = p->rq_next;
		p->rq_next = rev;
		rev = p;
		p = next;
	}
	while (rev) {
		struct proc *next = rev->rq_next;
		rq_add(c, rev);
		rev = next;
	}
}

static void send_ipi(int cpu)
{
	*(volatile uint32 *)ACLINT_SETSSIP(cpu) = 1;
}

// The next thread for c: kernel threads first, unless one just used up a
// whole quantum (a flood), then user processes get one turn.
static struct proc *pick(struct cpu *c)
{
	struct proc *p = NULL;
	if (!c->kthread_hogged || c->rq_user.rq_head == NULL)
		p = rq_pop(&c->rq_kthread);
	c->kthread_hogged = false;
	if (p == NULL)
		p = rq_pop(&c->rq_user);
	if (p == NULL)
		p = rq_pop(&c->rq_kthread);
	return p;
}

static int flow_stay = 1;
SYSCTL_INT_RANGE(kern_sched_flow_stay, "kern.sched_flow_stay", SYSCTL_RW, &flow_stay, 0, 1,
	   "1: a process woken by its flow's netisr stays on that CPU (not handed to an idle one) "
	   "until it uses up a whole quantum");

// Does p stay on c, with the netisr of its flow ("Flow-affine")? Read
// without p->lock: p is on c's queue, and only c's scheduler writes
// flowcpu while it is (place() runs before p is queued).
static bool flow_kept(struct cpu *c, struct proc *p)
{
	return __atomic_load_n(&flow_stay, __ATOMIC_RELAXED) && p->flowcpu == c->id;
}

// Unlink from q the first thread that may leave c (not flow_kept), or
// NULL. Counts the ones passed over (kern.sched_flow_kept).
static struct proc *rq_take_movable(struct cpu *c, struct runq *q)
{
	struct proc *prev = NULL;
	for (struct proc *p = q->rq_head; p != NULL; prev = p, p = p->rq_next) {
		if (flow_kept(c, p)) {
			c->nflowkept++;
			continue;
		}
		if (prev)
			prev->rq_next = p->rq_next;
		else
			q->rq_head = p->rq_next;
		if (q->rq_tail == p)
			q->rq_tail = prev;
		q->rq_len--;
		p->rq_next = NULL;
		return p;
	}
	return NULL;
}

// The first CPU other than c that asked for work, which then no longer
// asks; -1 if none.
static int claim_want_work(struct cpu *c)
{
	for (int i = 0; i < ncpu; i++) {
		if (i == c->id || !__atomic_load_n(&cpus[i].want_work, __ATOMIC_ACQUIRE))
			continue;
		if (__atomic_exchange_n(&cpus[i].want_work, 0, __ATOMIC_ACQ_REL))
			return i;
		// another CPU answered first
	}
	return -1;
}

static bool anyone_wants_work(struct cpu *c)
{
	for (int i = 0; i < ncpu; i++)
		if (i != c->id && __atomic_load_n(&cpus[i].want_work, __ATOMIC_ACQUIRE))
			return true;
	return false;
}

// User processes still wait here: hand the first one that may leave (is
// not flow-affine to c) to a CPU that asked for work. c's scheduler,
// interrupts off, no lock held.
static void balance(struct cpu *c)
{
	if (c->rq_user.rq_head == NULL || !anyone_wants_work(c))
		return;
	struct proc *p = rq_take_movable(c, &c->rq_user);
	if (p == NULL)
		return;   // every one waiting here stays with its flow
	int i = claim_want_work(c);
	if (i < 0) {
		rq_append(&c->rq_user, p);   // another CPU served the asker: keep p
		return;
	}
	acquire(&p->lock);
	p->cpu = i;
	ipiq_push(&cpus[i], p);
	release(&p->lock);
	c->nmigrate++;
	send_ipi(i);
}

// Nothing to run: ask for work and wait for an interrupt, unless a thread
// arrived on the ipiq meanwhile. Interrupts off; wfi returns on a pending
// interrupt even so, and the caller turns them on to take it. The time
// waited is counted (kern.idle_ns, kern.cp_idle per CPU, kern.idle_us);
// the handler the wake-up runs is not, since it runs after. Under -icount
// shift=0 one guest instruction is 1 ns of virtual time, so on one hart:
// instructions = elapsed - idle (docs/profiling.md, "Idle time").
static void idle_wait(struct cpu *c)
{
	__atomic_store_n(&c->want_work, 1, __ATOMIC_RELEASE);
	if (__atomic_load_n(&c->ipiq, __ATOMIC_SEQ_CST) == NULL) {
		uint64 t0 = r_time();
		asm volatile("wfi");
		__atomic_add_fetch(&c->idle_ticks, r_time() - t0, __ATOMIC_RELAXED);
	}
}

// p yielded: if its quantum was over, count it; two whole quanta in a
// row without sleeping make it CPU-bound, and it loses its flow's CPU
// (balance() may hand it over again). Two, not one: without -icount the
// guest's clock runs on while the host preempts a vCPU, so a process
// that sleeps every few microseconds can find one quantum "used up".
// Caller holds p->lock.
static void quantum_used(struct cpu *c, struct proc *p)
{
	if (uptime_ms() < c->quantum_end)
		return;   // it gave way to a kernel thread: not CPU-bound
	if (++p->quanta >= 2)
		p->flowcpu = -1;
}

// Per-CPU scheduler loop; never returns.
void scheduler(void)
{
	struct cpu *c = mycpu();
	c->proc = NULL;
	for (;;) {
		// Let pending interrupts in (devices and other CPUs' kicks
		// make threads runnable), then decide with them off.
		intr_on();
		intr_off();
		__atomic_store_n(&c->idle, true, __ATOMIC_SEQ_CST);
		__atomic_store_n(&c->need_resched, false, __ATOMIC_RELAXED);
		ipiq_drain(c);
		struct proc *p = pick(c);
		if (p == NULL) {
			idle_wait(c);
			continue;
		}
		__atomic_store_n(&c->idle, false, __ATOMIC_RELAXED);
		__atomic_store_n(&c->want_work, 0, __ATOMIC_RELAXED);
		if (!p->kthread)
			balance(c);  // two user processes compete for this CPU

		acquire(&p->lock);
		KASSERT(p->state == RUNNABLE && p->onrq && p->cpu == c->id);
		p->onrq = false;
		p->state = RUNNING;
		c->proc = p;
		c->nswitch++;
		c->quantum_end = uptime_ms() + QUANTUM_MS;
		uint64 t0 = r_time();
		swtch(&c->context, &p->context);
		p->runtime += r_time() - t0;   // p->lock held again: [p]
		c->proc = NULL;
		if (p->state == RUNNABLE) {  // yield(): back of this CPU's queue
			quantum_used(c, p);
			p->onrq = true;
			rq_add(c, p);
		} else if (p->state == SLEEPING) {
			p->quanta = 0;
		}
		release(&p->lock);
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

// Sleepers by channel: bit i of sleepers[b] is set while proc[i] sleeps
// on a channel that hashes to bucket b. wakeup() looks only at those
// slots, and returns at once when the bucket is empty (most wakeups: a
// socket buffer's, say, when the reader waits in poll). NPROC <= 64.
#define NSLEEPQ 64
static uint64 sleepers[NSLEEPQ];  // [a]
_Static_assert(NPROC <= 64, "sleepers[] has one bit per process slot");

static uint64 *sleepers_of(void *chan)
{
	uint64 a = (uint64)chan;
	return &sleepers[((a >> 3) ^ (a >> 9)) % NSLEEPQ];
}

// First half of sleep() and sleep_timeout(): p sleeps on chan from now
// on, published under p->lock while lk is still held, then lk is let go.
// A waker that holds lk (as it must) therefore sees state and chan set,
// which is what lets wakeup() skip a slot without taking its lock.
// Returns holding p->lock.
static void sleep_begin(struct proc *p, void *chan, struct spinlock *lk)
{
	acquire(&p->lock);
	__atomic_store_n(&p->chan, chan, __ATOMIC_RELAXED);
	__atomic_store_n(&p->state, SLEEPING, __ATOMIC_RELAXED);
	__atomic_or_fetch(sleepers_of(chan), 1UL << (p - proc), __ATOMIC_RELAXED);
	release(lk);  // release ordering: the stores above are visible first
}

// Second half: switch away until woken; returns holding p->lock.
static void sleep_switch(struct proc *p)
{
	void *chan = p->chan;
	sched();
	__atomic_store_n(&p->chan, NULL, __ATOMIC_RELAXED);
	__atomic_and_fetch(sleepers_of(chan), ~(1UL << (p - proc)), __ATOMIC_RELAXED);
}

void sleep(void *chan, struct spinlock *lk)
{
	struct proc *p = myproc();
	sleep_begin(p, chan, lk);
	sleep_switch(p);
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
	sleep_begin(p, chan, lk);
	p->timedout = false;
	callout_reset(&c, ms, sleep_timeout_fire, p);
	sleep_switch(p);
	bool timedout = p->timedout;
	release(&p->lock);
	callout_stop(&c);
	acquire(lk);
	return timedout ? -ETIMEDOUT : 0;
}

static int kick_enabled = 1;   // int: the knob stores an int
SYSCTL_INT_RANGE(kern_sched_kick, "kern.sched_kick", SYSCTL_RW, &kick_enabled, 0, 1,
	   "1: wake idle harts with an IPI when a thread becomes runnable; 0: they notice at their next timer tick");

static int find_idle_cpu(int me)
{
	for (int i = 0; i < ncpu; i++)
		if (i != me && __atomic_load_n(&cpus[i].idle, __ATOMIC_SEQ_CST))
			return i;
	return -1;
}

// Wake-affine placement (kern.sched_wake_affine): a user process woken
// by a pinned kernel thread (a netisr delivering data, or room in a send
// buffer) joins that thread's CPU, where the flow it talks to is
// processed: its next system call's message to that netisr stays on the
// CPU, and neither side waits for an IPI to reach a sleeping hart.
static int wake_affine = 1;
SYSCTL_INT_RANGE(kern_sched_wake_affine, "kern.sched_wake_affine", SYSCTL_RW, &wake_affine, 0, 1,
	   "1: a user process woken by a pinned kernel thread (netisr) moves to its CPU");

// The CPU whose queue p joins (see "Placement" above). Interrupts off.
static int place(struct proc *p, int me)
{
	if (p->affinity >= 0)
		return p->affinity;
	struct proc *waker = cpus[me].proc;
	if (wake_affine && !p->kthread && p->state == SLEEPING && waker != NULL &&
	    waker->kthread && waker->affinity == me) {
		p->flowcpu = me;   // Flow-affine: balance() leaves it here
		return me;
	}
	int home = p->cpu;
	if (home != me && __atomic_load_n(&cpus[home].idle, __ATOMIC_SEQ_CST))
		return home;
	struct proc *cur = cpus[me].proc;
	bool fresh = p->state == USED;
	if (home == me && !fresh && (cur == NULL || cur->kthread))
		return home;  // this CPU is idle, or a kernel thread wakes p
	int idle = find_idle_cpu(me);
	return idle >= 0 ? idle : home;
}

// Tell CPU target that p is on its ipiq: an IPI if it is idle; a pinned
// kernel thread also preempts the user process running there.
static void kick(int target, struct proc *p, int me)
{
	struct cpu *t = &cpus[target];
	bool preempt = p->kthread && p->affinity >= 0;
	if (target == me) {
		if (preempt && !t->lazy_wake)
			__atomic_store_n(&t->need_resched, true, __ATOMIC_RELEASE);
		return;  // our own scheduler drains the ipiq before it picks
	}
	if (!kick_enabled)
		return;
	if (__atomic_load_n(&t->idle, __ATOMIC_SEQ_CST)) {
		send_ipi(target);
	} else if (preempt) {
		__atomic_store_n(&t->need_resched, true, __ATOMIC_RELEASE);
		send_ipi(target);
	}
}

// wakeup, except that a pinned kernel thread woken onto THIS cpu does not
// preempt the caller: it runs when the caller blocks or yields, or when
// its quantum ends (at most QUANTUM_MS). For a sender whose message can
// wait that long and that is about to block anyway (the asynchronous
// PRU_RCVD of a reader: net/tcp_rcvd_async.c, net/lwkt_msg.c
// lwkt_sendmsg_lazy). A thread woken onto another cpu is kicked as usual.
void wakeup_lazy(void *chan)
{
	push_off();   // lazy_wake is this cpu's, for this call only
	struct cpu *c = mycpu();
	c->lazy_wake = true;
	wakeup(chan);
	c->lazy_wake = false;
	pop_off();
}

// Let the pinned kernel thread p, runnable but left waiting by
// wakeup_lazy, preempt its cpu now (need_resched, plus the IPI if remote):
// somebody sent it a message that must not wait. Harmless if p already
// runs or sleeps (one needless reschedule at most). Any context.
void sched_hurry(struct proc *p)
{
	push_off();
	int me = cpuid();
	int target = p->affinity >= 0 ? p->affinity : __atomic_load_n(&p->cpu, __ATOMIC_RELAXED);
	__atomic_store_n(&cpus[target].need_resched, true, __ATOMIC_RELEASE);
	if (target != me && kick_enabled)
		send_ipi(target);
	pop_off();
}

// On the way out of a trap: a user process yields if a kernel thread is
// waiting for this CPU. The flag is read without turning interrupts off:
// a thread that moved CPUs meanwhile reads the old CPU's flag, which
// costs at most one needless yield or one tick's delay.
void resched_if_needed(void)
{
	struct proc *p = myproc();
	if (p == NULL || p->kthread)
		return;
	if (__atomic_load_n(&cpus[r_tp()].need_resched, __ATOMIC_ACQUIRE))
		yield();
}

// Mark p RUNNABLE and queue it for its CPU. Caller holds p->lock; p is
// new (USED) or SLEEPING, and on no queue.
void make_runnable(struct proc *p)
{
	KASSERT(holding(&p->lock));
	KASSERT(!p->onrq && (p->state == SLEEPING || p->state == USED));
	int me = cpuid();  // interrupts are off: we hold p->lock
	int target = place(p, me);
	p->state = RUNNABLE;
	p->onrq = true;
	p->cpu = target;
	ipiq_push(&cpus[target], p);
	kick(target, p, me);
}

// Wake every thread sleeping on chan. Caller holds the lock the sleepers
// passed to sleep() (a sleeper's state, chan and sleepers[] bit were
// published before it released that lock: sleep_begin), and no p->lock.
// Only the slots of chan's bucket are looked at; a candidate is checked
// again under its p->lock.
void wakeup(void *chan)
{
	uint64 mask = __atomic_load_n(sleepers_of(chan), __ATOMIC_RELAXED);
	if (mask == 0)
		return;
	struct proc *me = myproc();
	for (int i = 0; mask != 0; i++, mask >>= 1) {
		struct proc *p = &proc[i];
		if ((mask & 1) == 0 || p == me ||
		    __atomic_load_n(&p->chan, __ATOMIC_RELAXED) != chan)
			continue;
		acquire(&p->lock);
		if (p->state == SLEEPING && p->chan == chan)
			make_runnable(p);
		release(&p->lock);
	}
}

void wakeup_proc(struct proc *p, void *chan)
{
	if (p == myproc() || __atomic_load_n(&p->chan, __ATOMIC_RELAXED) != chan)
		return;
	acquire(&p->lock);
	if (p->state == SLEEPING && p->chan == chan)
		make_runnable(p);
	release(&p->lock);
}

// The sum over all harts of one uint64 counter of struct cpu (at byte
// offset off), each read with a relaxed load: the kern.* totals below.
static uint64 cpus_sum(size_t off)
{
	uint64 n = 0;
	for (int i = 0; i < ncpu; i++)
		n += __atomic_load_n((uint64 *)((char *)&cpus[i] + off), __ATOMIC_RELAXED);
	return n;
}

static int sysctl_ipis(struct sysctl_oid *oid, int64 *val, bool write)
{
	*val = cpus_sum(offsetof(struct cpu, nipi));
	return 0;
}
SYSCTL_PROC(kern_ipis, "kern.ipis", SYSCTL_RD, sysctl_ipis, "wake-up IPIs received, all harts");

static int sysctl_migrations(struct sysctl_oid *oid, int64 *val, bool write)
{
	*val = cpus_sum(offsetof(struct cpu, nmigrate));
	return 0;
}
SYSCTL_PROC(kern_sched_handoffs, "kern.sched_handoffs", SYSCTL_RD, sysctl_migrations,
	    "user processes a busy hart handed to an idle one, all harts");

static int sysctl_flowkept(struct sysctl_oid *oid, int64 *val, bool write)
{
	*val = cpus_sum(offsetof(struct cpu, nflowkept));
	return 0;
}
SYSCTL_PROC(kern_sched_flow_kept, "kern.sched_flow_kept", SYSCTL_RD, sysctl_flowkept,
	    "waiting processes an idle hart did not get: they stay with their flow's netisr");

static int sysctl_ctxsw(struct sysctl_oid *oid, int64 *val, bool write)
{
	*val = cpus_sum(offsetof(struct cpu, nswitch));
	return 0;
}
SYSCTL_PROC(kern_ctxsw, "kern.ctxsw", SYSCTL_RD, sysctl_ctxsw,
	    "context switches from the scheduler into a thread, all harts");

static int sysctl_idle(struct sysctl_oid *oid, int64 *val, bool write)
{
	*val = cpus_sum(offsetof(struct cpu, idle_ticks)) / (TIMEBASE / 1000000);
	return 0;
}
SYSCTL_PROC(kern_idle_us, "kern.idle_us", SYSCTL_RD, sysctl_idle,
	    "microseconds harts spent idle (in wfi), all harts");

// Idle time in ns of the time CSR (the clock wfi is timed with).
static uint64 idle_ns_of(struct cpu *c)
{
	return __atomic_load_n(&c->idle_ticks, __ATOMIC_RELAXED) * (1000000000UL / TIMEBASE);
}

static int sysctl_idle_ns(struct sysctl_oid *oid, int64 *val, bool write)
{
	*val = 0;
	for (int i = 0; i < ncpu; i++)
		*val += idle_ns_of(&cpus[i]);
	return 0;
}
SYSCTL_PROC(kern_idle_ns, "kern.idle_ns", SYSCTL_RD, sysctl_idle_ns,
	    "nanoseconds harts spent idle (in wfi), all harts");

// kern.cp_idle: one line per hart, "cpuN <idle ns>" (as FreeBSD's
// kern.cp_times gives per-CPU times, here only the idle one).
static int sysctl_cp_idle(sysctl_emit_t emit, void *ctx)
{
	char line[48];
	int err = 0;
	for (int i = 0; i < ncpu && err == 0; i++) {
		int n = snprintf(line, sizeof(line), "cpu%d %lu\n", i, idle_ns_of(&cpus[i]));
		err = emit(ctx, line, n);
	}
	return err;
}
SYSCTL_STRPROC(kern_cp_idle, "kern.cp_idle", sysctl_cp_idle,
	       "per hart: \"cpuN <ns idle in wfi>\", one line each");
