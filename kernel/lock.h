// Locks: spinlocks and sleeplocks, the kernel's lock legend, and THE lock
// order (the one place it is written; kernel/lockcheck.c checks it).
//
// Lock legend. Every shared field in a kernel header carries one of these
// tags, saying what protects it:
//   [a]  atomic access only (__atomic builtins)
//   [c]  touched only by its own CPU, with interrupts off
//   [i]  set once at initialisation, read-only afterwards
//   [p]  p->lock of the owning process
//   [w]  wait_lock (parent/child links)
//   [o]  owned by one thread (the process itself, or one netisr); no lock
//   [s]  the named spinlock of the structure
//   [S]  the named sleeplock of the structure
//
// Lock classes. Every lock belongs to a class: the name given to initlock,
// initsleeplock or net_lock_init (or to a static initialiser's .name).
// All the locks of one class share one place in the order, so the many
// sockbufs are one class "so_rcv" (and one "so_snd"), every process's
// p->lock is the class "proc", and so on.
//
// Lock order. LOCK_ORDER below gives each class a level; a thread may
// acquire a lock only if its level is greater than the level of every
// lock it already holds. Equal levels mean "never held together". The
// table is read top to bottom, outermost first:
//   sleeplocks (levels < 100) come before every spinlock: a sleeplock may
//     not be taken while a spinlock is held (its holder could sleep; the
//     checker catches it), nor in an interrupt handler.
//   Subsystem spinlocks (100-399) are held while their holder wakes or
//     tests a process: wakeup() and killed() take p->lock under them, and
//     so does sleep(chan, lk) before it lets lk go.
//   wait_lock (395) guards parent links; only p->locks are taken under it.
//   p->lock (400), then the leaves taken under p->lock or anywhere
//     (callouts, page and kmalloc allocators, printf).
// A class whose name is not in the table gets no level: its order against
// other classes is learned as the kernel runs (the first time B is taken
// while A is held, A->B is recorded with both acquisition points), and
// taking A while holding B later panics, printing the earlier pair. Give
// every lock that lands in the tree a line below; the learned order is a
// net for students' new locks, not a substitute.
//
// LKC_NEST: two locks of the class may be held together (the code orders
// them some other way: parent directory before child, a log block before
// its home block). Without it, holding two locks of one class is an error.
//
// Checking (kernel/lockcheck.c): on unless the kernel is booted with
// "lockcheck=0" (QEMU -append, as make bench does) or kern.lockcheck is
// set to 0 (it cannot be turned back on: the held-lock records would be
// stale). When off, each acquire and release costs one load and one
// predictable branch.
#pragma once
#include "kernel/types.h"

#define LKC_NEST 0x1   // two locks of this class may be held together
#define LKC_SLEEP 0x2  // a sleeplock class

// X(name, level, flags, why)
#define LOCK_ORDER(X)                                                        \
	/* ---- sleeplocks: held across sleeps, per thread ---- */          \
	X("conswrite", 10, LKC_SLEEP, "one console writer; taken before any file lock") \
	X("inode", 20, LKC_SLEEP | LKC_NEST, "after begin_op; parent directory before child") \
	X("buffer", 30, LKC_SLEEP | LKC_NEST, "under an inode; log block before home block") \
	/* ---- subsystem spinlocks, held while waking ---- */              \
	X("selftest", 110, 0, "kern.selftest; sleeps and wakes under it") \
	X("sys_sleep", 110, 0, "sleep(2): sleeps on ticks under it") \
	X("selftest_lo", 112, 0, "kern.selftest's lock-order cases: before selftest_hi") \
	X("selftest_hi", 114, 0, "kern.selftest's lock-order cases") \
	X("sysctl", 120, 0, "the dynamic knob list; nothing inside") \
	/* network: interface, then transmit path, then protocols */          \
	X("ifnet", 200, 0, "if_up/if_down: before the ifq locks") \
	X("ifq_start", 210, 0, "the start routine runs under it, takes the driver lock") \
	X("e1000_tx", 220, 0, "driver TX ring; dequeues from the ifq under it") \
	X("ifq", 230, 0, "the send queue; nothing inside but wakeups") \
	X("e1000_stat", 240, 0, "statistics; nothing inside") \
	X("rip", 250, 0, "raw socket list; delivers to so_rcv under it") \
	X("inpcbinfo", 255, 0, "pcb tables; delivers to so_rcv under it") \
	X("so_rcv", 260, 0, "sockbuf; wakes readers and poll under it") \
	X("so_snd", 260, 0, "sockbuf; never held with so_rcv") \
	X("so_qlock", 265, 0, "listen queue; wakes accept and poll under it; never with a pcb table") \
	X("so_rcvd", 267, 0, "async PRU_RCVD message: sends/replies it (port, sync) under it") \
	X("lwkt_port", 270, 0, "message port; its owner sleeps on it; senders wake after release") \
	X("lwkt_sync", 270, 0, "synchronous reply; wakes under it; never with a port") \
	X("arp", 280, 0, "ARP table; nothing inside (sends after release)") \
	X("ipq", 280, 0, "reassembly queue; only the allocator inside (frees fragments)") \
	X("icmp", 280, 0, "ICMP rate limiter; nothing inside") \
	X("nettimer", 280, 0, "net timer list; its thread sleeps on it; handlers run after release") \
	/* kernel subsystems */                                              \
	X("ftable", 300, 0, "file table; nothing inside") \
	X("itable", 300, 0, "inode table; nothing inside") \
	X("bcache", 300, 0, "buffer cache; nothing inside") \
	X("log", 290, 0, "log header; sleeps and wakes under it; log_write pins a buffer (bcache) under it") \
	X("virtio_disk", 300, 0, "disk ring; sleeps and wakes under it") \
	X("pipe", 300, 0, "pipe ring; wakes readers/writers and poll under it") \
	X("cons", 300, 0, "console input; wakes readers and poll under it") \
	X("sleep lock", 310, 0, "inside a sleeplock; sleeps and wakes under it") \
	X("poll", 390, 0, "poll(2) sleeps and wakes under it") \
	X("wait_lock", 395, 0, "exit/wait/fork: only p->locks under it, so any subsystem lock may be held") \
	/* ---- the scheduler's lock, then leaves ---- */                     \
	X("proc", 400, 0, "p->lock; the scheduler holds it across swtch") \
	X("nextpid", 410, 0, "pid counter; taken under p->lock by allocproc") \
	X("callout", 420, 0, "callout wheel; sleep_timeout arms under p->lock") \
	X("kmalloc", 430, 0, "kmalloc size class; kalloc is called outside it") \
	X("kmem", 440, 0, "per-CPU page list; one at a time when stealing") \
	X("plic", 450, 0, "PLIC enable words (intr_route); nothing inside") \
	X("pr", 500, 0, "printf; anything may print") \
	X("uart", 510, 0, "UART transmit; innermost")

struct cpu;

// One lock held, as the lock-order checker records it: which lock, its
// class, and the return addresses of the acquisition (innermost first).
#define LC_DEPTH 5     // return addresses kept per acquisition
#define LC_MAXHELD 12  // deepest nesting the checker follows
struct lc_held {
	const void *lk;
	uint16 cls;
	uint64 pc[LC_DEPTH];
};
struct lc_stack {
	int n;                           // entries in use
	struct lc_held h[LC_MAXHELD];    // outermost first
};

struct spinlock {
	uint locked;        // [a] is the lock held?
	const char *name;   // [i] its class (see LOCK_ORDER), for debugging
	struct cpu *cpu;    // [s] the cpu holding the lock
	uint16 cls;         // [a] class index, found at first acquire; 0: not yet
};

void initlock(struct spinlock *lk, const char *name);
void acquire(struct spinlock *lk);
// Take lk if it is free; true if taken. Never waits, so it is exempt from
// the order (a trylock against the order cannot deadlock); what is taken
// under it afterwards is checked as usual.
bool tryacquire(struct spinlock *lk);
void release(struct spinlock *lk);
bool holding(struct spinlock *lk);
void push_off(void);
void pop_off(void);

// Long-term lock for processes: sleeps instead of spinning.
struct sleeplock {
	uint locked;          // [s] is the lock held?
	struct spinlock lk;   // protects this sleep lock
	const char *name;     // [i] its class
	int pid;              // [s] process holding the lock
	uint16 cls;           // [a] class index; 0: not found yet
};

void initsleeplock(struct sleeplock *lk, const char *name);
void acquiresleep(struct sleeplock *lk);
void releasesleep(struct sleeplock *lk);
bool holdingsleep(struct sleeplock *lk);

// ---- the lock-order checker (kernel/lockcheck.c) ---------------------------
// The hooks are called only when lockcheck_on; each keeps the calling
// CPU's (spinlocks) or thread's (sleeplocks) stack of held locks.
extern int lockcheck_on;   // [i] set at boot; may be cleared, never set again
void lockcheck_init(const char *bootargs);
void lockcheck_acquire(struct spinlock *lk, bool try);
void lockcheck_release(struct spinlock *lk);
void lockcheck_acquiresleep(struct sleeplock *lk);
void lockcheck_releasesleep(struct sleeplock *lk);
// Panic if the thread about to return to user space holds any lock (a
// system call's error path that forgot a release), naming where it was
// taken. Called from usertrapret.
void lockcheck_user_return(void);
// panic() calls this after its backtrace: the pending order violation's
// earlier acquisition points and the locks this CPU and thread hold.
void lockcheck_panic_report(void);
// Test mode for kern.selftest: violations by the current thread are
// printed and counted instead of panicking. Returns the count so far.
void lockcheck_expect(bool on);
// Booted with "lockcheck_provoke": kern.lockcheck_provoke may panic the
// kernel on purpose (tests of the panic path; never set otherwise).
extern bool lockcheck_provoke_ok;
int lockcheck_caught(void);
