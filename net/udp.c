// UDP (RFC 768): datagram sockets, with NetBSD's fast demux into a PCQ and
// DragonFly's SO_REUSEPORT groups.
//
// Problem: datagrams for one port arrive on every netisr (the flow hash
// spreads them), possibly many per millisecond, while the socket's reader
// copies data out under the socket-buffer lock. Input must find the right
// socket (connected 4-tuple, reuseport group member, bound wildcard),
// validate what a hostile sender may forge (lengths, checksum), answer
// "port unreachable" when nobody listens, and never wait for a reader.
//
// Idea:
//   Input: validate (length: RFC 768 and RFC 1122 4.1.3.4; checksum over
//   the pseudo-header, 0 = none: RFC 768, RFC 1122 4.1.3.4), then under
//   the pcb table lock look the pcb up (net/in_pcb.c, groups in
//   net/in_localgroup.c) and pin its socket's receive side (I3), leave
//   the table lock, and -- the fast demux -- put the
//   datagram, as a ready record (sender address mbuf + data), on the
//   socket's lock-free PCQ (net/pcq.c) without taking the socket-buffer
//   lock, then wake the reader only if one sleeps (sbpcqwakeup). What
//   sits on the PCQ is charged to the socket's receive limit first
//   (sbpcqcharge: data bytes against SO_RCVBUF, storage against sb_mbmax,
//   together with what so_rcv holds), so a sender cannot pin more memory
//   through the PCQ than through the socket buffer: over the limit the
//   datagram is dropped and counted (fullsock); a full PCQ too
//   (pcqfull). The reader moves records from the PCQ into so_rcv under
//   so_rcv.sb_lock, which makes it the PCQ's single consumer (net/sockbuf.c sbpcqdrain, called by
//   soreceive and poll). Switch net.inet.udp.fast_demux = 0: the naive
//   path, sbappendaddr under sb_lock, as raw sockets do.
//   Broadcast (255.255.255.255, a subnet broadcast, a link broadcast): a
//   copy to every matching socket, never an ICMP error (RFC 1122 4.1.3.6).
//   Output: header, checksum with the pseudo-header (0 sent as 0xffff),
//   ip_output (which fragments).
//
// Which netisr owns a UDP pcb: its requests (bind, connect, send, close)
// run on a netisr picked round-robin at socket() (udp_attach_cpu) to
// spread senders; connect moves it to the netisr of its flow's hash. A
// sendto of a bound socket runs on the netisr of the datagram's flow
// instead (udp_send_cpu, net/so_sendcpu.c), where its answer arrives. But
// input for an unconnected socket arrives on EVERY netisr, so a UDP pcb
// is not owned in TCP's sense: fields a lookup reads are written under
// the table lock (in_pcb.h [t]), and the PCQ is multi-producer.
//
// Invariants:
//   I1 A datagram is delivered to at most one socket (unicast), or one
//      copy to each matching socket (broadcast).
//   I2 Every datagram that arrives is counted exactly once: delivered
//      (ipackets - drops) or in one of hdrops, badlen, badsum, noport,
//      noportbcast, fullsock, pcqfull, nombuf.
//   I3 Producers touch a socket only while holding the table lock or
//      while so_rcv is pinned (sbpin, taken under the table lock right
//      after the lookup, dropped after the delivery); udp_detach unlinks
//      the pcb under the table lock, then waits until nothing is pinned
//      (sbwaitunpinned), then frees the PCQ: no put can hit a freed queue.
//
// Locking: udbinfo.ipi_lock (the table lock) -> so_rcv.sb_lock. Requests
// take the table lock inside in_pcb.c; udp_send takes none (it reads the
// pcb's addresses, which only its own netisr writes).
//
// Races:
//   - "close while datagrams arrive": I3; what was queued on the closed
//     socket (PCQ + so_rcv) is freed; other group members keep theirs.
//     A netisr that found the pcb just before the unlink still delivers
//     (it pinned so_rcv); detach waits for it, the datagram is freed
//     with the rest.
//   - "reader sleeps while a producer publishes": sbwait / sbpcqwakeup
//     (net/sockbuf.c) pair their full fences; one sees the other.
//   - "switch flipped with data in the PCQ": records already in the PCQ
//     are drained later than newer ones appended directly; UDP does not
//     promise order, and nothing is lost.
//
// Life of a packet: e1000 -> netisr N: ether_input -> ip_input ->
// udp_input -> ipi_lock -> in_pcblookup -> sbpin -> (table lock released)
// sbmkrecord -> pcq_put -> sbpcqwakeup -> sbunpin ... user: recvfrom -> soreceive -> sbpcqdrain -> copyout.
// Sending: sendto -> sosend -> PRU_SEND -> netisr of the flow (so_cpu
// when connected or not yet bound): udp_send -> udp_output -> ip_output
// -> if_output.
//
// Testing: make hosttest (test_udp.c: valid and malformed datagrams, no
// port -> ICMP); nettests udp*; programs udpecho, nc -u, reuseport;
// sysctl net.inet.udp. gdb: break udp_input, udp_deliver, udp_output.
//
// References: RFC 768; RFC 1122 4.1; NetBSD project proposal
// "Fast protocol and port demultiplexing" (2011); DragonFly commit
// 740d1d9f (SO_REUSEPORT groups, 2013); McKusick et al., FreeBSD design, 13.4.
#include "net/socket.h"
#include "net/in_pcb.h"
#include "net/pcq.h"
#include "net/ip.h"
#include "net/icmp.h"
#include "net/if.h"
#include "net/netisr.h"
#include "net/byteorder.h"

#define UDP_HDR_LEN 8
#define UDP_MAXDATA (IP_MAXPACKET - IP_HDR_LEN - UDP_HDR_LEN)

struct udphdr {
	uint16 uh_sport;   // network order
	uint16 uh_dport;
	uint16 uh_ulen;    // header + data
	uint16 uh_sum;     // 0: not computed
} __attribute__((packed));

struct udpstat {
	uint64 udps_ipackets;     // [a] datagrams received
	uint64 udps_hdrops;       // [a] shorter than a UDP header
	uint64 udps_badlen;       // [a] length field bad
	uint64 udps_badsum;       // [a] checksum wrong
	uint64 udps_noport;       // [a] no socket (ICMP port unreachable)
	uint64 udps_noportbcast;  // [a] broadcast, no socket
	uint64 udps_fullsock;     // [a] socket receive limit reached (both paths)
	uint64 udps_pcqfull;      // [a] fast path: PCQ full
	uint64 udps_nombuf;       // [a] no mbuf for the record
	uint64 udps_delivered;    // [a] copies queued on a socket
	uint64 udps_fastpath;     // [a] of which through a PCQ
	uint64 udps_opackets;     // [a] datagrams sent
	uint64 udps_oerrors;      // [a] sends that failed
	// Contention (what the fast demux saves; bench/contendbench.py):
	uint64 udps_tablewaits;   // [a] input found the table lock taken
	uint64 udps_tablewait_us; // [a] ... and spun this long
	uint64 udps_sbwaits;      // [a] delivery found so_rcv's lock taken
	uint64 udps_sbwait_us;    // [a] ... and spun this long
	uint64 udps_pcqwakeups;   // [a] fast path: locked so_rcv to wake a reader
};
static struct udpstat udpstat;
#define UDPSTAT(f) __atomic_add_fetch(&udpstat.f, 1, __ATOMIC_RELAXED)
#define UDPSTAT_OID(id, f, d) \
	NET_SYSCTL_UINT64(udp_##id, "net.inet.udp." #id, SYSCTL_RD, &udpstat.f, d)
UDPSTAT_OID(ipackets, udps_ipackets, "datagrams received");
UDPSTAT_OID(hdrops, udps_hdrops, "shorter than a header");
UDPSTAT_OID(badlen, udps_badlen, "bad length field");
UDPSTAT_OID(badsum, udps_badsum, "bad checksum");
UDPSTAT_OID(noport, udps_noport, "no socket: port unreachable sent");
UDPSTAT_OID(noportbcast, udps_noportbcast, "broadcast with no socket");
UDPSTAT_OID(fullsock, udps_fullsock, "dropped: socket receive limit (SO_RCVBUF) reached");
UDPSTAT_OID(pcqfull, udps_pcqfull, "dropped: socket PCQ full");
UDPSTAT_OID(nombuf, udps_nombuf, "dropped: no mbuf");
UDPSTAT_OID(delivered, udps_delivered, "queued on a socket");
UDPSTAT_OID(fastpath, udps_fastpath, "queued through a PCQ");
UDPSTAT_OID(opackets, udps_opackets, "datagrams sent");
UDPSTAT_OID(oerrors, udps_oerrors, "sends that failed");
UDPSTAT_OID(tablewaits, udps_tablewaits, "input found the pcb table lock taken");
UDPSTAT_OID(tablewait_us, udps_tablewait_us, "microseconds input spun on the table lock");
UDPSTAT_OID(sbwaits, udps_sbwaits, "deliveries that found so_rcv's lock taken");
UDPSTAT_OID(sbwait_us, udps_sbwait_us, "microseconds deliveries spun on so_rcv's lock");
UDPSTAT_OID(pcqwakeups, udps_pcqwakeups, "fast path: so_rcv locked to wake a sleeping reader");

static int udp_fast_demux = 1;     // [a]
static int udp_reuseport_ext = 1;  // [a]
static int udp_pcq_maxlen = 256;   // [a] PCQ size of new sockets
static int udp_do_cksum = 1;       // [a] compute checksums on output
NET_SYSCTL_INT_RANGE(udp_fast_demux, "net.inet.udp.fast_demux", SYSCTL_RW, &udp_fast_demux,
		     0, 1, "1: input through the socket's lock-free PCQ; 0: locked sockbuf");
NET_SYSCTL_INT_RANGE(udp_reuseport_ext, "net.inet.udp.reuseport_ext", SYSCTL_RW,
		     &udp_reuseport_ext, 0, 1, "1: spread datagrams over a reuseport group");
NET_SYSCTL_INT_RANGE(udp_pcq_maxlen, "net.inet.udp.pcq_maxlen", SYSCTL_RW, &udp_pcq_maxlen,
		     1, PCQ_MAXITEMS, "datagrams a new socket's PCQ holds");
NET_SYSCTL_INT_RANGE(udp_do_cksum, "net.inet.udp.checksum", SYSCTL_RW, &udp_do_cksum,
		     0, 1, "1: send checksums (0: send 0, RFC 768 'no checksum')");

static struct inpcbinfo udbinfo;
static int udp_next_cpu;   // [a] round-robin for udp_attach_cpu

int udp_init(void)
{
	in_pcbinfo_init(&udbinfo, "udp", &udp_reuseport_ext);
	return ip_proto_register(IPPROTO_UDP, udp_input);
}

int udp_attach_cpu(struct socket *so)
{
	(void)so;
	return netisr_hashcpu(__atomic_fetch_add(&udp_next_cpu, 1, __ATOMIC_RELAXED));
}

// pr_send_cpu (net/so_sendcpu.c): a sendto runs on the netisr of its
// flow. Not for a connected socket (so_cpu is its flow's already) nor
// before the socket has a port (the implicit bind is the owner's: I1 of
// so_sendcpu.c). Sender's thread; the addresses are read atomically (I3).
int udp_send_cpu(struct socket *so, const struct sockaddr_in *to)
{
	struct inpcb *inp = so->so_pcb;   // the caller holds the socket's file
	if (to == NULL || inp == NULL)
		return -1;
	uint16 lport = __atomic_load_n(&inp->inp_lport, __ATOMIC_ACQUIRE);
	uint32 dst = ntoh32(to->sin_addr.s_addr);
	if (lport == 0 || __atomic_load_n(&inp->inp_faddr, __ATOMIC_RELAXED) != INADDR_ANY)
		return -1;   // no port yet; or connected: udp_send says EISCONN
	if (dst == INADDR_ANY)
		dst = INADDR_LOOPBACK;   // as udp_send
	return so_flow_cpu(__atomic_load_n(&inp->inp_laddr, __ATOMIC_RELAXED), dst,
			   IPPROTO_UDP, lport, ntoh16(to->sin_port));
}

// The checksum of the len UDP bytes at offset off of m with the RFC 768
// pseudo-header (src, dst host order): the value to store, or 0 when
// checking a datagram whose stored checksum is right. Borrows m.
static uint16 udp_cksum(struct mbuf *m, int off, int len, uint32 src, uint32 dst)
{
	struct {
		uint32 ph_src, ph_dst;
		uint8 ph_zero, ph_proto;
		uint16 ph_len;
	} __attribute__((packed)) ph = { hton32(src), hton32(dst), 0, IPPROTO_UDP,
					 hton16((uint16)len) };
	// One's-complement sums add (RFC 1071); 12 bytes keep the alignment.
	uint32 sum = (uint16)~in_cksum_buf(&ph, sizeof(ph)) + (uint16)~in_cksum(m, off, len);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16)~sum;
}

// ---- input ------------------------------------------------------------------

// Count a datagram as delivered through a PCQ (n = 1), or take the count
// back (n = -1: the PCQ was full). Counted *before* pcq_put makes the
// record visible: a reader on another CPU may take it the moment it is
// in, and a program that reads the counters after its recv (nettests
// udpfastdemux) must find it counted, however late this netisr runs on.
static void udp_count_fast(int64 n)
{
	__atomic_add_fetch(&udpstat.udps_delivered, (uint64)n, __ATOMIC_RELAXED);
	__atomic_add_fetch(&udpstat.udps_fastpath, (uint64)n, __ATOMIC_RELAXED);
}

// SO_INCOMING_CPU: this netisr's CPU handles the latest datagram for so.
// A plain store only when it changes, so the line is not dirtied per packet.
static void udp_note_rcvcpu(struct socket *so)
{
	int c = net_cpuid();
	if (__atomic_load_n(&so->so_rcvcpu, __ATOMIC_RELAXED) != c)
		__atomic_store_n(&so->so_rcvcpu, c, __ATOMIC_RELAXED);
}

// Queue datagram m (data only) from from on socket so, whose PCQ is q
// (inp_pcq). Consumes m. Netisr; caller holds ipi_lock or has pinned
// so_rcv (sbpin) while it held it (I3).
static void udp_deliver_so(struct socket *so, struct pcq *q, struct mbuf *m,
			   const struct sockaddr_in *from)
{
	struct sockbuf *sb = &so->so_rcv;
	if (__atomic_load_n(&udp_fast_demux, __ATOMIC_RELAXED) && q) {
		// Drops are decided before the record's mbuf is allocated:
		// into a full socket, a flood costs no m_get/m_free pair per
		// datagram (and no turn at the allocator's lock).
		if (!sbpcqcharge(sb, m)) {   // over SO_RCVBUF (sockbuf.c I5)
			UDPSTAT(udps_fullsock);
			m_freem(m);
			return;
		}
		struct mbuf *rec = NULL;
		// A racy look at the PCQ first; pcq_put below decides.
		if (pcq_count(q) < pcq_maxitems(q) && (rec = sbmkrecord(from, m)) == NULL) {
			sbpcquncharge(sb, m);
			UDPSTAT(udps_nombuf);
			m_freem(m);
			return;
		}
		udp_note_rcvcpu(so);   // before a reader can see the datagram
		if (rec != NULL)
			udp_count_fast(1);
		if (rec == NULL || !pcq_put(q, rec)) {   // no socket lock taken
			if (rec != NULL)
				udp_count_fast(-1);
			sbpcquncharge(sb, m);
			UDPSTAT(udps_pcqfull);
			m_freem(rec != NULL ? rec : m);
			return;
		}
		// locks sb only if a reader sleeps
		if (sbpcqwakeup(sb, &udpstat.udps_sbwaits, &udpstat.udps_sbwait_us))
			UDPSTAT(udps_pcqwakeups);
		return;
	}
	// Naive: the reader holds sb_lock while it copies out, and every
	// other netisr delivering to this socket while it appends, so this
	// netisr may spin for the length of a copyout (sbwaits, sbwait_us).
	udp_note_rcvcpu(so);
	net_lock_acquire_counted(&sb->sb_lock, &udpstat.udps_sbwaits,
				 &udpstat.udps_sbwait_us);
	int err = sbappendaddr(sb, from, m);
	if (err == 0)
		UDPSTAT(udps_delivered);   // before a reader can take it (udp_pcq_put)
	net_lock_release(&sb->sb_lock);
	if (err < 0) {
		UDPSTAT(udps_fullsock);
		m_freem(m);
	}
}

// udp_deliver_so for inp. Caller holds ipi_lock (I3).
static void udp_deliver(struct inpcb *inp, struct mbuf *m, const struct sockaddr_in *from)
{
	KASSERT(net_lock_held(&udbinfo.ipi_lock));
	udp_deliver_so(inp->inp_socket, inp->inp_pcq, m, from);
}

// Is dst (host order) a broadcast for this packet?
static bool udp_isbroadcast(struct mbuf *m, uint32 dst)
{
	struct ifnet *ifp;
	if (dst == INADDR_BROADCAST || (m->m_pkthdr.ph_flags & PH_BCAST))
		return true;
	for (int i = 0; (ifp = if_get(i)) != NULL; i++) {
		uint32 mask = __atomic_load_n(&ifp->if_netmask, __ATOMIC_RELAXED);
		if (mask != 0 && mask != 0xffffffffu &&
		    dst == __atomic_load_n(&ifp->if_broadaddr, __ATOMIC_RELAXED))
			return true;
	}
	return false;
}

// A copy to every socket bound to dport whose local address is 0 or dst
// and whose peer (if connected) is the sender (RFC 1122 4.1.3.6: never an
// ICMP error for a broadcast). Consumes m (data only). Netisr.
static void udp_input_bcast(struct mbuf *m, const struct sockaddr_in *from,
			    uint32 dst, uint16 dport)
{
	uint32 src = ntoh32(from->sin_addr.s_addr);
	uint16 sport = ntoh16(from->sin_port);
	struct inpcb *last = NULL;
	net_lock_acquire(&udbinfo.ipi_lock);
	for (struct inpcb *inp = in_pcbportchain(&udbinfo, dport); inp; inp = inp->inp_portnext) {
		if (inp->inp_lport != dport ||
		    (inp->inp_laddr != INADDR_ANY && inp->inp_laddr != dst) ||
		    (inp->inp_faddr != INADDR_ANY &&
		     (inp->inp_faddr != src || inp->inp_fport != sport)))
			continue;
		if (last != NULL) {
			struct mbuf *n = m_copym(m, 0, M_COPYALL);
			if (n != NULL)
				udp_deliver(last, n, from);
			else
				UDPSTAT(udps_nombuf);
		}
		last = inp;
	}
	if (last != NULL)
		udp_deliver(last, m, from);
	net_lock_release(&udbinfo.ipi_lock);
	if (last == NULL) {
		UDPSTAT(udps_noportbcast);
		m_freem(m);
	}
}

// Input (ip_protosw[IPPROTO_UDP]): m starts with the IP header (hlen
// bytes), exactly ip_len long. Netisr thread; consumes m.
void udp_input(struct mbuf *m, int hlen)
{
	int iplen = m->m_pkthdr.ph_len;
	UDPSTAT(udps_ipackets);
	if (iplen < hlen + UDP_HDR_LEN) {
		UDPSTAT(udps_hdrops);
		goto drop;
	}
	if ((m = m_pullup(m, hlen + UDP_HDR_LEN)) == NULL) {
		UDPSTAT(udps_hdrops);
		return;
	}
	struct ip *ip = mtod(m, struct ip *);
	struct udphdr *uh = (struct udphdr *)((char *)ip + hlen);
	int ulen = ntoh16(uh->uh_ulen);
	// RFC 768: length counts the header; it may not exceed what IP carried.
	if (ulen < UDP_HDR_LEN || ulen > iplen - hlen) {
		UDPSTAT(udps_badlen);
		goto drop;
	}
	if (ulen < iplen - hlen)
		m_adj(m, ulen - (iplen - hlen));   // IP carried more: trim the tail
	uint32 src = ntoh32(ip->ip_src), dst = ntoh32(ip->ip_dst);
	// RFC 768: "An all zero transmitted checksum value means that the
	// transmitter generated no checksum."
	if (uh->uh_sum != 0 && udp_cksum(m, hlen, ulen, src, dst) != 0) {
		UDPSTAT(udps_badsum);   // RFC 1122 4.1.3.4: silently discard
		goto drop;
	}
	struct sockaddr_in from = { .sin_family = AF_INET, .sin_port = uh->uh_sport,
				    .sin_addr.s_addr = ip->ip_src };
	uint16 sport = ntoh16(uh->uh_sport), dport = ntoh16(uh->uh_dport);
	// The flow hash in host order, as netisr_hash_mbuf computed it for
	// the dispatch (netisr.h): it picks the reuseport member.
	uint32 hash = netisr_hash_ipv4(src, dst, IPPROTO_UDP, sport, dport);
	if (udp_isbroadcast(m, dst)) {
		m_adj(m, hlen + UDP_HDR_LEN);
		udp_input_bcast(m, &from, dst, dport);
		return;
	}
	net_lock_acquire_counted(&udbinfo.ipi_lock, &udpstat.udps_tablewaits,
				 &udpstat.udps_tablewait_us);
	struct inpcb *inp = in_pcblookup(&udbinfo, src, sport, dst, dport, hash);
	if (inp == NULL) {
		net_lock_release(&udbinfo.ipi_lock);
		UDPSTAT(udps_noport);
		// RFC 1122 4.1.3.1: port unreachable (consumes m, rate-limited).
		icmp_error(m, hlen, ICMP_UNREACH, ICMP_UNREACH_PORT);
		return;
	}
	// I3: pin the socket's receive side, then leave the table lock. The
	// delivery (record, PCQ or so_rcv's lock, wake-up) runs without it,
	// so netisrs delivering to one socket do not queue up behind each
	// other on the table lock: what is left between them is what the
	// fast demux is about, so_rcv's lock against the PCQ.
	struct socket *so = inp->inp_socket;
	struct pcq *q = inp->inp_pcq;
	sbpin(&so->so_rcv);
	net_lock_release(&udbinfo.ipi_lock);
	m_adj(m, hlen + UDP_HDR_LEN);
	udp_deliver_so(so, q, m, &from);
	sbunpin(&so->so_rcv);   // so may go away from here on
	return;
drop:
	m_freem(m);
}

// ---- output -----------------------------------------------------------------

// Send data m from inp to (dst, dport), host order. Consumes m. 0 or
// -Exxx. Netisr of the flow, or so_cpu (net/so_sendcpu.c).
static int udp_output(struct inpcb *inp, struct mbuf *m, uint32 dst, uint16 dport)
{
	int len = m->m_pkthdr.ph_len + UDP_HDR_LEN;
	uint32 laddr = __atomic_load_n(&inp->inp_laddr, __ATOMIC_RELAXED);   // so_sendcpu.c I3
	uint32 src = laddr != INADDR_ANY ? laddr : in_pcbsrcaddr(dst);
	if (src == 0) {
		m_freem(m);
		return -ENETUNREACH;
	}
	M_PREPEND(m, UDP_HDR_LEN);
	if (m == NULL)
		return -ENOBUFS;
	struct udphdr *uh = mtod(m, struct udphdr *);
	uh->uh_sport = hton16(__atomic_load_n(&inp->inp_lport, __ATOMIC_RELAXED));
	uh->uh_dport = hton16(dport);
	uh->uh_ulen = hton16((uint16)len);
	uh->uh_sum = 0;
	if (__atomic_load_n(&udp_do_cksum, __ATOMIC_RELAXED)) {
		uint16 sum = udp_cksum(m, 0, len, src, dst);
		uh->uh_sum = sum == 0 ? 0xffff : sum;   // RFC 768: 0 means "none"
	}
	return ip_output(m, src, dst, IPPROTO_UDP, 0, 0);   // fragments if needed
}

static int udp_send(struct socket *so, struct mbuf *m, const struct sockaddr_in *to)
{
	struct inpcb *inp = so->so_pcb;
	// Atomic: this may be a netisr other than the pcb's (so_sendcpu.c I3).
	uint32 dst = __atomic_load_n(&inp->inp_faddr, __ATOMIC_RELAXED);
	uint16 dport = __atomic_load_n(&inp->inp_fport, __ATOMIC_RELAXED);
	int err;

	if (to != NULL && dst != INADDR_ANY) {
		err = -EISCONN;   // BSD: sendto with an address on a connected socket
		goto drop;
	}
	if (to == NULL && dst == INADDR_ANY) {
		err = -EDESTADDRREQ;
		goto drop;
	}
	if (to != NULL) {
		dst = ntoh32(to->sin_addr.s_addr);
		dport = ntoh16(to->sin_port);
		if (dst == INADDR_ANY)
			dst = INADDR_LOOPBACK;   // BSD: "this host"
		if (dport == 0) {
			err = -EADDRNOTAVAIL;   // BSD in_pcbconnect_setup
			goto drop;
		}
	}
	if (if_isbroadcast(dst) &&
	    !(__atomic_load_n(&so->so_options, __ATOMIC_RELAXED) & SO_OPT_BROADCAST)) {
		err = -EACCES;   // BSD, Linux: broadcast needs SO_BROADCAST
		goto drop;
	}
	if (m->m_pkthdr.ph_len > UDP_MAXDATA) {
		err = -EMSGSIZE;
		goto drop;
	}
	if (__atomic_load_n(&inp->inp_lport, __ATOMIC_ACQUIRE) == 0 &&
	    (err = in_pcbbind(inp, INADDR_ANY, 0, false)) < 0)
		goto drop;   // implicit bind: an ephemeral port
	err = udp_output(inp, m, dst, dport);   // consumes m
	if (err < 0)
		UDPSTAT(udps_oerrors);
	else
		UDPSTAT(udps_opackets);
	return err;
drop:
	UDPSTAT(udps_oerrors);
	m_freem(m);
	return err;
}

// ---- requests (netisr so_cpu) ---------------------------------------------------

static int udp_attach(struct socket *so, int proto)
{
	struct inpcb *inp;
	(void)proto;
	int n = __atomic_load_n(&udp_pcq_maxlen, __ATOMIC_RELAXED);
	// No queue (no memory): this socket takes the locked path, as with
	// fast_demux=0 (udp_deliver, sbpcqdrain check inp_pcq / sb_pcq).
	struct pcq *q = pcq_create(n);   // the knob's range is pcq_create's
	int err = in_pcballoc(so, &udbinfo, &inp);
	if (err < 0) {
		pcq_destroy(q);
		return err;
	}
	inp->inp_pcq = q;
	net_lock_acquire(&so->so_rcv.sb_lock);
	so->so_rcv.sb_pcq = q;   // the reader side of the same queue
	net_lock_release(&so->so_rcv.sb_lock);
	so->so_pcb = inp;
	soref(so);   // the pcb's reference (socket.c I3)
	return 0;
}

static int udp_detach(struct socket *so)
{
	struct inpcb *inp = so->so_pcb;
	struct mbuf *recs;
	if (inp == NULL)
		return 0;
	in_pcbdetach(inp);   // I3: no lookup finds the socket after this ...
	so->so_pcb = NULL;
	sbwaitunpinned(&so->so_rcv);   // ... and no producer still uses it
	struct pcq *q = sbpcqdetach(&so->so_rcv, &recs);
	while (recs != NULL) {   // what was queued on this socket is lost
		struct mbuf *next = recs->m_nextpkt;
		recs->m_nextpkt = NULL;
		m_freem(recs);
		recs = next;
	}
	pcq_destroy(q);
	sorele(so);
	return 0;
}

static int udp_bind(struct socket *so, const struct sockaddr_in *sin)
{
	return in_pcbbind(so->so_pcb, ntoh32(sin->sin_addr.s_addr), ntoh16(sin->sin_port), true);
}

static int udp_connect(struct socket *so, const struct sockaddr_in *sin)
{
	struct inpcb *inp = so->so_pcb;
	int err = in_pcbconnect(inp, ntoh32(sin->sin_addr.s_addr), ntoh16(sin->sin_port));
	if (err < 0)
		return err;
	soisconnected(so);
	// Later requests run on the netisr that receives this flow (protosw.h):
	// the same host-order hash netisr_hash_mbuf gives its datagrams.
	uint32 h = netisr_hash_ipv4(inp->inp_faddr, inp->inp_laddr, IPPROTO_UDP,
				    inp->inp_fport, inp->inp_lport);
	__atomic_store_n(&so->so_cpu, netisr_hashcpu(h), __ATOMIC_RELEASE);
	return 0;
}

static int udp_shutdown(struct socket *so)
{
	(void)so;
	return 0;   // no peer to tell
}

static void udp_fillsin(struct sockaddr_in *sin, uint32 a, uint16 port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = hton32(a);
	sin->sin_port = hton16(port);
}

static int udp_sockaddr(struct socket *so, struct sockaddr_in *sin)
{
	struct inpcb *inp = so->so_pcb;
	udp_fillsin(sin, inp->inp_laddr, inp->inp_lport);
	return 0;
}

static int udp_peeraddr(struct socket *so, struct sockaddr_in *sin)
{
	struct inpcb *inp = so->so_pcb;
	if (inp->inp_faddr == INADDR_ANY)
		return -ENOTCONN;
	udp_fillsin(sin, inp->inp_faddr, inp->inp_fport);
	return 0;
}

static int udp_ctloutput(struct socket *so, struct sockopt *sopt)
{
	(void)so;
	(void)sopt;
	return -ENOPROTOOPT;   // no IP-level options yet
}

const struct pr_usrreqs udp_usrreqs = {
	.pru_attach = udp_attach,
	.pru_detach = udp_detach,
	.pru_bind = udp_bind,
	.pru_connect = udp_connect,
	.pru_shutdown = udp_shutdown,
	.pru_send = udp_send,
	.pru_sockaddr = udp_sockaddr,
	.pru_peeraddr = udp_peeraddr,
	.pru_ctloutput = udp_ctloutput,
};
