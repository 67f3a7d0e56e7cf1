// Host tests of net/tcp_sackdelay.c: with SACK, the receiver ACKs
// out-of-order data that only extends the highest block at the end of
// the batch like in-order data (sack_delack=2) or every second segment
// (1), after three immediate duplicate ACKs per hole;
// net.inet.tcp.sack_delack=0 ACKs each one. Over the fake
// wire (tcp_wire.h), deterministic: the first segment of a window is
// dropped and the rest arrive as one input batch.
#include "tests/host/tcp_wire.h"

#define NSEG 9   // one window: the first lost, eight behind the hole

static int drop_once;

static enum wire_verdict drop_first_data(const struct wire_seg *ws)
{
	if (ws->ws_len > 0 && drop_once) {
		drop_once = 0;
		return WIRE_DROP;
	}
	return WIRE_PASS;
}

// One window with its first segment lost, switch set to mode. Returns the
// ACKs the receiver sent for the eight segments behind the hole; checks
// that each is a duplicate ACK, that the last one's first SACK block
// reaches the end of the window, and that the transfer then completes
// by one fast retransmission, without a timeout.
static int acks_behind_one_hole(int mode)
{
	BEGIN();
	CHECK(host_sysctl_write("net.inet.tcp.sack_delack", mode) == 0);
	struct socket *c, *s;
	tw_pair((uint16)(5340 + mode * 10), &c, &s);
	CHECK(tw_tp(s)->t_flags & TF_SACK_PERMIT);
	uint16 sp = port_of(s);
	tcp_seq base = tw_tp(s)->rcv_nxt;
	uint32 mss = tw_tp(c)->t_maxseg;
	static uint8 buf[NSEG * 1460];
	CHECK(mss == 1460);
	wire_log_clear();
	drop_once = 1;
	wire_filter = drop_first_data;
	send_pattern(c, sizeof(buf));
	CHECK(wire_burst() == NSEG);      // the window: one input batch at s
	wire_filter = NULL;
	wire_burst();                     // its ACKs cross (and reach c)
	int n = 0, last = -1;
	for (int i = 0; i < wire_nlog; i++) {
		if (wire_log[i].ws_sport != sp)
			continue;
		CHECK(wire_log[i].ws_ack == base && wire_log[i].ws_len == 0);
		n++;
		last = i;
	}
	CHECK(last >= 0 && (wire_log[last].ws_opt.to_flags & TOF_SACK));
	CHECK(wire_log[last].ws_opt.to_sacks[0][0] == base + mss);
	CHECK(wire_log[last].ws_opt.to_sacks[0][1] == base + sizeof(buf));
	uint64 waited = tcpstat.tcps_ooo_ackwait;
	recv_check(s, sizeof(buf));
	CHECK(tcpstat.tcps_rexmttimeo == 0 && tcpstat.tcps_sndrexmitpack == 1);
	CHECK(tcpstat.tcps_delack == 0);   // no ACK was left to the timer
	soclose(c);
	soclose(s);
	clean(s0, m0);
	CHECK(waited == (mode > 0 ? NSEG - 1 - 3 : 0));
	return n;
}

// Eight segments behind a hole: the first three ACKed at once (the
// sender's DupThresh), then the other five like in-order data: one ACK
// at the end of the batch, 3 + 1 = 4 (the default, 2) ...
static void tcp_sack_delack_batches_ooo_acks(void)
{
	CHECK(acks_behind_one_hole(2) == 4);
}

// ... with sack_delack=1 every second one and the last at the end of
// the batch, 3 + 2 + 1 = 6 ...
static void tcp_sack_delack_halves_ooo_acks(void)
{
	CHECK(acks_behind_one_hole(1) == 6);
}

// ... and so with sack_delack=2 when in-order data is ACKed every second
// segment too (ack_batch_max=0, RFC 1122 to the letter) ...
static void tcp_sack_delack_follows_ack_batch_max(void)
{
	CHECK(host_sysctl_write("net.inet.tcp.ack_batch_max", 0) == 0);
	CHECK(acks_behind_one_hole(2) == 6);
}

// ... against 8 with the switch off.
static void tcp_sack_delack_off_acks_each(void)
{
	CHECK(acks_behind_one_hole(0) == NSEG - 1);
}

// A connected pair whose receiver s is sent forged segments "from" c:
// base is s's rcv_nxt at the start, ack what c has received.
struct forge {
	struct socket *c, *s;
	struct tcpcb *tp;   // s's
	uint16 sp, cp;
	tcp_seq base, ack;
};

static void forge_pair(struct forge *f, uint16 port)
{
	tw_pair(port, &f->c, &f->s);
	f->tp = tw_tp(f->s);
	f->sp = port_of(f->s);
	f->cp = port_of(f->c);
	f->base = f->tp->rcv_nxt;
	f->ack = tw_tp(f->c)->rcv_nxt;
	wire_log_clear();
}

// len bytes at base + off, as one segment to s.
static void forge_seg(const struct forge *f, uint32 off, uint32 len)
{
	static const uint8 noopt[4];
	tw_forge_raw(f->cp, f->sp, f->base + off, f->ack, TH_ACK, 65535, noopt, 0, len);
}

// A segment that fills part of the hole, or opens a new one, is ACKed at
// once even after the first three: the ACKs carry news.
static void tcp_sack_delack_news_at_once(void)
{
	BEGIN();
	struct forge f;
	forge_pair(&f, 5342);
	struct tcpcb *tp = f.tp;
	uint16 sp = f.sp;
	tcp_seq base = f.base;
	// Segments 2..6 (of 1460) arrive in one batch; 1 is missing: 3 ACKs
	// at once, then the 4th waits and the 5th takes its ACK.
	for (int k = 1; k <= 5; k++)
		forge_seg(&f, k * 1460, 1460);
	CHECK(wire_burst() == 5);
	wire_settle();
	CHECK(tw_count(sp, TH_ACK, false) == 4);
	// A new block above a gap (segment 8): at once.
	forge_seg(&f, 7 * 1460, 1460);
	wire_settle();
	CHECK(tw_count(sp, TH_ACK, false) == 5);
	// Segment 7 fills the upper hole (two blocks merge): at once.
	forge_seg(&f, 6 * 1460, 1460);
	wire_settle();
	CHECK(tw_count(sp, TH_ACK, false) == 6);
	// Segment 1 fills the first hole: at once, acknowledging all eight.
	// (Two bursts: it reaches s, then s's ACK crosses; c, which never
	// sent these forged bytes, answers that ACK, so no settle here.)
	forge_seg(&f, 0, 1460);
	CHECK(wire_burst() == 1);
	CHECK(wire_burst() == 1);
	CHECK(tw_count(sp, TH_ACK, false) == 7);
	CHECK(wire_log[wire_nlog - 1].ws_sport == sp &&
	      wire_log[wire_nlog - 1].ws_ack == base + 8 * 1460);
	CHECK(tp->rcv_nxt == base + 8 * 1460);
	wire_settle();
	soclose(f.c);
	soclose(f.s);
	clean(s0, m0);
}

// A segment that starts inside the hole below the highest block and ends
// where that block ends narrows the hole, though the number of blocks
// stays (the old top block is covered and replaced): RFC 5681 4.2 asks
// for an ACK at once, and so does I1 ("ends where the highest block
// ends" is not enough). Here the top block is one 500-byte segment, the
// narrowing segment 800 bytes (less than an MSS, so only the rule, not
// the byte count, sends its ACK), followed in the same batch by 500 bytes
// that do only extend the top block: one ACK at once, one at the batch's
// end, and only the second segment waited.
static void tcp_sack_delack_narrowing_below_top_at_once(void)
{
	BEGIN();
	struct forge f;
	forge_pair(&f, 5343);
	struct tcpcb *tp = f.tp;
	uint16 sp = f.sp;
	tcp_seq base = f.base;
	// Segments 1..3 behind a lost 0: three ACKs at once (DupThresh).
	for (int k = 1; k <= 3; k++)
		forge_seg(&f, k * 1460, 1460);
	CHECK(wire_burst() == 3);
	wire_settle();
	CHECK(tw_count(sp, TH_ACK, false) == 3);
	// A new top block of 500 bytes at 5 x 1460, above a second hole: at once.
	forge_seg(&f, 5 * 1460, 500);
	wire_settle();
	CHECK(tw_count(sp, TH_ACK, false) == 4 && tp->t_reass.tr_nseg == 2);
	uint64 waited = tcpstat.tcps_ooo_ackwait;
	// 800 bytes from 300 below the top block to its end, then 500 more.
	forge_seg(&f, 5 * 1460 - 300, 800);
	forge_seg(&f, 5 * 1460 + 500, 500);
	CHECK(wire_burst() == 2);
	CHECK(tp->t_reass.tr_nseg == 2 && tp->rcv_nxt == base);
	CHECK(tcpstat.tcps_ooo_ackwait == waited + 1);   // only the extension waited
	CHECK(wire_burst() == 2);   // its two ACKs cross to c: one at once, one at the end
	CHECK(tw_count(sp, TH_ACK, false) == 6);
	CHECK(wire_log[wire_nlog - 1].ws_sport == sp && wire_log[wire_nlog - 1].ws_ack == base);
	// The two holes filled (as in tcp_sack_delack_news_at_once, no
	// settle: c answers ACKs for bytes it never sent); s closes with
	// unread data: a RST ends both.
	forge_seg(&f, 4 * 1460, 1460 - 300);
	forge_seg(&f, 0, 1460);
	CHECK(wire_burst() == 2);
	CHECK(tp->rcv_nxt == base + 5 * 1460 + 1000 && tp->t_reass.tr_nseg == 0);
	wire_burst();
	soclose(f.c);
	soclose(f.s);
	clean(s0, m0);
}

// Behind a hole most segments only extend the highest block: the
// reassembly queue appends them to its last entry, and the SACK history
// and the ACK rule find that block, all without walking the queue
// (net/tcp_reass.c I5): with three blocks queued, a batch of fourteen
// such segments visits as many entries (netstat -s reass_steps) as a
// batch of one -- those of the one ACK that ends each batch, whose SACK
// blocks are built by walking the queue -- and the ACK still reports the
// top block first, then the others newest first (RFC 2018 4). After a
// hole below merges two blocks, the merged one is the last entry.
static void tcp_reass_tail_append_walks_nothing(void)
{
	BEGIN();
	struct forge f;
	forge_pair(&f, 5344);
	struct tcpcb *tp = f.tp;
	tcp_seq base = f.base;
	enum { MSS = 1460 };
	// Blocks at segments 1, 3 and 5 (holes at 0, 2, 4).
	for (int k = 1; k <= 5; k += 2)
		forge_seg(&f, k * MSS, MSS);
	wire_settle();
	CHECK(tp->t_reass.tr_nseg == 3);
	uint64 steps = tcpstat.tcps_reass_steps;
	forge_seg(&f, 6 * MSS, MSS);
	CHECK(wire_burst() == 1);
	uint64 one = tcpstat.tcps_reass_steps - steps;
	CHECK(wire_burst() == 1);   // its ACK crosses
	steps = tcpstat.tcps_reass_steps;
	for (int k = 7; k <= 20; k++)
		forge_seg(&f, k * MSS, MSS);
	CHECK(wire_burst() == 14);
	CHECK(tcpstat.tcps_reass_steps - steps == one);   // the ACK's walks, none per segment
	forge_seg(&f, 21 * MSS, MSS);
	CHECK(wire_burst() == 1 + 1);   // (the ACK of the batch before crosses too)
	CHECK(tp->t_reass.tr_nseg == 3 && tp->t_reass.tr_bytes == 19 * MSS);
	CHECK(wire_burst() == 1);   // s's ACK crosses
	const struct wire_seg *w = &wire_log[wire_nlog - 1];
	CHECK(w->ws_sport == f.sp && w->ws_ack == base && (w->ws_opt.to_flags & TOF_SACK));
	CHECK(w->ws_opt.to_nsacks >= 3);
	CHECK(w->ws_opt.to_sacks[0][0] == base + 5 * MSS && w->ws_opt.to_sacks[0][1] == base + 22 * MSS);
	CHECK(w->ws_opt.to_sacks[1][0] == base + 3 * MSS && w->ws_opt.to_sacks[1][1] == base + 4 * MSS);
	CHECK(w->ws_opt.to_sacks[2][0] == base + 1 * MSS && w->ws_opt.to_sacks[2][1] == base + 2 * MSS);
	// Segment 4 joins blocks 3 and 5..21; 22 then extends the merged one.
	forge_seg(&f, 4 * MSS, MSS);
	CHECK(wire_burst() == 1);
	CHECK(tp->t_reass.tr_nseg == 2);
	CHECK(wire_burst() == 1);   // its ACK crosses
	forge_seg(&f, 22 * MSS, MSS);
	CHECK(wire_burst() == 1);
	CHECK(tp->t_reass.tr_nseg == 2);
	wire_burst();   // its ACK crosses
	tcp_seq s0q, e0q;
	CHECK(tcp_reass_last(tp, &s0q, &e0q) != NULL && s0q == base + 3 * MSS && e0q == base + 23 * MSS);
	// The holes fill (no settle: c answers ACKs for bytes it never sent,
	// as in tcp_sack_delack_news_at_once); everything is delivered.
	forge_seg(&f, 2 * MSS, MSS);
	forge_seg(&f, 0, MSS);
	CHECK(wire_burst() == 2);
	CHECK(tp->rcv_nxt == base + 23 * MSS && tp->t_reass.tr_nseg == 0 &&
	      tcp_reass_last(tp, &s0q, &e0q) == NULL);
	CHECK(f.s->so_rcv.sb_cc == 23 * MSS);
	wire_burst();
	soclose(f.c);
	soclose(f.s);
	clean(s0, m0);
}

const struct host_test tcp_sackdelay_tests[] = {
	{ tcp_sack_delack_batches_ooo_acks, "tcp_sack_delack_batches_ooo_acks" },
	{ tcp_sack_delack_halves_ooo_acks, "tcp_sack_delack_halves_ooo_acks" },
	{ tcp_sack_delack_follows_ack_batch_max, "tcp_sack_delack_follows_ack_batch_max" },
	{ tcp_sack_delack_off_acks_each, "tcp_sack_delack_off_acks_each" },
	{ tcp_sack_delack_news_at_once, "tcp_sack_delack_news_at_once" },
	{ tcp_sack_delack_narrowing_below_top_at_once, "tcp_sack_delack_narrowing_below_top_at_once" },
	{ tcp_reass_tail_append_walks_nothing, "tcp_reass_tail_append_walks_nothing" },
	{ NULL, NULL },
};
