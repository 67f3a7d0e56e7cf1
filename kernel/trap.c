// Traps: system calls, exceptions and interrupts, from user and from
// kernel mode.
//
// From user mode the hart enters uservec (trampoline.S), which saves the
// user registers in the trapframe, switches to the kernel page table and
// stack, and jumps to usertrapvec (kernelvec.S), which calls usertrap()
// (a call, so gdb's backtrace ends there). usertrapret() goes back the
// other way.
// From kernel mode the hart enters kernelvec (kernelvec.S), which calls
// kerneltrap() on the current kernel stack.
//
// Interrupts: software interrupts are wake-up IPIs (sched.c); the timer (Sstc: stimecmp, every 1 ms on every hart) runs
// this hart's callouts and ends the running thread's quantum; device
// interrupts come from the PLIC and are dispatched to the handler a driver
// registered with intr_register().
#include "kernel/kmcache.h"
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/riscv.h"
#include "kernel/lock.h"
#include "kernel/proc.h"
#include "kernel/printf.h"
#include "kernel/intr.h"
#include "kernel/sysarg.h"
#include "kernel/callout.h"
#include "kernel/vm.h"
#include "kernel/errno.h"

extern char trampoline[], uservec[], userret[];
void kernelvec(void);
void usertrapvec(void);   // kernelvec.S: calls usertrap()

static struct {
	void (*fn)(void *);  // [i] set before the line is enabled
	void *arg;           // [i]
	uint64 count;        // [a]
} irqs[PLIC_NIRQ];

void trapinit(void)
{
}

// Take kernel traps on this hart. User programs may read the time and
// instret counters with rdtime / rdinstret (scounteren.TM, IR): that is
// user space's clock, no system call needed (docs/kernel.md, "Clocks").
void trapinithart(void)
{
	CSR_WRITE(stvec, (uint64)kernelvec);
	CSR_WRITE(scounteren, 0x6);   // TM (bit 1) | IR (bit 2); not CY (bit 0): host ticks under TCG
}

// Program this hart's next timer interrupt, 1/HZ seconds from now.
void timer_arm(void)
{
	CSR_WRITE(stimecmp, r_time() + TIMEBASE / HZ);
}

// Attach fn(arg) to PLIC line irq and enable the line on every hart.
// 0, or -EINVAL for a bad or already-taken line.
// The PLIC's enable words are read-modify-written; lines of one word may
// be routed by different drivers.
static struct spinlock plic_lock = { .name = "plic" };

int intr_route(int irq, int cpu)
{
	if (irq <= 0 || irq >= PLIC_NIRQ || irqs[irq].fn == NULL || cpu < -1 || cpu >= ncpu)
		return -EINVAL;
	acquire(&plic_lock);
	for (int hart = 0; hart < ncpu; hart++) {
		volatile uint32 *en = (volatile uint32 *)PLIC_SENABLE(hart);
		if (cpu == -1 || hart == cpu)
			en[irq / 32] |= 1u << (irq % 32);
		else
			en[irq / 32] &= ~(1u << (irq % 32));
	}
	release(&plic_lock);
	return 0;
}

int intr_register(int irq, void (*fn)(void *), void *arg)
{
	if (irq <= 0 || irq >= PLIC_NIRQ || irqs[irq].fn != NULL)
		return -EINVAL;
	irqs[irq].arg = arg;
	irqs[irq].fn = fn;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	*(volatile uint32 *)(PLIC_PRIORITY + irq * 4) = 1;
	for (int hart = 0; hart < ncpu; hart++) {
		volatile uint32 *en = (volatile uint32 *)PLIC_SENABLE(hart);
		en[irq / 32] |= 1u << (irq % 32);
	}
	return 0;
}

static void timer_intr(void)
{
	mycpu()->ntimer++;
	timer_arm();
	if (panicked)
		for (;;)
			asm volatile("wfi");
	callout_tick();
	kmcache_tick();
}

static void device_intr(void)
{
	int irq = plic_claim();
	if (irq == 0)
		return;  // another hart took it
	mycpu()->nintr++;
	if (irq < PLIC_NIRQ && irqs[irq].fn) {
		__atomic_add_fetch(&irqs[irq].count, 1, __ATOMIC_RELAXED);
		irqs[irq].fn(irqs[irq].arg);
	} else {
		printf("unexpected interrupt irq=%d\n", irq);
	}
	plic_complete(irq);
}

// Handle an interrupt if scause says it is one. Returns 2 for the timer,
// 1 for another interrupt, 0 if it was not an interrupt.
static int devintr(uint64 scause)
{
	if (scause == SCAUSE_STI) {
		timer_intr();
		return 2;
	}
	if (scause == SCAUSE_SEI) {
		device_intr();
		return 1;
	}
	if (scause == SCAUSE_SSI) {
		// A wake-up IPI (sched.c, kick): it ends this hart's wfi, so
		// the scheduler takes the threads on its ipiq, or (need_resched)
		// makes the user process here yield on its way out.
		CSR_CLEAR(sip, SIE_SSIE);
		mycpu()->nipi++;
		return 1;
	}
	return 0;
}

// Does the running thread's quantum end now?
static bool quantum_over(void)
{
	return uptime_ms() >= mycpu()->quantum_end;
}

// A trap from user mode (uservec -> usertrapvec calls it, on the
// process's kernel stack).
void usertrap(void)
{
	if ((CSR_READ(sstatus) & SSTATUS_SPP) != 0)
		panic("usertrap: not from user mode");
	CSR_WRITE(stvec, (uint64)kernelvec);  // we are in the kernel now

	struct proc *p = myproc();
	p->trapframe->epc = CSR_READ(sepc);
	uint64 scause = CSR_READ(scause);
	int which = 0;

	if (scause == SCAUSE_ECALL_U) {
		if (killed(p))
			exit(-1);
		p->trapframe->epc += 4;  // return past the ecall
		intr_on();               // sepc/scause/sstatus are saved now
		syscall();
	} else if ((which = devintr(scause)) == 0) {
		// A fault the process caused: kill it, say why, on the console.
		printf("pid %d (%s): trap scause=0x%lx sepc=0x%lx stval=0x%lx: killed\n",
		       p->pid, p->name, scause, CSR_READ(sepc), CSR_READ(stval));
		setkilled(p);
	}
	if (killed(p))
		exit(-1);
	if (which == 2 && quantum_over())
		yield();
	else
		resched_if_needed();
	usertrapret();
}

// Return to user mode through userret in the trampoline.
void usertrapret(void)
{
	struct proc *p = myproc();
	if (__builtin_expect(lockcheck_on, 0))
		lockcheck_user_return();  // a lock left held by a system call
	// Interrupts off until sret: a trap now would find stvec pointing
	// at uservec while we are still in the kernel.
	intr_off();
	uint64 uservec_va = TRAMPOLINE + (uservec - trampoline);
	CSR_WRITE(stvec, uservec_va);

	p->trapframe->kernel_satp = CSR_READ(satp);
	p->trapframe->kernel_sp = p->kstack + KSTACK_SIZE;
	p->trapframe->kernel_trap = (uint64)usertrapvec;  // calls usertrap()
	p->trapframe->kernel_hartid = r_tp();

	uint64 x = CSR_READ(sstatus);
	x &= ~SSTATUS_SPP;  // to user mode
	x |= SSTATUS_SPIE;  // with interrupts on
	CSR_WRITE(sstatus, x);
	CSR_WRITE(sepc, p->trapframe->epc);

	uint64 satp = MAKE_SATP(p->pagetable);
	uint64 userret_va = TRAMPOLINE + (userret - trampoline);
	((void (*)(uint64))userret_va)(satp);
}

// A trap from kernel mode, on whatever kernel stack was in use.
void kerneltrap(void)
{
	uint64 sepc = CSR_READ(sepc);
	uint64 sstatus = CSR_READ(sstatus);
	uint64 scause = CSR_READ(scause);

	if ((sstatus & SSTATUS_SPP) == 0)
		panic("kerneltrap: not from supervisor mode");
	if (intr_get())
		panic("kerneltrap: interrupts enabled");

	int which = devintr(scause);
	if (which == 0)
		panic("kernel trap scause=0x%lx sepc=0x%lx stval=0x%lx",
		      scause, sepc, CSR_READ(stval));

	// Preempt a thread whose quantum is over (not the scheduler itself).
	struct proc *p = myproc();
	if (which == 2 && p != NULL && p->state == RUNNING && quantum_over()) {
		mycpu()->kthread_hogged = p->kthread;
		yield();
	} else if (which != 0 && p != NULL && p->state == RUNNING)
		resched_if_needed();

	// yield() may have run other code that trapped: restore what
	// kernelvec's sret needs.
	CSR_WRITE(sepc, sepc);
	CSR_WRITE(sstatus, sstatus);
}
