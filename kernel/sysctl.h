// sysctl: a tree of named knobs and counters, read and set from user space.
//
// Names are dotted paths ("kern.ncpu", "vm.kmem.pages_free",
// "net.inet.udp.fast_demux"); the tree is implied by the dots. A knob is
// declared next to the variable it exposes, with one of the SYSCTL_*
// macros below, which put a struct sysctl_oid into the "sysctl_set" linker
// section; no registration call is needed. Knobs created at run time (one
// per interface, say) use sysctl_add().
//
// User interface (system calls, see kernel/syscall.h):
//   sysctl(name, old, &oldlen, new, newlen)  read and/or write one knob.
//     Integers travel as 8-byte int64, strings NUL-terminated.
//   sysctlnext(name, next, len)  name of the knob after `name` in sorted
//     order ("" for the first); returns its type, 0 at the end.
//   sysctlinfo(name, &info)  type, flags and declared range of one knob.
//
// Ranges: every writable knob declares the values it accepts, [min, max],
// and a write outside them fails with EINVAL before anything is stored
// (or the handler is called). Pick the range so that every value in it
// keeps the system working: a queue bound of 0 that silently drops all
// traffic is not a setting, it is a trap. The plain SYSCTL_INT /
// SYSCTL_PROC macros only make read-only knobs (a writable one fails to
// compile with "writable knob needs a range"); writable ones use the
// *_RANGE variants. A knob whose write is an action rather than a setting
// (run the self-tests, send one ping) also carries SYSCTL_ACT: reading it
// back does not give the value written.
#pragma once
#include "kernel/types.h"

#define SYSCTL_TYPE_INT 1      // value is an int64 (8 bytes)
#define SYSCTL_TYPE_STRING 2   // value is a NUL-terminated string

#define SYSCTL_RD 0x1
#define SYSCTL_WR 0x2
#define SYSCTL_RW 0x3
#define SYSCTL_ACT 0x4         // with SYSCTL_RW: a write triggers an action

// What sysctlinfo() reports about one knob.
struct sysctl_info {
	int si_type;     // SYSCTL_TYPE_*
	int si_flags;    // SYSCTL_RD, SYSCTL_RW, | SYSCTL_ACT
	int64 si_min;    // writable knobs: smallest value accepted
	int64 si_max;    // writable knobs: largest value accepted
};

// Compile-time checks of a declaration: a knob without a range is read-only;
// a range lies inside what the variable can hold.
#define SYSCTL_ASSERT_RD(fl)                                                  \
	_Static_assert(((fl) & SYSCTL_WR) == 0,                               \
		       "writable knob needs a range: use the *_RANGE macro")
#define SYSCTL_ASSERT_RANGE(fl, lo, hi, tmin, tmax)                           \
	_Static_assert(((fl) & SYSCTL_WR) && (lo) <= (hi) && (lo) >= (tmin) &&  \
			       (hi) <= (tmax),                                 \
		       "bad range (or knob not writable)")

// A string knob computed when read (SYSCTL_STRPROC, NET_SYSCTL_STRPROC):
// the generator calls emit(ctx, s, n) for each piece of the value, in
// order; emit returns 0, or -Exxx to make the generator stop and return
// it. The generator runs in the reading process; it may hold spinlocks
// while it emits (emit copies out to user memory without sleeping).
typedef int (*sysctl_emit_t)(void *ctx, const char *s, size_t n);
typedef int (*sysctl_strfn_t)(sysctl_emit_t emit, void *ctx);

#ifdef __KERNEL__
enum sysctl_kind {
	SYSCTL_K_INT,     // int *
	SYSCTL_K_UINT32,  // uint32 * (IPv4 addresses, host order)
	SYSCTL_K_UINT64,  // uint64 *
	SYSCTL_K_STRING,  // char * (read-only)
	SYSCTL_K_PROC,    // handler computes (and may store) the value
	SYSCTL_K_STRPROC, // ptr is a sysctl_strfn_t generating a string (read-only)
};

struct sysctl_oid {
	const char *name;       // [i] full dotted name
	const char *descr;      // [i] one line for `sysctl -d`
	enum sysctl_kind kind;  // [i]
	int flags;              // [i] SYSCTL_RD or SYSCTL_RW (| SYSCTL_ACT)
	int64 min, max;         // [i] writable: the values a write may store
	void *ptr;              // [i] the variable (INT, UINT64, STRING)
	// PROC: read fills *val; write (write == true) checks and stores *val.
	// Returns 0 or -Exxx.
	int (*handler)(struct sysctl_oid *oid, int64 *val, bool write);
	struct sysctl_oid *next; // [s] sysctl_lock: dynamic list (sysctl_add)
};

#define SYSCTL_OID(id, nm, kd, fl, p, h, lo, hi, d)                   \
	static struct sysctl_oid sysctl_oid_##id                       \
		__attribute__((used, section("sysctl_set"), aligned(8))) = { \
			.name = nm, .descr = d, .kind = kd, .flags = fl,       \
			.min = lo, .max = hi, .ptr = p, .handler = h }

#define SYSCTL_INT(id, nm, fl, p, d)                                          \
	SYSCTL_ASSERT_RD(fl);                                                 \
	SYSCTL_OID(id, nm, SYSCTL_K_INT, fl, p, NULL, 0, 0, d)
#define SYSCTL_INT_RANGE(id, nm, fl, p, lo, hi, d)                            \
	SYSCTL_ASSERT_RANGE(fl, lo, hi, -2147483648L, 2147483647L);           \
	SYSCTL_OID(id, nm, SYSCTL_K_INT, fl, p, NULL, lo, hi, d)
#define SYSCTL_UINT32_RANGE(id, nm, fl, p, lo, hi, d)                         \
	SYSCTL_ASSERT_RANGE(fl, lo, hi, 0L, 0xffffffffL);                     \
	SYSCTL_OID(id, nm, SYSCTL_K_UINT32, fl, p, NULL, lo, hi, d)
#define SYSCTL_UINT64(id, nm, fl, p, d)                                       \
	SYSCTL_ASSERT_RD(fl);                                                 \
	SYSCTL_OID(id, nm, SYSCTL_K_UINT64, fl, p, NULL, 0, 0, d)
#define SYSCTL_STRING(id, nm, p, d)                                           \
	SYSCTL_OID(id, nm, SYSCTL_K_STRING, SYSCTL_RD, p, NULL, 0, 0, d)
#define SYSCTL_PROC(id, nm, fl, h, d)                                         \
	SYSCTL_ASSERT_RD(fl);                                                 \
	SYSCTL_OID(id, nm, SYSCTL_K_PROC, fl, NULL, h, 0, 0, d)
// The handler sees only values inside [lo, hi] on a write.
#define SYSCTL_PROC_RANGE(id, nm, fl, h, lo, hi, d)                           \
	SYSCTL_ASSERT_RANGE(fl, lo, hi, -0x7fffffffffffffffL, 0x7fffffffffffffffL); \
	SYSCTL_OID(id, nm, SYSCTL_K_PROC, fl, NULL, h, lo, hi, d)
#define SYSCTL_STRPROC(id, nm, fn, d)                                         \
	SYSCTL_OID(id, nm, SYSCTL_K_STRPROC, SYSCTL_RD, (void *)(fn), NULL, 0, 0, d)

void sysctl_init(void);
// Add a knob at run time; oid must stay allocated until sysctl_remove.
// A writable oid must have its range (min <= max) filled in.
int sysctl_add(struct sysctl_oid *oid);
void sysctl_remove(struct sysctl_oid *oid);
// Kernel-side access by name (used by tests and by other kernel code).
int sysctl_read_int(const char *name, int64 *val);
#endif
