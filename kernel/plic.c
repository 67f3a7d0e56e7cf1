// PLIC, the platform-level interrupt controller: routes device interrupt
// lines to harts. Each hart has an S-mode context with its own enable bits,
// priority threshold and claim/complete register. Lines are enabled by
// intr_register() (trap.c); here we only set each hart's threshold.
#include "kernel/types.h"
#include "kernel/memlayout.h"
#include "kernel/proc.h"
#include "kernel/intr.h"

void plicinit(void)
{
}

// Accept interrupts of any priority above 0 on this hart.
void plicinithart(void)
{
	*(volatile uint32 *)PLIC_SPRIORITY(cpuid()) = 0;
}

// Which line interrupted this hart? 0 if none (another hart claimed it).
int plic_claim(void)
{
	return *(volatile uint32 *)PLIC_SCLAIM(cpuid());
}

void plic_complete(int irq)
{
	*(volatile uint32 *)PLIC_SCLAIM(cpuid()) = irq;
}
