// Internet protocol control blocks (pcbs): the per-socket addresses of
// UDP (and, next, TCP), the tables that find a socket for an arriving
// packet, port allocation and the bind rules. Design essay: the header of
// net/in_pcb.c; reuseport groups: net/in_localgroup.h.
//
// Addresses and ports in a pcb are in HOST order (packets and sockaddrs
// are in network order: convert at the edge).
//
// Lock legend (kernel/lock.h): [i] set before the pcb is published,
// read-only after; [t] written under ipi_lock by the pcb's owning netisr,
// read under ipi_lock by any netisr (the owner may read without it);
// [a] atomic.
// Lock order (kernel/lock.h): ipi_lock -> so_rcv.sb_lock -> poll_lock ->
// p->lock.
#pragma once
#include "net/shim.h"

struct socket;
struct pcq;
struct inp_localgroup;

#define INP_HASHSIZE 64              // buckets per table (power of two)
#define INP_EPHEMERAL_FIRST 49152    // RFC 6335 6: dynamic ports
#define INP_EPHEMERAL_LAST 65535

// inp_flags
#define INP_INPORT  0x01   // on the port table (lport != 0)
#define INP_INCONN  0x02   // on the connected table (faddr != 0)
#define INP_INGROUP 0x04   // member of a reuseport group

struct inpcb {
	struct inpcb *inp_next;       // [t] every pcb of the table
	struct inpcb *inp_portnext;   // [t] chain of ipi_porthash
	struct inpcb *inp_connnext;   // [t] chain of ipi_connhash
	struct inpcbinfo *inp_info;   // [i]
	struct socket *inp_socket;    // [i]
	// The four addresses: [t], and bind/connect store them atomically for
	// a UDP send on another netisr, which reads them without the lock
	// (atomic loads: net/so_sendcpu.c I3).
	uint32 inp_laddr;             // [t] 0 = any
	uint32 inp_faddr;             // [t] 0 = not connected
	uint16 inp_lport;             // [t] 0 = not bound
	uint16 inp_fport;             // [t]
	uint32 inp_flags;             // [t] INP_*
	struct pcq *inp_pcq;          // [i] UDP: the socket's input PCQ
	void *inp_ppcb;               // [i] TCP: the tcpcb (net/tcp_var.h)
};

struct inpcbinfo {
	struct net_lock ipi_lock;     // the table lock (see in_pcb.c Locking)
	const char *ipi_name;         // [i] "udp"
	struct inpcb *ipi_all;        // [t] every pcb (netstat, broadcast)
	struct inpcb *ipi_porthash[INP_HASHSIZE];   // [t] bound pcbs by lport
	struct inpcb *ipi_connhash[INP_HASHSIZE];   // [t] connected, 4-tuple
	struct inp_localgroup *ipi_grouphash[INP_HASHSIZE]; // [t] by lport
	uint32 ipi_lastport;          // [t] ephemeral allocation hint
	int ipi_count;                // [t] pcbs in the table
	int *ipi_reuseport_ext;       // [i] switch (sysctl *.reuseport_ext)
};

// Boot: an empty table. reuseport_ext: the protocol's switch.
void in_pcbinfo_init(struct inpcbinfo *info, const char *name, int *reuseport_ext);

// A new, unbound pcb for so, on the table. 0 and *inpp, or -ENOBUFS.
// The owning netisr (PRU_ATTACH). Does not sleep.
int in_pcballoc(struct socket *so, struct inpcbinfo *info, struct inpcb **inpp);
// Take inp off every table (and its group) and free it. After this
// returns no lookup can find it (they run under ipi_lock). Owning netisr.
void in_pcbdetach(struct inpcb *inp);

// bind(2): laddr (0 = any) and lport (0 = an ephemeral port). 0, or
// -EINVAL (already bound), -EADDRNOTAVAIL (not our address; no free
// ephemeral port), -EADDRINUSE (the bind rules of in_pcb.c). Joins the
// reuseport group when group is true and the socket has SO_REUSEPORT
// (UDP: on bind; TCP: on listen). Owning netisr.
int in_pcbbind(struct inpcb *inp, uint32 laddr, uint16 lport, bool group);
// connect(2) for UDP: bind an ephemeral port if unbound, fix the local
// address (route's source) and the peer; leave the reuseport group.
// 0, -EADDRNOTAVAIL (port 0, address 0), -ENETUNREACH, -EADDRINUSE (the
// 4-tuple exists). Owning netisr.
int in_pcbconnect(struct inpcb *inp, uint32 faddr, uint16 fport);

// TCP passive open: give the new pcb inp the 4-tuple of an arriving SYN
// (laddr, lport local) and put it on the port and connected tables in
// one ipi_lock section. 0, or -EADDRINUSE if the 4-tuple exists (I3).
// The new connection's owning netisr.
int in_pcbinstall(struct inpcb *inp, uint32 laddr, uint16 lport, uint32 faddr,
		  uint16 fport);

// The pcb for a packet from (faddr, fport) to (laddr, lport) with flow
// hash hash: the connected pcb of the 4-tuple; else (reuseport_ext on)
// a member of the exact-address group, then of the wildcard group, picked
// by hash; else the bound unconnected pcb with laddr == laddr, then with
// laddr 0 (among equals, the most recently bound: the "naive" answer).
// NULL if none. Caller holds ipi_lock (any netisr).
struct inpcb *in_pcblookup(struct inpcbinfo *info, uint32 faddr, uint16 fport,
			   uint32 laddr, uint16 lport, uint32 hash);
// in_pcblookup's answer when no connected pcb has the 4-tuple (TCP:
// the listener a SYN reaches once a TIME_WAIT connection is out of the
// way). Caller holds ipi_lock.
struct inpcb *in_pcblookup_unconnected(struct inpcbinfo *info, uint32 laddr, uint16 lport,
				       uint32 hash);
// The chain of bound pcbs that may have lport (walk inp_portnext, test
// inp_lport). Caller holds ipi_lock.
struct inpcb *in_pcbportchain(struct inpcbinfo *info, uint16 lport);

// The source address a datagram to dst leaves with (host order), or 0 if
// there is no route.
uint32 in_pcbsrcaddr(uint32 dst);

// ---- reuseport groups (net/in_localgroup.c) -----------------------------
// Join inp's (laddr, lport) group / leave it. -ENOSPC when the group is
// full (256), -ENOBUFS. Caller holds ipi_lock.
int in_localgroup_join(struct inpcbinfo *info, struct inpcb *inp);
void in_localgroup_leave(struct inpcbinfo *info, struct inpcb *inp);
// The member of the (laddr, lport) group, else of the (0, lport) group,
// that hash picks; NULL if neither group exists. Caller holds ipi_lock.
struct inpcb *in_localgroup_lookup(struct inpcbinfo *info, uint32 laddr,
				   uint16 lport, uint32 hash);
// Which of n members hash picks (hash-threshold, RFC 2992). Pure.
uint32 in_localgroup_pick(uint32 hash, uint32 n);
// TCP listen(2): join inp's group if its socket has SO_REUSEPORT and it
// is bound and unconnected (no-op otherwise, or if it is in already).
// Takes ipi_lock. 0, -ENOBUFS, -ENOSPC.
int in_pcblistengroup(struct inpcb *inp);
// Leave inp's group if it is in one (a listener about to close). Takes
// ipi_lock.
void in_pcbleavegroup(struct inpcb *inp);
// Members of the group (laddr, lport) exactly; 0 if none. Caller holds
// ipi_lock.
int in_localgroup_count(struct inpcbinfo *info, uint32 laddr, uint16 lport);
