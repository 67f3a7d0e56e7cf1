// Ethernet input and output.
//
// Problem: frames from the driver carry either ARP or IPv4 (anything else
// is counted and dropped), and IPv4 packets leaving through an Ethernet
// interface need the next hop's link address in front of them.
//
// Idea: ether_input checks the length, notes broadcast, strips the header
// and calls arp_input or ip_input directly -- it already runs in the right
// netisr (netisr_dispatch hashed the frame: IPv4 by its flow, ARP to
// netisr 0). ether_output asks ARP for the destination; on a miss ARP
// keeps the packet in its pending queue and sends it later itself.
//
// Invariants: a frame handed to a protocol has its Ethernet header
// removed and ph_rcvif set; every frame sent is >= 14 bytes with our own
// source address (the e1000 pads short frames itself: TCTL.PSP).
//
// Locking: none here; counters are atomics in the ifnet. ARP takes its
// own lock (net/arp.c).
//
// Races: "frame on an interface going down": ether_send's ifq_enqueue
// returns -ENETDOWN and frees the packet (counted).
//
// Life of a packet:
//   receive: e1000_intr -> e1000_input -> netisr_dispatch -> (netisr N)
//     ether_input -> arp_input | ip_input.
//   send: ip_output -> ifp->if_output = ether_output -> arp_resolve ->
//     ether_send -> ifq_enqueue + ifq_start -> e1000_start.
//
// Testing: make hosttest (tests/host/test_arp.c, test_ip.c, with a fake
// Ethernet interface whose start routine captures frames). gdb: break
// ether_input, ether_output.
//
// References: RFC 894 (IP over Ethernet), RFC 826 (ARP).
#include "net/ether.h"
#include "net/byteorder.h"
#include "net/arp.h"
#include "net/ip.h"

const uint8 ether_broadcast[ETHER_ADDR_LEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static uint64 ether_unknown_type;   // [a]
static uint64 ether_runts;          // [a]
NET_SYSCTL_UINT64(ether_unknown, "net.link.ether.unknown_type", SYSCTL_RD,
		  &ether_unknown_type, "frames with an ethertype we do not speak");
NET_SYSCTL_UINT64(ether_runt, "net.link.ether.runts", SYSCTL_RD,
		  &ether_runts, "frames shorter than an Ethernet header");

void ether_ifattach(struct ifnet *ifp)
{
	ifp->if_output = ether_output;
	ifp->if_announce = arp_announce;
	ifp->if_flags |= IFF_BROADCAST;
}

void ether_input(struct mbuf *m)
{
	struct ifnet *ifp = m->m_pkthdr.ph_rcvif;
	struct ether_header ehbuf;
	const struct ether_header *eh = NULL;

	if (ifp == NULL ||
	    (eh = m_peek(m, 0, ETHER_HDR_LEN, _Alignof(struct ether_header), &ehbuf)) == NULL) {
		__atomic_add_fetch(&ether_runts, 1, __ATOMIC_RELAXED);
		if (ifp)
			IF_COUNT(ifp, ifc_ierrors, 1);
		m_freem(m);
		return;
	}
	IF_COUNT(ifp, ifc_ipackets, 1);
	IF_COUNT(ifp, ifc_ibytes, m->m_pkthdr.ph_len);
	if (eh->eh_dst[0] & 1)   // group bit: broadcast or multicast
		m->m_pkthdr.ph_flags |= memcmp(eh->eh_dst, ether_broadcast, ETHER_ADDR_LEN) == 0 ?
					PH_BCAST : PH_MCAST;
	uint16 type = ntoh16(eh->eh_type);   // read before m_adj moves m_data
	m_adj(m, ETHER_HDR_LEN);
	switch (type) {
	case ETHERTYPE_IP:
		ip_input(m);
		return;
	case ETHERTYPE_ARP:
		arp_input(m);
		return;
	default:
		__atomic_add_fetch(&ether_unknown_type, 1, __ATOMIC_RELAXED);
		m_freem(m);
		return;
	}
}

int ether_send(struct ifnet *ifp, struct mbuf *m, const uint8 *dst, uint16 type)
{
	int len = m->m_pkthdr.ph_len;
	M_PREPEND(m, ETHER_HDR_LEN);
	if (m == NULL) {
		IF_COUNT(ifp, ifc_oerrors, 1);
		return -ENOBUFS;
	}
	struct ether_header *eh = mtod(m, struct ether_header *);
	memcpy(eh->eh_dst, dst, ETHER_ADDR_LEN);
	memcpy(eh->eh_src, ifp->if_lladdr, ETHER_ADDR_LEN);
	eh->eh_type = hton16(type);
	int err = ifq_enqueue(&ifp->if_snd, m);   // consumes m
	if (err < 0) {
		IF_COUNT(ifp, ifc_oerrors, 1);
		return err;
	}
	IF_COUNT(ifp, ifc_opackets, 1);
	IF_COUNT(ifp, ifc_obytes, len + ETHER_HDR_LEN);
	ifq_start(&ifp->if_snd);
	return 0;
}

int ether_output(struct ifnet *ifp, struct mbuf *m, uint32 nexthop)
{
	uint8 dst[ETHER_ADDR_LEN];

	if (!(ifp->if_flags & IFF_RUNNING)) {
		IF_COUNT(ifp, ifc_oerrors, 1);
		m_freem(m);
		return -ENETDOWN;
	}
	if (nexthop == 0xffffffff || nexthop == ifp->if_broadaddr) {
		memcpy(dst, ether_broadcast, ETHER_ADDR_LEN);
	} else {
		int err = arp_resolve(ifp, nexthop, m, dst);
		if (err == -EINPROGRESS)
			return 0;          // ARP holds m and sends it when resolved
		if (err < 0) {
			IF_COUNT(ifp, ifc_oerrors, 1);
			return err;        // ARP freed m
		}
	}
	return ether_send(ifp, m, dst, ETHERTYPE_IP);
}
