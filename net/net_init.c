// net_init: bring up the network stack, in dependency order. kernel/main.c
// calls it once on hart 0 at boot (it is a weak symbol there, so the
// kernel also links without net/), after the process table, callouts and
// sysctl are ready and before the other harts start scheduling.
//
// Later files add their init call here, at the place their dependencies
// dictate, with one line each -- e.g. after netisr_init: ether/ARP/IP
// protocol registration (netisr_register), loopback (lo0 and its ifq),
// then the e1000 attach (drivers/pci.c), then sockets. An init function
// returns 0 or -Exxx; a failure here is reported, and the rest of the
// stack still comes up where it can (a kernel without a NIC still boots).
#include "net/shim.h"
#include "net/mbuf.h"
#include "net/netisr.h"

static void net_init_step(const char *what, int err)
{
	if (err < 0)
		printf("net_init: %s failed: %d\n", what, err);
}

void net_init(void)
{
	net_init_step("mbuf", mbuf_init());
	net_init_step("netisr", netisr_init());
	// ifq users (loopback, e1000), protocols and sockets go here.
}
