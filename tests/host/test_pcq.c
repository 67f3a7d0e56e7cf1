// Host tests of the lock-free MPSC queue (net/pcq.c): several
// producer threads tag items (producer, seq); the single consumer must see
// every item exactly once and each producer's items in order; a queue
// refuses the put past its capacity; the "reserved, not yet published"
// slot reads as empty without losing anything.
#include <pthread.h>
#include <sched.h>
#include "tests/host/test.h"
#include "net/pcq.h"

#define NPROD 4
#define PER_PROD 50000

struct prod_arg {
	struct pcq *q;
	int id;
	long retries;
};

// Item for (producer, seq): never NULL (seq starts at 1).
static void *tag(int prod, int seq)
{
	return (void *)(((unsigned long)prod << 32) | (unsigned long)seq);
}

static void *producer(void *a)
{
	struct prod_arg *pa = a;
	for (int seq = 1; seq <= PER_PROD; seq++)
		while (!pcq_put(pa->q, tag(pa->id, seq))) {
			pa->retries++;
			sched_yield();   // full: let the consumer run
		}
	return NULL;
}

static void test_pcq_every_item_once_in_order_per_producer(void)
{
	struct pcq *q = pcq_create(64);   // small: producers often find it full
	pthread_t th[NPROD];
	struct prod_arg pa[NPROD];
	int last[NPROD] = { 0 };
	long got = 0, empty = 0;
	CHECK(q != NULL);
	for (int i = 0; i < NPROD; i++) {
		pa[i] = (struct prod_arg){ q, i, 0 };
		CHECK(pthread_create(&th[i], NULL, producer, &pa[i]) == 0);
	}
	while (got < (long)NPROD * PER_PROD) {
		void *it = pcq_get(q);
		if (it == NULL) {
			empty++;
			continue;
		}
		unsigned long v = (unsigned long)it;
		int prod = (int)(v >> 32), seq = (int)(v & 0xffffffff);
		CHECK(prod >= 0 && prod < NPROD);
		CHECK(seq == last[prod] + 1);   // once, and in order per producer
		last[prod] = seq;
		got++;
	}
	for (int i = 0; i < NPROD; i++) {
		pthread_join(th[i], NULL);
		CHECK(last[i] == PER_PROD);
	}
	CHECK(pcq_get(q) == NULL && pcq_count(q) == 0);
	pcq_destroy(q);
}

static void test_pcq_full_at_capacity(void)
{
	struct pcq *q = pcq_create(8);
	CHECK(q != NULL && pcq_maxitems(q) == 8);
	for (int i = 1; i <= 8; i++)
		CHECK(pcq_put(q, tag(0, i)));
	CHECK(!pcq_put(q, tag(0, 9)));   // the 9th does not fit
	CHECK(q->pcq_full == 1 && pcq_count(q) == 8);
	CHECK(pcq_get(q) == tag(0, 1));
	CHECK(pcq_put(q, tag(0, 9)));    // room again
	for (int i = 2; i <= 9; i++)
		CHECK(pcq_get(q) == tag(0, i));
	CHECK(pcq_get(q) == NULL);
	// Wrap around many times.
	for (int i = 1; i <= 1000; i++) {
		CHECK(pcq_put(q, tag(1, i)));
		CHECK(pcq_peek(q) == tag(1, i));
		CHECK(pcq_get(q) == tag(1, i));
	}
	pcq_destroy(q);
}

static void test_pcq_reserved_slot_reads_empty_until_published(void)
{
	struct pcq *q = pcq_create(4);
	// Play a producer stopped between its CAS and its store: the word
	// counts slot 0, the slot is still NULL.
	__atomic_store_n(&q->pcq_pc, (uint64)1 << 32, __ATOMIC_RELAXED);
	CHECK(pcq_count(q) == 1);
	CHECK(pcq_peek(q) == NULL && pcq_get(q) == NULL);   // empty for now
	CHECK(pcq_put(q, tag(2, 2)));                       // a later producer: slot 1
	CHECK(pcq_get(q) == NULL);                          // FIFO: still stuck at slot 0
	__atomic_store_n(pcq_slot(q, 0), tag(2, 1), __ATOMIC_RELEASE);   // publish
	CHECK(pcq_get(q) == tag(2, 1));
	CHECK(pcq_get(q) == tag(2, 2));
	CHECK(pcq_get(q) == NULL);
	pcq_destroy(q);
}

// The largest queue spans several page-sized chunks of slots: it holds
// exactly PCQ_MAXITEMS, in order, across chunk boundaries and wrap-around.
static void test_pcq_largest_queue_spans_chunks(void)
{
	struct pcq *q = pcq_create(PCQ_MAXITEMS);
	CHECK(q != NULL && pcq_maxitems(q) == PCQ_MAXITEMS);
	for (int lap = 0; lap < 3; lap++) {
		for (int i = 0; i < PCQ_MAXITEMS; i++)
			CHECK(pcq_put(q, tag(lap, i + 1)));
		CHECK(!pcq_put(q, tag(lap, PCQ_MAXITEMS + 1)));
		CHECK(pcq_count(q) == PCQ_MAXITEMS);
		for (int i = 0; i < PCQ_MAXITEMS; i++)
			CHECK(pcq_get(q) == tag(lap, i + 1));
		CHECK(pcq_get(q) == NULL);
		// Start the next lap in the middle of a chunk.
		for (int i = 0; i < 300 + lap; i++) {
			CHECK(pcq_put(q, tag(9, i + 1)));
			CHECK(pcq_get(q) == tag(9, i + 1));
		}
	}
	pcq_destroy(q);
}

static void test_pcq_bad_sizes_are_refused(void)
{
	CHECK(pcq_create(0) == NULL);
	CHECK(pcq_create(PCQ_MAXITEMS + 1) == NULL);
	struct pcq *q = pcq_create(1);
	CHECK(q != NULL && pcq_put(q, tag(0, 1)) && !pcq_put(q, tag(0, 2)));
	CHECK(pcq_get(q) == tag(0, 1));
	pcq_destroy(q);
}

const struct host_test pcq_tests[] = {
	{ test_pcq_every_item_once_in_order_per_producer, "pcq_every_item_once_in_order_per_producer" },
	{ test_pcq_full_at_capacity, "pcq_full_at_capacity" },
	{ test_pcq_reserved_slot_reads_empty_until_published, "pcq_reserved_slot_reads_empty_until_published" },
	{ test_pcq_bad_sizes_are_refused, "pcq_bad_sizes_are_refused" },
	{ test_pcq_largest_queue_spans_chunks, "pcq_largest_queue_spans_chunks" },
	{ NULL, NULL },
};
