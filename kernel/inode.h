// In-memory inodes and the directory layer, shared by the file-system
// files (fs.c, dir.c, file.c, sysfile.c). Code outside the file system
// uses only the opaque calls in fs.h.
//
// A struct inode is the kernel's copy of an on-disk struct dinode plus
// bookkeeping. i_ref counts the pointers to it (open files, cwd, names
// being resolved); while i_ref > 0 the entry keeps its identity (dev,
// inum). The copy of the dinode fields is valid only with the inode's
// sleeplock held and i_valid set; ilock() reads it from disk on first use.
//
// Lifetime: iget()/idup() take a reference, iput() drops it. When the last
// reference goes and no directory names the inode any more (i_nlink == 0),
// iput() frees its blocks and the dinode: so iput() may write the disk and
// must run inside begin_op()/end_op().
#pragma once
#include "kernel/types.h"
#include "kernel/lock.h"
#include "kernel/fsformat.h"

struct stat;

struct inode {
	uint i_dev;               // [s] itable.lock (fixed while i_ref > 0)
	uint i_inum;              // [s] itable.lock (fixed while i_ref > 0)
	int i_ref;                // [s] itable.lock
	struct sleeplock i_lock;  // guards everything below
	bool i_valid;             // [S] the fields below were read from disk
	short i_type;             // [S] copy of the dinode ...
	short i_major;            // [S]
	short i_minor;            // [S]
	short i_nlink;            // [S]
	uint i_size;              // [S]
	uint i_addrs[NADDRS];     // [S]
};

extern struct superblock fs_sb;   // [i] read by fsinit()

// fs.c: inodes and their blocks.
struct inode *iget(uint dev, uint inum);   // NULL if the table is full
int ialloc(uint dev, short type, struct inode **ipp);
void iupdate(struct inode *ip);
void itrunc(struct inode *ip);
void stati(struct inode *ip, struct stat *st);
int writei(struct inode *ip, bool user_src, uint64 src, uint off, uint n);

// dir.c: directories and path names.
int dirlookup(struct inode *dp, const char *name, uint *poff,
	      struct inode **ipp);
int dirlink(struct inode *dp, const char *name, uint inum);
int dirunlink(struct inode *dp, uint off);
bool dirisempty(struct inode *dp);
bool dirisdot(const char *name);
// Resolve path to a referenced, unlocked inode: 0, -ENOENT, -ENOTDIR,
// -ENAMETOOLONG or -ENFILE. path_parent() resolves all but the last
// element, which it copies into name (DIRSIZ + 1 bytes). Both may sleep and
// must run inside begin_op()/end_op() (they may iput()).
int path_lookup(const char *path, struct inode **ipp);
int path_parent(const char *path, char *name, struct inode **dpp);
