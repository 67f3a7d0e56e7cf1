// Network byte order (big-endian) helpers for net/. Both targets (RISC-V
// and x86-64 hosts) are little-endian; the helpers are written with byte
// swaps so that the code says which order a value is in. Header fields are
// kept in network order in the packet; the stack keeps IPv4 addresses in
// host order everywhere else (struct ifnet, ARP entries, routes).
#pragma once
#include "kernel/types.h"

static inline uint16 hton16(uint16 v) { return __builtin_bswap16(v); }
static inline uint16 ntoh16(uint16 v) { return __builtin_bswap16(v); }
// Written out with shifts: rv64gc has no byte-swap instruction, and gcc
// turns __builtin_bswap32 into a call to libgcc's __bswapsi2 (1-2% of a
// received TCP segment's instructions: make profile); the shifts are
// inlined.
static inline uint32 bswap32_shifts(uint32 v)
{
	return v >> 24 | (v >> 8 & 0xff00) | (v << 8 & 0xff0000) | v << 24;
}
static inline uint32 hton32(uint32 v) { return bswap32_shifts(v); }
static inline uint32 ntoh32(uint32 v) { return bswap32_shifts(v); }

// a.b.c.d in host order.
#define IPV4(a, b, c, d) \
	((uint32)(a) << 24 | (uint32)(b) << 16 | (uint32)(c) << 8 | (uint32)(d))
// printf("%d.%d.%d.%d", IPV4_PRINT(a)) for a host-order address.
#define IPV4_PRINT(a) (int)((a) >> 24), (int)(((a) >> 16) & 0xff), \
	(int)(((a) >> 8) & 0xff), (int)((a) & 0xff)
