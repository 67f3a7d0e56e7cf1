// Host tests of the e1000 receive hold's bookkeeping (drivers/e1000_hold.c
// and the inline e1000_rx_quota/e1000_rx_took of drivers/e1000.h): the
// grant a release gives, what a drain pass takes from it, the mask.
// Built with the kernel's headers (-D__KERNEL__) against a softc whose
// registers are a plain array, so a race between a drain on one hart and
// a sysctl write on another becomes a fixed order of calls here.
// make hosttest runs it (tests/host/drvtest); QEMU-level behaviour is
// tests/test_e1000_hold.py.
#include "drivers/e1000.h"
#include "tests/host/check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CAUSES (E1000_ICR_RXT0 | E1000_ICR_RXO | E1000_ICR_RXDMT0)

static uint32 regs[0x10000 / 4];
static struct e1000_softc sc;
static struct e1000_knob knob;   // the handlers only need k_sc

static void setup(void)
{
	memset(regs, 0, sizeof(regs));
	memset(&sc, 0, sizeof(sc));
	sc.sc_regs = regs;
	knob.k_sc = &sc;
}

static void write_knob(int (*fn)(struct sysctl_oid *, int64 *, bool), int64 v)
{
	CHECK(fn(&knob.k_oid, &v, true) == 0);
}

static int64 read_knob(int (*fn)(struct sysctl_oid *, int64 *, bool))
{
	int64 v = -1;
	CHECK(fn(&knob.k_oid, &v, false) == 0);
	return v;
}

// One drain pass that finds `frames` in the ring: returns what it took.
// mid (may be NULL) runs between the pass's start and its end, as a
// sysctl write on another hart would.
static int drain(int frames, void (*mid)(void))
{
	bool held;
	int max = e1000_rx_quota(&sc, &held);
	int n = frames;
	if (n > max)
		n = max;
	if (mid != NULL)
		mid();
	e1000_rx_took(&sc, held, n);
	return n;
}

static void hold_on(void)
{
	write_knob(e1000_sysctl_rx_hold, 1);
}

// A release of K hands K frames to the next pass, which masks the causes
// again once the grant is used up.
static void release_takes_exactly_k(void)
{
	setup();
	hold_on();
	CHECK(regs[E1000_IMC / 4] == CAUSES);
	CHECK(drain(300, NULL) == 0);
	write_knob(e1000_sysctl_rx_release, 10);
	CHECK(regs[E1000_IMS / 4] == CAUSES && regs[E1000_ICS / 4] == E1000_ICR_RXT0);
	regs[E1000_IMC / 4] = 0;
	CHECK(drain(300, NULL) == 10);
	CHECK(read_knob(e1000_sysctl_rx_release) == 0);
	CHECK(regs[E1000_IMC / 4] == CAUSES);
	CHECK(drain(300, NULL) == 0);
}

// An unheld pass (any interrupt drains RX) still running when rx_hold=1
// is written: its frames were never granted, so the next release of 5
// must give 5 (the old code charged the pass's 10 frames to the grant:
// -10, and the release then gave a quota of -5, which took every frame).
static void unheld_pass_does_not_spend_a_later_grant(void)
{
	setup();
	CHECK(drain(10, hold_on) == 10);
	CHECK(read_knob(e1000_sysctl_rx_release) == 0);
	write_knob(e1000_sysctl_rx_release, 5);
	CHECK(drain(300, NULL) == 5);
	CHECK(drain(300, NULL) == 0);
}

// A held pass whose grant a second rx_hold=1 reset: the grant ends at 0,
// not below, and the next release gives what it says.
static void reset_grant_stays_zero(void)
{
	setup();
	hold_on();
	write_knob(e1000_sysctl_rx_release, 8);
	CHECK(drain(8, hold_on) == 8);
	CHECK(read_knob(e1000_sysctl_rx_release) == 0);
	write_knob(e1000_sysctl_rx_release, 3);
	CHECK(drain(300, NULL) == 3);
}

// Releases nobody drains add up without wrapping: the quota stays a
// ring's worth (the old int sum went negative after ~8.4 million).
static void release_saturates(void)
{
	setup();
	hold_on();
	for (long i = 0; i < (1L << 31) / (E1000_NRXDESC - 1) + 2; i++)
		write_knob(e1000_sysctl_rx_release, E1000_NRXDESC - 1);
	CHECK(read_knob(e1000_sysctl_rx_release) > 0);
	CHECK(drain(300, NULL) == E1000_NRXDESC);
}

// Ending the hold while a held pass runs leaves the causes unmasked
// (the pass masks only before it reads the hold again).
static void unhold_mid_pass_unmasks(void)
{
	setup();
	hold_on();
	write_knob(e1000_sysctl_rx_release, 4);
	regs[E1000_IMS / 4] = 0;
	bool held;
	int max = e1000_rx_quota(&sc, &held);
	CHECK(held && max == 4);
	write_knob(e1000_sysctl_rx_hold, 0);
	CHECK(regs[E1000_IMS / 4] == CAUSES);
	regs[E1000_IMS / 4] = regs[E1000_IMC / 4] = 0;
	e1000_rx_took(&sc, held, 4);
	// the pass may mask (IMC), then must unmask (IMS, written after it)
	CHECK(regs[E1000_IMC / 4] == 0 || regs[E1000_IMS / 4] == CAUSES);
	CHECK(drain(300, NULL) == E1000_NRXDESC);   // not held: a ring's worth
	CHECK(read_knob(e1000_sysctl_rx_release) == 0);
}

static const struct {
	void (*fn)(void);
	const char *name;
} tests[] = {
	{ release_takes_exactly_k, "e1000_hold_release_takes_exactly_k" },
	{ unheld_pass_does_not_spend_a_later_grant, "e1000_hold_unheld_pass_does_not_spend_a_later_grant" },
	{ reset_grant_stays_zero, "e1000_hold_reset_grant_stays_zero" },
	{ release_saturates, "e1000_hold_release_saturates" },
	{ unhold_mid_pass_unmasks, "e1000_hold_unhold_mid_pass_unmasks" },
};

int main(void)
{
	int failed = 0, n = sizeof(tests) / sizeof(tests[0]);
	for (int i = 0; i < n; i++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			tests[i].fn();
			exit(0);
		}
		int st = 0;
		waitpid(pid, &st, 0);
		bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
		printf("%s: %s\n", tests[i].name, ok ? "OK" : "FAIL");
		failed += !ok;
	}
	printf("%d passed, %d failed\n", n - failed, failed);
	return failed != 0;
}
