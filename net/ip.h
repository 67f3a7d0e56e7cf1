// IPv4 (RFC 791): input validation and delivery, output with routing and
// fragmentation, reassembly, the checksum. Design: the headers of
// net/ip.c (input/output/route) and net/ip_reass.c (reassembly).
//
// Addresses are host order everywhere except inside packet headers.
// Lock legend (kernel/lock.h): [a] atomic, [i] set at init, [q] ipq_lock
// (net/ip_reass.c).
#pragma once
#include "net/shim.h"
#include "net/mbuf.h"
#include "net/if.h"

#define IPVERSION 4
#define IP_HDR_LEN 20            // without options
#define IP_MAXPACKET 65535
#define IP_DEFTTL 64             // RFC 1700 / RFC 1122 3.2.1.7
#define IP_DF 0x4000             // don't fragment
#define IP_MF 0x2000             // more fragments
#define IP_OFFMASK 0x1fff        // fragment offset, in 8-byte units

#define IPPROTO_ICMP 1
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17

#define INADDR_ANY 0x00000000U        // spelled as in kernel/in.h
#define INADDR_BROADCAST 0xffffffffU  // (both headers may be included)
#define IN_LOOPBACKNET 127
#define IP_GATEWAY_DEFAULT 0x0a000202u   // 10.0.2.2, QEMU slirp's gateway

struct ip {
	uint8 ip_vhl;          // version << 4 | header length in 32-bit words
	uint8 ip_tos;
	uint16 ip_len;         // total length (network order)
	uint16 ip_id;
	uint16 ip_off;         // flags and fragment offset
	uint8 ip_ttl;
	uint8 ip_p;            // protocol
	uint16 ip_sum;
	uint32 ip_src;         // network order
	uint32 ip_dst;
} __attribute__((packed));

struct ipstat {
	uint64 ips_total;        // [a] packets received
	uint64 ips_toosmall;     // [a] shorter than a header
	uint64 ips_badvers;      // [a] version != 4
	uint64 ips_badhlen;      // [a] IHL < 5 or past the packet
	uint64 ips_badsum;       // [a] header checksum wrong
	uint64 ips_badlen;       // [a] total length < IHL or > what arrived
	uint64 ips_badaddr;      // [a] source loopback, arriving on a wire
	uint64 ips_bcastsrc;     // [a] source a broadcast or multicast address
	uint64 ips_cantforward;  // [a] not for us (we do not forward)
	uint64 ips_noproto;      // [a] unknown protocol
	uint64 ips_delivered;    // [a] handed to a protocol
	uint64 ips_fragments;    // [a] fragments received
	uint64 ips_reassembled;  // [a] datagrams reassembled
	uint64 ips_fragtoomany;  // [a] datagrams given up: too many fragments
	uint64 ips_fragdropped;  // [a] fragments dropped (dup, bad, over the cap)
	uint64 ips_fragtimeout;  // [a] datagrams given up after the timeout
	uint64 ips_localout;     // [a] packets sent by us
	uint64 ips_noroute;      // [a] no route to the destination
	uint64 ips_fragmented;   // [a] datagrams fragmented on output
	uint64 ips_ofragments;   // [a] fragments created
	uint64 ips_cantfrag;     // [a] too big and DF set
	uint64 ips_odropped;     // [a] no memory on output
};
extern struct ipstat ipstat;
#define IPSTAT_INC(f) __atomic_add_fetch(&ipstat.f, 1, __ATOMIC_RELAXED)

// Protocol input: m starts with the IP header (hlen bytes, contiguous in
// the first mbuf), the packet is exactly ip_len long. Runs in the netisr
// thread; consumes m.
typedef void (*ip_proto_input_t)(struct mbuf *m, int hlen);

int ip_init(void);
// Register the input function of IP protocol proto (ICMP, UDP, TCP).
int ip_proto_register(uint8 proto, ip_proto_input_t fn);

// IPv4 input: Ethernet header removed (or lo0). Netisr input for NETISR_IP
// (loopback) and called by ether_input. Any netisr thread; consumes m.
void ip_input(struct mbuf *m);

// Send payload m (M_PKTHDR; no IP header yet) from src (0: choose the
// outgoing interface's address) to dst with protocol proto; ttl 0 means
// IP_DEFTTL; off may carry IP_DF. Routes, fragments, calls if_output.
// Consumes m. 0 or -ENETUNREACH, -EMSGSIZE, -ENOBUFS, -ENETDOWN.
// Any thread; never sleeps.
int ip_output(struct mbuf *m, uint32 src, uint32 dst, uint8 proto, int ttl, int off);

// Is src (host order) an address no host may send from: multicast, the
// limited broadcast, or the subnet broadcast of an attached network (RFC
// 1122 3.2.1.3)? ip_input drops such packets (net.inet.ip.bcastsrc) and
// icmp_error never answers them (3.2.2). Any thread.
bool ip_is_bcastsrc(uint32 src);

// The route to dst: outgoing interface and next hop (host order).
// 0 or -ENETUNREACH. Any thread.
int ip_route(uint32 dst, struct ifnet **ifpp, uint32 *nexthop);

// Default gateway (sysctl net.inet.ip.gateway), host order.
extern uint32 ip_gateway;

// ip_reass.c: add fragment m (header hlen, validated); returns the whole
// datagram (header first, ip_off 0) when complete, else NULL (m kept or
// freed). Consumes m.
struct mbuf *ip_reass(struct mbuf *m, int hlen);
void ip_reass_init(void);
// Drop datagrams older than the timeout (periodic; tests call it too).
void ip_reass_tick(void);
void ip_reass_flush(void);
#define IP_REASS_TIMEOUT_MS (30 * 1000)  // RFC 791: TTL-based, 15 s lower bound
#define IP_REASS_MAXQ 16                 // datagrams in reassembly at most
#define IP_REASS_MAXMEM (512 * 1024)     // storage (mbufs + clusters) held at most
#define IP_REASS_MAXFRAGS 64             // fragments of one datagram at most
#define IP_REASS_MAXFRAGS_TOTAL 512      // fragments held at most

// in_cksum.c: the Internet checksum (RFC 1071) of len bytes at offset off
// of chain m, as stored in a header (~sum, network order as a uint16 in
// memory). Borrows m. A chain shorter than off+len sums what is there.
uint16 in_cksum(struct mbuf *m, int off, int len);
// The same over a flat buffer.
uint16 in_cksum_buf(const void *buf, int len);
// Finish in software the TCP checksum an interface would have computed
// (PH_CSUM_TCP): the TCP header starts at offset off of m and its th_sum
// holds the pseudo-header sum (with the length); sum the segment over
// it, store, and clear the flag. Borrows m.
void in_cksum_finish(struct mbuf *m, int off);
