// ICMP (RFC 792): echo, destination unreachable, and a test knob that
// sends one echo request. Design: the header of net/icmp.c.
// Lock legend (kernel/lock.h): [a] atomic, [s] icmp_lock (rate limiter).
#pragma once
#include "net/shim.h"
#include "net/mbuf.h"

#define ICMP_ECHOREPLY 0
#define ICMP_UNREACH 3
#define ICMP_UNREACH_NET 0
#define ICMP_UNREACH_HOST 1
#define ICMP_UNREACH_PROTOCOL 2
#define ICMP_UNREACH_PORT 3
#define ICMP_UNREACH_NEEDFRAG 4
#define ICMP_UNREACH_SRCFAIL 5
#define ICMP_UNREACH_NET_UNKNOWN 6
#define ICMP_UNREACH_NET_PROHIB 9
#define ICMP_UNREACH_TOSNET 11
#define ICMP_SOURCEQUENCH 4
#define ICMP_ECHO 8
#define ICMP_TIMXCEED 11
#define ICMP_PARAMPROB 12
#define ICMP_MINLEN 8              // type, code, checksum, 4 more bytes
#define ICMP_ERRPPS_DEFAULT 100    // error messages per second at most

struct icmp {
	uint8 icmp_type;
	uint8 icmp_code;
	uint16 icmp_cksum;
	uint16 icmp_id;            // echo: identifier (network order)
	uint16 icmp_seq;           // echo: sequence number
} __attribute__((packed));

struct icmpstat {
	uint64 icps_received;       // [a] messages received
	uint64 icps_tooshort;       // [a] shorter than 8 bytes
	uint64 icps_badsum;         // [a] bad checksum
	uint64 icps_echo_received;  // [a] echo requests received
	uint64 icps_echo_replies_sent;      // [a]
	uint64 icps_echo_replies_received;  // [a]
	uint64 icps_echo_sent;      // [a] echo requests sent (test knob)
	uint64 icps_unreach_received;       // [a]
	uint64 icps_other_received; // [a] other types
	uint64 icps_error_sent;     // [a] errors generated
	uint64 icps_error_ratelimited;      // [a] errors suppressed by the limit
	uint64 icps_error_suppressed;       // [a] not allowed (RFC 1122 3.2.2)
	uint64 icps_dropped;        // [a] no memory / no route for a reply
};
extern struct icmpstat icmpstat;

int icmp_init(void);

// What an ICMP error says about a packet we sent, for the transport
// protocol that sent it (RFC 1122 3.2.2: "MUST be passed to the
// transport layer"). Host order.
struct icmp_ctl {
	uint8 ic_type;        // ICMP_UNREACH, ICMP_TIMXCEED or ICMP_PARAMPROB
	uint8 ic_code;
	uint16 ic_mtu;        // UNREACH_NEEDFRAG: the next-hop MTU (RFC 1191), 0: not given
	uint32 ic_src;        // the quoted packet's source (our address)
	uint32 ic_dst;        // and destination (the peer)
	uint8 ic_th[8];       // the first 8 bytes of its transport header
};
// A transport's handler. Runs in the netisr that received the ICMP
// message (not necessarily the one owning the connection).
typedef void (*icmp_ctlinput_t)(const struct icmp_ctl *ctl);
// Register proto's handler (at init, before packets flow). 0 or -EINVAL.
int icmp_ctl_register(uint8 proto, icmp_ctlinput_t fn);

// Input (ip_protosw[IPPROTO_ICMP]): m has the IP header (hlen bytes).
// Netisr thread; consumes m.
void icmp_input(struct mbuf *m, int hlen);

// Send an ICMP error about packet m (IP header hlen bytes, as received):
// the IP header plus 8 bytes of data (RFC 792), unless RFC 1122 3.2.2
// forbids it or the rate limit (net.inet.icmp.errppslimit) is reached.
// Consumes m. Any thread.
void icmp_error(struct mbuf *m, int hlen, int type, int code);
// The same with a next-hop MTU (RFC 1191) for ICMP_UNREACH_NEEDFRAG.
void icmp_error_mtu(struct mbuf *m, int hlen, int type, int code, uint16 mtu);

// Send one echo request to dst (host order) with len payload bytes.
// 0 or -Exxx. Any thread.
int icmp_echo(uint32 dst, uint16 id, uint16 seq, int len);

// Periodic work (net timer): sends the echo asked for by the knob
// net.inet.icmp.test_ping.
void icmp_tick(void);
