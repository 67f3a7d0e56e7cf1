// Network interfaces: the list of struct ifnet, lookups, up/down, address.
//
// Problem: every layer above the driver needs to name an interface (its
// address for "is this packet for us", its MTU and output function for
// routing, its send queue), and drivers attach at boot before the rest of
// the stack is initialised (drivers/pci.c runs before net_init).
//
// Idea: a fixed table of at most IF_MAX pointers, filled by if_attach at
// boot on one hart and published by an atomic store of the count; an
// interface is never detached, so lookups walk the table without a lock.
// Each ifnet's flags and address are single words, written under its
// if_lock and read without it.
//
// Invariants:
//   I1 if_list[0 .. if_count-1] are attached and stay valid forever.
//   I2 if_broadaddr == (if_addr & if_netmask) | ~if_netmask whenever set.
//   I3 IFF_RUNNING implies the driver's start routine may be called;
//      after if_down returns it is not running on any CPU.
//   I4 At most one configuration change (if_up, if_down, if_setaddr...)
//      of an interface runs at a time: each holds the interface's
//      configuration sleep lock (if_cfgbusy) from start to end. So
//      ifq_running, IFF_UP and IFF_RUNNING always agree once it returns.
//
// Locking: the configuration sleep lock (if_cfg_lock/if_cfg_unlock: a
// flag under if_lock, waiters sleep on it) serialises whole changes; it
// may be held across sleeping and yielding (ifq_barrier), so it is taken
// in thread context only. if_lock (per ifnet, a spinlock) orders the
// single-word writes of if_flags/if_addr; readers use plain single-word
// loads ([a]). Lock order: configuration lock -> if_lock -> ifq locks.
//
// Races:
//   "address change while routing": ip_output may read the old address
//     with the new netmask for one packet. Harmless (one misrouted or
//     dropped packet); addresses change only by hand.
//   "down while sending": if_down clears RUNNING before ifq_barrier
//     (net/ifq.c race "barrier versus owner").
//   "up races with down" (two processes, SIOCSIFFLAGS): without I4,
//     if_up could mark the queue running between if_down's clear and its
//     ifq_barrier, and the barrier's KASSERT(!running) fired; with it the
//     second change waits for the first, and finds the state it left.
//
// Life of a packet: not on the path itself; ip_input asks if_islocal,
// ip_output asks if_bysubnet / if_byaddr and calls ifp->if_output.
//
// Testing: make hosttest (tests/host/test_ip.c attaches a fake "fx0");
// in the guest `sysctl net.link`.
//
// References: 4.4BSD net/if.c (for understanding only).
#include "net/if.h"

static struct ifnet *if_list[IF_MAX];  // [i] published by if_count
static int if_count;                   // [a]
// Announcements (gratuitous ARP) wait until net_init has initialised the
// protocols: the e1000 attaches and comes up before net_init runs.
static int if_announce_ok;             // [a] set by if_announce_all

static void if_announce(struct ifnet *ifp)
{
	if (__atomic_load_n(&if_announce_ok, __ATOMIC_ACQUIRE) && ifp->if_announce &&
	    ifp->if_addr != 0 && (ifp->if_flags & IFF_UP))
		ifp->if_announce(ifp);
}

static const char *if_counter_names[IF_NCOUNTERS] = {
	"ipackets", "ierrors", "iqdrops", "opackets", "oerrors", "ibytes", "obytes",
};

static void if_sysctl_attach(struct ifnet *ifp)
{
	char name[NET_SYSCTL_NAMELEN];
	uint64 *ctr = &ifp->if_data.ifc_ipackets;
	for (int i = 0; i < IF_NCOUNTERS; i++) {
		snprintf(name, sizeof(name), "net.link.%s.%s", ifp->if_name,
			 if_counter_names[i]);
		net_sysctl_add_u64(&ifp->if_oids[i], name, ctr + i, "interface counter");
	}
}

int if_attach(struct ifnet *ifp)
{
	int n = __atomic_load_n(&if_count, __ATOMIC_ACQUIRE);
	if (n == IF_MAX)
		return -ENOSPC;
	if (if_byname(ifp->if_name))
		return -EEXIST;
	net_lock_init(&ifp->if_lock, "ifnet");
	ifp->if_index = n + 1;
	if_sysctl_attach(ifp);
	if_list[n] = ifp;
	__atomic_store_n(&if_count, n + 1, __ATOMIC_RELEASE);  // publish (I1)
	return 0;
}

struct ifnet *if_get(int i)
{
	if (i < 0 || i >= __atomic_load_n(&if_count, __ATOMIC_ACQUIRE))
		return NULL;
	return if_list[i];
}

// How many interfaces are attached (I1: if_list[0 .. n-1] stay valid).
// The loops below run for every packet (if_byaddr, if_bysubnet,
// if_isbroadcast): they read the count once and index if_list, where
// if_get() was a call and an atomic load per slot.
static int if_n(void)
{
	return __atomic_load_n(&if_count, __ATOMIC_ACQUIRE);
}

struct ifnet *if_byname(const char *name)
{
	struct ifnet *ifp;
	for (int i = 0; (ifp = if_get(i)) != NULL; i++)
		if (strcmp(ifp->if_name, name) == 0)
			return ifp;
	return NULL;
}

struct ifnet *if_byindex(int index)
{
	return if_get(index - 1);
}

struct ifnet *if_byaddr(uint32 addr)
{
	if (addr == 0)
		return NULL;
	for (int i = 0, n = if_n(); i < n; i++)
		if (__atomic_load_n(&if_list[i]->if_addr, __ATOMIC_RELAXED) == addr)
			return if_list[i];
	return NULL;
}

bool if_islocal(uint32 addr)
{
	return if_byaddr(addr) != NULL;
}

struct ifnet *if_bysubnet(uint32 addr)
{
	for (int i = 0, n = if_n(); i < n; i++) {
		struct ifnet *ifp = if_list[i];
		int fl = __atomic_load_n(&ifp->if_flags, __ATOMIC_RELAXED);
		uint32 a = __atomic_load_n(&ifp->if_addr, __ATOMIC_RELAXED);
		uint32 mask = __atomic_load_n(&ifp->if_netmask, __ATOMIC_RELAXED);
		if ((fl & IFF_UP) && !(fl & IFF_LOOPBACK) && a != 0 &&
		    (addr & mask) == (a & mask))
			return ifp;
	}
	return NULL;
}

// The configuration sleep lock (I4). Thread context; may sleep.
static void if_cfg_lock(struct ifnet *ifp)
{
	net_lock_acquire(&ifp->if_lock);
	while (ifp->if_cfgbusy)
		net_sleep(&ifp->if_cfgbusy, &ifp->if_lock);
	ifp->if_cfgbusy = 1;
	net_lock_release(&ifp->if_lock);
}

static void if_cfg_unlock(struct ifnet *ifp)
{
	net_lock_acquire(&ifp->if_lock);
	KASSERT(ifp->if_cfgbusy);
	ifp->if_cfgbusy = 0;
	net_wakeup(&ifp->if_cfgbusy);
	net_lock_release(&ifp->if_lock);
}

static void if_setflags(struct ifnet *ifp, int set, int clear)
{
	net_lock_acquire(&ifp->if_lock);
	int fl = (ifp->if_flags | set) & ~clear;
	__atomic_store_n(&ifp->if_flags, fl, __ATOMIC_RELEASE);
	net_lock_release(&ifp->if_lock);
}

int if_up(struct ifnet *ifp)
{
	if_cfg_lock(ifp);   // I4
	if (!(ifp->if_flags & IFF_UP)) {
		if_setflags(ifp, IFF_UP | IFF_RUNNING, 0);
		ifq_set_running(&ifp->if_snd, true);
		ifq_start(&ifp->if_snd);
		if_announce(ifp);
	}
	if_cfg_unlock(ifp);
	return 0;
}

int if_down(struct ifnet *ifp)
{
	if_cfg_lock(ifp);   // I4
	if (ifp->if_flags & IFF_UP) {
		if_setflags(ifp, 0, IFF_RUNNING);
		ifq_set_running(&ifp->if_snd, false);
		ifq_barrier(&ifp->if_snd);   // I3: start routine idle from here on
		ifq_purge(&ifp->if_snd);
		if_setflags(ifp, 0, IFF_UP);
	}
	if_cfg_unlock(ifp);
	return 0;
}

// Set both; caller holds the configuration lock.
static int if_setaddr_locked(struct ifnet *ifp, uint32 addr, uint32 netmask)
{
	// A netmask must be contiguous ones from the top: ~mask + 1 is a power of 2.
	uint32 inv = ~netmask;
	if ((inv & (inv + 1)) != 0)
		return -EINVAL;
	net_lock_acquire(&ifp->if_lock);
	__atomic_store_n(&ifp->if_addr, addr, __ATOMIC_RELAXED);
	__atomic_store_n(&ifp->if_netmask, netmask, __ATOMIC_RELAXED);
	__atomic_store_n(&ifp->if_broadaddr, (addr & netmask) | inv, __ATOMIC_RELAXED); // I2
	net_lock_release(&ifp->if_lock);
	if_announce(ifp);
	return 0;
}

int if_setaddr(struct ifnet *ifp, uint32 addr, uint32 netmask)
{
	if_cfg_lock(ifp);   // I4
	int err = if_setaddr_locked(ifp, addr, netmask);
	if_cfg_unlock(ifp);
	return err;
}

int if_setinaddr(struct ifnet *ifp, uint32 addr)
{
	if_cfg_lock(ifp);
	int err = if_setaddr_locked(ifp, addr, ifp->if_netmask);
	if_cfg_unlock(ifp);
	return err;
}

int if_setnetmask(struct ifnet *ifp, uint32 netmask)
{
	if_cfg_lock(ifp);
	int err = if_setaddr_locked(ifp, ifp->if_addr, netmask);
	if_cfg_unlock(ifp);
	return err;
}

void if_announce_all(void)
{
	struct ifnet *ifp;
	__atomic_store_n(&if_announce_ok, 1, __ATOMIC_RELEASE);
	for (int i = 0; (ifp = if_get(i)) != NULL; i++)
		if_announce(ifp);
}

bool if_isbroadcast(uint32 addr)
{
	if (addr == 0xffffffffu)   // the limited broadcast, 255.255.255.255
		return true;
	for (int i = 0, n = if_n(); i < n; i++) {
		struct ifnet *ifp = if_list[i];
		if (addr == __atomic_load_n(&ifp->if_broadaddr, __ATOMIC_RELAXED) &&
		    __atomic_load_n(&ifp->if_netmask, __ATOMIC_RELAXED) != 0xffffffffu &&
		    (__atomic_load_n(&ifp->if_flags, __ATOMIC_RELAXED) & IFF_BROADCAST))
			return true;
	}
	return false;
}
