// PCQ: a lock-free multi-producer, single-consumer queue (NetBSD fast demux).
//
// Problem: UDP input runs in every netisr at once (a socket bound to a
// port receives flows that hash to any CPU). If each of them had to take
// the socket-buffer lock to append a datagram, the netisrs would queue up
// behind each other and behind the reader, who holds that lock while it
// copies data out to user space. Demultiplexing must not wait for a user.
//
// Idea (NetBSD's pcq(9) proposal, written anew): a ring of pointer slots
// and ONE 64-bit atomic word that holds both indices, producer in the high
// half, consumer in the low half. A producer reserves a slot by a single
// compare-and-swap that advances the producer half, then stores its
// pointer into the slot it reserved. The single consumer takes the slot at
// its index if the pointer is there, clears the slot, and advances the
// consumer half (a CAS too, because producers change the other half of
// the same word concurrently). Full: advancing the producer would make it
// equal to the consumer (one slot always stays free, so "p == c" means
// empty without a separate count).
//
// The slots are an array split into page-sized chunks (pcq_slot(q, s)), so
// that a queue of any size the sysctl accepts can be allocated by a
// page-at-most allocator; the chunks never move, so this changes nothing
// below.
//
// The states of a slot s (p, c = the two halves of pcq_pc):
//   FREE        s outside [c, p)             items[s] == NULL
//   RESERVED    s in [c, p), not yet stored  items[s] == NULL   <- real!
//   PUBLISHED   s in [c, p), stored          items[s] == item
// RESERVED is not a transient detail that can be ignored: a producer may
// be interrupted (or just slow) between its CAS and its store, and then
// the consumer finds the oldest slot reserved while newer slots are
// already published. It must stop there (FIFO) and report "empty for
// now"; it must not sleep on that belief unless it has arranged to be
// woken by the producer that publishes (net/udp.c: each producer checks
// for a sleeping reader after its own store -- "wakeup after publish").
//
// Invariants:
//   I1 Only pcq_put moves the producer half; only pcq_get moves the
//      consumer half. Each moves forward by one slot per call.
//   I2 A slot outside [c, p) holds NULL (the consumer clears it before
//      advancing c past it).
//   I3 A producer writes only the slot it reserved, exactly once.
//   I4 Capacity: at most nslots - 1 slots in [c, p).
//
// Memory ordering (every choice, and why):
//   put, CAS on pcq_pc: success ACQUIRE. The slot we reserve was last
//     cleared by the consumer (I2) before its releasing CAS moved c past
//     it. Our CAS reads that value of the word (or a later one in its
//     release sequence: other CASes on the word are RMWs, which continue
//     it), so ACQUIRE makes the consumer's NULL store happen-before our
//     item store: the two stores to the slot cannot be reordered and the
//     item is never overwritten by a late NULL. Failure RELAXED: we only
//     retry with the value we got.
//   put, store of the item: RELEASE. Whoever loads the pointer (ACQUIRE)
//     sees everything the producer wrote into the item before (the mbuf
//     chain, the sender's address).
//   get/peek, load of pcq_pc: ACQUIRE (cheap, and keeps the reasoning
//     local); correctness does not depend on it: the pointer is what
//     carries the data, and a reserved slot reads as NULL.
//   get/peek, load of the slot: ACQUIRE, pairs with the RELEASE above.
//   get, clearing the slot: RELAXED store; ordered before the next CAS by
//     that CAS's RELEASE.
//   get, CAS on pcq_pc advancing c: success RELEASE (publishes the NULL
//     store to the producer that will reserve the slot next, see above).
//   pcq_full: RELAXED, a statistic.
// A producer that must then wake the consumer adds a sequentially
// consistent fence between its publish and its look at the reader's
// "sleeping" flag; the reader does the mirror image (net/sockbuf.c
// sbwait). That Dekker pair is outside the queue on purpose: the queue
// itself never blocks.
//
// Locking: none inside. The caller provides the single consumer (UDP:
// so_rcv.sb_lock holder) and keeps q alive while producers may run (UDP:
// producers hold the pcb table lock; pcb detach unlinks under it before
// pcq_destroy).
//
// Races (named, and where handled):
//   - "two producers, one slot": the CAS; the loser retries with the new
//     word.
//   - "consumer advances while a producer CASes": the producer's CAS fails
//     (the word changed) and it retries; it never loses a reservation.
//   - "reserved but not published": pcq_get returns NULL (see above).
//   - "slot reused before cleared": impossible by I2 + the ACQUIRE/RELEASE
//     pair on the word.
//   - "ABA on the word": the word describes the whole state; if it comes
//     back to the same (p, c) after full laps, the slot it names is FREE
//     again (I2), so a CAS that succeeds is still right.
//
// Life of a datagram: netisr: udp_input -> in_pcblookup (table lock) ->
// sbpcqcharge -> pcq_put -> fence -> wake the reader if it sleeps ...
// reader: soreceive -> sbpcqdrain (sb_lock) -> pcq_get -> into so_rcv.
// The switch: sysctl net.inet.udp.fast_demux (1, the default: UDP input
// goes through the PCQ; 0: the locked socket buffer, for comparison).
//
// Testing: make hosttest (tests/host/test_pcq.c: several producer
// threads tag items (producer, seq); the consumer sees each exactly once
// and in order per producer; full at capacity; the reserved state).
// Real threads on x86 (TSO) cannot show a wrong memory order: the
// weak-memory model checker tests/host/test_pcq_model.c runs this file
// on a simulated C11 memory, where each RELAXED above instead of its
// ACQUIRE/RELEASE fails (labs/mistakes/pcq/ keeps those mistakes).
// nettests udpfastdemux. gdb: break pcq_put if the queue is full:
//   break pcq_put if ((q->pcq_pc >> 32) + 1) % q->pcq_nslots == (uint32)q->pcq_pc
//
// References: NetBSD project proposal "Fast protocol and port
// demultiplexing" (SMP networking, 2011);
// NetBSD pcq(9); C11 7.17 (atomics), GCC __atomic builtins.
#include "net/pcq.h"

#define PCQ_P(v) ((uint32)((v) >> 32))
#define PCQ_C(v) ((uint32)(v))
#define PCQ_WORD(p, c) ((uint64)(p) << 32 | (uint64)(c))

static inline uint32 pcq_next(const struct pcq *q, uint32 i)
{
	return i + 1 == q->pcq_nslots ? 0 : i + 1;
}

// Free q's chunks and q itself (q may be partly built: NULL chunks).
static void pcq_free(struct pcq *q)
{
	for (int i = 0; i < PCQ_MAXCHUNKS; i++)
		if (q->pcq_chunk[i] != NULL)
			net_free(q->pcq_chunk[i]);
	net_free(q);
}

struct pcq *pcq_create(uint32 maxitems)
{
	if (maxitems == 0 || maxitems > PCQ_MAXITEMS)
		return NULL;
	/* LAB pcq BEGIN: exercise 1, remove this stub when pcq_put and pcq_get work */
	/* LAB pcq STUB
	return NULL;   // no queue: UDP sockets use the locked socket buffer
	   LAB pcq END */
	struct pcq *q = net_malloc(sizeof(*q));
	if (q == NULL)
		return NULL;
	memset(q, 0, sizeof(*q));
	q->pcq_nslots = maxitems + 1;
	for (uint32 s = 0; s < q->pcq_nslots; s += PCQ_CHUNK) {
		uint32 n = q->pcq_nslots - s < PCQ_CHUNK ? q->pcq_nslots - s : PCQ_CHUNK;
		void **chunk = net_malloc(n * sizeof(void *));
		if (chunk == NULL) {
			pcq_free(q);
			return NULL;
		}
		memset(chunk, 0, n * sizeof(void *));   // I2: every slot FREE
		q->pcq_chunk[s / PCQ_CHUNK] = chunk;
	}
	return q;
}

void pcq_destroy(struct pcq *q)
{
	if (q == NULL)
		return;
	KASSERT(pcq_count(q) == 0);
	pcq_free(q);
}

bool pcq_put(struct pcq *q, void *item)
{
	/* LAB pcq BEGIN: exercise 2, reserve a slot, then publish the item */
	uint64 v = __atomic_load_n(&q->pcq_pc, __ATOMIC_RELAXED);
	uint32 p, np;
	KASSERT(item != NULL);
	do {
		p = PCQ_P(v);
		np = pcq_next(q, p);
		if (np == PCQ_C(v)) {   // I4: full
			__atomic_add_fetch(&q->pcq_full, 1, __ATOMIC_RELAXED);
			return false;
		}
		// ACQUIRE on success: see "Memory ordering", put.
	} while (!__atomic_compare_exchange_n(&q->pcq_pc, &v, PCQ_WORD(np, PCQ_C(v)),
					      true, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED));
	// Slot p is RESERVED now: counted in the word, still NULL (I2).
	KASSERT(__atomic_load_n(pcq_slot(q, p), __ATOMIC_RELAXED) == NULL);
	__atomic_store_n(pcq_slot(q, p), item, __ATOMIC_RELEASE);   // PUBLISHED
	return true;
	/* LAB pcq STUB
	(void)q;
	(void)item;
	return false;   // "full"
	   LAB pcq END */
}

void *pcq_peek(struct pcq *q)
{
	/* LAB pcq BEGIN: exercise 3, the consumer */
	uint64 v = __atomic_load_n(&q->pcq_pc, __ATOMIC_ACQUIRE);
	if (PCQ_P(v) == PCQ_C(v))
		return NULL;   // empty
	// NULL here: the oldest slot is RESERVED, not yet PUBLISHED.
	return __atomic_load_n(pcq_slot(q, PCQ_C(v)), __ATOMIC_ACQUIRE);
}

void *pcq_get(struct pcq *q)
{
	uint64 v = __atomic_load_n(&q->pcq_pc, __ATOMIC_ACQUIRE);
	uint32 c = PCQ_C(v);
	if (PCQ_P(v) == c)
		return NULL;
	void *item = __atomic_load_n(pcq_slot(q, c), __ATOMIC_ACQUIRE);
	if (item == NULL)
		return NULL;   // RESERVED: its producer will publish and wake us
	__atomic_store_n(pcq_slot(q, c), NULL, __ATOMIC_RELAXED);   // I2
	uint32 nc = pcq_next(q, c);
	// Producers may move the high half meanwhile: retry with their value;
	// the low half is ours alone (I1), so it is still c.
	while (!__atomic_compare_exchange_n(&q->pcq_pc, &v, PCQ_WORD(PCQ_P(v), nc),
					    true, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		KASSERT(PCQ_C(v) == c);
	return item;
	/* LAB pcq STUB
	(void)q;
	return NULL;   // "empty"
}

void *pcq_get(struct pcq *q)
{
	(void)q;
	return NULL;   // "empty"
	   LAB pcq END */
}

uint32 pcq_count(struct pcq *q)
{
	uint64 v = __atomic_load_n(&q->pcq_pc, __ATOMIC_RELAXED);
	uint32 p = PCQ_P(v), c = PCQ_C(v);
	return p >= c ? p - c : p + q->pcq_nslots - c;
}

uint32 pcq_maxitems(struct pcq *q)
{
	return q->pcq_nslots - 1;
}
