// File system interface used outside the file system (exec, proc, main).
// The file-system files (bio.c, log.c, fs.c, dir.c, file.c, pipe.c,
// sysfile.c) own the details; see their own headers: fsformat.h (disk
// format), buf.h (buffer cache), log.h, inode.h (inodes, directories,
// paths), file.h (open files), pipe.h.
//
// Every call that may write the disk or drop an inode reference (iput,
// namei) runs between begin_op() and end_op(); begin_op() comes before
// any inode lock.
#pragma once
#include "kernel/types.h"

struct inode;

void binit(void);
void iinit(void);
void fileinit(void);
void fsinit(int dev);          // called from the first process: reads superblock, recovers log
void begin_op(void);
void end_op(void);
struct inode *namei(const char *path);   // NULL if not found
struct inode *idup(struct inode *ip);
void ilock(struct inode *ip);
void iunlock(struct inode *ip);
void iput(struct inode *ip);
void iunlockput(struct inode *ip);
// Read n bytes at off into dst (user address if user_dst). Returns bytes read or -Exxx.
int readi(struct inode *ip, bool user_dst, uint64 dst, uint off, uint n);
short itype(struct inode *ip);  // T_DIR etc.; caller holds the inode lock
void virtio_disk_init(void);
