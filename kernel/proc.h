// Processes, kernel threads, CPUs, scheduling, sleep/wakeup.
//
// A process is a user address space plus one kernel thread; a kernel
// thread (kthread_create) has no user address space and may be pinned to
// one CPU, which is how the per-CPU netisr threads are built. Each CPU runs
// its own scheduler loop (scheduler()) over its own run queues; a thread
// runs on the CPU whose queue it is on (sched.c explains who moves it).
#pragma once
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/lock.h"
#include "kernel/riscv.h"

// Callee-saved registers for kernel context switches (swtch.S).
struct context {
	uint64 ra;
	uint64 sp;
	uint64 s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11;
};

// A run queue: threads ready to run on one CPU, first in first out,
// linked through p->rq_next. Owned by that CPU's scheduler [c].
struct runq {
	struct proc *rq_head, *rq_tail;
	int rq_len;
};

// Per-CPU state. Each field is [c] unless tagged.
struct cpu {
	struct proc *proc;        // the thread running on this cpu, or NULL
	struct context context;   // swtch() here to enter scheduler()
	int noff;                 // depth of push_off() nesting
	bool intena;              // were interrupts enabled before push_off()?
	int id;                   // [i] hart id
	uint64 nswitch;           // context switches into a thread
	uint64 nintr;             // device interrupts taken
	uint64 ntimer;            // timer interrupts taken
	uint64 quantum_end;       // time (ms) at which the running proc yields
	struct runq rq_kthread;   // runnable kernel threads: run first
	struct runq rq_user;      // runnable user processes
	struct proc *ipiq;        // [a] made runnable for this cpu, not yet on
	                          //     a run queue (sched.c: "wake-up message")
	bool idle;                // [a] scheduling or in wfi: kick to wake
	int want_work;            // [a] idle with empty queues: give me a process
	bool need_resched;        // [a] a kernel thread waits for this cpu
	bool lazy_wake;           // wakeup_lazy runs here (interrupts off): no preemption
	bool kthread_hogged;      // a kernel thread used up its quantum: be fair once
	uint64 nipi;              // wake-up IPIs received
	uint64 nmigrate;          // user processes handed to an idle cpu
	uint64 nflowkept;         // hand-overs not made: the process stays with its flow
	struct lc_stack lc;       // spinlocks held, for kernel/lockcheck.c
	uint64 idle_ticks;        // [a] time CSR ticks spent in wfi (kern.idle_ns, kern.cp_idle)
};

extern struct cpu cpus[NCPU];
extern int ncpu;              // [i] number of harts that booted

// Per-process data for the trap-handling code in trampoline.S, in its own
// page just under the trampoline in the user page table. uservec saves the
// user registers here, loads kernel_sp/hartid/satp and jumps to
// kernel_trap; userret restores them. Offsets are used by trampoline.S.
struct trapframe {
	/*   0 */ uint64 kernel_satp;   // kernel page table
	/*   8 */ uint64 kernel_sp;     // top of process's kernel stack
	/*  16 */ uint64 kernel_trap;   // usertrap()
	/*  24 */ uint64 epc;           // saved user program counter
	/*  32 */ uint64 kernel_hartid; // saved kernel tp
	/*  40 */ uint64 ra;
	/*  48 */ uint64 sp;
	/*  56 */ uint64 gp;
	/*  64 */ uint64 tp;
	/*  72 */ uint64 t0;
	/*  80 */ uint64 t1;
	/*  88 */ uint64 t2;
	/*  96 */ uint64 s0;
	/* 104 */ uint64 s1;
	/* 112 */ uint64 a0;
	/* 120 */ uint64 a1;
	/* 128 */ uint64 a2;
	/* 136 */ uint64 a3;
	/* 144 */ uint64 a4;
	/* 152 */ uint64 a5;
	/* 160 */ uint64 a6;
	/* 168 */ uint64 a7;
	/* 176 */ uint64 s2;
	/* 184 */ uint64 s3;
	/* 192 */ uint64 s4;
	/* 200 */ uint64 s5;
	/* 208 */ uint64 s6;
	/* 216 */ uint64 s7;
	/* 224 */ uint64 s8;
	/* 232 */ uint64 s9;
	/* 240 */ uint64 s10;
	/* 248 */ uint64 s11;
	/* 256 */ uint64 t3;
	/* 264 */ uint64 t4;
	/* 272 */ uint64 t5;
	/* 280 */ uint64 t6;
};

enum procstate { UNUSED, USED, SLEEPING, RUNNABLE, RUNNING, ZOMBIE };

struct file;
struct inode;

struct proc {
	struct spinlock lock;

	// p->lock must be held when using these [p]:
	enum procstate state;
	void *chan;                 // if SLEEPING, sleeping on chan
	bool killed;                // kill() was called (written under p->lock,
	                            // read atomically: killed())
	int xstate;                 // exit status for the parent's wait()
	int pid;
	int affinity;               // CPU this thread must run on, or -1
	bool timedout;              // sleep_timeout(): the callout woke us
	int cpu;                    // home CPU: whose run queue it joins
	int flowcpu;                // CPU of the netisr that last woke it (its
	                            // flow's), kept until it uses up a whole
	                            // quantum; -1: none (sched.c "Flow-affine")
	int quanta;                 // whole quanta used in a row without sleeping
	bool onrq;                  // on a run queue or a cpu's ipiq
	struct proc *rq_next;       // link in that queue: set by whoever queues
	                            // p, then read only by the queue's cpu
	uint64 runtime;             // time CSR ticks it has run (procinfo, ps),
	                            // added by scheduler() at each switch out

	// wait_lock must be held when using this [w]:
	struct proc *parent;

	// Private to the process, no lock needed [o]:
	bool kthread;               // kernel thread: no user memory
	uint64 kstack;              // virtual address of kernel stack (bottom)
	uint64 sz;                  // size of process memory (bytes)
	pagetable_t pagetable;      // user page table
	struct trapframe *trapframe;// data page for trampoline.S
	struct context context;     // swtch() here to run process
	struct file *ofile[NOFILE]; // open files
	struct inode *cwd;          // current directory
	char name[16];              // process name (debugging, ps)
	uint64 heap_base;           // sbrk may not shrink below this
	void (*kfn)(void *);        // kernel thread: function and argument
	void *karg;
	struct lc_stack lc_sleep;   // sleeplocks held (kernel/lockcheck.c)
	bool lc_expect;             // lockcheck reports instead of panicking
};

extern struct proc proc[NPROC];

void procinit(void);
void userinit(void);

// Hart id of this CPU (kept in tp). Interrupts must be off, or the
// thread may move to another CPU under the caller's feet. Inline: the
// lock code asks several times per acquire/release.
static inline int cpuid(void)
{
	return r_tp();
}

// This CPU's struct cpu. Caller must have interrupts off.
static inline struct cpu *mycpu(void)
{
	return &cpus[r_tp()];
}

// The thread running on this CPU, or NULL in the scheduler. Interrupts
// are off only for the two loads (csrrc reads and clears SIE in one
// instruction; a thread that moved CPUs in between would read another
// CPU's proc), then back as they were: no push_off bookkeeping.
static inline struct proc *myproc(void)
{
	uint64 sstatus;
	asm volatile("csrrc %0, sstatus, %1" : "=r"(sstatus) : "r"(SSTATUS_SIE) : "memory");
	struct proc *p = cpus[r_tp()].proc;
	if (sstatus & SSTATUS_SIE)
		asm volatile("csrs sstatus, %0" ::"r"(SSTATUS_SIE) : "memory");
	return p;
}

void scheduler(void) __attribute__((noreturn));
void sched(void);
void yield(void);
// Called on the way out of a trap: yield if a kernel thread became
// runnable for this CPU while a user process ran here.
void resched_if_needed(void);

// sleep/wakeup. sleep() atomically releases lk and sleeps on chan; it
// reacquires lk before returning. Callers loop on their condition and check
// killed(myproc()) where the wait may be long.
void sleep(void *chan, struct spinlock *lk);
void wakeup(void *chan);
// Wake p only, if it sleeps on chan. Caller holds the lock the sleepers
// of chan pass to sleep(), and no p->lock.
void wakeup_proc(struct proc *p, void *chan);
void wakeup_lazy(void *chan);
void sched_hurry(struct proc *p);
// Mark p RUNNABLE and wake an idle hart that may run it. Caller holds
// p->lock.
void make_runnable(struct proc *p);
// As sleep(), but also returns after ms milliseconds: 0 if woken (or
// spuriously), -ETIMEDOUT if the time ran out. ms <= 0 means no timeout.
int sleep_timeout(void *chan, struct spinlock *lk, int ms);

// Process life cycle.
int fork(void);
void exit(int status) __attribute__((noreturn));
int wait(uint64 addr);
int kill(int pid);
bool killed(struct proc *p);
void setkilled(struct proc *p);
int growproc(long n);
pagetable_t proc_pagetable(struct proc *p);
void proc_freepagetable(pagetable_t pt, uint64 sz);
void procdump(void);
int nproc_in_use(void);

// Kernel threads. kthread_create starts fn(arg) in a new kernel thread
// named name, pinned to cpu (or free to run anywhere if cpu < 0). Returns
// the pid, or -ENOMEM / -EAGAIN. A kernel thread ends with kthread_exit()
// (or by returning from fn); init reaps it like an orphan.
int kthread_create(const char *name, void (*fn)(void *), void *arg, int cpu);
void kthread_exit(void) __attribute__((noreturn));
