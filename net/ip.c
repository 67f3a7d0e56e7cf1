// IPv4 input, output and routing.
//
// Problem: whatever arrives from the wire -- truncated, padded, with a bad
// version, header length or checksum, fragmented, for someone else -- must
// be checked before any length in it is trusted, and must never crash the
// kernel; and every locally generated packet needs an interface, a next
// hop and a size that fits the MTU.
//
// Idea:
//   input: validate in the order of RFC 1122 3.2.1.1-3.2.1.8 (version,
//   IHL, checksum, total length, addresses), trim link padding, accept
//   only packets for one of our addresses (we do not forward), send
//   fragments to ip_reass, then demultiplex through ip_protosw[256].
//   output: ip_route picks the interface (loopback for 127/8 and our own
//   addresses, a connected subnet, else the default gateway), ip_output
//   builds the header and hands the packet to if_output, fragmenting it
//   on 8-byte boundaries when it exceeds the MTU (RFC 791 3.2).
//
// Invariants:
//   I1 A protocol input function gets a packet whose header (hlen bytes)
//      is contiguous and valid, and whose chain length equals ip_len.
//   I2 Every packet leaving through ip_output has a correct header
//      checksum and is <= the interface MTU.
//
// Locking: ip_input runs in the netisr that owns the flow; it keeps no
// state of its own except the counters ([a]). ip_protosw is filled at
// boot ([i]). ip_id is an atomic counter. Reassembly has its own lock
// (net/ip_reass.c).
//
// Races: "route versus address change": see net/if.c. Nothing else: no
// shared mutable state here but atomics.
//
// Life of a packet:
//   receive: ether_input (or lo0 -> netisr NETISR_IP) -> ip_input ->
//     [ip_reass] -> ip_protosw[p] = icmp_input (udp_input, tcp_input later).
//   send: icmp_output (etc.) -> ip_output -> ip_route -> [ip_fragment] ->
//     ifp->if_output = ether_output | loop_output.
//
// Testing: make hosttest (tests/host/test_ip.c: valid packets, bad
// version / IHL / length / checksum, padding, not-for-us, fragments in and
// out of order, overlapping, the reassembly timeout, output fragmentation).
// Guest: sysctl net.inet.ip. gdb: break ip_input, ip_output.
//
// References: RFC 791 3.1 (header), 3.2 (fragmentation and reassembly);
// RFC 1122 3.2.1 (what a host must check), 3.3.1 (routing outbound).
#include "net/ip.h"
#include "net/byteorder.h"
#include "net/netisr.h"
#include "net/icmp.h"

struct ipstat ipstat;
uint32 ip_gateway = IP_GATEWAY_DEFAULT;            // [a] host order
static ip_proto_input_t ip_protosw[256];           // [i]
static uint32 ip_id_next = 1;                      // [a]

#define IPSTAT_OID(id, field, d) \
	NET_SYSCTL_UINT64(ip_##id, "net.inet.ip." #id, SYSCTL_RD, &ipstat.field, d)
IPSTAT_OID(received, ips_total, "packets received");
IPSTAT_OID(tooshort, ips_toosmall, "shorter than an IP header");
IPSTAT_OID(badvers, ips_badvers, "IP version not 4");
IPSTAT_OID(badhlen, ips_badhlen, "bad header length");
IPSTAT_OID(badsum, ips_badsum, "bad header checksum");
IPSTAT_OID(badlen, ips_badlen, "bad total length");
IPSTAT_OID(badaddr, ips_badaddr, "bad source address");
IPSTAT_OID(bcastsrc, ips_bcastsrc, "source a broadcast or multicast address: dropped");
IPSTAT_OID(notforus, ips_cantforward, "not for us (no forwarding): dropped");
IPSTAT_OID(noproto, ips_noproto, "unknown protocol");
IPSTAT_OID(delivered, ips_delivered, "handed to a protocol");
IPSTAT_OID(fragments, ips_fragments, "fragments received");
IPSTAT_OID(reassembled, ips_reassembled, "datagrams reassembled");
IPSTAT_OID(fragdropped, ips_fragdropped, "fragments dropped");
IPSTAT_OID(fragtoomany, ips_fragtoomany, "datagrams given up: too many fragments");
IPSTAT_OID(fragtimeout, ips_fragtimeout, "reassemblies timed out");
IPSTAT_OID(sent, ips_localout, "packets sent");
IPSTAT_OID(noroute, ips_noroute, "no route");
IPSTAT_OID(fragmented, ips_fragmented, "datagrams fragmented");
IPSTAT_OID(ofragments, ips_ofragments, "fragments sent");
IPSTAT_OID(cantfrag, ips_cantfrag, "too big with DF");
IPSTAT_OID(odropped, ips_odropped, "output dropped: no memory");
NET_SYSCTL_UINT32_RANGE(ip_gw, "net.inet.ip.gateway", SYSCTL_RW, &ip_gateway, 0, 0xffffffff,
			"default gateway, IPv4 address as a host-order integer (0: none)");

int ip_init(void)
{
	ip_reass_init();
	return netisr_register(NETISR_IP, ip_input);
}

int ip_proto_register(uint8 proto, ip_proto_input_t fn)
{
	ip_protosw[proto] = fn;
	return 0;
}

static bool ip_is_loopback(uint32 a)
{
	return (a >> 24) == IN_LOOPBACKNET;
}

static bool ip_is_multicast(uint32 a)
{
	return (a >> 28) == 0xe;   // 224/4
}

bool ip_is_bcastsrc(uint32 src)
{
	return ip_is_multicast(src) || if_isbroadcast(src);
}

// Is dst one of ours, as seen on rcvif? (RFC 1122 3.2.1.3: our address,
// limited broadcast, the subnet broadcast of rcvif; 127/8 on lo0.)
static bool ip_for_us(struct ifnet *rcvif, uint32 dst)
{
	if (if_islocal(dst) || dst == INADDR_BROADCAST)
		return true;
	if (rcvif == NULL)
		return false;
	if (rcvif->if_addr != 0 && dst == rcvif->if_broadaddr)
		return true;
	return (rcvif->if_flags & IFF_LOOPBACK) && ip_is_loopback(dst);
}

// Checks of RFC 1122 3.2.1.1-3.2.1.2 and RFC 791 3.1; on success m has
// hlen contiguous header bytes and exactly ip_len bytes. Returns hlen, or
// -EINVAL (m freed, counted). Consumes m on failure only.
static int ip_validate(struct mbuf **mp)
{
	struct mbuf *m = *mp;
	if (m->m_pkthdr.ph_len < IP_HDR_LEN || (m = m_pullup(m, IP_HDR_LEN)) == NULL) {
		IPSTAT_INC(ips_toosmall);
		if (m)
			m_freem(m);
		return -EINVAL;
	}
	struct ip *ip = mtod(m, struct ip *);
	int hlen = (ip->ip_vhl & 0xf) << 2;
	if ((ip->ip_vhl >> 4) != IPVERSION) {
		IPSTAT_INC(ips_badvers);   // RFC 1122 3.2.1.1: silently discard
		goto drop;
	}
	if (hlen < IP_HDR_LEN || hlen > m->m_pkthdr.ph_len) {
		IPSTAT_INC(ips_badhlen);   // RFC 791 3.1: IHL >= 5
		goto drop;
	}
	if (hlen > m->m_len && (m = m_pullup(m, hlen)) == NULL) {
		IPSTAT_INC(ips_badhlen);
		return -EINVAL;
	}
	ip = mtod(m, struct ip *);
	if (in_cksum(m, 0, hlen) != 0) {
		IPSTAT_INC(ips_badsum);    // RFC 1122 3.2.1.2: silently discard
		goto drop;
	}
	int len = ntoh16(ip->ip_len);
	if (len < hlen || len > m->m_pkthdr.ph_len) {
		IPSTAT_INC(ips_badlen);    // RFC 791 3.1 "Total Length"
		goto drop;
	}
	if (m->m_pkthdr.ph_len > len)
		m_adj(m, len - m->m_pkthdr.ph_len);   // link padding (ETHER_MIN_LEN)
	*mp = m;
	return hlen;
drop:
	m_freem(m);
	return -EINVAL;
}

void ip_input(struct mbuf *m)
{
	IPSTAT_INC(ips_total);
	int hlen = ip_validate(&m);
	if (hlen < 0)
		return;
	struct ip *ip = mtod(m, struct ip *);
	struct ifnet *rcvif = m->m_pkthdr.ph_rcvif;
	uint32 src = ntoh32(ip->ip_src), dst = ntoh32(ip->ip_dst);
	bool onwire = rcvif && !(rcvif->if_flags & IFF_LOOPBACK);
	// RFC 1122 3.2.1.3: a source that is a broadcast address (the limited
	// one or the subnet broadcast of any attached network: if_isbroadcast)
	// or a multicast address is not a host; discard silently (no reply,
	// no ICMP error: 3.2.2). So is loopback arriving from a wire.
	if (ip_is_bcastsrc(src)) {
		IPSTAT_INC(ips_bcastsrc);
		goto drop;
	}
	if (onwire && ip_is_loopback(src)) {
		IPSTAT_INC(ips_badaddr);
		goto drop;
	}
	if (!ip_for_us(rcvif, dst)) {
		// We are a host: no forwarding, so TTL is never looked at.
		IPSTAT_INC(ips_cantforward);
		goto drop;
	}
	// Options (hlen > 20) are skipped: RFC 1122 3.2.1.8 lets a host
	// ignore the ones it does not implement.
	if (ntoh16(ip->ip_off) & (IP_MF | IP_OFFMASK)) {
		IPSTAT_INC(ips_fragments);
		if ((m = ip_reass(m, hlen)) == NULL)
			return;
		ip = mtod(m, struct ip *);
		hlen = (ip->ip_vhl & 0xf) << 2;
	}
	ip_proto_input_t fn = ip_protosw[ip->ip_p];
	if (fn == NULL) {
		IPSTAT_INC(ips_noproto);
		// RFC 1122 3.2.2.1: protocol unreachable (consumes m).
		icmp_error(m, hlen, ICMP_UNREACH, ICMP_UNREACH_PROTOCOL);
		return;
	}
	IPSTAT_INC(ips_delivered);
	fn(m, hlen);
	return;
drop:
	m_freem(m);
}

int ip_route(uint32 dst, struct ifnet **ifpp, uint32 *nexthop)
{
	struct ifnet *ifp;
	// RFC 1122 3.3.1.1: local delivery for our own addresses and 127/8
	// goes through the loopback interface.
	if (ip_is_loopback(dst) || if_islocal(dst)) {
		ifp = if_byname("lo0");
		if (ifp == NULL || !(ifp->if_flags & IFF_UP))
			goto unreach;
		*ifpp = ifp;
		*nexthop = dst;
		return 0;
	}
	// RFC 1122 3.3.1.1: on a connected subnet, send directly.
	if ((ifp = if_bysubnet(dst)) != NULL) {
		*ifpp = ifp;
		*nexthop = dst;
		return 0;
	}
	if (dst == INADDR_BROADCAST) {
		for (int i = 0; (ifp = if_get(i)) != NULL; i++)
			if ((ifp->if_flags & IFF_UP) && (ifp->if_flags & IFF_BROADCAST))
				break;
		if (ifp == NULL)
			goto unreach;
		*ifpp = ifp;
		*nexthop = dst;
		return 0;
	}
	// Otherwise: the default gateway, which must be on a connected subnet.
	uint32 gw = __atomic_load_n(&ip_gateway, __ATOMIC_RELAXED);
	if (gw != 0 && (ifp = if_bysubnet(gw)) != NULL) {
		*ifpp = ifp;
		*nexthop = gw;
		return 0;
	}
unreach:
	IPSTAT_INC(ips_noroute);
	return -ENETUNREACH;
}

static void ip_fill_header(struct ip *ip, int len, uint16 id, int off, int ttl,
			   uint8 proto, uint32 src, uint32 dst)
{
	ip->ip_vhl = IPVERSION << 4 | IP_HDR_LEN >> 2;
	ip->ip_tos = 0;
	ip->ip_len = hton16(len);
	ip->ip_id = hton16(id);
	ip->ip_off = hton16(off);
	ip->ip_ttl = ttl;
	ip->ip_p = proto;
	ip->ip_sum = 0;
	ip->ip_src = hton32(src);
	ip->ip_dst = hton32(dst);
	ip->ip_sum = in_cksum_buf(ip, IP_HDR_LEN);   // RFC 791 3.1 (I2)
}

// RFC 791 3.2 "Fragmentation": split payload m into pieces of a multiple
// of 8 bytes that fit mtu, each with a copy of the header and its offset;
// MF on all but the last. Sends each through if_output. Consumes m.
static int ip_fragment(struct ifnet *ifp, uint32 nexthop, struct mbuf *m,
		       uint16 id, int ttl, uint8 proto, uint32 src, uint32 dst)
{
	int total = m->m_pkthdr.ph_len;
	int chunk = (ifp->if_mtu - IP_HDR_LEN) & ~7;
	int err = 0;
	IPSTAT_INC(ips_fragmented);
	for (int off = 0; off < total && err == 0; off += chunk) {
		int n = total - off < chunk ? total - off : chunk;
		struct mbuf *f = m_gethdr();
		struct mbuf *data = f ? m_copym(m, off, n) : NULL;
		if (data == NULL) {
			if (f)
				m_freem(f);
			IPSTAT_INC(ips_odropped);
			err = -ENOBUFS;
			break;
		}
		f->m_data = f->m_dat + MHLEN - IP_HDR_LEN;  // room for a link header in front
		f->m_len = IP_HDR_LEN;
		f->m_next = data;
		f->m_pkthdr.ph_len = IP_HDR_LEN + n;
		int flags = (off + n < total ? IP_MF : 0) | (off >> 3);
		ip_fill_header(mtod(f, struct ip *), IP_HDR_LEN + n, id, flags, ttl, proto, src, dst);
		IPSTAT_INC(ips_ofragments);
		err = ifp->if_output(ifp, f, nexthop);
	}
	m_freem(m);
	return err;
}

// Checksum offload (mbuf.h: PH_CSUM_TCP, PH_TSO): what the interface
// will not do, do here. The TCP header is at the front of m (no IP
// header yet), th_sum at offset 16. A TSO packet for an interface that
// cannot cut it (its switch was turned off after TCP looked) is dropped:
// TCP retransmits it in MSS pieces. 0 or -EMSGSIZE.
static int ip_output_offload(struct ifnet *ifp, struct mbuf *m)
{
	int hw = __atomic_load_n(&ifp->if_hwassist, __ATOMIC_RELAXED);
	if ((m->m_pkthdr.ph_flags & PH_TSO) && !(hw & IFCAP_TSO)) {
		IPSTAT_INC(ips_cantfrag);
		return -EMSGSIZE;
	}
	// (A TSO packet's checksums are always the interface's.)
	if ((m->m_pkthdr.ph_flags & (PH_CSUM_TCP | PH_TSO)) == PH_CSUM_TCP &&
	    !(hw & IFCAP_TXCSUM))
		in_cksum_finish(m, 0);
	return 0;
}

int ip_output(struct mbuf *m, uint32 src, uint32 dst, uint8 proto, int ttl, int off)
{
	struct ifnet *ifp;
	uint32 nexthop;
	int err;

	if ((err = ip_route(dst, &ifp, &nexthop)) < 0)
		goto drop;
	if (src == INADDR_ANY)
		src = if_islocal(dst) ? dst : ifp->if_addr;
	if (ttl <= 0)
		ttl = IP_DEFTTL;
	int len = m->m_pkthdr.ph_len + IP_HDR_LEN;
	uint16 id = __atomic_fetch_add(&ip_id_next, 1, __ATOMIC_RELAXED);
	IPSTAT_INC(ips_localout);
	if ((err = ip_output_offload(ifp, m)) < 0)
		goto drop;
	if (len > ifp->if_mtu && !(m->m_pkthdr.ph_flags & PH_TSO)) {
		if ((off & IP_DF) || len > IP_MAXPACKET) {
			IPSTAT_INC(ips_cantfrag);
			err = -EMSGSIZE;
			goto drop;
		}
		return ip_fragment(ifp, nexthop, m, id, ttl, proto, src, dst);
	}
	M_PREPEND(m, IP_HDR_LEN);
	if (m == NULL) {
		IPSTAT_INC(ips_odropped);
		return -ENOBUFS;
	}
	ip_fill_header(mtod(m, struct ip *), len, id, off & IP_DF, ttl, proto, src, dst);
	return ifp->if_output(ifp, m, nexthop);
drop:
	m_freem(m);
	return err;
}
