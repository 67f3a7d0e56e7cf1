// Machine-mode start: runs on every hart right after entry.S, sets up
// what only M-mode may set, and drops to supervisor mode in main().
//
// What M-mode hands to S-mode:
//   - all exceptions and interrupts are delegated (medeleg/mideleg), so
//     the kernel's trap handlers see them in S-mode;
//   - physical memory protection opened for everything;
//   - the Sstc extension enabled (menvcfg.STCE) and the time CSR readable
//     (mcounteren.TM), so S-mode programs its own timer through stimecmp
//     and no M-mode timer vector is needed; the cycle and instret
//     counters readable too (mcounteren.CY, IR), which S-mode passes on
//     to user programs (trap.c, trapinithart);
//   - the hart id in tp, where cpuid() finds it;
//   - machine mode keeps one job: the profiler's timer (kernel/prof.c).
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/prof.h"
#include "kernel/memlayout.h"

void main(void);
void main_entry(void);   // entry.S: calls main()

// BOOTSTACK (memlayout.h): per-hart boot stack; entry.S uses the same value
__attribute__((aligned(16))) char stack0[BOOTSTACK * NCPU];

extern uint64 fdt_addr;

// a0 = hart id, a1 = device tree address (from QEMU's reset code).
void start(uint64 hartid, uint64 dtb)
{
	if (hartid == 0)
		fdt_addr = dtb;

	uint64 x = CSR_READ(mstatus);
	x &= ~MSTATUS_MPP_MASK;
	x |= MSTATUS_MPP_S;       // mret goes to S-mode
	CSR_WRITE(mstatus, x);
	CSR_WRITE(mepc, (uint64)main_entry);
	CSR_WRITE(satp, 0);       // paging off until kvminithart()

	CSR_WRITE(medeleg, 0xffff);
	CSR_WRITE(mideleg, 0xffff);
	CSR_SET(sie, SIE_SEIE | SIE_STIE | SIE_SSIE);

	// PMP: one TOR region over all of memory, read/write/execute.
	CSR_WRITE(pmpaddr0, 0x3fffffffffffffUL);
	CSR_WRITE(pmpcfg0, 0xf);

	// Timer: S-mode may use stimecmp and read time.
	CSR_SET(menvcfg, MENVCFG_STCE);
	CSR_SET(mcounteren, 7);    // CY | TM | IR
	CSR_WRITE(stimecmp, ~0UL);  // no timer interrupt until timer_arm()

	// The profiler's M-mode timer vector (kernel/prof.c); idle until
	// kern.prof.period is set.
	prof_mstart(hartid);

	w_tp(CSR_READ(mhartid));
	asm volatile("mret");
}
