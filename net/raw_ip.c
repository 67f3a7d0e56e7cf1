// Raw IP sockets (SOCK_RAW, IPPROTO_ICMP): what ping and traceroute-like
// tools use to send and receive whole ICMP messages.
//
// Problem: a user program wants to see every ICMP message that arrives
// (echo replies for its ping, unreachables) and to send ICMP messages it
// built itself, without the kernel knowing anything about the program.
//
// Idea (BSD's raw_ip.c, written anew): a list of raw pcbs, one per raw
// socket, each with a protocol, an optional local address (bind) and an
// optional peer (connect). After icmp_input has done its own work, every
// ICMP packet is offered to rip_input, which appends a copy of the whole
// IP packet (header first, fields in network order) to the receive buffer
// of every pcb that matches: protocol equal, local address 0 or the
// packet's destination, peer 0 or the packet's source. Sending: the
// user's bytes are the ICMP message (its checksum is the user's job, as
// in BSD); rip_send puts an IP header in front through ip_output.
//
// Invariants:
//   I1 A pcb is on rip_list iff its socket is attached (between
//      PRU_ATTACH and PRU_DETACH).
//   I2 rip_input never appends to a socket after its PRU_DETACH has
//      returned (both happen under rip_lock).
//   I3 A full receive buffer drops the copy and counts it (per socket
//      sb_drops, and net.inet.raw.fullsock); it never blocks a netisr.
//
// Locking: rip_list [s] rip_lock. A pcb's addresses follow the owner
// rule of inpcbs ([n]): requests run in netisr 0 (rip_attach_cpu), the
// pcb's owner, which writes them under rip_lock and reads them without it
// (rip_sockaddr, rip_peeraddr); sends run on the netisr of their flow
// (rip_send_cpu, net/so_sendcpu.c) and read them with atomic loads
// (rip_send); rip_input, on whichever netisr
// the packet's flow hashes to, reads them under rip_lock. So raw pcbs
// are shared by all netisrs and the lock is needed for the walk (unlike
// TCP's pcbs), and one socket's requests are ordered. Lock order:
// rip_lock -> so_rcv.sb_lock.
//
// Races:
//   - "close during delivery": rip_detach unlinks under rip_lock, which
//     rip_input holds across its whole walk (I2).
//   - "bind/connect during delivery": addresses change under rip_lock.
//
// Life of a packet: e1000 -> netisr N: ip_input -> icmp_input ->
// rip_input -> m_copym -> sbappendaddr -> wakeup ... recvfrom ->
// soreceive. Sending: sendto -> sosend -> PRU_SEND -> the netisr of the
// flow (netisr 0 with net.netisr.send_flow=0): rip_send -> ip_output.
//
// Testing: the guest's ping (user/ping.c) and nettests' raw socket tests;
// sysctl net.inet.raw. gdb: break rip_input, rip_send.
//
// References: RFC 792; McKusick et al., FreeBSD design, ch. 12 (raw
// sockets); Stevens, UNIX Network Programming vol. 1, ch. 28.
#include "net/socket.h"
#include "net/ip.h"
#include "net/if.h"
#include "net/byteorder.h"

// Tags: [s] rip_lock; [i] set at attach; [n] written by the owning
// netisr (0) under rip_lock with atomic stores, read by it without the
// lock, by rip_send and rip_send_cpu (another netisr, the sender's
// thread) with atomic loads, by rip_input only under rip_lock.
struct rawcb {
	struct rawcb *rcb_next;     // [s] rip_lock
	struct socket *rcb_so;      // [i]
	uint8 rcb_proto;            // [i]
	uint32 rcb_laddr;           // [n] host order; 0 = any
	uint32 rcb_faddr;           // [n] host order; 0 = not connected
};

struct ripstat {
	uint64 rips_delivered;      // [a] copies appended to a socket
	uint64 rips_fullsock;       // [a] copies dropped: buffer full / no mbuf
	uint64 rips_sent;           // [a] messages sent
	uint64 rips_senderr;        // [a] messages not sent (route, size, memory)
};
static struct ripstat ripstat;
static struct net_lock rip_lock;
static struct rawcb *rip_list;      // [s] rip_lock; read without it as a hint
static int rip_inited;              // [a]

NET_SYSCTL_UINT64(rip_delivered, "net.inet.raw.delivered", SYSCTL_RD,
		  &ripstat.rips_delivered, "packets delivered to raw sockets");
NET_SYSCTL_UINT64(rip_fullsock, "net.inet.raw.fullsock", SYSCTL_RD,
		  &ripstat.rips_fullsock, "not delivered: socket buffer full");
NET_SYSCTL_UINT64(rip_sent, "net.inet.raw.sent", SYSCTL_RD,
		  &ripstat.rips_sent, "messages sent");
NET_SYSCTL_UINT64(rip_senderr, "net.inet.raw.senderr", SYSCTL_RD,
		  &ripstat.rips_senderr, "messages not sent");

#define RIPSTAT(f) __atomic_add_fetch(&ripstat.f, 1, __ATOMIC_RELAXED)

int rip_init(void)
{
	net_lock_init(&rip_lock, "rip");
	__atomic_store_n(&rip_inited, 1, __ATOMIC_RELEASE);
	return 0;
}

// Requests of every raw socket run in netisr 0.
int rip_attach_cpu(struct socket *so)
{
	(void)so;
	return 0;
}

// pr_send_cpu (net/so_sendcpu.c): a send runs on the netisr of its flow
// (addresses and protocol: no ports), where icmp_input answers it and
// rip_input hands the answer to this socket. Sender's thread.
int rip_send_cpu(struct socket *so, const struct sockaddr_in *to)
{
	struct rawcb *rcb = so->so_pcb;   // the caller holds the socket's file
	if (rcb == NULL)
		return -1;
	uint32 dst = to ? ntoh32(to->sin_addr.s_addr)
			: __atomic_load_n(&rcb->rcb_faddr, __ATOMIC_RELAXED);
	if (dst == INADDR_ANY)
		return -1;   // rip_send answers EDESTADDRREQ
	return so_flow_cpu(__atomic_load_n(&rcb->rcb_laddr, __ATOMIC_RELAXED), dst,
			   rcb->rcb_proto, 0, 0);
}

static bool rip_match(struct rawcb *rcb, uint8 proto, uint32 src, uint32 dst)
{
	return rcb->rcb_proto == proto &&
	       (rcb->rcb_laddr == INADDR_ANY || rcb->rcb_laddr == dst) &&
	       (rcb->rcb_faddr == INADDR_ANY || rcb->rcb_faddr == src);
}

void rip_input(struct mbuf *m, int hlen)
{
	struct ip copy;
	const struct ip *ip = &copy;
	(void)hlen;
	// Cheap test first: most packets arrive when no raw socket exists.
	if (!__atomic_load_n(&rip_inited, __ATOMIC_ACQUIRE) ||
	    __atomic_load_n(&rip_list, __ATOMIC_RELAXED) == NULL)
		return;
	// In place when ip_input's pullup left the header in the first mbuf
	// (always, today); m is borrowed, not changed, below.
	if (m->m_len >= (int)sizeof(copy))
		ip = mtod(m, const struct ip *);
	else if (m_copydata(m, 0, sizeof(copy), &copy) < 0)
		return;
	uint32 src = ntoh32(ip->ip_src), dst = ntoh32(ip->ip_dst);
	uint8 proto = ip->ip_p;
	struct sockaddr_in from = { .sin_family = AF_INET, .sin_addr.s_addr = ip->ip_src };

	net_lock_acquire(&rip_lock);
	for (struct rawcb *rcb = rip_list; rcb != NULL; rcb = rcb->rcb_next) {
		if (!rip_match(rcb, proto, src, dst))
			continue;
		struct sockbuf *sb = &rcb->rcb_so->so_rcv;
		struct mbuf *n = m_copym(m, 0, M_COPYALL);   // shares clusters
		net_lock_acquire(&sb->sb_lock);
		int err = n ? sbappendaddr(sb, &from, n) : -ENOBUFS;
		net_lock_release(&sb->sb_lock);
		if (err < 0) {
			m_freem(n);   // I3
			RIPSTAT(rips_fullsock);
		} else {
			RIPSTAT(rips_delivered);
			__atomic_store_n(&rcb->rcb_so->so_rcvcpu, net_cpuid(), __ATOMIC_RELAXED);
		}
	}
	net_lock_release(&rip_lock);
}

// ---- requests (netisr 0) -----------------------------------------------------

static int rip_attach(struct socket *so, int proto)
{
	if (proto <= 0 || proto > 255)
		return -EPROTONOSUPPORT;
	struct rawcb *rcb = net_malloc(sizeof(*rcb));
	if (rcb == NULL)
		return -ENOBUFS;
	memset(rcb, 0, sizeof(*rcb));
	rcb->rcb_so = so;
	rcb->rcb_proto = proto;
	so->so_pcb = rcb;
	soref(so);   // the pcb's reference (socket.c I3)
	net_lock_acquire(&rip_lock);
	rcb->rcb_next = rip_list;
	__atomic_store_n(&rip_list, rcb, __ATOMIC_RELEASE);
	net_lock_release(&rip_lock);
	return 0;
}

static int rip_detach(struct socket *so)
{
	struct rawcb *rcb = so->so_pcb, **pp;
	if (rcb == NULL)
		return 0;
	net_lock_acquire(&rip_lock);
	for (pp = &rip_list; *pp != NULL; pp = &(*pp)->rcb_next) {
		if (*pp == rcb) {
			*pp = rcb->rcb_next;   // I1, I2
			break;
		}
	}
	net_lock_release(&rip_lock);
	so->so_pcb = NULL;
	net_free(rcb);
	sorele(so);   // the pcb's reference; the file still holds one
	return 0;
}

static int rip_bind(struct socket *so, const struct sockaddr_in *sin)
{
	struct rawcb *rcb = so->so_pcb;
	uint32 a = ntoh32(sin->sin_addr.s_addr);
	if (a != INADDR_ANY && !if_islocal(a))
		return -EADDRNOTAVAIL;
	net_lock_acquire(&rip_lock);
	__atomic_store_n(&rcb->rcb_laddr, a, __ATOMIC_RELAXED);   // rip_send_cpu reads it
	net_lock_release(&rip_lock);
	return 0;
}

static int rip_connect(struct socket *so, const struct sockaddr_in *sin)
{
	struct rawcb *rcb = so->so_pcb;
	uint32 a = ntoh32(sin->sin_addr.s_addr);
	if (a == INADDR_ANY)
		return -EADDRNOTAVAIL;
	net_lock_acquire(&rip_lock);
	__atomic_store_n(&rcb->rcb_faddr, a, __ATOMIC_RELAXED);   // rip_send_cpu reads it
	net_lock_release(&rip_lock);
	soisconnected(so);
	return 0;
}

static int rip_shutdown(struct socket *so)
{
	(void)so;
	return 0;   // nothing to tell a peer
}

static int rip_send(struct socket *so, struct mbuf *m, const struct sockaddr_in *to)
{
	struct rawcb *rcb = so->so_pcb;
	// Atomic: this may be the flow's netisr, not 0 (so_sendcpu.c I3).
	uint32 faddr = __atomic_load_n(&rcb->rcb_faddr, __ATOMIC_RELAXED);
	uint32 laddr = __atomic_load_n(&rcb->rcb_laddr, __ATOMIC_RELAXED);
	uint32 dst;
	int err;

	if (to != NULL && faddr != INADDR_ANY) {
		err = -EISCONN;
		goto drop;
	}
	if (to == NULL && faddr == INADDR_ANY) {
		err = -EDESTADDRREQ;
		goto drop;
	}
	dst = to ? ntoh32(to->sin_addr.s_addr) : faddr;
	if (if_isbroadcast(dst) &&
	    !(__atomic_load_n(&so->so_options, __ATOMIC_RELAXED) & SO_OPT_BROADCAST)) {
		err = -EACCES;   // BSD/Linux: broadcast needs SO_BROADCAST
		goto drop;
	}
	if (m->m_pkthdr.ph_len > IP_MAXPACKET - IP_HDR_LEN) {
		err = -EMSGSIZE;
		goto drop;
	}
	err = ip_output(m, laddr, dst, rcb->rcb_proto, 0, 0);   // consumes m
	if (err < 0)
		RIPSTAT(rips_senderr);
	else
		RIPSTAT(rips_sent);
	return err;
drop:
	RIPSTAT(rips_senderr);
	m_freem(m);
	return err;
}

static int rip_sockaddr(struct socket *so, struct sockaddr_in *sin)
{
	struct rawcb *rcb = so->so_pcb;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = hton32(rcb->rcb_laddr);
	return 0;
}

static int rip_peeraddr(struct socket *so, struct sockaddr_in *sin)
{
	struct rawcb *rcb = so->so_pcb;
	if (rcb->rcb_faddr == INADDR_ANY)
		return -ENOTCONN;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = hton32(rcb->rcb_faddr);
	return 0;
}

static int rip_ctloutput(struct socket *so, struct sockopt *sopt)
{
	(void)so;
	(void)sopt;
	return -ENOPROTOOPT;   // no IP-level options yet (IP_HDRINCL, IP_TTL)
}

const struct pr_usrreqs rip_usrreqs = {
	.pru_attach = rip_attach,
	.pru_detach = rip_detach,
	.pru_bind = rip_bind,
	.pru_connect = rip_connect,
	.pru_shutdown = rip_shutdown,
	.pru_send = rip_send,
	.pru_sockaddr = rip_sockaddr,
	.pru_peeraddr = rip_peeraddr,
	.pru_ctloutput = rip_ctloutput,
};
