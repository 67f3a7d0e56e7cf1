// The network stack's periodic work: one kernel thread that wakes every
// NET_TIMER_MS and runs the slow timers (ARP retries and expiry, IP
// reassembly timeout, the ICMP test knob). Design: net/net_timer.c.
#pragma once
#include "net/shim.h"

#define NET_TIMER_MS 100

int net_timer_init(void);
// One round of the periodic work (the thread's body; tests call it).
void net_timer_run(void);
