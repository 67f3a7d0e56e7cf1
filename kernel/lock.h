// Locks: spinlocks and sleeplocks, and the kernel's lock legend.
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
// Lock order (acquire top to bottom, never upward):
//   1. sleeplocks: log -> inode (parent before child) -> buf
//   2. wait_lock
//   3. subsystem spinlocks that callers hold while they wake or test a
//      process (bcache, log, disk, pipe, cons, lwkt ports, sockbufs, ...):
//      wakeup() and killed() take p->lock under them
//   4. p->lock
//   5. leaf spinlocks taken under p->lock (callout lists, kmem, kmalloc
//      classes) and the console's pr/uart locks
// So no code holds a p->lock while it takes a lock of level 3.
// A spinlock turns interrupts off on this hart while it is held (push_off)
// and may not be held across sleep(), except the one passed to sleep().
#pragma once
#include "kernel/types.h"

struct cpu;

struct spinlock {
	uint locked;        // [a] is the lock held?
	const char *name;   // [i] for debugging
	struct cpu *cpu;    // [s] the cpu holding the lock
};

void initlock(struct spinlock *lk, const char *name);
void acquire(struct spinlock *lk);
void release(struct spinlock *lk);
bool holding(struct spinlock *lk);
void push_off(void);
void pop_off(void);

// Long-term lock for processes: sleeps instead of spinning.
struct sleeplock {
	uint locked;          // [s] is the lock held?
	struct spinlock lk;   // protects this sleep lock
	const char *name;     // [i]
	int pid;              // [s] process holding the lock
};

void initsleeplock(struct sleeplock *lk, const char *name);
void acquiresleep(struct sleeplock *lk);
void releasesleep(struct sleeplock *lk);
bool holdingsleep(struct sleeplock *lk);
