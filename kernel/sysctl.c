// sysctl: named knobs and counters, readable (and some writable) from
// user space. See kernel/sysctl.h for how knobs are declared.
//
// Knobs live in two places: the static ones in the "sysctl_set" linker
// section (an array from __start_sysctl_set to __stop_sysctl_set), and the
// dynamic ones on a list (sysctl_add). Lookups scan both; "next name" for
// `sysctl -a` is the smallest name greater than the given one, so the
// listing comes out sorted without keeping a sorted structure. There are a
// few hundred knobs at most, so the scans are cheap.
//
// Ranges: a write is checked against the knob's declared [min, max] here,
// once for every kind, before the value is stored or a handler sees it
// (sysctl.h says why every writable knob has one).
//
// Locking: sysctl_lock protects the dynamic list [s]. Values are read and
// written without a lock: each is one aligned word, and a knob that needs
// more care uses a handler.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/lock.h"
#include "kernel/proc.h"
#include "kernel/printf.h"
#include "kernel/string.h"
#include "kernel/sysarg.h"
#include "kernel/vm.h"
#include "kernel/sysctl.h"
#include "kernel/callout.h"

extern struct sysctl_oid __start_sysctl_set[], __stop_sysctl_set[];

static struct spinlock sysctl_lock;
static struct sysctl_oid *dynamic;  // [s]

#define NAMEMAX 64

void sysctl_init(void)
{
	initlock(&sysctl_lock, "sysctl");
}

int sysctl_add(struct sysctl_oid *oid)
{
	// A writable knob without a range is a kernel bug, found at boot.
	KASSERT(!(oid->flags & SYSCTL_WR) || oid->min <= oid->max);
	acquire(&sysctl_lock);
	oid->next = dynamic;
	dynamic = oid;
	release(&sysctl_lock);
	return 0;
}

void sysctl_remove(struct sysctl_oid *oid)
{
	acquire(&sysctl_lock);
	for (struct sysctl_oid **pp = &dynamic; *pp; pp = &(*pp)->next) {
		if (*pp == oid) {
			*pp = oid->next;
			break;
		}
	}
	release(&sysctl_lock);
}

// Visit every knob: fn returns true to stop. Holds sysctl_lock while
// walking the dynamic list, so fn must not sleep.
static struct sysctl_oid *sysctl_find(bool (*fn)(struct sysctl_oid *, void *), void *arg)
{
	for (struct sysctl_oid *o = __start_sysctl_set; o < __stop_sysctl_set; o++)
		if (fn(o, arg))
			return o;
	acquire(&sysctl_lock);
	struct sysctl_oid *o = dynamic;
	for (; o; o = o->next)
		if (fn(o, arg))
			break;
	release(&sysctl_lock);
	return o;
}

static bool match_name(struct sysctl_oid *o, void *name)
{
	return strcmp(o->name, name) == 0;
}

struct next_search {
	const char *after;        // find the smallest name > after
	struct sysctl_oid *best;
};

static bool match_next(struct sysctl_oid *o, void *arg)
{
	struct next_search *ns = arg;
	if (strcmp(o->name, ns->after) > 0 &&
	    (ns->best == NULL || strcmp(o->name, ns->best->name) < 0))
		ns->best = o;
	return false;
}

static int oid_type(struct sysctl_oid *o)
{
	return o->kind == SYSCTL_K_STRING || o->kind == SYSCTL_K_STRPROC ? SYSCTL_TYPE_STRING
									  : SYSCTL_TYPE_INT;
}

// A generated string (SYSCTL_K_STRPROC) on its way to user memory: the
// first pass only counts (sc_dst 0), the second copies out at most
// sc_cap - 1 bytes (what does not fit is cut: the value may have grown
// between the passes) and the caller adds the NUL.
struct strproc_ctx {
	pagetable_t sc_pt;
	uint64 sc_dst;   // user address, 0: count only
	uint64 sc_cap;   // bytes the user offered
	uint64 sc_off;   // bytes emitted so far
};

static int strproc_emit(void *arg, const char *s, size_t n)
{
	struct strproc_ctx *sc = arg;
	if (sc->sc_dst != 0) {
		if (sc->sc_off + n + 1 > sc->sc_cap)
			n = sc->sc_cap - 1 - sc->sc_off;
		if (n > 0 && copyout(sc->sc_pt, sc->sc_dst + sc->sc_off, s, n) < 0)
			return -EFAULT;
		if (sc->sc_off + n + 1 >= sc->sc_cap) {
			sc->sc_off += n;
			return -ENOSPC;   // full: stop the generator
		}
	}
	sc->sc_off += n;
	return 0;
}

// copy_old for SYSCTL_K_STRPROC.
static int copy_old_strproc(struct sysctl_oid *o, uint64 old, uint64 oldlenp)
{
	pagetable_t pt = myproc()->pagetable;
	sysctl_strfn_t fn = (sysctl_strfn_t)o->ptr;
	struct strproc_ctx sc = { pt, 0, 0, 0 };
	uint64 have, need;
	int r;
	if ((r = fn(strproc_emit, &sc)) < 0)
		return r;
	need = sc.sc_off + 1;
	if ((r = copyin(pt, &have, oldlenp, sizeof(have))) < 0)
		return r;
	if (old == 0)
		return copyout(pt, oldlenp, &need, sizeof(need));
	if (have < need) {
		copyout(pt, oldlenp, &need, sizeof(need));
		return -ENOMEM;
	}
	sc = (struct strproc_ctx){ pt, old, have, 0 };
	if ((r = fn(strproc_emit, &sc)) < 0 && r != -ENOSPC)
		return r;
	char nul = 0;
	if (copyout(pt, old + sc.sc_off, &nul, 1) < 0)
		return -EFAULT;
	need = sc.sc_off + 1;
	return copyout(pt, oldlenp, &need, sizeof(need));
}

static int oid_read_int(struct sysctl_oid *o, int64 *val)
{
	switch (o->kind) {
	case SYSCTL_K_INT:
		*val = *(int *)o->ptr;
		return 0;
	case SYSCTL_K_UINT32:
		*val = *(uint32 *)o->ptr;
		return 0;
	case SYSCTL_K_UINT64:
		*val = (int64)*(uint64 *)o->ptr;
		return 0;
	case SYSCTL_K_PROC:
		return o->handler(o, val, false);
	default:
		return -EINVAL;
	}
}

// Store val in writable knob o: -EINVAL outside its declared range. The
// macros keep every range inside what the variable holds.
static int oid_write_int(struct sysctl_oid *o, int64 val)
{
	if (val < o->min || val > o->max)
		return -EINVAL;
	switch (o->kind) {
	case SYSCTL_K_INT:
		*(int *)o->ptr = val;
		return 0;
	case SYSCTL_K_UINT32:
		*(uint32 *)o->ptr = val;
		return 0;
	case SYSCTL_K_PROC:
		return o->handler(o, &val, true);
	default:
		return -EINVAL;
	}
}

int sysctl_read_int(const char *name, int64 *val)
{
	struct sysctl_oid *o = sysctl_find(match_name, (void *)name);
	if (o == NULL)
		return -ENOENT;
	return oid_read_int(o, val);
}

// Copy the old value of o out to user (old, oldlenp). A NULL old asks only
// for the size. -ENOMEM (with *oldlenp set to the size) if it does not fit.
static int copy_old(struct sysctl_oid *o, uint64 old, uint64 oldlenp)
{
	pagetable_t pt = myproc()->pagetable;
	uint64 have;
	int64 ival;
	const void *src = &ival;
	uint64 need = sizeof(ival);
	int r;

	if (o->kind == SYSCTL_K_STRPROC)
		return copy_old_strproc(o, old, oldlenp);
	if (oid_type(o) == SYSCTL_TYPE_STRING) {
		src = o->ptr;
		need = strlen(o->ptr) + 1;
	} else if ((r = oid_read_int(o, &ival)) < 0) {
		return r;
	}
	if ((r = copyin(pt, &have, oldlenp, sizeof(have))) < 0)
		return r;
	if ((r = copyout(pt, oldlenp, &need, sizeof(need))) < 0)
		return r;
	if (old == 0)
		return 0;
	if (have < need)
		return -ENOMEM;
	return copyout(pt, old, src, need);
}

// sysctl(name, old, oldlenp, new, newlen). Old value first, then the new
// one is stored, as in BSD.
long sys_sysctl(void)
{
	char name[NAMEMAX];
	int r = argstr(0, name, sizeof(name));
	if (r < 0)
		return r == -ENAMETOOLONG ? -ENOENT : r;
	uint64 old = argaddr(1), oldlenp = argaddr(2), new = argaddr(3);
	uint64 newlen = argaddr(4);

	struct sysctl_oid *o = sysctl_find(match_name, name);
	if (o == NULL)
		return -ENOENT;
	if (oldlenp != 0 && (r = copy_old(o, old, oldlenp)) < 0)
		return r;
	if (new == 0)
		return 0;
	if ((o->flags & SYSCTL_RW) != SYSCTL_RW || oid_type(o) == SYSCTL_TYPE_STRING)
		return -EPERM;
	if (newlen != sizeof(int64))
		return -EINVAL;
	int64 val;
	if ((r = copyin(myproc()->pagetable, &val, new, sizeof(val))) < 0)
		return r;
	return oid_write_int(o, val);
}

// sysctlinfo(name, info): type, flags and range of one knob.
long sys_sysctlinfo(void)
{
	char name[NAMEMAX];
	int r = argstr(0, name, sizeof(name));
	if (r < 0)
		return r == -ENAMETOOLONG ? -ENOENT : r;
	struct sysctl_oid *o = sysctl_find(match_name, name);
	if (o == NULL)
		return -ENOENT;
	struct sysctl_info si = {
		.si_type = oid_type(o), .si_flags = o->flags,
		.si_min = o->min, .si_max = o->max,
	};
	return copyout(myproc()->pagetable, argaddr(1), &si, sizeof(si));
}

// sysctlnext(name, next, len): the name after `name`, and its type; 0 at
// the end; -ENOMEM if len is too small for it.
long sys_sysctlnext(void)
{
	char name[NAMEMAX];
	int r = argstr(0, name, sizeof(name));
	if (r < 0)
		return r;
	uint64 next = argaddr(1);
	uint64 len = argaddr(2);
	struct next_search ns = { .after = name, .best = NULL };
	sysctl_find(match_next, &ns);
	if (ns.best == NULL)
		return 0;
	uint64 n = strlen(ns.best->name) + 1;
	if (len < n)
		return -ENOMEM;
	if ((r = copyout(myproc()->pagetable, next, ns.best->name, n)) < 0)
		return r;
	return oid_type(ns.best);
}

// ---- knobs of the kernel proper --------------------------------------
static char ostype[] = "netkern";
static char version[] = "netkern 0.1 (" __DATE__ ")";
static int hz = HZ;
static int debug;

static int sysctl_ncpu(struct sysctl_oid *oid, int64 *val, bool write)
{
	*val = ncpu;
	return 0;
}

static int sysctl_uptime(struct sysctl_oid *oid, int64 *val, bool write)
{
	*val = uptime_ms();
	return 0;
}

SYSCTL_STRING(kern_ostype, "kern.ostype", ostype, "operating system name");
SYSCTL_STRING(kern_version, "kern.version", version, "kernel version");
SYSCTL_PROC(kern_ncpu, "kern.ncpu", SYSCTL_RD, sysctl_ncpu, "harts running");
SYSCTL_INT(kern_hz, "kern.hz", SYSCTL_RD, &hz, "timer interrupts per second per hart");
SYSCTL_PROC(kern_uptime, "kern.uptime_ms", SYSCTL_RD, sysctl_uptime, "milliseconds since boot");
SYSCTL_INT_RANGE(kern_debug, "kern.debug", SYSCTL_RW, &debug, 0, 2147483647,
		 "debug output switch (free for labs)");
