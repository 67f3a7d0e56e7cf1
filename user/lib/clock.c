// Clocks for user programs, read straight from the RISC-V counters.
//
// The kernel lets user mode read two of the hart's counters (scounteren,
// kernel/trap.c): `time`, which QEMU's virt machine runs at TIMEBASE
// (10 MHz, one tick = 0.1 us) and which is the same on every hart, and
// `instret`, which under `qemu -icount` counts guest instructions (all
// harts together) and otherwise follows the host's clock. Reading either
// is one instruction: no system call, so a program can time a single
// loopback round trip (ping prints `time=0.143 ms`). See docs/kernel.md,
// "Clocks", for why this and not a system call or a mapped page.
#include "user/user.h"
#include "kernel/param.h"

uint64
clock_ticks(void)
{
	uint64 t;

	asm volatile("rdtime %0" : "=r"(t));
	return t;
}

uint64
clock_us(void)
{
	return clock_ticks() / (TIMEBASE / 1000000);
}

uint64
insn_count(void)
{
	uint64 n;

	asm volatile("rdinstret %0" : "=r"(n));
	return n;
}

uint64
clock_ns(void)
{
	return clock_ticks() * (1000000000UL / TIMEBASE);
}

// kern.idle_ns: ns of the same clock all harts spent in wfi (0 on a
// kernel without it). Elapsed minus idle is the time the harts worked;
// under qemu -icount shift=0 on one hart, one ns is one instruction.
uint64
clock_idle_ns(void)
{
	int64 v = 0;

	sysctl_getint("kern.idle_ns", &v);
	return (uint64)v;
}
