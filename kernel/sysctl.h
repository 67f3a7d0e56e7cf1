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
#pragma once
#include "kernel/types.h"

#define SYSCTL_TYPE_INT 1      // value is an int64 (8 bytes)
#define SYSCTL_TYPE_STRING 2   // value is a NUL-terminated string

#define SYSCTL_RD 0x1
#define SYSCTL_RW 0x3

#ifdef __KERNEL__
enum sysctl_kind {
	SYSCTL_K_INT,     // int *
	SYSCTL_K_UINT64,  // uint64 *
	SYSCTL_K_STRING,  // char * (read-only)
	SYSCTL_K_PROC,    // handler computes (and may store) the value
};

struct sysctl_oid {
	const char *name;       // [i] full dotted name
	const char *descr;      // [i] one line for `sysctl -d`
	enum sysctl_kind kind;  // [i]
	int flags;              // [i] SYSCTL_RD or SYSCTL_RW
	void *ptr;              // [i] the variable (INT, UINT64, STRING)
	// PROC: read fills *val; write (write == true) checks and stores *val.
	// Returns 0 or -Exxx.
	int (*handler)(struct sysctl_oid *oid, int64 *val, bool write);
	struct sysctl_oid *next; // [s] sysctl_lock: dynamic list (sysctl_add)
};

#define SYSCTL_OID(id, nm, kd, fl, p, h, d)                           \
	static struct sysctl_oid sysctl_oid_##id                       \
		__attribute__((used, section("sysctl_set"), aligned(8))) = { \
			.name = nm, .descr = d, .kind = kd, .flags = fl,       \
			.ptr = p, .handler = h }

#define SYSCTL_INT(id, nm, fl, p, d) SYSCTL_OID(id, nm, SYSCTL_K_INT, fl, p, NULL, d)
#define SYSCTL_UINT64(id, nm, fl, p, d) SYSCTL_OID(id, nm, SYSCTL_K_UINT64, fl, p, NULL, d)
#define SYSCTL_STRING(id, nm, p, d) SYSCTL_OID(id, nm, SYSCTL_K_STRING, SYSCTL_RD, p, NULL, d)
#define SYSCTL_PROC(id, nm, fl, h, d) SYSCTL_OID(id, nm, SYSCTL_K_PROC, fl, NULL, h, d)

void sysctl_init(void);
// Add a knob at run time; oid must stay allocated until sysctl_remove.
int sysctl_add(struct sysctl_oid *oid);
void sysctl_remove(struct sysctl_oid *oid);
// Kernel-side access by name (used by tests and by other kernel code).
int sysctl_read_int(const char *name, int64 *val);
#endif
