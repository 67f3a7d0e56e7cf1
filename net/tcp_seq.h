// TCP sequence numbers: 32-bit counters that wrap, compared modulo 2^32.
//
// RFC 9293 3.4: "all arithmetic dealing with sequence numbers must be
// performed modulo 2**32". a < b means b is less than 2^31 ahead of a;
// the signed difference does exactly that (RFC 1982 serial arithmetic).
// Used by every tcp_*.c file; pure functions, no state, no locks.
#pragma once
#include "kernel/types.h"

typedef uint32 tcp_seq;

#define SEQ_LT(a, b)  ((int32)((a) - (b)) < 0)
#define SEQ_LEQ(a, b) ((int32)((a) - (b)) <= 0)
#define SEQ_GT(a, b)  ((int32)((a) - (b)) > 0)
#define SEQ_GEQ(a, b) ((int32)((a) - (b)) >= 0)
#define SEQ_MIN(a, b) (SEQ_LT(a, b) ? (a) : (b))
#define SEQ_MAX(a, b) (SEQ_GT(a, b) ? (a) : (b))

// RFC 7323 timestamps (TSval, TSecr, TS.Recent) are 32-bit clocks that
// wrap the same way: RFC 7323 5.2 compares them "modulo 2^32" too.
#define TSTMP_LT(a, b)  ((int32)((a) - (b)) < 0)
#define TSTMP_GT(a, b)  ((int32)((a) - (b)) > 0)
#define TSTMP_GEQ(a, b) ((int32)((a) - (b)) >= 0)

// Is a in [lo, hi) (modulo 2^32)?
static inline bool seq_in(tcp_seq a, tcp_seq lo, tcp_seq hi)
{
	return SEQ_GEQ(a, lo) && SEQ_LT(a, hi);
}
