// Host implementation of the network shim (net/shim.h), for the unit tests
// in tests/host/. Locks are pthread mutexes; sleep/wakeup is built on one
// global mutex + condition variable and a wakeup generation per channel
// bucket; the clock is virtual (tests move it with host_clock_advance);
// "CPUs" are a thread-local number set by net_kthread_create or the test.
// Lock order: each thread keeps the net_locks it holds, and taking one is
// checked against kernel/lock.h's LOCK_ORDER as the kernel's checker does
// (kernel/lockcheck.c), for the classes the table declares: levels must
// increase, two locks of one class only for LKC_NEST classes. A violation
// panics naming both locks and where each was taken.
#include <stdarg.h>
#include <sched.h>
#include <time.h>
#include <errno.h>
#include "net/shim.h"
#include "kernel/lock.h"   // LOCK_ORDER

void host_panic(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "panic at %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}

uint64 host_mallocs;   // [a] net_malloc calls, for tests
bool host_malloc_fail;  // [a] tests: every net_malloc fails while set

void *net_malloc(size_t n)
{
	__atomic_add_fetch(&host_mallocs, 1, __ATOMIC_RELAXED);
	if (n > NET_MALLOC_MAX)   // as the kernel's kmalloc: one page at most
		return NULL;
	if (__atomic_load_n(&host_malloc_fail, __ATOMIC_RELAXED))
		return NULL;      // memory exhausted (tests of ENOBUFS paths)
	return malloc(n);
}

void net_free(void *p)
{
	free(p);
}

// The kernel's class shortcuts (net/shim.h) are plain allocations here,
// counted and failed like every other one.
void *net_malloc_mbuf(void)
{
	return net_malloc(256);
}

void net_free_mbuf(void *p)
{
	net_free(p);
}

void *net_malloc_cluster(void)
{
	return net_malloc(2048);
}

void net_free_cluster(void *p)
{
	net_free(p);
}

// ---- locks ----------------------------------------------------------------

struct lock_level {
	const char *name;
	int level, flags;
};
#define HOST_LEVEL(nm, lv, fl, wh) { nm, lv, fl },
static const struct lock_level lock_levels[] = { LOCK_ORDER(HOST_LEVEL) };

// The net_locks this thread holds, outermost first (level 0: undeclared).
#define HOST_MAXHELD 16
static __thread struct {
	struct net_lock *lk;
	int level, flags;
	void *pc;
} held[HOST_MAXHELD];
static __thread int nheld;

static void order_check(struct net_lock *lk, void *pc)
{
	for (int i = 0; i < nheld; i++) {
		struct net_lock *h = held[i].lk;
		bool same = strcmp(h->nl_name, lk->nl_name) == 0;
		if ((same && !(lk->nl_flags & LKC_NEST)) ||
		    (!same && held[i].level && lk->nl_level &&
		     lk->nl_level <= held[i].level))
			panic("lock order: taking %s (level %d) at %p while holding "
			      "%s (level %d), taken at %p (kernel/lock.h)",
			      lk->nl_name, lk->nl_level, pc, h->nl_name, held[i].level,
			      held[i].pc);
	}
	if (nheld == HOST_MAXHELD)
		panic("lock order: more than %d net_locks held", HOST_MAXHELD);
	held[nheld].lk = lk;
	held[nheld].level = lk->nl_level;
	held[nheld].pc = pc;
	nheld++;
}

static void order_pop(struct net_lock *lk)
{
	for (int i = nheld - 1; i >= 0; i--)
		if (held[i].lk == lk) {
			for (; i + 1 < nheld; i++)
				held[i] = held[i + 1];
			nheld--;
			return;
		}
}

void net_lock_init(struct net_lock *lk, const char *name)
{
	pthread_mutex_init(&lk->nl_mu, NULL);
	lk->nl_held = 0;
	lk->nl_name = name;
	lk->nl_level = lk->nl_flags = 0;
	for (size_t i = 0; i < sizeof(lock_levels) / sizeof(lock_levels[0]); i++)
		if (strcmp(lock_levels[i].name, name) == 0) {
			lk->nl_level = lock_levels[i].level;
			lk->nl_flags = lock_levels[i].flags;
		}
}

void net_lock_acquire(struct net_lock *lk)
{
	if (net_lock_held(lk))
		panic("acquire: %s already held by this thread", lk->nl_name);
	order_check(lk, __builtin_return_address(0));
	pthread_mutex_lock(&lk->nl_mu);
	lk->nl_owner = pthread_self();
	__atomic_store_n(&lk->nl_held, 1, __ATOMIC_RELEASE);
}

void net_lock_release(struct net_lock *lk)
{
	if (!net_lock_held(lk))
		panic("release: %s not held", lk->nl_name);
	order_pop(lk);
	__atomic_store_n(&lk->nl_held, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&lk->nl_mu);
}

bool net_lock_busy(struct net_lock *lk)
{
	return __atomic_load_n(&lk->nl_held, __ATOMIC_RELAXED) != 0;
}

// Only the owner can see nl_held set together with its own id, so the
// unlocked read of nl_owner is stable for the question "is it me?".
bool net_lock_held(struct net_lock *lk)
{
	return __atomic_load_n(&lk->nl_held, __ATOMIC_ACQUIRE) &&
	       pthread_equal(lk->nl_owner, pthread_self());
}

// ---- sleep / wakeup ---------------------------------------------------------
// A sleeper records its bucket's generation while still holding lk, so a
// wakeup issued after the waker changed the condition (under lk) always
// bumps a generation the sleeper already saw: no lost wakeup.

#define NBUCKET 64
static pthread_mutex_t sleep_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sleep_cv = PTHREAD_COND_INITIALIZER;
static uint64 sleep_gen[NBUCKET];   // protected by sleep_mu

static int bucket(void *chan)
{
	return ((uint64)chan >> 4) % NBUCKET;
}

static int sleep_common(void *chan, struct net_lock *lk, int ms)
{
	int b = bucket(chan), rc = 0;
	pthread_mutex_lock(&sleep_mu);
	uint64 gen = sleep_gen[b];
	net_lock_release(lk);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	while (sleep_gen[b] == gen && rc == 0) {
		if (ms > 0 && pthread_cond_timedwait(&sleep_cv, &sleep_mu, &ts) == ETIMEDOUT)
			rc = -ETIMEDOUT;
		else if (ms <= 0)
			pthread_cond_wait(&sleep_cv, &sleep_mu);
	}
	pthread_mutex_unlock(&sleep_mu);
	net_lock_acquire(lk);
	return rc;
}

void net_sleep(void *chan, struct net_lock *lk)
{
	sleep_common(chan, lk, 0);
}

// Host timeouts use real time (the waits in tests are short), not the
// virtual clock.
int net_sleep_timeout(void *chan, struct net_lock *lk, int ms)
{
	return sleep_common(chan, lk, ms);
}

uint64 host_wakeups;   // [a] net_wakeup calls, for tests

void net_wakeup(void *chan)
{
	__atomic_add_fetch(&host_wakeups, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&sleep_mu);
	sleep_gen[bucket(chan)]++;
	pthread_cond_broadcast(&sleep_cv);
	pthread_mutex_unlock(&sleep_mu);
}

// The host's threads are not scheduled by us: lazy is plain.
void net_wakeup_lazy(void *chan)
{
	net_wakeup(chan);
}

uint64 host_hurries;   // [a] net_hurry calls, for tests

void net_hurry(void *thread)
{
	(void)thread;
	__atomic_add_fetch(&host_hurries, 1, __ATOMIC_RELAXED);
}

void net_yield(void)
{
	sched_yield();
}

// ---- threads and fake CPUs ---------------------------------------------------

static __thread int host_cpu;
static __thread int host_self_marker;   // its address identifies the thread
static int host_ncpu = 2;

struct kthread_start {
	void (*fn)(void *);
	void *arg;
	int cpu;
};

static void *kthread_trampoline(void *a)
{
	struct kthread_start ks = *(struct kthread_start *)a;
	free(a);
	host_cpu = ks.cpu < 0 ? 0 : ks.cpu;
	ks.fn(ks.arg);
	return NULL;
}

int net_kthread_create(const char *name, void (*fn)(void *), void *arg, int cpu)
{
	static int nextid = 1;
	if (cpu >= host_ncpu)
		return -EINVAL;
	struct kthread_start *ks = malloc(sizeof(*ks));
	if (ks == NULL)
		return -ENOMEM;
	*ks = (struct kthread_start){ fn, arg, cpu };
	pthread_t t;
	if (pthread_create(&t, NULL, kthread_trampoline, ks) != 0) {
		free(ks);
		return -EAGAIN;
	}
	pthread_detach(t);
	(void)name;
	return __atomic_fetch_add(&nextid, 1, __ATOMIC_RELAXED);
}

void *net_curthread(void)
{
	return &host_self_marker;
}

int net_cpuid(void)
{
	return host_cpu;
}

int net_ncpu(void)
{
	return host_ncpu;
}

void host_set_ncpu(int n)
{
	host_ncpu = n;
}

void host_set_cpuid(int cpu)
{
	host_cpu = cpu;
}

// ---- virtual clock -----------------------------------------------------------

static uint64 host_clock;   // [a]

uint64 net_now_ms(void)
{
	return __atomic_load_n(&host_clock, __ATOMIC_ACQUIRE);
}

uint64 net_now_us(void)
{
	return net_now_ms() * 1000;
}

void host_clock_advance(uint64 ms)
{
	__atomic_fetch_add(&host_clock, ms, __ATOMIC_ACQ_REL);
}

// ---- sysctl ------------------------------------------------------------------

static pthread_mutex_t sysctl_mu = PTHREAD_MUTEX_INITIALIZER;
static struct host_sysctl *sysctl_list;   // protected by sysctl_mu

void host_sysctl_register(struct host_sysctl *hs)
{
	pthread_mutex_lock(&sysctl_mu);
	hs->hs_next = sysctl_list;
	sysctl_list = hs;
	pthread_mutex_unlock(&sysctl_mu);
}

int net_sysctl_add_u64(struct net_sysctl *ns, const char *name, uint64 *p,
		       const char *descr)
{
	(void)descr;
	snprintf(ns->ns_name, sizeof(ns->ns_name), "%s", name);
	ns->ns_hs = (struct host_sysctl){ ns->ns_name, HOST_SYSCTL_UINT64, p, SYSCTL_RD,
					  0, 0, NULL };
	ns->ns_added = true;
	host_sysctl_register(&ns->ns_hs);
	return 0;
}

void net_sysctl_del(struct net_sysctl *ns)
{
	if (!ns->ns_added)
		return;
	pthread_mutex_lock(&sysctl_mu);
	for (struct host_sysctl **pp = &sysctl_list; *pp; pp = &(*pp)->hs_next) {
		if (*pp == &ns->ns_hs) {
			*pp = ns->ns_hs.hs_next;
			break;
		}
	}
	pthread_mutex_unlock(&sysctl_mu);
	ns->ns_added = false;
}

static struct host_sysctl *sysctl_find(const char *name)
{
	struct host_sysctl *hs;
	pthread_mutex_lock(&sysctl_mu);
	for (hs = sysctl_list; hs; hs = hs->hs_next)
		if (strcmp(hs->hs_name, name) == 0)
			break;
	pthread_mutex_unlock(&sysctl_mu);
	return hs;
}

int net_sysctl_read(const char *name, int64 *val)
{
	struct host_sysctl *hs = sysctl_find(name);
	if (hs == NULL)
		return -ENOENT;
	if (hs->hs_kind == HOST_SYSCTL_INT)
		*val = *(int *)hs->hs_ptr;
	else if (hs->hs_kind == HOST_SYSCTL_UINT32)
		*val = *(uint32 *)hs->hs_ptr;
	else
		*val = (int64)*(uint64 *)hs->hs_ptr;
	return 0;
}

int host_sysctl_write(const char *name, int64 val)
{
	struct host_sysctl *hs = sysctl_find(name);
	if (hs == NULL)
		return -ENOENT;
	if (!(hs->hs_flags & SYSCTL_WR))
		return -EPERM;
	if (val < hs->hs_min || val > hs->hs_max)
		return -EINVAL;
	if (hs->hs_kind == HOST_SYSCTL_INT)
		*(int *)hs->hs_ptr = (int)val;
	else if (hs->hs_kind == HOST_SYSCTL_UINT32)
		*(uint32 *)hs->hs_ptr = (uint32)val;
	else
		*(uint64 *)hs->hs_ptr = (uint64)val;
	return 0;
}

void host_sysctl_foreach(void (*fn)(const struct host_sysctl *hs, void *arg), void *arg)
{
	pthread_mutex_lock(&sysctl_mu);
	for (struct host_sysctl *hs = sysctl_list; hs; hs = hs->hs_next)
		fn(hs, arg);
	pthread_mutex_unlock(&sysctl_mu);
}

// ---- user memory, signals, poll (net/shim.h) ---------------------------------
// On the host every uio address is a plain pointer in this process.

// A test may make one user address "bad": a copy that would touch it
// fails with -EFAULT and moves nothing, as the kernel's copyout does.
uint64 host_uio_fault_addr;

int net_uiomove_out(const void *src, size_t n, struct uio *uio)
{
	KASSERT(n <= uio->uio_resid);
	if (host_uio_fault_addr != 0 && uio->uio_addr <= host_uio_fault_addr &&
	    host_uio_fault_addr < uio->uio_addr + n)
		return -EFAULT;
	memcpy((void *)(unsigned long)uio->uio_addr, src, n);
	uio->uio_addr += n;
	uio->uio_resid -= n;
	return 0;
}

int net_uiomove_in(void *dst, size_t n, struct uio *uio)
{
	KASSERT(n <= uio->uio_resid);
	memcpy(dst, (void *)(unsigned long)uio->uio_addr, n);
	uio->uio_addr += n;
	uio->uio_resid -= n;
	return 0;
}

bool net_curthread_killed(void)
{
	return false;
}

uint64 host_poll_notifies;   // read by tests

void net_poll_notify(void)
{
	__atomic_add_fetch(&host_poll_notifies, 1, __ATOMIC_RELAXED);
}

uint64 host_poll_notifies_one;
void *host_poll_notified;

void net_poll_notify_one(void *t)
{
	__atomic_store_n(&host_poll_notified, t, __ATOMIC_RELAXED);
	__atomic_add_fetch(&host_poll_notifies_one, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&host_poll_notifies, 1, __ATOMIC_RELAXED);
}

// ---- callouts ------------------------------------------------------------------
// One list for all fake CPUs; the tests are single-threaded where they
// use callouts, so the list has a mutex only for safety.

static pthread_mutex_t callout_mu = PTHREAD_MUTEX_INITIALIZER;
static struct net_callout *host_callouts;   // protected by callout_mu

void net_callout_init(struct net_callout *c)
{
	memset(c, 0, sizeof(*c));
}

static bool callout_unlink(struct net_callout *c)
{
	for (struct net_callout **pp = &host_callouts; *pp; pp = &(*pp)->nc_next) {
		if (*pp == c) {
			*pp = c->nc_next;
			c->nc_pending = false;
			return true;
		}
	}
	return false;
}

void net_callout_reset(struct net_callout *c, int ms, void (*fn)(void *), void *arg)
{
	pthread_mutex_lock(&callout_mu);
	callout_unlink(c);
	c->nc_when = net_now_ms() + (ms < 0 ? 0 : ms);
	c->nc_fn = fn;
	c->nc_arg = arg;
	c->nc_pending = true;
	c->nc_next = host_callouts;
	host_callouts = c;
	pthread_mutex_unlock(&callout_mu);
}

bool net_callout_stop(struct net_callout *c)
{
	pthread_mutex_lock(&callout_mu);
	bool was = callout_unlink(c);
	pthread_mutex_unlock(&callout_mu);
	return was;
}

// The pending callout with the earliest deadline <= now, or NULL.
static struct net_callout *callout_due(uint64 now)
{
	struct net_callout *best = NULL;
	for (struct net_callout *c = host_callouts; c; c = c->nc_next)
		if (c->nc_when <= now && (best == NULL || c->nc_when < best->nc_when))
			best = c;
	return best;
}

int host_callout_run(void)
{
	int n = 0;
	for (;;) {
		pthread_mutex_lock(&callout_mu);
		struct net_callout *c = callout_due(net_now_ms());
		if (c != NULL)
			callout_unlink(c);
		pthread_mutex_unlock(&callout_mu);
		if (c == NULL)
			return n;
		c->nc_fn(c->nc_arg);
		n++;
	}
}

uint64 host_callout_next(void)
{
	uint64 best = 0;
	pthread_mutex_lock(&callout_mu);
	for (struct net_callout *c = host_callouts; c; c = c->nc_next)
		if (best == 0 || c->nc_when < best)
			best = c->nc_when;
	pthread_mutex_unlock(&callout_mu);
	return best;
}
