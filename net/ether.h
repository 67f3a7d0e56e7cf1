// Ethernet (DIX / RFC 894 framing): input demultiplexing by ethertype and
// output with ARP resolution. Design: the header of net/ether.c.
#pragma once
#include "net/shim.h"
#include "net/mbuf.h"
#include "net/if.h"

#define ETHER_HDR_LEN 14
#define ETHER_MIN_LEN 60          // without CRC; shorter frames are padded
#define ETHERTYPE_IP  0x0800
#define ETHERTYPE_ARP 0x0806

struct ether_header {
	uint8 eh_dst[ETHER_ADDR_LEN];
	uint8 eh_src[ETHER_ADDR_LEN];
	uint16 eh_type;              // network order
} __attribute__((packed));

extern const uint8 ether_broadcast[ETHER_ADDR_LEN];

// Make ifp an Ethernet interface: if_output = ether_output, if_announce =
// arp_announce, IFF_BROADCAST. Call before if_attach.
void ether_ifattach(struct ifnet *ifp);

// Input of one frame (netisr NETISR_ETHER input): m->m_pkthdr.ph_rcvif is
// the interface. Runs in the netisr thread chosen by the flow hash (ARP
// hashes to netisr 0). Consumes m.
void ether_input(struct mbuf *m);

// if_output of Ethernet interfaces: resolve nexthop with ARP, prepend the
// header, queue and start. Consumes m. See if_output_t.
int ether_output(struct ifnet *ifp, struct mbuf *m, uint32 nexthop);

// Prepend an Ethernet header (dst, our address, type) and queue m on ifp.
// Consumes m. 0 or -Exxx (counted in if_oerrors). Any thread; no sleep.
int ether_send(struct ifnet *ifp, struct mbuf *m, const uint8 *dst, uint16 type);
