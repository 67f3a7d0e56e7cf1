// struct stat as returned by fstat(2), shared with user space.
#pragma once
#include "kernel/types.h"

#define T_DIR 1     // directory
#define T_FILE 2    // regular file
#define T_DEVICE 3  // device (console)
#define T_PIPE 4    // pipe (fstat on a pipe end)
#define T_SOCK 5    // socket (network stack)

struct stat {
	int dev;      // file system's disk device
	uint ino;     // inode number
	short type;   // T_*
	short nlink;  // number of links to file
	uint64 size;  // size of file in bytes
};
