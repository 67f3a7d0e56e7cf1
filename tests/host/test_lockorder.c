// Host tests of the lock-order check in tests/host/shim_host.c: net_locks
// named after kernel/lock.h classes must be taken in increasing level, and
// two of one class (or two of one level) never together. Each inversion
// runs in a forked child that must die by a panic; the legal orders must
// not.
#include "tests/host/test.h"

static struct net_lock start, ifq, pcbs, rcv1, rcv2, snd, undeclared;

static void init_locks(void)
{
	net_lock_init(&start, "ifq_start");
	net_lock_init(&ifq, "ifq");
	net_lock_init(&pcbs, "inpcbinfo");
	net_lock_init(&rcv1, "so_rcv");
	net_lock_init(&rcv2, "so_rcv");
	net_lock_init(&snd, "so_snd");
	net_lock_init(&undeclared, "not_in_lock_order");
}

static void take2(struct net_lock *a, struct net_lock *b)
{
	net_lock_acquire(a);
	net_lock_acquire(b);
	net_lock_release(b);
	net_lock_release(a);
}

static void ordered(void)
{
	take2(&start, &ifq);
	take2(&pcbs, &rcv1);
	take2(&rcv1, &undeclared);   // no level: not checked on the host
	take2(&undeclared, &pcbs);
	// Released out of order, then a lower level is fine again.
	net_lock_acquire(&pcbs);
	net_lock_acquire(&rcv1);
	net_lock_release(&pcbs);
	net_lock_release(&rcv1);
	take2(&pcbs, &rcv2);
}

static void inverted(void)
{
	take2(&rcv1, &pcbs);
}

static void same_class(void)
{
	take2(&rcv1, &rcv2);
}

static void same_level(void)
{
	take2(&rcv1, &snd);
}

static void inverted_after_sleep(void)
{
	// net_sleep drops and retakes its lock: the record must follow.
	net_lock_acquire(&ifq);
	net_sleep_timeout(&ifq, &ifq, 1);
	net_lock_acquire(&start);
}

static void lockorder_ordered_pairs_pass(void)
{
	init_locks();
	CHECK(!expect_panic(ordered));
	ordered();
}

static void lockorder_inversions_panic(void)
{
	init_locks();
	CHECK(expect_panic(inverted));
	CHECK(expect_panic(same_class));
	CHECK(expect_panic(same_level));
	CHECK(expect_panic(inverted_after_sleep));
}

const struct host_test lockorder_tests[] = {
	{ lockorder_ordered_pairs_pass, "lockorder_ordered_pairs_pass" },
	{ lockorder_inversions_panic, "lockorder_inversions_panic" },
	{ NULL, NULL },
};
