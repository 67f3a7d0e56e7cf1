// On-disk format of the netkern file system. Shared by the kernel (bio.c,
// log.c, fs.c, dir.c) and the host tools mkfs/mkfs.c and mkfs/fsck.c, so it
// holds only plain data layouts and constants: no kernel types.
//
// The disk is an array of BSIZE-byte blocks:
//
//   0        boot block (unused)
//   1        superblock (struct superblock)
//   2        log: one header block (struct logheader), then LOGSIZE blocks
//   ...      inode blocks, IPB struct dinode per block
//   ...      free-block bitmap, one bit per block of the whole disk
//   ...      data blocks, up to s_size
//
// mkfs computes the layout and stores it in the superblock; the kernel and
// fsck read it from there. Multi-byte fields are little-endian (RISC-V and
// the hosts that run mkfs are both little-endian).
//
// A file's blocks are found through di_addrs: NDIRECT direct addresses, then
// one singly-indirect block (NINDIRECT addresses), then one doubly-indirect
// block (NINDIRECT addresses of singly-indirect blocks). An address of 0
// means "no block": a hole that reads as zeros.
//
// Directories are files of struct dirent. Every directory starts with "."
// (itself) and ".." (its parent; the root's ".." is the root). di_nlink
// counts the directory entries that name the inode, "." included, so an
// empty directory has nlink 2 and each subdirectory adds one (its "..").
#pragma once
#include "kernel/types.h"
#include "kernel/param.h"

#define BSIZE 1024              // block size in bytes
#define FSMAGIC 0x73666b6e      // "nkfs" in little-endian bytes
#define ROOTINO 1               // inode number of the root directory
#define SUPERBLOCK_BNO 1        // block number of the superblock

struct superblock {
	uint32 s_magic;       // FSMAGIC
	uint32 s_size;        // total blocks in the image
	uint32 s_nblocks;     // data blocks (s_size - s_datastart)
	uint32 s_ninodes;     // inodes, numbered 0 .. s_ninodes-1 (0 unused)
	uint32 s_nlog;        // log blocks, header block included
	uint32 s_logstart;    // first log block (the header)
	uint32 s_inodestart;  // first inode block
	uint32 s_bmapstart;   // first bitmap block
	uint32 s_datastart;   // first data block
};

#define NDIRECT 11
#define NINDIRECT (BSIZE / 4)                   // addresses per block
#define NDINDIRECT (NINDIRECT * NINDIRECT)
#define MAXFILE (NDIRECT + NINDIRECT + NDINDIRECT)  // max blocks per file
#define MAXFILESIZE ((uint64)MAXFILE * BSIZE)   // about 64 MiB
#define IND_SLOT NDIRECT                        // di_addrs[] slot of the indirect block
#define DIND_SLOT (NDIRECT + 1)                 // ... of the doubly-indirect block
#define NADDRS (NDIRECT + 2)

// On-disk inode. di_type 0 means free; otherwise T_DIR, T_FILE or
// T_DEVICE from kernel/stat.h.
struct dinode {
	int16 di_type;
	int16 di_major;       // T_DEVICE: index into devsw[]
	int16 di_minor;
	int16 di_nlink;       // directory entries naming this inode
	uint32 di_size;       // bytes
	uint32 di_addrs[NADDRS];
};

#define IPB (BSIZE / sizeof(struct dinode))       // inodes per block
#define IBLOCK(inum, sb) ((inum) / IPB + (sb).s_inodestart)
#define BPB (BSIZE * 8)                           // bitmap bits per block
#define BBLOCK(bno, sb) ((bno) / BPB + (sb).s_bmapstart)

// A directory entry. d_name is NUL-padded, and not NUL-terminated when the
// name is exactly DIRSIZ bytes long. d_inum 0 marks a free slot.
#define DIRSIZ 30
struct dirent {
	uint16 d_inum;
	char d_name[DIRSIZ];
};

// The log header block. lh_n > 0 means a committed transaction whose
// blocks (copies in log blocks 1..lh_n) are not yet all installed at their
// home locations lh_block[]; recovery installs them and zeroes lh_n.
struct logheader {
	uint32 lh_n;
	uint32 lh_block[LOGSIZE];
};

_Static_assert(sizeof(struct dinode) == 64, "dinode must be 64 bytes");
_Static_assert(BSIZE % sizeof(struct dinode) == 0, "dinodes must tile a block");
_Static_assert(sizeof(struct dirent) == 32, "dirent must be 32 bytes");
_Static_assert(BSIZE % sizeof(struct dirent) == 0, "dirents must tile a block");
_Static_assert(sizeof(struct logheader) <= BSIZE, "log header must fit a block");
_Static_assert(sizeof(struct superblock) <= BSIZE, "superblock must fit a block");
