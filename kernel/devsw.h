// Character devices: the console and whatever a later driver adds.
// A T_DEVICE inode's major number indexes devsw[]; read/write move n bytes
// to/from a user address (user == true) or a kernel address, and return
// the count moved or -Exxx.
#pragma once
#include "kernel/types.h"
#include "kernel/param.h"

struct devsw {
	int (*read)(bool user, uint64 dst, int n);
	int (*write)(bool user, uint64 src, int n);
};

extern struct devsw devsw[NDEV];  // [i]

#define CONSOLE 1
