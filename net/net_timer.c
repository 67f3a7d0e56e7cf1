// net_timer: the slow periodic work of the stack in one kernel thread.
//
// Problem: ARP must retry and expire entries, reassembly must give up on
// old datagrams, and the test knobs must act, without a packet arriving
// to trigger them. Callouts run in interrupt context; the work here takes
// spinlocks and sends packets, which is fine there too, but the shim
// offers no callouts, and a thread is easier to follow in gdb.
//
// Idea: a kernel thread "nettimer" (any CPU) sleeps NET_TIMER_MS with
// net_sleep_timeout and runs net_timer_run. Each *_tick function reads
// net_now_ms itself, so the host tests drive the same code with the
// virtual clock (host_clock_advance + arp_tick / ip_reass_tick) and never
// start the thread.
//
// Locking: the thread owns nothing; each tick takes its module's lock.
// Races: none of its own (a tick may run while packets flow: the modules'
// locks handle it).
// Life of a packet: arp_tick -> arp_request -> ether_send; icmp_tick ->
// icmp_echo -> ip_output.
// Testing: guest: `sysctl net.link.ether.arp.dump=1`,
// `sysctl net.inet.icmp.test_ping=...`; gdb: break net_timer_run.
// References: none (plumbing).
#include "net/net_timer.h"
#include "net/arp.h"
#include "net/ip.h"
#include "net/icmp.h"

static struct net_lock net_timer_lock;
static int net_timer_chan;   // nobody wakes it: only the timeout

void net_timer_run(void)
{
	arp_tick();
	ip_reass_tick();
	icmp_tick();
}

static void net_timer_thread(void *arg)
{
	(void)arg;
	net_lock_acquire(&net_timer_lock);
	for (;;) {
		net_sleep_timeout(&net_timer_chan, &net_timer_lock, NET_TIMER_MS);
		net_lock_release(&net_timer_lock);
		net_timer_run();
		net_lock_acquire(&net_timer_lock);
	}
}

int net_timer_init(void)
{
	net_lock_init(&net_timer_lock, "nettimer");
	int r = net_kthread_create("nettimer", net_timer_thread, NULL, -1);
	return r < 0 ? r : 0;
}
