// Processes and kernel threads: creation (fork, kthread_create), exit and
// wait, kill, and growing memory. Scheduling and sleep/wakeup are in
// sched.c.
//
// Every thread, user process or kernel thread, is a struct proc in proc[]
// with its own kernel stack (KSTACK(i), mapped at boot with a guard page).
// A user process additionally has a page table, a trapframe page and user
// memory; a kernel thread has none of these and never leaves the kernel.
//
// Locking: p->lock protects the scheduling fields [p]; wait_lock protects
// every p->parent [w] and is taken before any p->lock (and after any
// subsystem lock: kernel/lock.h). pid_lock protects nextpid.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/riscv.h"
#include "kernel/errno.h"
#include "kernel/lock.h"
#include "kernel/proc.h"
#include "kernel/printf.h"
#include "kernel/string.h"
#include "kernel/kalloc.h"
#include "kernel/vm.h"
#include "kernel/intr.h"
#include "kernel/fs.h"
#include "kernel/file.h"
#include "kernel/sysctl.h"

struct proc proc[NPROC];
struct proc *initproc;     // [i]
struct spinlock wait_lock; // see file header

static int nextpid = 1;
static struct spinlock pid_lock;

extern char trampoline[];  // trampoline.S
void forkret(void);
static void kthread_entry(void);
void thread_start(void);   // swtch.S: calls context.s1, for gdb's backtrace

// Allocate and map every process slot's kernel stack, with guard pages
// between them (called once, from kvminit).
void proc_mapstacks(pagetable_t kpgtbl)
{
	for (int i = 0; i < NPROC; i++) {
		for (int j = 0; j < KSTACKPAGES; j++) {
			char *pa = kalloc();
			if (pa == NULL)
				panic("proc_mapstacks: out of memory");
			kvmmap(kpgtbl, KSTACK(i) + j * PGSIZE, (uint64)pa, PGSIZE, PTE_R | PTE_W);
		}
	}
}

void procinit(void)
{
	initlock(&pid_lock, "nextpid");
	initlock(&wait_lock, "wait_lock");
	for (int i = 0; i < NPROC; i++) {
		initlock(&proc[i].lock, "proc");
		proc[i].state = UNUSED;
		proc[i].kstack = KSTACK(i);
	}
}

static int allocpid(void)
{
	acquire(&pid_lock);
	int pid = nextpid++;
	release(&pid_lock);
	return pid;
}

// Find an UNUSED slot and make it USED. Returns it with p->lock held, or
// NULL if the table is full. Allocates nothing else.
static struct proc *allocslot(void)
{
	for (struct proc *p = proc; p < &proc[NPROC]; p++) {
		acquire(&p->lock);
		if (p->state == UNUSED) {
			p->pid = allocpid();
			p->state = USED;
			p->affinity = -1;
			p->cpu = cpuid();  // p->lock held: interrupts are off
			p->flowcpu = -1;
			p->quanta = 0;
			p->onrq = false;
			p->runtime = 0;
			p->killed = false;
			p->kthread = false;
			p->sz = 0;
			p->heap_base = 0;
			memset(&p->context, 0, sizeof(p->context));
			p->context.sp = p->kstack + KSTACK_SIZE;
			return p;
		}
		release(&p->lock);
	}
	return NULL;
}

// Release everything a slot holds and mark it UNUSED. Caller holds p->lock.
static void freeproc(struct proc *p)
{
	KASSERT(holding(&p->lock));
	if (lockcheck_on && p->lc_sleep.n > 0)
		panic("lockcheck: pid %d exited holding sleeplock %s", p->pid,
		      ((const struct sleeplock *)p->lc_sleep.h[0].lk)->name);
	if (p->trapframe)
		kfree_page(p->trapframe);
	p->trapframe = NULL;
	if (p->pagetable)
		proc_freepagetable(p->pagetable, p->sz);
	p->pagetable = NULL;
	p->sz = 0;
	p->pid = 0;
	p->parent = NULL;
	p->name[0] = 0;
	p->chan = NULL;
	p->killed = false;
	p->xstate = 0;
	p->kfn = NULL;
	p->lc_expect = false;
	p->state = UNUSED;
}

// A slot set up to run a user process: trapframe page, empty user page
// table, first switch goes to forkret. Returns it with p->lock held, or
// NULL with -errno in *err.
static struct proc *allocproc(int *err)
{
	struct proc *p = allocslot();
	if (p == NULL) {
		*err = -EAGAIN;
		return NULL;
	}
	p->trapframe = kalloc();
	if (p->trapframe)
		p->pagetable = proc_pagetable(p);
	if (p->trapframe == NULL || p->pagetable == NULL) {
		freeproc(p);
		release(&p->lock);
		*err = -ENOMEM;
		return NULL;
	}
	p->context.ra = (uint64)thread_start;
	p->context.s1 = (uint64)forkret;
	return p;
}

// An empty user page table with the trampoline and trapframe mapped.
pagetable_t proc_pagetable(struct proc *p)
{
	pagetable_t pt = uvmcreate();
	if (pt == NULL)
		return NULL;
	if (mappages(pt, TRAMPOLINE, PGSIZE, (uint64)trampoline, PTE_R | PTE_X) != 0)
		goto fail;
	if (mappages(pt, TRAPFRAME, PGSIZE, (uint64)p->trapframe, PTE_R | PTE_W) != 0)
		goto fail;
	return pt;
fail:
	uvmunmap(pt, TRAMPOLINE, 1, false);
	uvmfree(pt, 0);
	return NULL;
}

void proc_freepagetable(pagetable_t pt, uint64 sz)
{
	uvmunmap(pt, TRAMPOLINE, 1, false);
	uvmunmap(pt, TRAPFRAME, 1, false);
	uvmfree(pt, sz);
}

// The first process runs /init through exec (the code is in initcode.S:
// a tiny program that calls exec("/init", ...)).
extern char initcode_start[], initcode_end[];

void userinit(void)
{
	int err;
	struct proc *p = allocproc(&err);
	KASSERT(p != NULL);
	initproc = p;

	uint64 n = initcode_end - initcode_start;
	KASSERT(n <= PGSIZE);
	char *mem = kalloc();
	KASSERT(mem != NULL);
	memset(mem, 0, PGSIZE);
	memmove(mem, initcode_start, n);
	if (mappages(p->pagetable, USERBASE, PGSIZE, (uint64)mem, PTE_R | PTE_W | PTE_X | PTE_U) != 0)
		panic("userinit");
	p->sz = USERBASE + PGSIZE;
	p->heap_base = p->sz;
	p->trapframe->epc = USERBASE;
	p->trapframe->sp = USERBASE + PGSIZE;
	strlcpy(p->name, "initcode", sizeof(p->name));
	p->cwd = NULL;  // set by forkret once the file system is up
	make_runnable(p);
	release(&p->lock);
}

// Grow or shrink user memory by n bytes. 0 or -ENOMEM; shrinking below
// the start of the heap gives -EINVAL.
int growproc(long n)
{
	struct proc *p = myproc();
	uint64 sz = p->sz;
	if (n > 0) {
		if ((uint64)n >= TRAPFRAME || sz + n >= TRAPFRAME)
			return -ENOMEM;
		// Fail at once when there are not that many free pages, rather
		// than take (and zero) all of memory first. A hint only: pages
		// may come and go meanwhile, and uvmalloc still undoes cleanly.
		if ((PGROUNDUP(sz + n) - PGROUNDUP(sz)) / PGSIZE > kalloc_free_pages())
			return -ENOMEM;
		return uvmalloc(p->pagetable, sz, sz + n, PTE_W, &p->sz);
	}
	if (n < 0) {
		if ((uint64)-n > sz - p->heap_base)
			return -EINVAL;
		p->sz = uvmdealloc(p->pagetable, sz, sz + n);
	}
	return 0;
}

// Create a copy of the calling process. Returns the child's pid in the
// parent, 0 in the child (through its trapframe), or -EAGAIN / -ENOMEM.
int fork(void)
{
	struct proc *p = myproc();
	int err;
	struct proc *np = allocproc(&err);
	if (np == NULL)
		return err;
	// np is USED: no scheduler runs it and no wait() sees it until the
	// end, so the fields copied below need no lock; and holding np->lock
	// here would put the file and inode table locks under p->lock,
	// against the order in kernel/lock.h.
	release(&np->lock);
	if (uvmcopy(p->pagetable, np->pagetable, p->sz) != 0) {
		acquire(&np->lock);
		freeproc(np);
		release(&np->lock);
		return -ENOMEM;
	}
	np->sz = p->sz;
	np->heap_base = p->heap_base;
	*np->trapframe = *p->trapframe;
	np->trapframe->a0 = 0;  // fork returns 0 in the child
	for (int i = 0; i < NOFILE; i++)
		if (p->ofile[i])
			np->ofile[i] = filedup(p->ofile[i]);
	np->cwd = idup(p->cwd);
	strlcpy(np->name, p->name, sizeof(np->name));
	int pid = np->pid;

	acquire(&wait_lock);
	np->parent = p;
	release(&wait_lock);

	acquire(&np->lock);
	make_runnable(np);
	release(&np->lock);
	return pid;
}

// Give p's children to init. Caller holds wait_lock.
static void reparent(struct proc *p)
{
	for (struct proc *pp = proc; pp < &proc[NPROC]; pp++) {
		if (pp->parent == p) {
			pp->parent = initproc;
			wakeup(initproc);
		}
	}
}

// End the calling thread: close its files, become a ZOMBIE until the
// parent's wait() frees the slot. Does not return.
void exit(int status)
{
	struct proc *p = myproc();
	if (p == initproc)
		panic("init exiting");

	for (int fd = 0; fd < NOFILE; fd++) {
		if (p->ofile[fd]) {
			fileclose(p->ofile[fd]);
			p->ofile[fd] = NULL;
		}
	}
	if (p->cwd) {
		begin_op();
		iput(p->cwd);
		end_op();
		p->cwd = NULL;
	}

	acquire(&wait_lock);
	reparent(p);
	if (p->parent == NULL)      // a kernel thread started during boot
		p->parent = initproc;
	wakeup(p->parent);
	acquire(&p->lock);
	p->xstate = status;
	p->state = ZOMBIE;
	release(&wait_lock);
	sched();
	panic("zombie exit");
}

// Wait for a child to exit; copy its status to user address addr (if not
// 0) and return its pid. -ECHILD if there are no children, -EINTR if the
// caller is killed while waiting, -EFAULT if addr is bad (the child is
// still reaped).
int wait(uint64 addr)
{
	struct proc *p = myproc();
	acquire(&wait_lock);
	for (;;) {
		bool havekids = false;
		for (struct proc *pp = proc; pp < &proc[NPROC]; pp++) {
			if (pp->parent != p)
				continue;
			acquire(&pp->lock);
			havekids = true;
			if (pp->state == ZOMBIE) {
				int pid = pp->pid, xstate = pp->xstate;
				freeproc(pp);
				release(&pp->lock);
				release(&wait_lock);
				if (addr != 0 && copyout(p->pagetable, addr, &xstate, sizeof(xstate)) != 0)
					return -EFAULT;
				return pid;
			}
			release(&pp->lock);
		}
		if (!havekids) {
			release(&wait_lock);
			return -ECHILD;
		}
		if (killed(p)) {
			release(&wait_lock);
			return -EINTR;
		}
		sleep(p, &wait_lock);
	}
}

// Mark process pid killed; it exits the next time it crosses the user
// boundary (or returns -EINTR from a long wait). Kernel threads and init
// cannot be killed. 0, -ESRCH or -EPERM.
int kill(int pid)
{
	for (struct proc *p = proc; p < &proc[NPROC]; p++) {
		acquire(&p->lock);
		if (p->pid == pid && p->state != UNUSED) {
			int r = 0;
			if (p->kthread || p == initproc) {
				r = -EPERM;
			} else {
				__atomic_store_n(&p->killed, true, __ATOMIC_RELEASE);
				if (p->state == SLEEPING)
					make_runnable(p);  // wake it so it notices
			}
			release(&p->lock);
			return r;
		}
		release(&p->lock);
	}
	return -ESRCH;
}

void setkilled(struct proc *p)
{
	acquire(&p->lock);
	__atomic_store_n(&p->killed, true, __ATOMIC_RELEASE);
	release(&p->lock);
}

// Has p been killed? One atomic load: the flag only ever goes from false
// to true while p lives (set under p->lock, so kill() can wake p in the
// same step), and a caller that just missed it finds it at its next check.
bool killed(struct proc *p)
{
	return __atomic_load_n(&p->killed, __ATOMIC_ACQUIRE);
}

// Start fn(arg) in a new kernel thread, pinned to cpu (or anywhere if
// cpu < 0). Returns the new pid, -EAGAIN (table full) or -EINVAL.
int kthread_create(const char *name, void (*fn)(void *), void *arg, int cpu)
{
	if (cpu >= ncpu)
		return -EINVAL;
	struct proc *p = allocslot();
	if (p == NULL)
		return -EAGAIN;
	p->kthread = true;
	p->affinity = cpu;
	p->kfn = fn;
	p->karg = arg;
	p->context.ra = (uint64)thread_start;
	p->context.s1 = (uint64)kthread_entry;
	strlcpy(p->name, name, sizeof(p->name));
	int pid = p->pid;
	make_runnable(p);
	release(&p->lock);

	acquire(&wait_lock);
	p->parent = initproc;
	release(&wait_lock);
	return pid;
}

// First code of a kernel thread: scheduler() switched here holding p->lock.
// The scheduler took that lock with interrupts off (it decides with them
// off), so the cpu's intena says "off", and releasing the lock alone would
// leave them off -- and sleep() would carry that on through every later
// switch: the thread would never take an interrupt while it runs. A
// kernel thread runs with interrupts on, like a process in the kernel;
// the first release turns them on.
static void kthread_entry(void)
{
	struct proc *p = myproc();
	mycpu()->intena = true;
	release(&p->lock);
	p->kfn(p->karg);
	kthread_exit();
}

void kthread_exit(void)
{
	exit(0);
}

// First code of a forked process: scheduler() switched here holding
// p->lock. The first process also mounts the root file system here,
// because that sleeps and so needs a process context.
void forkret(void)
{
	static bool first = true;
	mycpu()->intena = true;   // as in kthread_entry: fsinit below sleeps
	release(&myproc()->lock);
	if (first) {
		first = false;
		fsinit(ROOTDEV);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		myproc()->cwd = namei("/");
		KASSERT(myproc()->cwd != NULL);
	}
	usertrapret();
}

int nproc_in_use(void)
{
	int n = 0;
	for (struct proc *p = proc; p < &proc[NPROC]; p++)
		if (p->state != UNUSED)
			n++;
	return n;
}

// Print the process table on the console (^P). No locks: it must work
// when the machine is wedged.
void procdump(void)
{
	static const char *states[] = {
		[UNUSED] = "unused", [USED] = "used", [SLEEPING] = "sleep",
		[RUNNABLE] = "runble", [RUNNING] = "run", [ZOMBIE] = "zombie",
	};
	printf("\n");
	for (struct proc *p = proc; p < &proc[NPROC]; p++) {
		if (p->state == UNUSED)
			continue;
		printf("%d %s %s%s cpu=%d\n", p->pid, states[p->state], p->name,
		       p->kthread ? " [k]" : "", p->affinity);
	}
}

static int sysctl_nproc(struct sysctl_oid *oid, int64 *val, bool write)
{
	*val = nproc_in_use();
	return 0;
}
SYSCTL_PROC(kern_nproc, "kern.nproc", SYSCTL_RD, sysctl_nproc, "process slots in use");
