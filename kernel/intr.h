// Traps and device interrupts.
//
// Drivers attach a handler to a PLIC interrupt line with intr_register();
// the handler runs on the hart that claimed the interrupt, with interrupts
// off, and must not sleep.
#pragma once
#include "kernel/types.h"

void trapinit(void);
void trapinithart(void);
void usertrapret(void);
void plicinit(void);
void plicinithart(void);
int plic_claim(void);
void plic_complete(int irq);
int intr_register(int irq, void (*fn)(void *), void *arg);
// Offer registered line irq to hart cpu only, or to every hart (cpu = -1,
// as intr_register does). 0 or -EINVAL. Any context.
int intr_route(int irq, int cpu);
void timer_arm(void);
