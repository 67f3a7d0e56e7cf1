// PCQ: a lock-free multi-producer, single-consumer queue of pointers on
// one atomic word (NetBSD fast demux). Design essay, the states of a
// slot and the memory-ordering argument: the header of net/pcq.c; lab
// handout: docs/pcq.md.
//
// Contract:
//   - Any number of threads may call pcq_put at once, from any context
//     (it never sleeps, never takes a lock, never allocates).
//   - Exactly one thread at a time may call pcq_get / pcq_peek: the caller
//     must provide that exclusion (UDP: whoever holds so_rcv.sb_lock).
//   - Items are non-NULL pointers (NULL is the "not yet published" mark).
//   - FIFO per producer: two puts by one thread come out in that order.
//     Between producers the order is the order of their reservations.
//
// Lock legend (kernel/lock.h): [a] atomic, [i] set at create.
#pragma once
#include "net/shim.h"

#define PCQ_MAXITEMS 4096
// The slots live in chunks of at most one page each (net_malloc's largest
// object), so every size up to PCQ_MAXITEMS can be allocated.
#define PCQ_CHUNK 512   // slots per chunk: 512 pointers = 4096 bytes
#define PCQ_MAXCHUNKS ((PCQ_MAXITEMS + 1 + PCQ_CHUNK - 1) / PCQ_CHUNK)

struct pcq {
	uint64 pcq_pc;          // [a] producer index << 32 | consumer index
	uint32 pcq_nslots;      // [i] capacity + 1 (one slot is always free)
	uint64 pcq_full;        // [a] puts refused because the queue was full
	// [i] slot s is pcq_chunk[s / PCQ_CHUNK][s % PCQ_CHUNK]; each slot [a]:
	// NULL = free or reserved-not-published.
	void **pcq_chunk[PCQ_MAXCHUNKS];
};

// The address of slot s of q (s < pcq_nslots).
static inline void **pcq_slot(struct pcq *q, uint32 s)
{
	return &q->pcq_chunk[s / PCQ_CHUNK][s % PCQ_CHUNK];
}

// A queue that holds up to maxitems items (1..PCQ_MAXITEMS), or NULL (no
// memory, bad size). Any thread; does not sleep.
struct pcq *pcq_create(uint32 maxitems);
// Free q, which must be empty and have no producer left (the caller
// guarantees it: UDP unlinks the pcb under the table lock first).
void pcq_destroy(struct pcq *q);

// Producer: add item (non-NULL). true, or false if the queue is full
// (counted in pcq_full; the caller still owns item). Lock-free.
bool pcq_put(struct pcq *q, void *item);
// Consumer: remove and return the oldest published item, or NULL if the
// queue is empty OR its oldest slot is reserved but not yet published (a
// producer is between its reservation and its store: the item will be
// there soon, and that producer will do its own wakeup).
void *pcq_get(struct pcq *q);
// Consumer: the item pcq_get would return, without removing it.
void *pcq_peek(struct pcq *q);
// Slots in use (reserved or published): a snapshot, exact only if no
// producer runs. Any thread.
uint32 pcq_count(struct pcq *q);
uint32 pcq_maxitems(struct pcq *q);
