// Just enough of a flattened-device-tree reader to count the harts and
// find the boot arguments (QEMU -append puts them in /chosen/bootargs).
//
// QEMU's reset code passes the address of the device tree in a1 to every
// hart (start.c saves it). The tree's structure block is a stream of
// big-endian tokens: BEGIN_NODE name, PROP len nameoff value, END_NODE,
// NOP, END. The harts are the nodes /cpus/cpu@N.
#include "kernel/types.h"
#include "kernel/string.h"
#include "kernel/printf.h"
#include "kernel/errno.h"

#define FDT_MAGIC 0xd00dfeed
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE 2
#define FDT_PROP 3
#define FDT_NOP 4
#define FDT_END 9

uint64 fdt_addr;  // [i] set by start() on the boot hart

static uint32 be32(const void *p)
{
	const uint8 *b = p;
	return (uint32)b[0] << 24 | (uint32)b[1] << 16 | (uint32)b[2] << 8 | b[3];
}

// A walk over the structure block, one token at a time (NOPs skipped).
struct fdt_iter {
	const uint8 *p, *lim;   // next token; end of the tree
	const char *strs;       // the strings block (property names)
	int depth;              // after the token: a node's own depth at
				// BEGIN_NODE, its parent's at END_NODE
	const char *name;       // BEGIN_NODE: the node's name; PROP: the property's
	const uint8 *val;       // PROP: its value
	uint32 len;             // PROP: its length
};

// Start a walk over the tree QEMU passed. 0, or -ENOENT: no usable tree.
static int fdt_begin(struct fdt_iter *it)
{
	const uint8 *fdt = (const uint8 *)fdt_addr;
	if (fdt == NULL || be32(fdt) != FDT_MAGIC)
		return -ENOENT;
	it->p = fdt + be32(fdt + 8);                        // off_dt_struct
	it->lim = fdt + be32(fdt + 4);                      // totalsize
	it->strs = (const char *)fdt + be32(fdt + 12);      // off_dt_strings
	it->depth = 0;
	return 0;
}

// The next token: FDT_BEGIN_NODE, FDT_END_NODE or FDT_PROP (its fields
// say what it holds), or FDT_END at the end of the tree or on garbage.
static uint32 fdt_next(struct fdt_iter *it)
{
	while (it->p < it->lim) {
		uint32 tok = be32(it->p);
		it->p += 4;
		if (tok == FDT_BEGIN_NODE) {
			it->name = (const char *)it->p;
			it->depth++;
			it->p += (strlen(it->name) + 1 + 3) & ~3UL;
			return tok;
		} else if (tok == FDT_END_NODE) {
			it->depth--;
			return tok;
		} else if (tok == FDT_PROP) {
			it->len = be32(it->p);
			it->name = it->strs + be32(it->p + 4);
			it->val = it->p + 8;
			it->p += 8 + ((it->len + 3) & ~3UL);
			return tok;
		} else if (tok != FDT_NOP) {
			break;   // FDT_END or garbage
		}
	}
	return FDT_END;
}

// Number of /cpus/cpu@N nodes, or 0 if there is no usable tree.
int fdt_count_cpus(void)
{
	struct fdt_iter it;
	if (fdt_begin(&it) < 0)
		return 0;
	int cpus_depth = -1, n = 0;
	for (uint32 tok; (tok = fdt_next(&it)) != FDT_END;) {
		if (tok == FDT_BEGIN_NODE && it.depth == 2 && strcmp(it.name, "cpus") == 0)
			cpus_depth = it.depth;
		else if (tok == FDT_BEGIN_NODE && cpus_depth > 0 && it.depth == cpus_depth + 1 &&
			 strncmp(it.name, "cpu@", 4) == 0)
			n++;
		else if (tok == FDT_END_NODE && it.depth < cpus_depth)
			cpus_depth = -1;
	}
	return n;
}

// The /chosen/bootargs string (QEMU -append), or "" if there is none.
const char *fdt_bootargs(void)
{
	struct fdt_iter it;
	if (fdt_begin(&it) < 0)
		return "";
	int chosen_depth = -1;
	for (uint32 tok; (tok = fdt_next(&it)) != FDT_END;) {
		if (tok == FDT_BEGIN_NODE && it.depth == 2 && strcmp(it.name, "chosen") == 0)
			chosen_depth = it.depth;
		else if (tok == FDT_END_NODE && it.depth < chosen_depth)
			chosen_depth = -1;
		else if (tok == FDT_PROP && it.depth == chosen_depth && it.len > 0 &&
			 strcmp(it.name, "bootargs") == 0)
			return (const char *)it.val;
	}
	return "";
}
