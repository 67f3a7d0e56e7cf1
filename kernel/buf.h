// The buffer cache: in-memory copies of disk blocks (see bio.c).
//
// A struct buf holds one block. Its identity (b_dev, b_blockno) and its
// place in the LRU list belong to the cache and are guarded by the cache's
// spinlock; its contents belong to whoever holds b_lock, the buffer's
// sleeplock, which bread() takes and brelse() gives back. b_disk is the
// handshake with the virtio driver: set while a request for the buffer is
// in flight, cleared by the interrupt handler.
#pragma once
#include "kernel/types.h"
#include "kernel/lock.h"
#include "kernel/fsformat.h"

struct buf {
	struct sleeplock b_lock;  // owner of b_valid and b_data
	bool b_valid;             // [S] b_data holds the block's contents
	bool b_disk;              // [s] disk.lock: request in flight
	uint b_dev;               // [s] bcache.lock
	uint b_blockno;           // [s] bcache.lock
	uint b_refcnt;            // [s] bcache.lock: holders + log pins
	struct buf *b_prev;       // [s] bcache.lock: LRU list, most recent first
	struct buf *b_next;       // [s] bcache.lock
	uint8 b_data[BSIZE];      // [S]
};

void binit(void);
struct buf *bread(uint dev, uint blockno);
struct buf *bclaim(uint dev, uint blockno);  // no read: caller overwrites it all
void bwrite(struct buf *b);
void brelse(struct buf *b);
void bpin(struct buf *b);
void bunpin(struct buf *b);

// drivers/virtio_disk.c: read (write == false) or write b synchronously.
// Caller holds b->b_lock; sleeps until the device is done.
void virtio_disk_rw(struct buf *b, bool write);
