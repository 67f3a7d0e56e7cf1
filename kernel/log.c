// Write-ahead log: make each file-system system call atomic with respect
// to crashes, and let several of them share one commit (group commit).
//
// Problem: creating a file changes the bitmap, an inode and a directory
// block. If the machine dies after some of these writes and before the
// others, the disk is inconsistent (a block marked used that nobody owns,
// a directory entry naming a free inode).
//
// Idea: a system call brackets its changes with begin_op()/end_op() and
// calls log_write() instead of bwrite(). Nothing goes to its home location
// yet: the changed blocks stay pinned in the buffer cache. When the last
// call of the transaction ends, commit() writes
//   1. the changed blocks into the log area,
//   2. the log header with their count and home addresses (the commit
//      point: one block write, atomic),
//   3. each block to its home location (install),
//   4. the header again with count 0.
// A crash before 2 leaves the old state (header count 0); a crash after 2
// is repaired at boot by recover(), which repeats step 3 and 4. Either way
// every transaction is all or nothing.
//
// Group commit: calls that overlap in time join the running transaction.
// begin_op() admits a call only if the log has room for the worst case of
// every admitted call (MAXOPBLOCKS each), and not while a commit runs.
// A block changed twice in one transaction takes one log slot (absorption).
//
// The buffer cache must hold all logged blocks (they are pinned) plus the
// buffers the running calls hold, or calls would wait in bget() for each
// other forever. So begin_op() also checks that the cache can take the
// worst case: MAXOPBLOCKS pinned and OP_HELD_BUFS more held per call, and
// BCACHE_SPARE left for readers outside transactions and for commit().
// With NBUF == LOGSIZE this allows two calls per transaction, not three.
//
// Invariants:
//   - l_lh.lh_n + l_outstanding * MAXOPBLOCKS <= LOGSIZE while calls run,
//     and the same with MAXOPBLOCKS + OP_HELD_BUFS against NBUF;
//   - every block named in l_lh is pinned in the buffer cache until it is
//     installed, so the cache holds its newest contents;
//   - l_committing is true only in the thread running commit(); no call is
//     admitted meanwhile, so the header does not change under it.
//
// Locking: l_lock (spinlock) guards l_outstanding, l_committing and l_lh.
// commit() runs without l_lock held (it sleeps on the disk); l_committing
// keeps everyone else out. Lock order: the log comes before inodes and
// buffers (kernel/lock.h).
//
// Races:
//   - a call wants to start while the log is nearly full: it sleeps on
//     &l_log in begin_op() until end_op() commits or another call ends.
//   - the last end_op() and a new begin_op() at the same time: the new call
//     sees l_committing and waits for the commit's wakeup.
//
// Life of a system call: sys_unlink -> begin_op -> ... -> log_write(bitmap
// buf) ... -> end_op -> (last one out) commit -> write_log -> write_head ->
// install_trans -> write_head.
//
// Testing: usertests (concurrent creates/writes); the crash test kills
// QEMU during writes, reboots (recover() runs in fsinit) and runs
// mkfs/fsck on the image. gdb: break commit, break recover.
// References: xv6-riscv log.c; Hagmann, "Reimplementing the Cedar File
// System Using Logging and Group Commit", SOSP 1987.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/lock.h"
#include "kernel/proc.h"
#include "kernel/printf.h"
#include "kernel/string.h"
#include "kernel/buf.h"
#include "kernel/fs.h"
#include "kernel/log.h"

// Unpinned buffers a call holds at once: bmap() holds an indirect block
// while balloc() holds a bitmap block or bzero() the new block.
#define OP_HELD_BUFS 2
// Buffers left for threads outside transactions (each holds one at a
// time) and for commit() (a log block besides the pinned ones).
#define BCACHE_SPARE 2
_Static_assert(MAXOPBLOCKS + OP_HELD_BUFS + BCACHE_SPARE <= NBUF,
	       "NBUF too small for even one file-system call");

static struct {
	struct spinlock l_lock;
	uint l_dev;             // [i]
	uint l_start;           // [i] block number of the log header
	uint l_size;            // [i] log blocks, header included
	int l_outstanding;      // [s] calls inside begin_op/end_op
	bool l_committing;      // [s] commit() is running
	struct logheader l_lh;  // [s] the running transaction's blocks
} l_log;

static void recover(void);

// Set up the log from the superblock and replay a committed transaction
// left by a crash. Called once, by fsinit() in the first process; sleeps.
void initlog(uint dev, const struct superblock *sb)
{
	initlock(&l_log.l_lock, "log");
	l_log.l_dev = dev;
	l_log.l_start = sb->s_logstart;
	l_log.l_size = sb->s_nlog;
	if (l_log.l_size < 2 || l_log.l_size - 1 > LOGSIZE)
		panic("initlog: log of %u blocks does not match LOGSIZE %d",
		      l_log.l_size, LOGSIZE);
	recover();
}

// Copy each logged block from the log area to its home location.
// from_log: recovery, where the cache does not hold the blocks and the log
// area does; otherwise (commit) the pinned cached copies are the newest,
// so write those and unpin them. Sleeps.
static void install_trans(bool from_log)
{
	struct buf *lbuf, *dbuf;
	uint i;

	for (i = 0; i < l_log.l_lh.lh_n; i++) {
		if (from_log) {
			// The home block is overwritten whole: don't read it.
			dbuf = bclaim(l_log.l_dev, l_log.l_lh.lh_block[i]);
			lbuf = bread(l_log.l_dev, l_log.l_start + 1 + i);
			memmove(dbuf->b_data, lbuf->b_data, BSIZE);
			brelse(lbuf);
		} else {
			dbuf = bread(l_log.l_dev, l_log.l_lh.lh_block[i]);
		}
		bwrite(dbuf);
		if (!from_log)
			bunpin(dbuf);
		brelse(dbuf);
	}
}

// Read the on-disk log header into l_log.l_lh. Sleeps.
static void read_head(void)
{
	struct buf *b = bread(l_log.l_dev, l_log.l_start);

	memmove(&l_log.l_lh, b->b_data, sizeof(l_log.l_lh));
	brelse(b);
	if (l_log.l_lh.lh_n > l_log.l_size - 1)
		panic("log: header claims %u blocks, log holds %u",
		      l_log.l_lh.lh_n, l_log.l_size - 1);
}

// Write l_log.l_lh to the on-disk header. When lh_n > 0 this is the commit
// point of the transaction. Sleeps.
static void write_head(void)
{
	struct buf *b = bclaim(l_log.l_dev, l_log.l_start);

	memset(b->b_data, 0, BSIZE);
	memmove(b->b_data, &l_log.l_lh, sizeof(l_log.l_lh));
	bwrite(b);
	brelse(b);
}

static void recover(void)
{
	read_head();
	if (l_log.l_lh.lh_n > 0)
		printf("log: recovering a transaction of %u blocks\n",
		       l_log.l_lh.lh_n);
	install_trans(true);
	l_log.l_lh.lh_n = 0;
	write_head();
}

// Can the log and the buffer cache take one more call's worst case?
// Caller holds l_lock.
static bool log_has_room(void)
{
	uint ncalls = l_log.l_outstanding + 1;

	return l_log.l_lh.lh_n + ncalls * MAXOPBLOCKS <= LOGSIZE &&
	       l_log.l_lh.lh_n + ncalls * (MAXOPBLOCKS + OP_HELD_BUFS) +
	       BCACHE_SPARE <= NBUF;
}

// Start a file-system system call: wait until the log can take this call's
// worst case and no commit is running. Sleeps. Must not be called while
// holding an inode or buffer lock (lock order: log first).
void begin_op(void)
{
	acquire(&l_log.l_lock);
	// Wait for the running commit, or for one that makes room.
	while (l_log.l_committing || !log_has_room())
		sleep(&l_log, &l_log.l_lock);
	l_log.l_outstanding++;
	release(&l_log.l_lock);
}

// Copy the transaction's blocks from the cache into the log area. Sleeps.
static void write_log(void)
{
	struct buf *to, *from;
	uint i;

	for (i = 0; i < l_log.l_lh.lh_n; i++) {
		to = bclaim(l_log.l_dev, l_log.l_start + 1 + i);
		from = bread(l_log.l_dev, l_log.l_lh.lh_block[i]);
		memmove(to->b_data, from->b_data, BSIZE);
		bwrite(to);
		brelse(from);
		brelse(to);
	}
}

// Commit the current transaction (steps 1-4 in the header comment).
// Caller set l_committing, so nobody else touches l_lh. Sleeps.
static void commit(void)
{
	if (l_log.l_lh.lh_n == 0)
		return;
	write_log();
	write_head();          // commit point
	install_trans(false);
	l_log.l_lh.lh_n = 0;
	write_head();          // the transaction is installed: forget it
}

// End a file-system system call. The last call of a transaction commits it
// (in this thread, sleeping on the disk) and then lets waiting calls in.
void end_op(void)
{
	bool do_commit = false;

	acquire(&l_log.l_lock);
	KASSERT(l_log.l_outstanding > 0);
	KASSERT(!l_log.l_committing);
	l_log.l_outstanding--;
	if (l_log.l_outstanding == 0) {
		do_commit = true;
		l_log.l_committing = true;
	} else {
		// This call's reserved space is free again: begin_op() may
		// admit a waiting call.
		wakeup(&l_log);
	}
	release(&l_log.l_lock);

	if (!do_commit)
		return;
	commit();
	acquire(&l_log.l_lock);
	l_log.l_committing = false;
	wakeup(&l_log);
	release(&l_log.l_lock);
}

// Note that b (locked by the caller) was changed in the current
// transaction. The block keeps its place in the cache (pinned) until
// commit() installs it. Does not sleep.
void log_write(struct buf *b)
{
	uint i;

	KASSERT(holdingsleep(&b->b_lock));
	acquire(&l_log.l_lock);
	KASSERT(l_log.l_outstanding > 0);   // inside begin_op/end_op
	for (i = 0; i < l_log.l_lh.lh_n; i++) {
		if (l_log.l_lh.lh_block[i] == b->b_blockno)
			break;      // absorption: already logged
	}
	if (i == l_log.l_lh.lh_n) {
		// A call that writes more than MAXOPBLOCKS blocks is a kernel
		// bug: the admission check in begin_op() relies on the bound.
		if (i >= LOGSIZE || i >= l_log.l_size - 1)
			panic("log_write: transaction too big");
		l_log.l_lh.lh_block[i] = b->b_blockno;
		l_log.l_lh.lh_n++;
		bpin(b);
	}
	release(&l_log.l_lock);
}
