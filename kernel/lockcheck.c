// The lock-order checker: catches an acquisition against the lock order
// the first time it happens, not the day two CPUs deadlock on it.
//
// Problem: a deadlock needs two threads to take two locks in opposite
// orders at the same moment; it shows up once a week, on someone else's
// machine, as a hang with no message. The order in kernel/lock.h is only
// worth something if the code obeys it.
//
// Idea (after FreeBSD's WITNESS and Linux's lockdep): every lock has a
// class (its name; kernel/lock.h LOCK_ORDER). Each CPU keeps the stack of
// spinlocks it holds, each thread the stack of sleeplocks it holds, with
// the return addresses of every acquisition. Taking lock L checks L's
// class against each lock held:
//   - both classes have a level: L's must be greater (equal: never
//     together);
//   - same class: allowed only for LKC_NEST classes;
//   - otherwise the order is learned: the first time B is taken under A
//     the pair A->B is recorded with both acquisition points, and a new
//     pair that closes a cycle (B->...->A already seen) is an inversion.
// A violation panics with the current backtrace, then (from panic(), via
// lockcheck_panic_report) where the conflicting held lock was taken, the
// earlier pairs that order the two classes, and every lock held.
//
// Invariants:
//   I1 a CPU's stack lists exactly the spinlocks it holds that were taken
//      while checking was on (a spinlock is released on the CPU that took
//      it: holding() checks this, and p->lock handed across swtch() stays
//      on one CPU);
//   I2 a thread's sleeplock stack is touched only by that thread;
//   I3 after[a] bit b is set only once the pair a->b passed the checks,
//      so the learned graph stays acyclic.
//
// Locking: CPU stacks [c] (interrupts are off inside acquire/release);
// thread stacks [o]. Classes, after[] and the pair records are written
// under lc_mu, a bare spin flag, not a struct spinlock (the checker cannot
// check itself); readers load after[] and nclasses atomically without it.
// Nothing is printed while lc_mu is held (printf takes a lock).
//
// Races: "two CPUs learn the same pair": the second finds the bit set
// under lc_mu and records nothing. "class found twice": class_find looks
// again under lc_mu before adding.
//
// Interrupts: every spinlock turns interrupts off, so an interrupt handler
// starts with this CPU's stack empty and its locks are checked like any
// others. A sleeplock taken while this CPU holds a spinlock is a
// violation. (Interrupts being off is not: a thread starts with them off,
// as xv6's does, and the first process mounts the file system that way.
// A sleeplock in an interrupt handler is not detected here; sched()
// catches the sleep.)
//
// Cost: off (boot with lockcheck=0, as make bench does, or sysctl
// kern.lockcheck=0): one load and one branch per acquire and release
// (auipc, lw, bnez). On: about 250 guest instructions per acquire/release
// pair, half of it the 5-frame walk. A lo0 ICMP echo round trip on one
// hart (netbench rtt -n 3000 127.0.0.1, QEMU -icount shift=0,sleep=off:
// virtual ns = instructions) takes 35.8k instructions without the
// checker, 36.9k with it off, 54.8k with it on. This file is compiled -O2
// for that reason.
//
// Testing: kern.selftest (kernel/selftest.c) provokes each kind of
// violation in expect mode and checks it is caught once, and that legal
// patterns (ordered pairs, trylock, nested classes, sleeplocks across a
// sleep) are not; tests/test_lockcheck.py. make test runs every other
// test with checking on, so an inversion anywhere fails its test.
//
// References: FreeBSD witness(4) and kern/subr_witness.c (the idea of
// classes and a learned order); Linux Documentation/locking/lockdep-design.rst.
// Compiled -O2 even in the -O0 debug kernel (the pragma; the optimised
// kernel is -O2 throughout): it runs on every acquire and release while
// checking is on, and nobody steps through it.
#pragma GCC optimize("O2")
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/errno.h"
#include "kernel/lock.h"
#include "kernel/proc.h"
#include "kernel/printf.h"
#include "kernel/string.h"
#include "kernel/sysctl.h"
#include "kernel/memlayout.h"

int lockcheck_on = 1;

// This CPU (interrupts are off): mycpu() without its two calls, which
// would cost as much as the rest of a check.
static inline struct cpu *this_cpu(void)
{
	return &cpus[r_tp()];
}

#define LC_MAXCLASS 64   // classes (bits of after[])
#define LC_MAXPAIRS 256  // learned pairs with their acquisition points

struct lc_class {
	const char *name;   // [i] (after it is published by nclasses)
	int level;          // [i] 0: not declared, order learned
	int flags;          // [i] LKC_*
	const char *why;    // [i]
};

#define LC_ENTRY(nm, lv, fl, wh) { nm, lv, fl, wh },
#define LC_COUNT(nm, lv, fl, wh) +1
enum { LC_DECLARED = 1 LOCK_ORDER(LC_COUNT) };
static struct lc_class classes[LC_MAXCLASS] = {
	{ "(none)", 0, 0, NULL },
	LOCK_ORDER(LC_ENTRY)
};
static int nclasses = LC_DECLARED;  // [a] written under lc_mu

// A learned pair: class b was taken while class a was held.
struct lc_pair {
	uint16 a, b;
	uint64 apc[LC_DEPTH];   // where the a lock had been taken
	uint64 bpc[LC_DEPTH];   // where b was taken under it
};
static uint64 after[LC_MAXCLASS];  // [a] bit b of after[a]: pair a->b seen
static struct lc_pair pairs[LC_MAXPAIRS];
static int npairs;                 // [a] written under lc_mu
static uint lc_mu;

// The violation being reported by panic(): one at a time (panic stops
// the machine), or the one just printed in expect mode.
static struct {
	const char *kind;
	struct lc_held held;     // the conflicting lock already held
	struct lc_held want;     // the acquisition being made
	uint16 path[LC_MAXCLASS];
	int plen;                // classes on the earlier path want ->...-> held
} pend;
static uint pend_mu;
static bool pend_set;
static int caught;  // [a] violations seen in expect mode

static void mu_lock(uint *m)
{
	while (__atomic_exchange_n(m, 1, __ATOMIC_ACQUIRE) != 0)
		;
}

static void mu_unlock(uint *m)
{
	__atomic_store_n(m, 0, __ATOMIC_RELEASE);
}

// The class of a lock called name: declared, seen before, or new.
static uint16 class_find(const char *name)
{
	if (name == NULL)
		name = "(unnamed)";
	int n = __atomic_load_n(&nclasses, __ATOMIC_ACQUIRE);
	for (int i = 1; i < n; i++)
		if (classes[i].name == name || strcmp(classes[i].name, name) == 0)
			return i;
	mu_lock(&lc_mu);
	for (int i = n; i < nclasses; i++)
		if (strcmp(classes[i].name, name) == 0) {
			mu_unlock(&lc_mu);
			return i;
		}
	if (nclasses == LC_MAXCLASS) {
		mu_unlock(&lc_mu);
		lockcheck_on = 0;
		panic("lockcheck: more than %d lock classes (new: %s)", LC_MAXCLASS, name);
	}
	int c = nclasses;
	classes[c] = (struct lc_class){ name, 0, 0, NULL };
	__atomic_store_n(&nclasses, c + 1, __ATOMIC_RELEASE);
	mu_unlock(&lc_mu);
	return c;
}

static uint16 class_of(uint16 *cache, const char *name)
{
	uint16 c = __atomic_load_n(cache, __ATOMIC_RELAXED);
	if (c == 0) {
		c = class_find(name);
		__atomic_store_n(cache, c, __ATOMIC_RELAXED);
	}
	return c;
}

static bool expecting(void)
{
	struct proc *p = mycpu()->proc;
	return p != NULL && p->lc_expect;
}

static void print_pcs(const uint64 *pc)
{
	for (int i = 0; i < LC_DEPTH && pc[i]; i++)
		printf("    %p\n", (void *)pc[i]);
}

static void print_stack(const char *what, const struct lc_stack *s)
{
	if (s->n == 0)
		return;
	printf("lockcheck: %s:\n", what);
	for (int i = 0; i < s->n; i++) {
		printf("  %s, taken at:\n", classes[s->h[i].cls].name);
		print_pcs(s->h[i].pc);
	}
}

static const struct lc_pair *pair_find(uint16 a, uint16 b)
{
	int n = __atomic_load_n(&npairs, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++)
		if (pairs[i].a == a && pairs[i].b == b)
			return &pairs[i];
	return NULL;
}

// What the pending violation knows beyond the current backtrace.
static void print_pending(void)
{
	struct lc_class *hc = &classes[pend.held.cls], *wc = &classes[pend.want.cls];
	printf("lockcheck: %s: taking %s while holding %s\n", pend.kind, wc->name, hc->name);
	printf("lockcheck: %s was taken at:\n", hc->name);
	print_pcs(pend.held.pc);
	printf("lockcheck: %s is being taken at:\n", wc->name);
	print_pcs(pend.want.pc);
	if (pend.held.cls == pend.want.cls)
		printf("lockcheck: two %s locks are never held together (no LKC_NEST in kernel/lock.h)\n",
		       hc->name);
	else if (hc->level && wc->level && hc->level == wc->level)
		printf("lockcheck: kernel/lock.h gives %s and %s level %d: never held together\n",
		       hc->name, wc->name, hc->level);
	else if (hc->level && wc->level)
		printf("lockcheck: kernel/lock.h puts %s (level %d) before %s (level %d)\n",
		       wc->name, wc->level, hc->name, hc->level);
	for (int i = 0; i + 1 < pend.plen; i++) {
		const struct lc_pair *pr = pair_find(pend.path[i], pend.path[i + 1]);
		printf("lockcheck: earlier, %s was taken while holding %s:\n",
		       classes[pend.path[i + 1]].name, classes[pend.path[i]].name);
		if (pr == NULL)
			continue;
		printf("  %s taken at:\n", classes[pr->a].name);
		print_pcs(pr->apc);
		printf("  then %s taken at:\n", classes[pr->b].name);
		print_pcs(pr->bpc);
	}
}

// Report a violation: panic, or in expect mode print and count it.
static void violation(const char *kind, const struct lc_held *held,
		      const struct lc_held *want, const uint16 *path, int plen)
{
	bool expect = expecting();
	mu_lock(&pend_mu);
	pend.kind = kind;
	pend.held = *held;
	pend.want = *want;
	pend.plen = plen;
	for (int i = 0; i < plen; i++)
		pend.path[i] = path[i];
	pend_set = true;
	if (!expect)
		panic("lockcheck: %s: taking %s while holding %s", kind,
		      classes[want->cls].name, classes[held->cls].name);
	printf("lockcheck: caught (expect mode)\n");
	print_pending();
	pend_set = false;
	mu_unlock(&pend_mu);
	__atomic_add_fetch(&caught, 1, __ATOMIC_RELAXED);
}

// Path from class `from` to class `to` over learned pairs, into path[]
// (from first). Returns its length in classes, 0 if none. Under lc_mu.
static int find_path(uint16 from, uint16 to, uint16 *path)
{
	uint16 prev[LC_MAXCLASS], queue[LC_MAXCLASS];
	uint64 seen = 1UL << from;
	int head = 0, tail = 0;
	queue[tail++] = from;
	while (head < tail) {
		uint16 c = queue[head++];
		if (c == to) {
			int n = 0;
			for (uint16 x = to; x != from; x = prev[x])
				n++;
			int len = n + 1;
			for (uint16 x = to; ; x = prev[x]) {
				path[n--] = x;
				if (x == from)
					break;
			}
			return len;
		}
		uint64 next = __atomic_load_n(&after[c], __ATOMIC_RELAXED) & ~seen;
		for (int b = 0; b < LC_MAXCLASS; b++)
			if (next & (1UL << b)) {
				seen |= 1UL << b;
				prev[b] = c;
				queue[tail++] = b;
			}
	}
	return 0;
}

// First time want's class is taken under held's: record the pair, unless
// the learned order already puts want before held.
static void learn(const struct lc_held *held, const struct lc_held *want)
{
	uint16 path[LC_MAXCLASS];
	mu_lock(&lc_mu);
	if (after[held->cls] & (1UL << want->cls)) {
		mu_unlock(&lc_mu);
		return;
	}
	int plen = find_path(want->cls, held->cls, path);
	if (plen > 0) {
		mu_unlock(&lc_mu);
		violation("lock order reversal", held, want, path, plen);
		return;
	}
	if (npairs < LC_MAXPAIRS) {
		struct lc_pair *p = &pairs[npairs];
		p->a = held->cls;
		p->b = want->cls;
		memmove(p->apc, held->pc, sizeof(p->apc));
		memmove(p->bpc, want->pc, sizeof(p->bpc));
		__atomic_store_n(&npairs, npairs + 1, __ATOMIC_RELEASE);
	}
	__atomic_or_fetch(&after[held->cls], 1UL << want->cls, __ATOMIC_RELEASE);
	mu_unlock(&lc_mu);
}

// Check want, already pushed as the top of s, against every lock under
// it (outermost first). Pushed first so that a report printed in expect
// mode (printf takes a lock) stacks above it instead of reusing its slot.
static void check_order(struct lc_stack *s, const struct lc_held *want)
{
	struct lc_class *wc = &classes[want->cls];
	for (int i = 0; &s->h[i] != want; i++) {
		struct lc_held *h = &s->h[i];
		struct lc_class *hc = &classes[h->cls];
		if (h->cls == want->cls) {
			if (!(wc->flags & LKC_NEST))
				violation("two locks of one class", h, want, NULL, 0);
		} else if (hc->level && wc->level) {
			if (wc->level <= hc->level)
				violation("lock order violation", h, want, NULL, 0);
			else if (!(__atomic_load_n(&after[h->cls], __ATOMIC_RELAXED) &
				   (1UL << want->cls)))
				learn(h, want);  // keeps cycles through undeclared classes visible
		} else if (!(__atomic_load_n(&after[h->cls], __ATOMIC_RELAXED) &
			     (1UL << want->cls))) {
			learn(h, want);
		}
	}
}

extern char etext[];  // kernel.ld

// pc[] <- the call site recorded in frame fp (the return address of the
// function that owns it) and those of the frames outside it, innermost
// first, zero-filled. Never leaves fp's stack (the outermost frame of a
// system call holds the user's s0): see stack_pcs in kernel/printf.c.
static void frame_pcs(uint64 fp, uint64 *pc)
{
	uint64 top = stack_top(fp);
	int k = 0;
	while (k < LC_DEPTH && top != 0) {
		uint64 ra = ((uint64 *)fp)[-1];
		if (ra < KERNBASE || ra >= (uint64)etext)
			break;
		pc[k++] = ra - 4;
		uint64 prev = ((uint64 *)fp)[-2];
		if (prev <= fp || prev > top || (prev & 7) != 0)
			break;
		fp = prev;
	}
	for (; k < LC_DEPTH; k++)
		pc[k] = 0;
}

// The frame of our caller (acquire, tryacquire or acquiresleep), whose
// return address is the call site that took the lock.
#define LOCKER_FRAME() (((uint64 *)__builtin_frame_address(0))[-2])

// The next free slot of s, filled in for lock lk of class cls taken at
// the call site in frame fp: pushed by n++, then checked.
static struct lc_held *slot(struct lc_stack *s, const void *lk, uint16 cls, uint64 fp)
{
	if (s->n == LC_MAXHELD) {
		lockcheck_on = 0;
		panic("lockcheck: more than %d locks held (taking %s)", LC_MAXHELD,
		      classes[cls].name);
	}
	struct lc_held *h = &s->h[s->n];
	h->lk = lk;
	h->cls = cls;
	frame_pcs(fp, h->pc);
	return h;
}

static void pop(struct lc_stack *s, const void *lk, const char *name)
{
	for (int i = s->n - 1; i >= 0; i--)
		if (s->h[i].lk == lk) {
			for (int j = i; j + 1 < s->n; j++)
				s->h[j] = s->h[j + 1];
			s->n--;
			return;
		}
	lockcheck_on = 0;
	panic("lockcheck: releasing %s, which is not on this %s's held list", name,
	      s == &mycpu()->lc ? "CPU" : "thread");
}

// Called from acquire()/tryacquire() with interrupts off, before spinning
// (acquire) or after taking the lock (try: exempt from the order).
void lockcheck_acquire(struct spinlock *lk, bool try)
{
	struct lc_stack *s = &this_cpu()->lc;
	struct lc_held *want = slot(s, lk, class_of(&lk->cls, lk->name), LOCKER_FRAME());
	s->n++;
	if (!try)
		check_order(s, want);
}

void lockcheck_release(struct spinlock *lk)
{
	pop(&this_cpu()->lc, lk, lk->name);
}

// Called from acquiresleep() before it takes anything.
void lockcheck_acquiresleep(struct sleeplock *lk)
{
	struct lc_held want = { .lk = lk };
	want.cls = class_of(&lk->cls, lk->name);
	uint64 fp = LOCKER_FRAME();
	frame_pcs(fp, want.pc);
	push_off();
	struct lc_stack *cs = &mycpu()->lc;
	if (cs->n > 0)
		violation("sleeplock taken under a spinlock", &cs->h[cs->n - 1], &want, NULL, 0);
	struct proc *p = mycpu()->proc;
	pop_off();
	if (p == NULL)
		return;
	struct lc_stack *s = &p->lc_sleep;
	struct lc_held *h = slot(s, lk, want.cls, fp);   // the thread's own stack
	s->n++;
	check_order(s, h);
}

void lockcheck_releasesleep(struct sleeplock *lk)
{
	struct proc *p = myproc();
	if (p != NULL)
		pop(&p->lc_sleep, lk, lk->name);
}

void lockcheck_user_return(void)
{
	push_off();
	struct cpu *c = mycpu();
	struct lc_stack *ss = c->proc ? &c->proc->lc_sleep : NULL;
	// push_off itself holds no lock; a spinlock held here is a leak.
	if (c->lc.n > 0)
		panic("lockcheck: returning to user space holding spinlock %s",
		      classes[c->lc.h[c->lc.n - 1].cls].name);
	if (ss != NULL && ss->n > 0)
		panic("lockcheck: returning to user space holding sleeplock %s",
		      classes[ss->h[ss->n - 1].cls].name);
	pop_off();
}

void lockcheck_panic_report(void)
{
	if (!lockcheck_on)
		return;
	if (pend_set)
		print_pending();
	struct cpu *c = mycpu();
	printf("lockcheck: hart %d holds %d spinlock%s\n", c->id, c->lc.n, c->lc.n == 1 ? "" : "s");
	print_stack(pend_set ? "spinlocks held by this hart, outermost first (after a violation, the last is the one being taken)"
			     : "spinlocks held by this hart, outermost first", &c->lc);
	if (c->proc)
		print_stack("sleeplocks held by this thread", &c->proc->lc_sleep);
}

void lockcheck_expect(bool on)
{
	myproc()->lc_expect = on;
}

int lockcheck_caught(void)
{
	return __atomic_load_n(&caught, __ATOMIC_RELAXED);
}

bool lockcheck_provoke_ok;

// Is word (followed by a space or the end) in the boot arguments?
static bool bootarg(const char *args, const char *word)
{
	size_t n = strlen(word);
	for (const char *s = args; s && *s; s++)
		if ((s == args || s[-1] == ' ') && strncmp(s, word, n) == 0 &&
		    (s[n] == 0 || s[n] == ' '))
			return true;
	return false;
}

// "lockcheck=0" in the boot arguments turns checking off;
// "lockcheck_provoke" arms kern.lockcheck_provoke (kernel/selftest.c).
// Runs on hart 0 before the other harts start.
void lockcheck_init(const char *bootargs)
{
	if (bootarg(bootargs, "lockcheck=0"))
		lockcheck_on = 0;
	lockcheck_provoke_ok = bootarg(bootargs, "lockcheck_provoke");
}

static int sysctl_lockcheck(struct sysctl_oid *oid, int64 *val, bool write)
{
	if (!write) {
		*val = lockcheck_on;
		return 0;
	}
	// Only 0 (the range): turning it back on would find stale records.
	lockcheck_on = 0;
	return 0;
}
SYSCTL_PROC_RANGE(kern_lockcheck, "kern.lockcheck", SYSCTL_RW | SYSCTL_ACT, sysctl_lockcheck,
		  0, 0, "1: lock-order checking on (boot arg lockcheck=0: off); write 0: off until reboot");

static int sysctl_lockcheck_pairs(struct sysctl_oid *oid, int64 *val, bool write)
{
	*val = __atomic_load_n(&npairs, __ATOMIC_ACQUIRE);
	return 0;
}
SYSCTL_PROC(kern_lockcheck_pairs, "kern.lockcheck_pairs", SYSCTL_RD, sysctl_lockcheck_pairs,
	    "lock-class pairs (A held while B taken) seen since boot");

// Write 1: print every class and the learned pairs (what the kernel has
// actually nested since boot), for comparing with kernel/lock.h.
static int sysctl_lockcheck_dump(struct sysctl_oid *oid, int64 *val, bool write)
{
	if (!write) {
		*val = 0;
		return 0;
	}
	int n = __atomic_load_n(&nclasses, __ATOMIC_ACQUIRE);
	for (int a = 1; a < n; a++) {
		uint64 bits = __atomic_load_n(&after[a], __ATOMIC_ACQUIRE);
		printf("lockcheck: %s (level %d):", classes[a].name, classes[a].level);
		for (int b = 1; b < n; b++)
			if (bits & (1UL << b))
				printf(" %s", classes[b].name);
		printf("\n");
	}
	return 0;
}
SYSCTL_PROC_RANGE(kern_lockcheck_dump, "kern.lockcheck_dump", SYSCTL_RW | SYSCTL_ACT,
		  sysctl_lockcheck_dump, 1, 1,
		  "write 1: print each lock class and the classes taken while it was held");
