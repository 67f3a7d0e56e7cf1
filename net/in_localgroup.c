// Reuseport groups: spread the datagrams (UDP) or connections (TCP) of one
// address:port over every socket bound to it with SO_REUSEPORT (DragonFly
// commit 740d1d9f).
//
// Problem: a server that wants N processes (one per CPU) to share the
// work of one UDP port can bind N sockets with SO_REUSEPORT, but classic
// BSD then delivers everything to one of them (the last bound, here): the
// others sit idle, and the one socket's buffer and lock become the
// bottleneck. A single shared socket has the same bottleneck.
//
// Idea (DragonFly BSD 2013, after Linux 3.9's SO_REUSEPORT; written
// anew): keep a group per (laddr, lport) -- an array of up to 256 pcbs --
// in a hash table beside the port table. Lookup of an unconnected flow
// finds the group and lets the packet's flow hash pick the member. The
// same 4-tuple always hashes the same, so a client keeps talking to the
// same process while the group is unchanged.
//
// Hash-threshold, not modulo-N (RFC 2992): the member is
//   idx = (hash * n) >> 32
// i.e. the 32-bit hash space is cut into n equal ranges. Why:
//   1. Our netisr CPU is hash % ncpu (the LOW bits). With modulo-N and n
//      sharing a factor with ncpu, the member would be a function of the
//      netisr: with 4 CPUs and 4 members, every packet that netisr 1
//      handles goes to member 1 -- one busy CPU becomes one busy process,
//      and with 2 CPUs and 4 members two members get nothing from a given
//      netisr. DragonFly's commit says the same from its side: "packet
//      hash's bits ... used to dispatch packet to the proper netisr are
//      ignored, since they may introduce unfairness"; it shifts those low
//      bits out and uses hash-threshold on the rest. Hash-threshold reads
//      the HIGH bits, so no shift is needed here.
//   2. RFC 2992: when a member joins or leaves, modulo-N remaps about
//      (n-1)/n of all flows; hash-threshold remaps fewer (a range boundary
//      moves), so fewer clients change process.
// Leaving: the members after the leaver move down one slot, so the
// others keep their ORDER. What hash-threshold then guarantees (and what
// test_localgroup_leave_moves_few_flows checks): the range of member i
// of n becomes its range among n-1, which overlaps the old one, so a flow
// of a remaining member either stays or moves to the member next to it,
// and at least (n/2)/(n-1) of the remaining members' flows stay (2/3 of
// them for n = 4; 8/9 when a middle one leaves). Modulo-N keeps only about
// 1/(n-1) of them, and so does "move the last member into the leaver's
// slot" (an O(1) removal that breaks the order: the moved member's range
// jumps across the hash space). O(n) here, n <= 256, under ipi_lock, on
// close only.
//
// Which group: the exact-address group (laddr == packet's destination)
// beats the wildcard group (laddr 0), as an exact bind beats a wildcard
// bind in the plain lookup. Connected pcbs are never in a group.
//
// TCP (listeners): a socket joins at listen(2), not at bind -- only a
// listener can take a SYN -- and leaves FIRST when it closes, before its
// accept queue is torn down, so from then on every SYN of the port picks
// a sibling. What was already queued on the closing listener (handshake
// done or running, not accepted) is reset: each peer gets a RST, so its
// client sees ECONNRESET instead of a connection nobody will ever read.
// Why reset and not hand the queue to a sibling: a child in the middle of
// its handshake finds its listener through so_head from another netisr
// (soqcomplete); moving it between two listeners' queues opens a window
// where it belongs to neither and is silently lost -- exactly what must
// not happen. A RST is what the client can act on (it reconnects, and the
// hash then picks a live member). Linux does the same by default.
// A SYN that picked the closing listener just before it left: sonewconn
// sees SS_ACCEPTCONN cleared and drops the SYN; the client retransmits it
// and the lookup then picks a sibling. Nothing is lost silently.
//
// Switches: net.inet.udp.reuseport_ext and net.inet.tcp.reuseport_ext,
// default 1. With 0, in_pcblookup skips the
// groups and the naive rule applies: the most recently bound socket gets
// everything (in_pcb.c). Groups are still maintained, so the switch may
// flip at any time.
//
// Invariants:
//   I1 0 < il_count <= INP_LOCALGROUP_MAX; il_members[0..count) are
//      distinct bound, unconnected pcbs with (il_laddr, il_lport) and
//      SO_REUSEPORT, each with INP_INGROUP. An empty group is freed.
//   I2 Everything here runs under ipi_lock (join on bind/listen, leave
//      on connect/close, lookup in input), so a member picked is live
//      until the caller drops ipi_lock.
//
// Locking: ipi_lock (see net/in_pcb.c). No lock of its own.
//
// Races:
//   - "member closes while datagrams arrive": leave happens under
//     ipi_lock before the pcb is freed (in_pcbdetach); input that picked
//     it holds ipi_lock until its datagram is queued. What was queued on
//     the closed socket is freed with it; later datagrams of its flows go
//     to the remaining members. Nothing else is lost, nothing panics.
//   - "bind races with input": a datagram sees the group before or after
//     the join, never half of it (ipi_lock).
//
// Life of a packet: udp_input -> in_pcblookup (no connected match) ->
// in_localgroup_lookup -> in_localgroup_pick(hash, n) -> member's PCQ.
// A SYN: tcp_input_demux (hash = netisr_hash_ipv4 of the 4-tuple, host
// order, the value that picked this netisr) -> in_pcblookup -> the same
// pick -> tcp_input_listener on the member -> its accept queue.
//
// Testing: make hosttest (test_localgroup_*: fairness within bounds,
// stability of a 4-tuple, exact beats wildcard, leave keeps the rest,
// a leave moves few flows and only to a neighbour;
// tcp_reuseport_*: listeners share SYNs, switch off = one listener,
// closing a member resets its queue and the rest keep theirs);
// reuseport -T and nettests tcpreuseport; test_tcp.py's reuseport test;
// user program reuseport (-n 4) and nettests udpreuseport; the Linux-peer
// rig sends from 1000 source ports. gdb: break in_localgroup_pick.
//
// References: DragonFly BSD commit 740d1d9f "socket: Extend SO_REUSEPORT to
// distribute workload to available sockets" (Sepherosa Ziehau, 2013); RFC 2992
// (hash-threshold vs modulo-N); https://lwn.net/Articles/542629/.
#include "net/in_pcb.h"
#include "net/socket.h"

#define INP_LOCALGROUP_MAX 256

struct inp_localgroup {
	struct inp_localgroup *il_next;   // [t] chain of ipi_grouphash
	uint32 il_laddr;                  // [i]
	uint16 il_lport;                  // [i]
	int il_count;                     // [t]
	struct inpcb *il_members[INP_LOCALGROUP_MAX];   // [t]
};

// [a] TCP passes it to in_pcbinfo_init for its table (net/tcp_usrreq.c),
// as UDP passes udp_reuseport_ext: in_pcblookup reads it for each SYN.
int tcp_reuseport_ext = 1;
NET_SYSCTL_INT_RANGE(tcp_reuseport_ext, "net.inet.tcp.reuseport_ext", SYSCTL_RW,
		     &tcp_reuseport_ext, 0, 1, "1: spread connections over a reuseport group");

uint32 in_localgroup_pick(uint32 hash, uint32 n)
{
	/* LAB reuseport BEGIN: exercise 1, pick a member */
	return (uint32)(((uint64)hash * n) >> 32);   // hash-threshold
	/* LAB reuseport STUB
	(void)hash;
	return n - 1;   // the last one bound, as without the groups
	   LAB reuseport END */
}

static struct inp_localgroup **il_head(struct inpcbinfo *info, uint16 lport)
{
	return &info->ipi_grouphash[lport & (INP_HASHSIZE - 1)];
}

static struct inp_localgroup *il_find(struct inpcbinfo *info, uint32 laddr, uint16 lport)
{
	for (struct inp_localgroup *g = *il_head(info, lport); g; g = g->il_next)
		if (g->il_laddr == laddr && g->il_lport == lport)
			return g;
	return NULL;
}

int in_localgroup_join(struct inpcbinfo *info, struct inpcb *inp)
{
	KASSERT(net_lock_held(&info->ipi_lock));
	KASSERT(!(inp->inp_flags & INP_INGROUP));
	struct inp_localgroup *g = il_find(info, inp->inp_laddr, inp->inp_lport);
	if (g == NULL) {
		if ((g = net_malloc(sizeof(*g))) == NULL)
			return -ENOBUFS;
		memset(g, 0, sizeof(*g));
		g->il_laddr = inp->inp_laddr;
		g->il_lport = inp->inp_lport;
		g->il_next = *il_head(info, inp->inp_lport);
		*il_head(info, inp->inp_lport) = g;
	}
	if (g->il_count == INP_LOCALGROUP_MAX)
		return -ENOSPC;   // a full group cannot be empty: nothing to free
	g->il_members[g->il_count++] = inp;
	inp->inp_flags |= INP_INGROUP;
	return 0;
}

void in_localgroup_leave(struct inpcbinfo *info, struct inpcb *inp)
{
	KASSERT(net_lock_held(&info->ipi_lock));
	struct inp_localgroup *g = il_find(info, inp->inp_laddr, inp->inp_lport), **pp;
	KASSERT(g != NULL);
	for (int i = 0; i < g->il_count; i++) {
		if (g->il_members[i] != inp)
			continue;
		/* LAB reuseport BEGIN: exercise 2, leave without moving flows */
		// Keep the others in order (see "Leaving" above): each keeps
		// most of its range of the hash space.
		memmove(&g->il_members[i], &g->il_members[i + 1],
			(size_t)(g->il_count - i - 1) * sizeof(g->il_members[0]));
		g->il_count--;
		/* LAB reuseport STUB
		g->il_members[i] = g->il_members[--g->il_count];   // the last moves in
		   LAB reuseport END */
		break;
	}
	inp->inp_flags &= ~INP_INGROUP;
	if (g->il_count > 0)
		return;
	for (pp = il_head(info, g->il_lport); *pp != g; pp = &(*pp)->il_next)
		;
	*pp = g->il_next;   // I1: no empty group
	net_free(g);
}

int in_pcblistengroup(struct inpcb *inp)
{
	struct inpcbinfo *info = inp->inp_info;
	int err = 0;
	net_lock_acquire(&info->ipi_lock);
	uint32 opts = __atomic_load_n(&inp->inp_socket->so_options, __ATOMIC_RELAXED);
	if ((opts & SO_OPT_REUSEPORT) && !(inp->inp_flags & INP_INGROUP) &&
	    inp->inp_lport != 0 && inp->inp_faddr == INADDR_ANY)
		err = in_localgroup_join(info, inp);
	net_lock_release(&info->ipi_lock);
	return err;
}

void in_pcbleavegroup(struct inpcb *inp)
{
	struct inpcbinfo *info = inp->inp_info;
	net_lock_acquire(&info->ipi_lock);
	if (inp->inp_flags & INP_INGROUP)
		in_localgroup_leave(info, inp);
	net_lock_release(&info->ipi_lock);
}

struct inpcb *in_localgroup_lookup(struct inpcbinfo *info, uint32 laddr,
				   uint16 lport, uint32 hash)
{
	KASSERT(net_lock_held(&info->ipi_lock));
	struct inp_localgroup *g = il_find(info, laddr, lport);
	if (g == NULL)
		g = il_find(info, INADDR_ANY, lport);   // exact beats wildcard
	if (g == NULL)
		return NULL;
	return g->il_members[in_localgroup_pick(hash, g->il_count)];
}

int in_localgroup_count(struct inpcbinfo *info, uint32 laddr, uint16 lport)
{
	KASSERT(net_lock_held(&info->ipi_lock));
	struct inp_localgroup *g = il_find(info, laddr, lport);
	return g ? g->il_count : 0;
}
