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

// Number of /cpus/cpu@N nodes, or 0 if there is no usable tree.
int fdt_count_cpus(void)
{
	const uint8 *fdt = (const uint8 *)fdt_addr;
	if (fdt == NULL || be32(fdt) != FDT_MAGIC)
		return 0;
	const uint8 *p = fdt + be32(fdt + 8);    // off_dt_struct
	const uint8 *lim = fdt + be32(fdt + 4);  // totalsize
	int depth = 0, cpus_depth = -1, n = 0;
	while (p < lim) {
		uint32 tok = be32(p);
		p += 4;
		if (tok == FDT_BEGIN_NODE) {
			const char *name = (const char *)p;
			depth++;
			if (depth == 2 && strcmp(name, "cpus") == 0)
				cpus_depth = depth;
			else if (cpus_depth > 0 && depth == cpus_depth + 1 && strncmp(name, "cpu@", 4) == 0)
				n++;
			p += (strlen(name) + 1 + 3) & ~3UL;
		} else if (tok == FDT_END_NODE) {
			if (depth == cpus_depth)
				cpus_depth = -1;
			depth--;
		} else if (tok == FDT_PROP) {
			uint32 len = be32(p);
			p += 8 + ((len + 3) & ~3UL);
		} else if (tok == FDT_NOP) {
			continue;
		} else {
			break;  // FDT_END or garbage
		}
	}
	return n;
}

// The /chosen/bootargs string (QEMU -append), or "" if there is none.
const char *fdt_bootargs(void)
{
	const uint8 *fdt = (const uint8 *)fdt_addr;
	if (fdt == NULL || be32(fdt) != FDT_MAGIC)
		return "";
	const uint8 *p = fdt + be32(fdt + 8);          // off_dt_struct
	const char *strs = (const char *)fdt + be32(fdt + 12);  // off_dt_strings
	const uint8 *lim = fdt + be32(fdt + 4);
	int depth = 0, chosen_depth = -1;
	while (p < lim) {
		uint32 tok = be32(p);
		p += 4;
		if (tok == FDT_BEGIN_NODE) {
			const char *name = (const char *)p;
			depth++;
			if (depth == 2 && strcmp(name, "chosen") == 0)
				chosen_depth = depth;
			p += (strlen(name) + 1 + 3) & ~3UL;
		} else if (tok == FDT_END_NODE) {
			if (depth == chosen_depth)
				chosen_depth = -1;
			depth--;
		} else if (tok == FDT_PROP) {
			uint32 len = be32(p);
			const char *pname = strs + be32(p + 4);
			if (depth == chosen_depth && len > 0 && strcmp(pname, "bootargs") == 0)
				return (const char *)p + 8;
			p += 8 + ((len + 3) & ~3UL);
		} else if (tok == FDT_NOP) {
			continue;
		} else {
			break;
		}
	}
	return "";
}
