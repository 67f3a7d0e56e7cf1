// net_init: bring up the network stack, in dependency order. kernel/main.c
// calls it once on hart 0 at boot (it is a weak symbol there, so the
// kernel also links without net/), after the process table, callouts and
// sysctl are ready and before the other harts start scheduling.
//
// Order: mbufs; protocols (ARP, IP, ICMP init their locks and register
// their input functions); the netisr threads; lo0; the timer thread; then every interface
// that came up before us (the e1000 attaches from pci_init, which runs
// before net_init) announces its address (gratuitous ARP). An init
// function returns 0 or -Exxx; a failure is reported, and the rest of the
// stack still comes up where it can (a kernel without a NIC still boots).
// Invariants: runs once, single-threaded, before any packet can arrive.
// Locking: none needed for that reason; each init takes its own locks.
#include "net/shim.h"
#include "net/mbuf.h"
#include "net/netisr.h"
#include "net/if.h"
#include "net/ether.h"
#include "net/arp.h"
#include "net/ip.h"
#include "net/icmp.h"
#include "net/net_timer.h"
#include "net/socket.h"

static void net_init_step(const char *what, int err)
{
	if (err < 0)
		printf("net_init: %s failed: %d\n", what, err);
}

void net_init(void)
{
	net_init_step("mbuf", mbuf_init());
	// Protocols before the threads that call them: their locks must be
	// initialised before the first frame is dispatched.
	net_init_step("arp", arp_init());
	net_init_step("ip", ip_init());
	net_init_step("icmp", icmp_init());
	net_init_step("socket", socket_init());   // protocol table (raw ICMP)
	net_init_step("ether", netisr_register(NETISR_ETHER, ether_input));
	net_init_step("netisr", netisr_init());
	net_init_step("lo0", loop_attach());
	net_init_step("timer", net_timer_init());
	if_announce_all();
}
