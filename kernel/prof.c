// prof: a sampling profiler that counts where guest instructions go.
//
// Problem: "where do the 150,000 instructions of a loopback ping go?" needs
// a profile of the kernel, by instructions, with call stacks, that works
// on the QEMU in Debian 12 (7.2: no TCG plugin headers, and no register
// access for plugins even with them). A timer interrupt in S-mode cannot
// do it: S-mode interrupts are off in every interrupt handler and under
// every spinlock, so those instructions would be charged to whatever code
// runs when interrupts come back on (or never seen at all).
//
// Idea: sample from machine mode. M-mode's own timer (the ACLINT MTIMER,
// mtimecmp per hart) interrupts S-mode and U-mode whatever sstatus.SIE
// says, like an NMI. Its handler (profvec.S -> prof_mtrap) records the
// interrupted pc and, for S-mode, the return addresses found by walking
// the kernel's frame pointers (the kernel is built -fno-omit-frame-pointer:
// ra at fp-8, the caller's fp at fp-16; a leaf keeps only the caller's fp,
// at fp-8, and its return address in ra, which profvec.S passes along:
// prof_walk). M-mode runs without paging, so it
// translates each stack address through the interrupted satp itself
// (prof_pa), and gives up on anything that is not a valid mapping of RAM,
// so a broken chain ends the walk instead of faulting. Under
// `qemu -icount shift=0` one instruction is one nanosecond of the guest's
// clock and mtime ticks every 100 instructions, so a sample every P ticks
// is a sample every 100*P instructions: the samples are proportional to
// instructions executed. A hart waiting in wfi is counted apart (idle),
// not sampled.
//
// The samples go into prof_buf[] in guest memory; the host reads the
// array with QEMU's monitor (pmemsave) and symbolizes it against
// kernel/kernel (tools/profile.py, `make profile CMD=...`).
//
// Switch: kern.prof.period (instructions between samples, 0 = off);
// writing it starts a new profile. kern.prof.samples, kern.prof.idle,
// kern.prof.dropped count what was recorded.
//
// Invariants: prof_nsamples only grows while a profile runs; a slot below
// it is written by one M-mode handler only (it reserved the slot with an
// atomic add). Locking: none; each hart's M-mode state is its own.
// Races: "sysctl stops the profile while a handler runs": the handler
// reads prof_period_ticks once; a late sample lands in its reserved slot.
//
// Testing: make profile CMD='ping -c 20 127.0.0.1'; tests/test_tools.py
// checks that the report names the ICMP input path. docs/profiling.md.
// References: RISC-V privileged spec 3.1.9 (mie/mip), 3.1.6.3 (MPRV not
// used here), 4.3 (Sv39); ACLINT spec (MTIMER); Brendan Gregg, "The
// Flame Graph", CACM 59(6), 2016 (folded stacks).
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/errno.h"
#include "kernel/sysctl.h"
#include "kernel/lock.h"
#include "kernel/proc.h"
#include "kernel/prof.h"

#define MTIMER ACLINT_MTIMER                   // QEMU virt
#define MTIMECMP(hart) (MTIMER + 8 * (hart))
#define MTIME (MTIMER + 0x7ff8)
#define INSN_PER_TICK 100                      // -icount shift=0, 10 MHz timebase
#define MSTACK 2048                            // M-mode stack per hart
#define WFI 0x10500073u

struct prof_sample prof_buf[PROF_MAXSAMPLES];  // [a] slots reserved by prof_nsamples
uint64 prof_nsamples;                          // [a]
static uint64 prof_period_ticks;               // [a] 0: off
static uint64 prof_idle, prof_dropped;         // [a]
static char prof_mstack[NCPU][MSTACK] __attribute__((aligned(16)));
extern char etext[];
void profvec(void);

void prof_mstart(uint64 hartid)
{
	*(volatile uint64 *)MTIMECMP(hartid) = ~0UL;   // no M timer until a profile starts
	CSR_WRITE(mscratch, (uint64)&prof_mstack[hartid][MSTACK]);
	CSR_WRITE(mtvec, (uint64)profvec);
	CSR_SET(mie, 1L << 7);                          // MTIE
}

// Physical address of kernel virtual address va under page table root
// (Sv39; root 0: paging off), or 0 if va is not mapped to RAM. M-mode.
static uint64 prof_pa(uint64 root, uint64 va)
{
	if (root == 0)
		return va >= KERNBASE && va < PHYSTOP - 8 ? va : 0;
	if (va >= MAXVA)
		return 0;
	uint64 *pt = (uint64 *)root;
	for (int level = 2; level >= 0; level--) {
		uint64 pte = pt[PX(level, va)];
		uint64 pa = PTE2PA(pte);
		if (!(pte & PTE_V))
			return 0;
		if (pte & (PTE_R | PTE_W | PTE_X)) {
			pa += va & ((1UL << (PGSHIFT + 9 * level)) - 1);
			return pa >= KERNBASE && pa < PHYSTOP - 8 ? pa : 0;
		}
		if (pa < KERNBASE || pa >= PHYSTOP)
			return 0;
		pt = (uint64 *)pa;
	}
	return 0;
}

static bool prof_text(uint64 a)
{
	return a >= KERNBASE && a < (uint64)etext;
}

// Walk the S-mode frame-pointer chain from fp into s->ps_stack. ra is the
// interrupted ra register. A leaf function (memset, le_sum, ...) saves
// only the caller's fp, at fp-8, and keeps its return address in ra: when
// the word at fp-8 is not a text address but the frame pointer of a
// frame above this one, the sample is in a leaf, so its caller is ra and
// the walk goes on from that frame (without this, a leaf's caller, and
// often the whole stack, was lost).
static int prof_walk(struct prof_sample *s, uint64 fp, uint64 ra)
{
	uint64 satp = CSR_READ(satp);
	uint64 root = (satp >> 60) == 8 ? (satp & ((1UL << 44) - 1)) << 12 : 0;
	int d = 0;
	uint64 up_pa = fp != 0 && (fp & 7) == 0 ? prof_pa(root, fp - 8) : 0;
	if (up_pa != 0 && prof_text(ra)) {
		uint64 up = *(uint64 *)up_pa;
		if (!prof_text(up) && up > fp && (up & 7) == 0 && up - fp < PGSIZE) {
			s->ps_stack[d++] = ra;
			fp = up;
		}
	}
	while (d < PROF_DEPTH && fp != 0 && (fp & 7) == 0) {
		uint64 ra_pa = prof_pa(root, fp - 8), fp_pa = prof_pa(root, fp - 16);
		if (ra_pa == 0 || fp_pa == 0)
			break;
		uint64 ret = *(uint64 *)ra_pa;
		if (!prof_text(ret))
			break;
		s->ps_stack[d++] = ret;
		fp = *(uint64 *)fp_pa;
	}
	return d;
}

// The M-mode timer interrupt (profvec.S). Interrupts are off in M-mode.
void prof_mtrap(uint64 fp, uint64 ra)
{
	uint64 hart = CSR_READ(mhartid);
	uint64 period = __atomic_load_n(&prof_period_ticks, __ATOMIC_RELAXED);
	volatile uint64 *cmp = (volatile uint64 *)MTIMECMP(hart);
	if (period == 0) {
		*cmp = ~0UL;
		return;
	}
	*cmp = *(volatile uint64 *)MTIME + period;
	uint64 pc = CSR_READ(mepc);
	int mode = (CSR_READ(mstatus) >> 11) & 3;
	if (mode == PROF_MODE_S && pc >= KERNBASE + 4 && pc < (uint64)etext &&
	    *(uint32 *)(pc - 4) == WFI) {
		__atomic_add_fetch(&prof_idle, 1, __ATOMIC_RELAXED);
		return;
	}
	uint64 i = __atomic_fetch_add(&prof_nsamples, 1, __ATOMIC_RELAXED);
	if (i >= PROF_MAXSAMPLES) {
		__atomic_add_fetch(&prof_dropped, 1, __ATOMIC_RELAXED);
		return;
	}
	struct prof_sample *s = &prof_buf[i];
	s->ps_pc = pc;
	int depth = mode == PROF_MODE_S ? prof_walk(s, fp, ra) : 0;
	s->ps_info = hart | (uint64)mode << 8 | (uint64)depth << 16;
}

// ---- S-mode side -------------------------------------------------------------

static int sysctl_period(struct sysctl_oid *oid, int64 *val, bool write)
{
	if (!write) {
		*val = __atomic_load_n(&prof_period_ticks, __ATOMIC_RELAXED) * INSN_PER_TICK;
		return 0;
	}
	uint64 ticks = (*val + INSN_PER_TICK - 1) / INSN_PER_TICK;
	if (ticks > 0) {
		__atomic_store_n(&prof_nsamples, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&prof_idle, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&prof_dropped, 0, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&prof_period_ticks, ticks, __ATOMIC_SEQ_CST);
	// Arm every hart's M timer; stopping needs nothing: each handler
	// disarms itself when it sees period 0.
	uint64 now = *(volatile uint64 *)MTIME;
	for (int h = 0; ticks > 0 && h < ncpu; h++)
		*(volatile uint64 *)MTIMECMP(h) = now + ticks;
	return 0;
}

static int sysctl_samples(struct sysctl_oid *oid, int64 *val, bool write)
{
	uint64 n = __atomic_load_n(&prof_nsamples, __ATOMIC_RELAXED);
	*val = n < PROF_MAXSAMPLES ? n : PROF_MAXSAMPLES;
	return 0;
}

SYSCTL_PROC_RANGE(kern_prof_period, "kern.prof.period", SYSCTL_RW, sysctl_period, 0, 100000000,
		  "profiler: guest instructions between samples (under -icount shift=0); "
		  "writing starts a new profile, 0 stops it");
SYSCTL_PROC(kern_prof_samples, "kern.prof.samples", SYSCTL_RD, sysctl_samples,
	    "profiler: samples in prof_buf");
SYSCTL_UINT64(kern_prof_idle, "kern.prof.idle", SYSCTL_RD, &prof_idle,
	      "profiler: samples that found a hart idle (wfi), not recorded");
SYSCTL_UINT64(kern_prof_dropped, "kern.prof.dropped", SYSCTL_RD, &prof_dropped,
	      "profiler: samples lost because prof_buf was full");
