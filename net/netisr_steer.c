// Interrupt steering: a device's receive interrupt follows the netisr its
// frames go to.
//
// Problem: the PLIC offers a device's interrupt line to every hart, and
// the first to claim it runs the handler. With CPUS=2 and one TCP stream,
// whose flow hash picks one netisr, about half of the receive interrupts
// land on the other hart: their frames cross to the netisr's CPU as
// messages (an IPI when it sleeps), and an interrupt may be taken by
// both harts (the later one finds nothing to claim). Under QEMU each hart
// is a host thread; a waking one must be scheduled by a host that is
// often busy. A stream over the e1000 moved 73-109 Mbit/s with CPUS=2
// against 133-213 with CPUS=1 (host load 8-10); with the line routed by
// hand to the hart of the stream's netisr, 124-158, and to the other
// hart, 43 (docs/netisr.md has the figures with this file).
// Idea: the handler counts, per interrupt, the netisr CPU of each frame
// it hands up (netisr_frame_cpu: the hash is computed once and kept in
// the mbuf). When STEER_STREAK interrupts in a row sent most of their
// frames to one CPU that the line is not routed to alone, the line moves
// there (the driver calls intr_route). Receive-side scaling in reverse:
// the flow stays on its netisr (ownership does not change); the interrupt
// comes to it. Several flows on several netisrs: the line goes where most
// frames go, and moves only after a streak, so a mix does not make it
// bounce on every interrupt. net.netisr.irq_follow=0 gives the line back
// to every hart (the old behaviour).
// Invariants: st_cpu is -1 or a CPU below net_ncpu(); with irq_follow=0,
// the first interrupt after the switch returns the line to -1.
// Locking: a netisr_steer belongs to one device's interrupt handler, and
// the PLIC runs one claim of a line at a time, so [rx] needs no lock;
// st_moves is read by sysctl ([a]).
// Races: "line moved while an interrupt is pending": the PLIC keeps it
// pending and offers it to the new hart; the old hart completes the claim
// it has. Nothing is lost.
// Testing: make hosttest (netisr_steer_follows_the_flow: the line moves
// after a streak, not after one interrupt, stays for a mixed load without
// a majority, and goes back to every hart when the switch is off).
// References: Linux Documentation/networking/scaling.rst ("RSS: Receive
// Side Scaling", IRQ affinity; "Accelerated RFS", which steers a flow's
// interrupt to the CPU where its consumer runs); the RISC-V PLIC
// specification, 1.0.0, chapter 1 (interrupt targets and claims).
#include "net/netisr.h"

#define STEER_STREAK 4   // interrupts in a row before the line moves

static int irq_follow = 1;
NET_SYSCTL_INT_RANGE(netisr_irq_follow, "net.netisr.irq_follow", SYSCTL_RW, &irq_follow, 0, 1,
		     "1: a receive interrupt line moves to the hart whose netisr gets its frames");

void netisr_steer_init(struct netisr_steer *st)
{
	memset(st, 0, sizeof(*st));
	st->st_cpu = -1;
	st->st_want = -1;
}

void netisr_steer_frame(struct netisr_steer *st, struct mbuf *m)
{
	int cpu = netisr_frame_cpu(m);
	st->st_count[cpu]++;
	st->st_frames++;
}

// The CPU that got more than half of this interrupt's frames, or -1.
static int steer_majority(const struct netisr_steer *st)
{
	for (int c = 0; c < NETISR_MAXCPU; c++)
		if (2 * st->st_count[c] > st->st_frames)
			return c;
	return -1;
}

static bool steer_move(struct netisr_steer *st, int cpu)
{
	st->st_cpu = cpu;
	st->st_streak = 0;
	__atomic_add_fetch(&st->st_moves, 1, __ATOMIC_RELAXED);
	return true;
}

bool netisr_steer_end(struct netisr_steer *st)
{
	bool follow = __atomic_load_n(&irq_follow, __ATOMIC_RELAXED) && net_ncpu() > 1;
	int want = follow && st->st_frames > 0 ? steer_majority(st) : -1;
	memset(st->st_count, 0, sizeof(st->st_count));
	st->st_frames = 0;
	if (!follow)
		return st->st_cpu != -1 ? steer_move(st, -1) : false;
	if (want < 0 || want == st->st_cpu) {
		st->st_streak = 0;   // no majority, or already there
		return false;
	}
	if (want != st->st_want) {
		st->st_want = want;
		st->st_streak = 0;
	}
	if (++st->st_streak < STEER_STREAK)
		return false;
	return steer_move(st, want);
}
