// Internet (IPv4) addresses and protocol numbers, shared by the kernel and
// user space. Addresses and ports in struct sockaddr_in are in network byte
// order, as everywhere else.
#pragma once
#include "kernel/types.h"
#include "kernel/socket.h"

#define IPPROTO_IP 0
#define IPPROTO_ICMP 1
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17

#define INADDR_ANY 0x00000000U
#define INADDR_BROADCAST 0xffffffffU
#define INADDR_LOOPBACK 0x7f000001U  // host order

// TCP-level options (level IPPROTO_TCP)
#define TCP_NODELAY 1   // int: 1 = send small segments at once (no Nagle)
#define TCP_MAXSEG 2    // int, read-only here: the MSS the connection sends with

struct in_addr {
	uint32 s_addr;  // network order
};

struct sockaddr_in {
	sa_family_t sin_family;  // AF_INET
	uint16 sin_port;         // network order
	struct in_addr sin_addr;
	char sin_zero[8];
};

static inline uint16 htons(uint16 x) { return (uint16)(x << 8 | x >> 8); }
static inline uint16 ntohs(uint16 x) { return htons(x); }
static inline uint32 htonl(uint32 x)
{
	return (x >> 24) | ((x >> 8) & 0xff00) | ((x << 8) & 0xff0000) | (x << 24);
}
static inline uint32 ntohl(uint32 x) { return htonl(x); }
