// File system, inode layer: the block allocator, the in-memory inode table,
// and reading/writing the contents of inodes. Directories and path names
// live in dir.c on top of this; the log (log.c) and the buffer cache
// (bio.c) are below it. The disk format is in fsformat.h.
//
// Problem: many processes open, read, write and delete files at once, on
// a disk that may lose power at any moment, and nothing a user does may
// crash the kernel (a full disk is an error, not a panic).
//
// Idea (the classic Unix design, as in xv6):
//   - blocks: a bitmap marks used blocks; balloc() takes the first free
//     data block, bfree() gives it back. Both go through the log.
//   - inodes: a table of NINODE in-memory inodes caches the dinodes in use.
//     iget() finds or makes an entry (no disk I/O), ilock() loads it.
//   - contents: bmap() maps a file block number to a disk block through the
//     direct, indirect and doubly-indirect addresses, allocating on write.
//     Unallocated blocks inside the file size are holes and read as zeros.
//
// Invariants:
//   - an inode table entry with i_ref > 0 names one (dev, inum), and no
//     other entry names the same one;
//   - i_size never covers blocks a reader could see as garbage: a block is
//     zeroed (bzero, logged) before its address is stored anywhere;
//   - every disk change is made inside a transaction (log_write).
//
// Locking: itable.lock (spinlock) guards i_ref, i_dev, i_inum of every
// entry; an inode's i_lock (sleeplock) guards its dinode copy. Order:
// log -> inode (parent directory before child) -> buffer (kernel/lock.h).
// Bitmap blocks are serialised by their buffer sleeplocks.
//
// Races:
//   - iput() of the last reference to an unlinked inode while another
//     process ialloc()s its number: iput() clears i_valid before dropping
//     the reference, so the new owner re-reads the dinode in ilock().
//   - two ialloc()s: the inode block's buffer lock serialises them; the
//     table entry is claimed (iget) before the dinode is marked, so a full
//     table leaves the disk untouched (-ENFILE).
//
// Life of a write: sys_write -> filewrite (file.c) -> begin_op -> ilock ->
// writei -> bmap -> balloc -> bzero -> log_write ... -> iupdate -> iunlock
// -> end_op.
//
// Testing: usertests (big files, holes, full disk, many files); fsck on the
// image afterwards. gdb: break balloc, break itrunc.
// References: xv6-riscv fs.c; Ritchie & Thompson, "The UNIX Time-Sharing
// System", CACM 1974.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/lock.h"
#include "kernel/proc.h"
#include "kernel/printf.h"
#include "kernel/string.h"
#include "kernel/stat.h"
#include "kernel/vm.h"
#include "kernel/sysctl.h"
#include "kernel/buf.h"
#include "kernel/log.h"
#include "kernel/fs.h"
#include "kernel/inode.h"

struct superblock fs_sb;

static struct {
	struct spinlock lock;
	struct inode inode[NINODE];
} itable;

static const uint8 zeroblock[BSIZE];  // source of the zeros a hole reads as

// Read the superblock and recover the log. Called once, in the first
// process (it sleeps on the disk), before any other file-system call.
void fsinit(int dev)
{
	struct buf *bp = bread(dev, SUPERBLOCK_BNO);

	memmove(&fs_sb, bp->b_data, sizeof(fs_sb));
	brelse(bp);
	if (fs_sb.s_magic != FSMAGIC)
		panic("fsinit: no netkern file system on disk %d (magic %x)",
		      dev, fs_sb.s_magic);
	initlog(dev, &fs_sb);
	printf("fs: %u blocks (%u data), %u inodes\n", fs_sb.s_size,
	       fs_sb.s_nblocks, fs_sb.s_ninodes);
}

// ---- blocks ---------------------------------------------------------------

// Zero block bno (inside the caller's transaction). Sleeps.
static void bzero(uint dev, uint bno)
{
	struct buf *bp = bclaim(dev, bno);

	memset(bp->b_data, 0, BSIZE);
	log_write(bp);
	brelse(bp);
}

// Allocate a zeroed data block. Returns its number, or 0 if the disk is
// full. Caller is inside a transaction. Sleeps.
static uint balloc(uint dev)
{
	struct buf *bp;
	uint base, bi, bno;

	for (base = 0; base < fs_sb.s_size; base += BPB) {
		bp = bread(dev, BBLOCK(base, fs_sb));
		for (bi = 0; bi < BPB && base + bi < fs_sb.s_size; bi++) {
			if (base + bi < fs_sb.s_datastart)
				continue;
			if ((bp->b_data[bi / 8] & (1 << (bi % 8))) == 0) {
				bp->b_data[bi / 8] |= 1 << (bi % 8);
				log_write(bp);
				brelse(bp);
				bno = base + bi;
				bzero(dev, bno);
				return bno;
			}
		}
		brelse(bp);
	}
	return 0;
}

// Mark block bno free. Caller is inside a transaction. Sleeps.
static void bfree(uint dev, uint bno)
{
	struct buf *bp = bread(dev, BBLOCK(bno, fs_sb));
	uint bi = bno % BPB;

	if (bno < fs_sb.s_datastart || bno >= fs_sb.s_size ||
	    (bp->b_data[bi / 8] & (1 << (bi % 8))) == 0)
		panic("bfree: block %u is not an allocated data block", bno);
	bp->b_data[bi / 8] &= ~(1 << (bi % 8));
	log_write(bp);
	brelse(bp);
}

// ---- the inode table ------------------------------------------------------

void iinit(void)
{
	struct inode *ip;

	initlock(&itable.lock, "itable");
	for (ip = itable.inode; ip < itable.inode + NINODE; ip++)
		initsleeplock(&ip->i_lock, "inode");
}

// Find the table entry for (dev, inum), or claim a free one for it, and
// take a reference. Returns it unlocked and not necessarily loaded, or NULL
// if all NINODE entries are in use. Does not sleep (no disk I/O).
struct inode *iget(uint dev, uint inum)
{
	struct inode *ip, *empty = NULL;

	acquire(&itable.lock);
	for (ip = itable.inode; ip < itable.inode + NINODE; ip++) {
		if (ip->i_ref > 0 && ip->i_dev == dev && ip->i_inum == inum) {
			ip->i_ref++;
			release(&itable.lock);
			return ip;
		}
		if (empty == NULL && ip->i_ref == 0)
			empty = ip;
	}
	if (empty != NULL) {
		empty->i_dev = dev;
		empty->i_inum = inum;
		empty->i_ref = 1;
		empty->i_valid = false;  // no holder yet: nobody else looks
	}
	release(&itable.lock);
	return empty;
}

// sysctl fs.inodes_in_use: inode table entries with references (of
// NINODE). Read-only.
static int sysctl_inodes_in_use(struct sysctl_oid *oid, int64 *val, bool write)
{
	struct inode *ip;

	*val = 0;
	acquire(&itable.lock);
	for (ip = itable.inode; ip < itable.inode + NINODE; ip++)
		*val += ip->i_ref > 0;
	release(&itable.lock);
	return 0;
}
SYSCTL_PROC(fs_inodes_in_use, "fs.inodes_in_use", SYSCTL_RD,
	    sysctl_inodes_in_use, "in-memory inodes with references (of NINODE)");

// Take another reference to ip (fork's cwd, dup'd open files). Returns ip.
struct inode *idup(struct inode *ip)
{
	acquire(&itable.lock);
	ip->i_ref++;
	release(&itable.lock);
	return ip;
}

// Lock ip, reading its dinode from disk on first use. Sleeps.
void ilock(struct inode *ip)
{
	struct buf *bp;
	struct dinode *dip;

	KASSERT(ip != NULL && ip->i_ref > 0);
	acquiresleep(&ip->i_lock);
	if (ip->i_valid)
		return;
	bp = bread(ip->i_dev, IBLOCK(ip->i_inum, fs_sb));
	dip = (struct dinode *)bp->b_data + ip->i_inum % IPB;
	ip->i_type = dip->di_type;
	ip->i_major = dip->di_major;
	ip->i_minor = dip->di_minor;
	ip->i_nlink = dip->di_nlink;
	ip->i_size = dip->di_size;
	memmove(ip->i_addrs, dip->di_addrs, sizeof(ip->i_addrs));
	brelse(bp);
	ip->i_valid = true;
	// A referenced inode is always allocated on a consistent disk: a
	// directory entry or an open file names it.
	if (ip->i_type == 0)
		panic("ilock: inode %u is free (disk corrupt? run fsck)",
		      ip->i_inum);
}

void iunlock(struct inode *ip)
{
	KASSERT(ip != NULL && ip->i_ref > 0);
	KASSERT(holdingsleep(&ip->i_lock));
	releasesleep(&ip->i_lock);
}

// Short for the common pair.
void iunlockput(struct inode *ip)
{
	iunlock(ip);
	iput(ip);
}

// The caller's inode type (T_DIR, T_FILE, T_DEVICE). Caller holds ip's lock.
short itype(struct inode *ip)
{
	KASSERT(holdingsleep(&ip->i_lock));
	return ip->i_type;
}

// Copy the in-memory dinode fields of ip to disk (through the log).
// Caller holds ip's lock and is inside a transaction. Sleeps.
void iupdate(struct inode *ip)
{
	struct buf *bp;
	struct dinode *dip;

	KASSERT(holdingsleep(&ip->i_lock));
	bp = bread(ip->i_dev, IBLOCK(ip->i_inum, fs_sb));
	dip = (struct dinode *)bp->b_data + ip->i_inum % IPB;
	dip->di_type = ip->i_type;
	dip->di_major = ip->i_major;
	dip->di_minor = ip->i_minor;
	dip->di_nlink = ip->i_nlink;
	dip->di_size = ip->i_size;
	memmove(dip->di_addrs, ip->i_addrs, sizeof(ip->i_addrs));
	log_write(bp);
	brelse(bp);
}

// Drop a reference to ip (not locked by the caller). If it was the last
// one and no directory names the inode, free its blocks and the dinode.
// May sleep and write the disk: call inside a transaction.
void iput(struct inode *ip)
{
	acquire(&itable.lock);
	KASSERT(ip->i_ref > 0);
	if (ip->i_ref == 1 && ip->i_valid && ip->i_nlink == 0) {
		// Nobody else has a reference, so nobody holds i_lock and
		// nobody can iget() it (no directory names it): the lock
		// below does not block.
		release(&itable.lock);
		acquiresleep(&ip->i_lock);
		itrunc(ip);
		ip->i_type = 0;
		iupdate(ip);
		ip->i_valid = false;
		releasesleep(&ip->i_lock);
		acquire(&itable.lock);
	}
	ip->i_ref--;
	release(&itable.lock);
}

// Claim inode inum, free on disk (its dinode is dip, in the locked buffer
// bp): take an inode table entry, then mark the dinode allocated. Returns
// 0 and the inode, or -ENFILE with the disk untouched.
static int ialloc_claim(struct buf *bp, struct dinode *dip, uint inum,
			short type, struct inode **ipp)
{
	struct inode *ip = iget(bp->b_dev, inum);

	if (ip == NULL)
		return -ENFILE;
	memset(dip, 0, sizeof(*dip));
	dip->di_type = type;
	log_write(bp);
	*ipp = ip;
	return 0;
}

// Allocate a free dinode of the given type on dev and return a referenced,
// unlocked inode for it in *ipp. Returns 0, -ENOSPC (no free dinode) or
// -ENFILE (inode table full; the disk is not changed). Caller is inside a
// transaction. Sleeps.
int ialloc(uint dev, short type, struct inode **ipp)
{
	struct buf *bp;
	struct dinode *dip;
	uint inum, i;
	int err;

	for (inum = 0; inum < fs_sb.s_ninodes; inum += IPB) {
		// One bread() per inode block; inode 0 is never used.
		bp = bread(dev, IBLOCK(inum, fs_sb));
		for (i = inum == 0 ? 1 : 0;
		     i < IPB && inum + i < fs_sb.s_ninodes; i++) {
			dip = (struct dinode *)bp->b_data + i;
			if (dip->di_type == 0) {
				err = ialloc_claim(bp, dip, inum + i, type, ipp);
				brelse(bp);
				return err;
			}
		}
		brelse(bp);
	}
	return -ENOSPC;
}

// ---- contents -------------------------------------------------------------

// Return the address in slot idx of the indirect block ind, allocating a
// block for the slot if it is empty and alloc is set. 0: none (a hole, or
// the disk is full). Caller holds ip's lock (inside a transaction if
// alloc). Sleeps.
static uint ind_slot(struct inode *ip, uint ind, uint idx, bool alloc)
{
	struct buf *bp = bread(ip->i_dev, ind);
	uint32 *a = (uint32 *)bp->b_data;
	uint addr = a[idx];

	if (addr == 0 && alloc) {
		addr = balloc(ip->i_dev);
		if (addr != 0) {
			a[idx] = addr;
			log_write(bp);
		}
	}
	brelse(bp);
	return addr;
}

// As ind_slot() for slot idx of ip->i_addrs[]; the caller writes the
// inode back (iupdate) after allocating.
static uint inode_slot(struct inode *ip, uint idx, bool alloc)
{
	if (ip->i_addrs[idx] == 0 && alloc)
		ip->i_addrs[idx] = balloc(ip->i_dev);
	return ip->i_addrs[idx];
}

// Disk address of block bn of ip; with alloc, allocate missing blocks
// (and the indirect blocks that lead to them). Returns 0 for a hole, or if
// the disk is full. bn < MAXFILE. Caller holds ip's lock. Sleeps.
static uint bmap(struct inode *ip, uint bn, bool alloc)
{
	uint ind;

	KASSERT(bn < MAXFILE);
	if (bn < NDIRECT)
		return inode_slot(ip, bn, alloc);
	bn -= NDIRECT;
	if (bn < NINDIRECT) {
		ind = inode_slot(ip, IND_SLOT, alloc);
		return ind ? ind_slot(ip, ind, bn, alloc) : 0;
	}
	bn -= NINDIRECT;
	ind = inode_slot(ip, DIND_SLOT, alloc);
	if (ind != 0)
		ind = ind_slot(ip, ind, bn / NINDIRECT, alloc);
	return ind ? ind_slot(ip, ind, bn % NINDIRECT, alloc) : 0;
}

// Free block addr and, for depth > 0, the tree of blocks it points to
// (depth 1: an indirect block, 2: doubly-indirect). The addresses are
// copied out first, so at most one buffer is held at a time.
static void free_tree(struct inode *ip, uint addr, int depth)
{
	uint32 a[NINDIRECT];
	struct buf *bp;
	uint i;

	if (addr == 0)
		return;
	if (depth > 0) {
		bp = bread(ip->i_dev, addr);
		memmove(a, bp->b_data, sizeof(a));
		brelse(bp);
		for (i = 0; i < NINDIRECT; i++)
			free_tree(ip, a[i], depth - 1);
	}
	bfree(ip->i_dev, addr);
}

// Free all of ip's blocks and set its size to 0. Caller holds ip's lock and
// is inside a transaction. Only the bitmap blocks and the inode block are
// written, so the transaction stays small for any file size. Sleeps.
void itrunc(struct inode *ip)
{
	uint i;

	KASSERT(holdingsleep(&ip->i_lock));
	for (i = 0; i < NDIRECT; i++)
		free_tree(ip, ip->i_addrs[i], 0);
	free_tree(ip, ip->i_addrs[IND_SLOT], 1);
	free_tree(ip, ip->i_addrs[DIND_SLOT], 2);
	memset(ip->i_addrs, 0, sizeof(ip->i_addrs));
	ip->i_size = 0;
	iupdate(ip);
}

// Fill *st from ip. Caller holds ip's lock.
void stati(struct inode *ip, struct stat *st)
{
	KASSERT(holdingsleep(&ip->i_lock));
	st->dev = ip->i_dev;
	st->ino = ip->i_inum;
	st->type = ip->i_type;
	st->nlink = ip->i_nlink;
	st->size = ip->i_size;
}

// Read up to n bytes at offset off of ip into dst (a user address in the
// current process if user_dst, else a kernel address). Returns the bytes
// read (0 at or past the end of the file), or -EFAULT if nothing could be
// copied. Caller holds ip's lock. Sleeps.
int readi(struct inode *ip, bool user_dst, uint64 dst, uint off, uint n)
{
	struct buf *bp;
	uint tot, m, addr;
	int err;

	KASSERT(holdingsleep(&ip->i_lock));
	if (off >= ip->i_size)
		return 0;
	n = MIN(n, ip->i_size - off);
	n = MIN(n, (uint)1 << 30);   // keep the count representable as int
	for (tot = 0; tot < n; tot += m, off += m, dst += m) {
		m = MIN(n - tot, BSIZE - off % BSIZE);
		addr = bmap(ip, off / BSIZE, false);
		if (addr == 0) {
			err = either_copyout(user_dst, dst, zeroblock, m);
		} else {
			bp = bread(ip->i_dev, addr);
			err = either_copyout(user_dst, dst,
					     bp->b_data + off % BSIZE, m);
			brelse(bp);
		}
		if (err < 0)
			return tot > 0 ? (int)tot : err;
	}
	return tot;
}

// Write n bytes from src (user address if user_src) at offset off of ip,
// allocating blocks as needed; writing past the end leaves a hole. Returns
// the bytes written, or -EFBIG (off at the maximum file size), -ENOSPC
// (disk full) or -EFAULT when nothing was written. The caller keeps the
// number of blocks touched within its transaction (see filewrite). Caller
// holds ip's lock and is inside a transaction. Sleeps.
int writei(struct inode *ip, bool user_src, uint64 src, uint off, uint n)
{
	struct buf *bp;
	uint tot, m, addr;
	int err = 0;

	KASSERT(holdingsleep(&ip->i_lock));
	if (off >= MAXFILESIZE)
		return -EFBIG;
	n = MIN(n, MAXFILESIZE - off);
	for (tot = 0; tot < n; tot += m, off += m, src += m) {
		m = MIN(n - tot, BSIZE - off % BSIZE);
		addr = bmap(ip, off / BSIZE, true);
		if (addr == 0) {
			err = -ENOSPC;
			break;
		}
		// A whole block is overwritten: no need to read it first.
		if (m == BSIZE)
			bp = bclaim(ip->i_dev, addr);
		else
			bp = bread(ip->i_dev, addr);
		err = either_copyin(bp->b_data + off % BSIZE, user_src, src, m);
		// Log the buffer even after a failed copy: it may be partly
		// changed, and the cache must not hold changes the log does
		// not know about.
		log_write(bp);
		brelse(bp);
		if (err < 0)
			break;
	}
	if (off > ip->i_size)
		ip->i_size = off;
	// Write the inode back even if the size did not change: bmap() may
	// have stored new block addresses in i_addrs[].
	iupdate(ip);
	return tot > 0 ? (int)tot : err;
}
