// Callouts: run a function after a delay, with millisecond resolution.
//
// Each CPU keeps its own list of pending callouts, sorted by deadline; the
// timer interrupt of that CPU fires the due ones (DragonFly's model: a
// callout runs on the CPU that armed it, so a netisr's TCP timers run on
// the netisr's CPU). The function runs in interrupt context with
// interrupts off: it must not sleep; it may wake threads, send messages,
// and re-arm callouts.
#pragma once
#include "kernel/types.h"

struct callout {
	struct callout *c_next;   // [s] cpu's callout list
	uint64 c_time;            // [s] deadline, ms since boot
	void (*c_fn)(void *);     // [s]
	void *c_arg;              // [s]
	int c_cpu;                // [s] cpu whose list holds it, -1 if none
	bool c_pending;           // [s] on a list, not yet fired
};

void callout_init(struct callout *c);
// (Re)arm c to run fn(arg) in ms milliseconds on the calling CPU.
void callout_reset(struct callout *c, int ms, void (*fn)(void *), void *arg);
// Cancel c. Returns true if it was pending. When it returns, c_fn is not
// running on any CPU (unless called from c_fn itself), so c may be freed.
bool callout_stop(struct callout *c);
bool callout_pending(struct callout *c);
// Called from the timer interrupt: fire this CPU's due callouts.
void callout_tick(void);
void callout_sysinit(void);

uint64 uptime_ms(void);  // milliseconds since boot, from the time CSR
