// Buffer cache: a fixed set of NBUF block buffers between the file system
// and the disk driver.
//
// Problem: the disk is slow, and two processes touching the same block must
// see one copy of it, not two that overwrite each other.
//
// Idea: every block in use lives in exactly one struct buf. bread() finds
// or loads it and returns it locked (its sleeplock held), so only one
// thread at a time reads or changes a block's contents; brelse() unlocks
// it and moves it to the front of an LRU list. A buffer nobody holds
// (b_refcnt == 0) may be recycled for another block, least recently used
// first.
//
// Invariants:
//   - at most one buffer has a given (dev, blockno) while its refcnt > 0
//     or it is valid;
//   - b_refcnt counts bread()s not yet brelse()d plus pins by the log
//     (log.c pins a block so it stays cached until it is installed).
//
// Locking: bcache.lock (spinlock) guards the LRU list, b_dev, b_blockno and
// b_refcnt; each buffer's b_lock (sleeplock) guards b_valid and b_data.
// Order: b_lock is a sleeplock and is taken after bcache.lock is dropped.
//
// Races:
//   - two processes bread() the same uncached block: bget() assigns the
//     identity under bcache.lock, so the second finds the first's buffer
//     and waits on its sleeplock; b_valid tells it whether to read.
//   - all buffers busy: bget() sleeps on &bcache until a brelse() or a log
//     unpin drops some buffer's refcnt to 0 (instead of panicking). They
//     call wakeup() only when nwaiting says someone sleeps: wakeup() scans
//     the process table, and brelse() is the hottest call in the FS.
//
// Life of a block: fs.c bread() -> bget() -> virtio_disk_rw() if not valid
// -> caller reads/changes b_data -> log_write() (log.c) -> brelse().
//
// Testing: usertests (every file test goes through here); gdb: break bget.
// References: xv6-riscv bio.c (the model for this design).
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/lock.h"
#include "kernel/proc.h"
#include "kernel/printf.h"
#include "kernel/string.h"
#include "kernel/buf.h"

static struct {
	struct spinlock lock;
	struct buf buf[NBUF];
	// Circular LRU list through b_prev/b_next: head.b_next is the most
	// recently used buffer, head.b_prev the least.
	struct buf head;        // [s] lock
	int nwaiting;           // [s] lock: threads asleep in bget()
} bcache;

void binit(void)
{
	struct buf *b;

	initlock(&bcache.lock, "bcache");
	bcache.head.b_prev = &bcache.head;
	bcache.head.b_next = &bcache.head;
	for (b = bcache.buf; b < bcache.buf + NBUF; b++) {
		initsleeplock(&b->b_lock, "buffer");
		b->b_next = bcache.head.b_next;
		b->b_prev = &bcache.head;
		bcache.head.b_next->b_prev = b;
		bcache.head.b_next = b;
	}
}

// Find the cached buffer for (dev, blockno), or recycle the least recently
// used free buffer for it. Returns it locked, valid or not. Sleeps while
// every buffer is in use and while another thread holds the buffer.
static struct buf *bget(uint dev, uint blockno)
{
	struct buf *b;

	acquire(&bcache.lock);
	for (;;) {
		for (b = bcache.head.b_next; b != &bcache.head; b = b->b_next) {
			if (b->b_dev == dev && b->b_blockno == blockno) {
				b->b_refcnt++;
				goto found;
			}
		}
		for (b = bcache.head.b_prev; b != &bcache.head; b = b->b_prev) {
			if (b->b_refcnt == 0) {
				b->b_dev = dev;
				b->b_blockno = blockno;
				b->b_valid = false;  // no holder: nobody else looks at it
				b->b_refcnt = 1;
				goto found;
			}
		}
		// Every buffer is held or pinned; wait for brelse()/bunpin().
		bcache.nwaiting++;
		sleep(&bcache, &bcache.lock);
		bcache.nwaiting--;
	}
found:
	release(&bcache.lock);
	acquiresleep(&b->b_lock);
	return b;
}

// Return a locked buffer with the contents of block blockno. May sleep.
// The caller owns the buffer until brelse().
struct buf *bread(uint dev, uint blockno)
{
	struct buf *b = bget(dev, blockno);

	if (!b->b_valid) {
		virtio_disk_rw(b, false);
		b->b_valid = true;
	}
	return b;
}

// As bread(), for a caller that overwrites all BSIZE bytes: a block that
// is not cached comes back zeroed instead of being read from the disk.
// May sleep.
struct buf *bclaim(uint dev, uint blockno)
{
	struct buf *b = bget(dev, blockno);

	if (!b->b_valid) {
		memset(b->b_data, 0, BSIZE);
		b->b_valid = true;
	}
	return b;
}

// Write b's contents to disk now, waiting for the device. Caller holds
// b->b_lock. May sleep. Only the log (log.c) writes home blocks; the rest
// of the file system goes through log_write().
void bwrite(struct buf *b)
{
	KASSERT(holdingsleep(&b->b_lock));
	virtio_disk_rw(b, true);
}

// Drop a reference to a locked buffer (the caller's) and unlock it.
// Afterwards the caller must not touch b.
void brelse(struct buf *b)
{
	KASSERT(holdingsleep(&b->b_lock));
	releasesleep(&b->b_lock);

	acquire(&bcache.lock);
	b->b_refcnt--;
	if (b->b_refcnt == 0) {
		// Move to the front: most recently used.
		b->b_next->b_prev = b->b_prev;
		b->b_prev->b_next = b->b_next;
		b->b_next = bcache.head.b_next;
		b->b_prev = &bcache.head;
		bcache.head.b_next->b_prev = b;
		bcache.head.b_next = b;
		if (bcache.nwaiting > 0)
			wakeup(&bcache);
	}
	release(&bcache.lock);
}

// Keep b in the cache (not recyclable) until bunpin(): used by the log for
// blocks changed by the running transaction. Does not sleep.
void bpin(struct buf *b)
{
	acquire(&bcache.lock);
	b->b_refcnt++;
	release(&bcache.lock);
}

void bunpin(struct buf *b)
{
	acquire(&bcache.lock);
	KASSERT(b->b_refcnt > 0);
	b->b_refcnt--;
	if (b->b_refcnt == 0 && bcache.nwaiting > 0)
		wakeup(&bcache);
	release(&bcache.lock);
}
