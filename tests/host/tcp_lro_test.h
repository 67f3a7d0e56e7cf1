// What the receive-coalescing host tests share (tests/host/test_tcp_lro.c:
// real connections; test_tcp_lro_peer.c: a forged peer): the LRO
// counters and the TCP ones they must keep true, and reading the test
// pattern back from a socket.
#pragma once
#include "tests/host/tcp_wire.h"

#define NSEG 10
#define MSS 1460

// The LRO counters, and the TCP ones they must keep true.
struct lro_counts {
	int64 held, merged, mergedsegs, flushes, unmerged;
	uint64 rcvtotal, rcvpack, rcvbyte, rcvoopack, rcvbadsum, pawsdrop;
};

// The counters now, into *c.
void lro_snap(struct lro_counts *c);
// Now less *b, field by field, at the end of a batch; checks that every
// held segment was handed on, merged or alone (net/tcp_lro.c I5).
struct lro_counts lro_delta(const struct lro_counts *b);
// Receive exactly n bytes at so (running the wire) and compare them with
// the test pattern from stream offset off. n <= 2 * NSEG * MSS.
void lro_recv(struct socket *so, size_t n, size_t off);
