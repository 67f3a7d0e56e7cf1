// Internet pcbs: the tables that map an arriving packet to its socket,
// port allocation, and the bind rules (UDP now, TCP next).
//
// Problem: every UDP datagram that arrives must find its socket among
// many, on whichever netisr its flow hashed to, while sockets are being
// bound, connected and closed by requests running on other netisrs. Two
// sockets must not silently share a port unless both asked for it, and a
// program that binds port 0 must get a port nobody else has.
//
// Idea (BSD in_pcb.c, written anew): three views of one set of pcbs, all
// under one table lock (ipi_lock):
//   ipi_connhash  connected pcbs, hashed by (laddr, lport, faddr, fport):
//                 exact matches, looked at first;
//   ipi_grouphash reuseport groups by lport (net/in_localgroup.c), looked
//                 at second when the switch reuseport_ext is on;
//   ipi_porthash  every bound pcb, by lport. It is the "wildcard table":
//                 a miss in the first two walks this chain for an
//                 unconnected pcb whose laddr is the packet's destination,
//                 else 0 (any). It also serves the bind rules, ephemeral
//                 allocation and broadcast delivery.
// The most recently bound pcb is at the head of its chain, so among equal
// candidates the naive lookup (reuseport_ext = 0) picks the LAST bound
// socket: with SO_REUSEPORT and the switch off, only that one receives.
//
// Bind rules (FreeBSD's, which Linux mostly shares for unicast):
//   R1 laddr must be 0 or one of our addresses, else -EADDRNOTAVAIL.
//   R2 a socket with neither SO_REUSEADDR nor SO_REUSEPORT conflicts with
//      every pcb on the same port whose laddr overlaps (equal, or either
//      is 0): -EADDRINUSE.
//   R3 a socket with SO_REUSEADDR or SO_REUSEPORT conflicts only with a
//      pcb of exactly the same laddr, and not even then if BOTH have
//      SO_REUSEPORT (all-or-nothing: every member of a group must set it
//      before bind; a late-comer without it, or with it joining holders
//      without it, gets -EADDRINUSE). A connected pcb (a TCP connection,
//      TIME_WAIT included, or a connected UDP socket) does not conflict
//      with it at all: a server restarted with SO_REUSEADDR binds next to
//      its old connections (BSD's non-wildcard in_pcblookup_local matches
//      unconnected pcbs only; UNP 7.5).
//   R4 lport 0 takes an ephemeral port in [49152, 65535] (RFC 6335) that
//      no pcb uses on any address, starting after the last one handed
//      out; -EADDRNOTAVAIL if all are taken.
//
// Invariants:
//   I1 inp is on ipi_porthash iff inp_lport != 0 (INP_INPORT), on
//      ipi_connhash iff inp_faddr != 0 (INP_INCONN), in a group iff
//      INP_INGROUP (then bound, unconnected, SO_REUSEPORT).
//   I2 Every change of I1's fields happens under ipi_lock; every lookup
//      holds it from the hash walk until it is done with the pcb found
//      (UDP: until the datagram is on the socket's PCQ), so a pcb found is
//      never freed under the finder (in_pcbdetach unlinks under the lock).
//   I3 No two connected pcbs share a 4-tuple.
//
// Locking: ipi_lock, a spinlock. A read/write lock would let netisrs look
// up in parallel; the section it guards is a hash walk plus a PCQ put (no
// socket lock, no copy), so the spinlock's cost is small and a
// teaching kernel keeps one lock kind. Requests (bind, connect, detach)
// run in the pcb's owning netisr (net/udp.c says which) and take ipi_lock
// around each change; lookups run in every netisr. Lock order: ipi_lock ->
// sb_lock (UDP slow path, PCQ wakeups).
//
// Races:
//   - "close during delivery": I2.
//   - "two binds of one port at once": both checks and the insert happen
//     in one ipi_lock section (in_pcbbind), so the second sees the first.
//   - "connect moves a pcb": unlink from the group and relink into
//     ipi_connhash in one ipi_lock section, so a lookup sees it in
//     exactly one place.
//
// Life of a packet: udp_input -> ipi_lock -> in_pcblookup (connhash ->
// in_localgroup_lookup -> porthash walk) -> deliver -> unlock.
//
// Testing: make hosttest (tests/host/test_inpcb.c: EADDRINUSE, reuseaddr,
// reuseport all-or-nothing, ephemeral ports unique, lookup preference);
// nettests udpaddrinuse, udpreuseport. gdb: break in_pcbbind.
//
// References: RFC 6335 6 (port ranges); McKusick et al., FreeBSD design,
// 13.4 (UDP) and in_pcb.c; Stevens, UNP vol. 1, 7.5 (SO_REUSEADDR and
// SO_REUSEPORT); DragonFly commit 740d1d9f (2013).
#include "net/in_pcb.h"
#include "net/socket.h"
#include "net/ip.h"
#include "net/if.h"

static uint32 inp_porthash(uint16 lport)
{
	return lport & (INP_HASHSIZE - 1);
}

static uint32 inp_connhash(uint32 laddr, uint16 lport, uint32 faddr, uint16 fport)
{
	uint32 h = laddr ^ faddr ^ ((uint32)lport << 16 | fport);
	h ^= h >> 16;
	h *= 0x45d9f3bu;
	h ^= h >> 16;
	return h & (INP_HASHSIZE - 1);
}

void in_pcbinfo_init(struct inpcbinfo *info, const char *name, int *reuseport_ext)
{
	memset(info, 0, sizeof(*info));
	net_lock_init(&info->ipi_lock, "inpcbinfo");  // one lock class, all tables
	info->ipi_name = name;
	info->ipi_reuseport_ext = reuseport_ext;
}

int in_pcballoc(struct socket *so, struct inpcbinfo *info, struct inpcb **inpp)
{
	struct inpcb *inp = net_malloc(sizeof(*inp));
	if (inp == NULL)
		return -ENOBUFS;
	memset(inp, 0, sizeof(*inp));
	inp->inp_info = info;
	inp->inp_socket = so;
	net_lock_acquire(&info->ipi_lock);
	inp->inp_next = info->ipi_all;
	info->ipi_all = inp;
	info->ipi_count++;
	net_lock_release(&info->ipi_lock);
	*inpp = inp;
	return 0;
}

// Unlink inp from the list whose head is *pp, following the link at
// offset off. Caller holds ipi_lock.
static void inp_unlink(struct inpcb **pp, struct inpcb *inp, size_t off)
{
	for (; *pp != NULL; pp = (struct inpcb **)((char *)*pp + off)) {
		if (*pp == inp) {
			*pp = *(struct inpcb **)((char *)inp + off);
			return;
		}
	}
	panic("in_pcb: pcb not on its list");   // I1 broken
}

#define INP_LINK(field) __builtin_offsetof(struct inpcb, field)

static void inp_port_insert(struct inpcb *inp)
{
	struct inpcbinfo *info = inp->inp_info;
	KASSERT(net_lock_held(&info->ipi_lock));
	struct inpcb **head = &info->ipi_porthash[inp_porthash(inp->inp_lport)];
	inp->inp_portnext = *head;   // head: the last bound wins naive lookups
	*head = inp;
	inp->inp_flags |= INP_INPORT;
}

static void inp_conn_insert(struct inpcb *inp)
{
	struct inpcbinfo *info = inp->inp_info;
	KASSERT(net_lock_held(&info->ipi_lock));
	struct inpcb **head = &info->ipi_connhash[inp_connhash(
		inp->inp_laddr, inp->inp_lport, inp->inp_faddr, inp->inp_fport)];
	inp->inp_connnext = *head;
	*head = inp;
	inp->inp_flags |= INP_INCONN;
}

static void inp_conn_remove(struct inpcb *inp)
{
	struct inpcbinfo *info = inp->inp_info;
	KASSERT(net_lock_held(&info->ipi_lock));
	inp_unlink(&info->ipi_connhash[inp_connhash(inp->inp_laddr, inp->inp_lport,
						    inp->inp_faddr, inp->inp_fport)],
		   inp, INP_LINK(inp_connnext));
	inp->inp_flags &= ~INP_INCONN;
}

void in_pcbdetach(struct inpcb *inp)
{
	struct inpcbinfo *info = inp->inp_info;
	net_lock_acquire(&info->ipi_lock);
	if (inp->inp_flags & INP_INGROUP)
		in_localgroup_leave(info, inp);
	if (inp->inp_flags & INP_INCONN)
		inp_conn_remove(inp);
	if (inp->inp_flags & INP_INPORT)
		inp_unlink(&info->ipi_porthash[inp_porthash(inp->inp_lport)], inp,
			   INP_LINK(inp_portnext));
	inp_unlink(&info->ipi_all, inp, INP_LINK(inp_next));
	info->ipi_count--;
	net_lock_release(&info->ipi_lock);   // I2: no lookup finds it now
	net_free(inp);
}

struct inpcb *in_pcbportchain(struct inpcbinfo *info, uint16 lport)
{
	KASSERT(net_lock_held(&info->ipi_lock));
	return info->ipi_porthash[inp_porthash(lport)];
}

static uint32 inp_reuse(struct inpcb *inp)
{
	return __atomic_load_n(&inp->inp_socket->so_options, __ATOMIC_RELAXED) &
	       (SO_OPT_REUSEADDR | SO_OPT_REUSEPORT);
}

// R2/R3: may inp take (laddr, lport) next to the pcbs already there?
// Caller holds ipi_lock.
static bool inp_port_free(struct inpcb *inp, uint32 laddr, uint16 lport)
{
	uint32 mine = inp_reuse(inp);
	for (struct inpcb *t = in_pcbportchain(inp->inp_info, lport); t; t = t->inp_portnext) {
		if (t == inp || t->inp_lport != lport)
			continue;
		bool same = t->inp_laddr == laddr;
		bool overlap = same || t->inp_laddr == INADDR_ANY || laddr == INADDR_ANY;
		if (!overlap)
			continue;
		if (mine == 0)
			return false;                             // R2
		if (t->inp_faddr != INADDR_ANY)
			continue;                                 // R3: connected
		if (same && !((mine & inp_reuse(t)) & SO_OPT_REUSEPORT))
			return false;                             // R3
	}
	return true;
}

// R4: an ephemeral port no pcb uses, or 0. Caller holds ipi_lock.
static uint16 inp_ephemeral(struct inpcbinfo *info)
{
	const uint32 n = INP_EPHEMERAL_LAST - INP_EPHEMERAL_FIRST + 1;
	for (uint32 i = 0; i < n; i++) {
		uint16 port = INP_EPHEMERAL_FIRST + (info->ipi_lastport++ % n);
		bool used = false;
		for (struct inpcb *t = in_pcbportchain(info, port); t && !used; t = t->inp_portnext)
			used = t->inp_lport == port;
		if (!used)
			return port;
	}
	return 0;
}

int in_pcbbind(struct inpcb *inp, uint32 laddr, uint16 lport, bool group)
{
	struct inpcbinfo *info = inp->inp_info;
	int err = 0;
	if (laddr != INADDR_ANY && !if_islocal(laddr))
		return -EADDRNOTAVAIL;   // R1
	net_lock_acquire(&info->ipi_lock);
	if (inp->inp_lport != 0 || inp->inp_faddr != 0) {
		err = -EINVAL;   // bound already (BSD, Linux)
		goto out_unlock;
	}
	if (lport == 0 && (lport = inp_ephemeral(info)) == 0) {
		err = -EADDRNOTAVAIL;   // R4
		goto out_unlock;
	}
	if (!inp_port_free(inp, laddr, lport)) {
		err = -EADDRINUSE;
		goto out_unlock;
	}
	// Atomic: a UDP send on another netisr reads them (net/so_sendcpu.c I3).
	__atomic_store_n(&inp->inp_laddr, laddr, __ATOMIC_RELAXED);
	__atomic_store_n(&inp->inp_lport, lport, __ATOMIC_RELEASE);
	inp_port_insert(inp);
	if (group && (inp_reuse(inp) & SO_OPT_REUSEPORT) &&
	    (err = in_localgroup_join(info, inp)) < 0) {
		// Undo: a bind that cannot join the group does not happen.
		inp_unlink(&info->ipi_porthash[inp_porthash(lport)], inp,
			   INP_LINK(inp_portnext));
		inp->inp_flags &= ~INP_INPORT;
		__atomic_store_n(&inp->inp_laddr, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&inp->inp_lport, 0, __ATOMIC_RELAXED);
	}
out_unlock:
	net_lock_release(&info->ipi_lock);
	return err;
}

uint32 in_pcbsrcaddr(uint32 dst)
{
	struct ifnet *ifp;
	uint32 nexthop;
	if (ip_route(dst, &ifp, &nexthop) < 0)
		return 0;
	// As ip_output chooses: our own address talks to itself.
	return if_islocal(dst) ? dst : ifp->if_addr;
}

int in_pcbconnect(struct inpcb *inp, uint32 faddr, uint16 fport)
{
	struct inpcbinfo *info = inp->inp_info;
	int err;
	if (faddr == INADDR_ANY || fport == 0)
		return -EADDRNOTAVAIL;   // BSD in_pcbconnect_setup
	uint32 src = inp->inp_laddr;
	if (src == INADDR_ANY && (src = in_pcbsrcaddr(faddr)) == 0)
		return -ENETUNREACH;
	if (inp->inp_faddr != 0)
		return -EISCONN;   // UDP re-connect: not supported (BSD allows it)
	if (inp->inp_lport == 0 && (err = in_pcbbind(inp, INADDR_ANY, 0, false)) < 0)
		return err;
	net_lock_acquire(&info->ipi_lock);
	struct inpcb *t = info->ipi_connhash[inp_connhash(src, inp->inp_lport, faddr, fport)];
	for (; t != NULL; t = t->inp_connnext) {
		if (t->inp_laddr == src && t->inp_lport == inp->inp_lport &&
		    t->inp_faddr == faddr && t->inp_fport == fport) {
			net_lock_release(&info->ipi_lock);
			return -EADDRINUSE;   // I3
		}
	}
	if (inp->inp_flags & INP_INGROUP)
		in_localgroup_leave(info, inp);   // no longer a wildcard receiver
	// The port chain is by lport: it stays valid. Atomic: a UDP send on
	// another netisr reads them (net/so_sendcpu.c I3).
	__atomic_store_n(&inp->inp_laddr, src, __ATOMIC_RELAXED);
	__atomic_store_n(&inp->inp_faddr, faddr, __ATOMIC_RELAXED);
	__atomic_store_n(&inp->inp_fport, fport, __ATOMIC_RELAXED);
	inp_conn_insert(inp);
	net_lock_release(&info->ipi_lock);
	return 0;
}

int in_pcbinstall(struct inpcb *inp, uint32 laddr, uint16 lport, uint32 faddr,
		  uint16 fport)
{
	struct inpcbinfo *info = inp->inp_info;
	net_lock_acquire(&info->ipi_lock);
	struct inpcb *t = info->ipi_connhash[inp_connhash(laddr, lport, faddr, fport)];
	for (; t != NULL; t = t->inp_connnext) {
		if (t->inp_laddr == laddr && t->inp_lport == lport &&
		    t->inp_faddr == faddr && t->inp_fport == fport) {
			net_lock_release(&info->ipi_lock);
			return -EADDRINUSE;   // I3
		}
	}
	inp->inp_laddr = laddr;
	inp->inp_lport = lport;
	inp->inp_faddr = faddr;
	inp->inp_fport = fport;
	inp_port_insert(inp);
	inp_conn_insert(inp);
	net_lock_release(&info->ipi_lock);
	return 0;
}

struct inpcb *in_pcblookup(struct inpcbinfo *info, uint32 faddr, uint16 fport,
			   uint32 laddr, uint16 lport, uint32 hash)
{
	struct inpcb *inp;
	KASSERT(net_lock_held(&info->ipi_lock));
	inp = info->ipi_connhash[inp_connhash(laddr, lport, faddr, fport)];
	for (; inp != NULL; inp = inp->inp_connnext)
		if (inp->inp_laddr == laddr && inp->inp_lport == lport &&
		    inp->inp_faddr == faddr && inp->inp_fport == fport)
			return inp;
	return in_pcblookup_unconnected(info, laddr, lport, hash);
}

struct inpcb *in_pcblookup_unconnected(struct inpcbinfo *info, uint32 laddr, uint16 lport,
				       uint32 hash)
{
	struct inpcb *inp, *wild = NULL;
	KASSERT(net_lock_held(&info->ipi_lock));
	if (__atomic_load_n(info->ipi_reuseport_ext, __ATOMIC_RELAXED) &&
	    (inp = in_localgroup_lookup(info, laddr, lport, hash)) != NULL)
		return inp;
	for (inp = in_pcbportchain(info, lport); inp != NULL; inp = inp->inp_portnext) {
		if (inp->inp_lport != lport || inp->inp_faddr != INADDR_ANY)
			continue;
		if (inp->inp_laddr == laddr)
			return inp;   // exact address beats wildcard
		if (inp->inp_laddr == INADDR_ANY && wild == NULL)
			wild = inp;   // first on the chain = most recently bound
	}
	return wild;
}
