// lo0: the loopback interface (127.0.0.1/8, MTU 16384).
//
// Problem: packets to 127/8 and to our own addresses must reach our own
// input path, and the loopback benchmarks want them to cross the same
// machinery as real traffic: send queue, serializer, netisr dispatch.
//
// Idea: loop_output queues the IP packet on lo0's ifq and calls ifq_start;
// the start routine (run by the serializer, one CPU at a time) takes each
// packet off and dispatches it to the netisr that owns its flow
// (netisr_dispatch_proto(NETISR_IP), hash of the IP header), where
// ip_input takes it as if it came from a wire.
//
// Invariants: a looped packet has ph_rcvif = lo0 and PH_LOOP set, and its
// flow hash is recomputed (the sender's netisr is not necessarily the
// receiver's: e.g. an echo reply has the same hash, a new flow may not).
//
// Locking: none of its own; ifq's lock and serializer. Counters [a].
//
// Races: "packet resent by its handler" (ICMP echo over loopback) is
// netisr.c's: dispatch re-initialises the embedded message.
//
// Life of a packet: ip_output -> loop_output -> ifq_enqueue + ifq_start
// -> loop_start -> netisr_dispatch_proto(NETISR_IP) -> (netisr N)
// ip_input.
//
// Testing: guest `sysctl net.inet.icmp.test_ping=2130706433` (127.0.0.1),
// then `sysctl net.link.lo0` and net.inet.icmp.echo_replies_received.
// Host: tests/host/test_ip.c (ping_loopback_*). gdb: break loop_start.
//
// References: 4.4BSD net/if_loop.c (for understanding only).
#include "net/if.h"
#include "net/ip.h"
#include "net/netisr.h"
#include "net/byteorder.h"

#define LOMTU 16384
#define LO_IFQ_MAXLEN 512

static struct ifnet loif;

// Checksum offload on lo0 (IFCAP_TXCSUM, as Linux's loopback does): a TCP
// segment sent through lo0 keeps only its pseudo-header sum, and
// tcp_input trusts a looped segment so marked (PH_LOOP | PH_CSUM_TCP):
// the bytes never left memory. 0: every checksum computed and checked.
NET_SYSCTL_INT_RANGE(lo0_hwassist, "net.link.lo0.hwassist", SYSCTL_RW, &loif.if_hwassist,
		     0, IFCAP_TXCSUM, "1 (IFCAP_TXCSUM): TCP checksums over lo0 left out");

static int loop_output(struct ifnet *ifp, struct mbuf *m, uint32 nexthop)
{
	(void)nexthop;
	int len = m->m_pkthdr.ph_len;
	m->m_pkthdr.ph_rcvif = ifp;
	m->m_pkthdr.ph_flags = (m->m_pkthdr.ph_flags & ~PH_HASHVALID) | PH_LOOP;
	int err = ifq_enqueue(&ifp->if_snd, m);   // consumes m
	if (err < 0) {
		IF_COUNT(ifp, ifc_oerrors, 1);
		return err;
	}
	IF_COUNT(ifp, ifc_opackets, 1);
	IF_COUNT(ifp, ifc_obytes, len);
	ifq_start(&ifp->if_snd);
	return 0;
}

// The start routine: runs under lo0's serializer, any context.
static void loop_start(struct ifqueue *ifq, void *softc)
{
	struct ifnet *ifp = softc;
	struct mbuf *m;
	while ((m = ifq_dequeue(ifq)) != NULL) {
		int len = m->m_pkthdr.ph_len;
		if (netisr_dispatch_proto(NETISR_IP, m) < 0) {   // consumes m
			IF_COUNT(ifp, ifc_iqdrops, 1);
			continue;
		}
		IF_COUNT(ifp, ifc_ipackets, 1);
		IF_COUNT(ifp, ifc_ibytes, len);
	}
}

int loop_attach(void)
{
	int err;
	struct ifnet *ifp = &loif;
	strncpy(ifp->if_name, "lo0", IFNAMSIZ);
	ifp->if_mtu = LOMTU;
	ifp->if_flags = IFF_LOOPBACK;
	ifp->if_hwassist = IFCAP_TXCSUM;
	ifp->if_output = loop_output;
	ifp->if_softc = ifp;
	if ((err = ifq_init(&ifp->if_snd, "lo0", LO_IFQ_MAXLEN, loop_start, ifp)) < 0)
		return err;
	if ((err = if_attach(ifp)) < 0)
		return err;
	if ((err = if_setaddr(ifp, IPV4(127, 0, 0, 1), IPV4(255, 0, 0, 0))) < 0)
		return err;
	return if_up(ifp);
}
