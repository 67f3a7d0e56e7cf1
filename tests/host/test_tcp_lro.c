// Host tests of receive coalescing (net/tcp_lro.c, net.inet.tcp.lro)
// over real connections: the in-order data segments of one flow in one
// input batch reach TCP as one segment, with the same bytes, the same
// ACKs and the same counters as one by one; a gap, a FIN, another flow
// do not merge and keep the order; switched off, the stack behaves as
// without it. Over the fake wire (tcp_wire.h): a burst is one input
// batch. The tests with a forged peer: test_tcp_lro_peer.c.
#include "tests/host/tcp_lro_test.h"

void lro_snap(struct lro_counts *c)
{
	c->held = sysctl_get("net.inet.tcp.lro_held");
	c->merged = sysctl_get("net.inet.tcp.lro_merged");
	c->mergedsegs = sysctl_get("net.inet.tcp.lro_mergedsegs");
	c->flushes = sysctl_get("net.inet.tcp.lro_flushes");
	c->unmerged = sysctl_get("net.inet.tcp.lro_unmerged");
	c->rcvtotal = tcpstat.tcps_rcvtotal;
	c->rcvpack = tcpstat.tcps_rcvpack;
	c->rcvbyte = tcpstat.tcps_rcvbyte;
	c->rcvoopack = tcpstat.tcps_rcvoopack;
	c->rcvbadsum = tcpstat.tcps_rcvbadsum;
	c->pawsdrop = tcpstat.tcps_pawsdrop;
}

struct lro_counts lro_delta(const struct lro_counts *b)
{
	struct lro_counts a, d;
	lro_snap(&a);
	d.held = a.held - b->held;
	d.merged = a.merged - b->merged;
	d.mergedsegs = a.mergedsegs - b->mergedsegs;
	d.flushes = a.flushes - b->flushes;
	d.unmerged = a.unmerged - b->unmerged;
	d.rcvtotal = a.rcvtotal - b->rcvtotal;
	d.rcvpack = a.rcvpack - b->rcvpack;
	d.rcvbyte = a.rcvbyte - b->rcvbyte;
	d.rcvoopack = a.rcvoopack - b->rcvoopack;
	d.rcvbadsum = a.rcvbadsum - b->rcvbadsum;
	d.pawsdrop = a.pawsdrop - b->pawsdrop;
	CHECK(d.held == d.mergedsegs + d.unmerged);
	return d;
}

void lro_recv(struct socket *so, size_t n, size_t off)
{
	static uint8 in[NSEG * MSS * 2], want[NSEG * MSS * 2];
	size_t got = 0;
	CHECK(n <= sizeof(in));
	for (int i = 0; i < 1000 && got < n; i++) {
		long k = tw_recv(so, in + got, n - got, 0);
		CHECK(k > 0 || k == -EAGAIN);
		if (k > 0)
			got += (size_t)k;
		else
			wire_run(100);
	}
	CHECK(got == n);
	tw_pattern(want, n, off);
	CHECK(memcmp(in, want, n) == 0);
}

// The pure ACKs sport sent since the log was cleared: their ACK fields
// less base into acks[] (room for max); returns how many.
static int pure_acks(uint16 sport, tcp_seq base, uint32 *acks, int max)
{
	int n = 0;
	for (int i = 0; i < wire_nlog && n < max; i++)
		if (wire_log[i].ws_sport == sport && wire_log[i].ws_len == 0 &&
		    (wire_log[i].ws_flags & TH_ACK))
			acks[n++] = wire_log[i].ws_ack - base;
	return n;
}

// Queue n full segments of the pattern on c (not yet on their way).
static void send_segs(struct socket *c, int n, size_t off)
{
	static uint8 buf[NSEG * MSS];
	CHECK(n <= NSEG);
	tw_pattern(buf, (size_t)n * MSS, off);
	CHECK(tw_send(c, buf, (size_t)n * MSS) == (long)n * MSS);
}

// ---- real connections ------------------------------------------------------------

// A connection on port, then NSEG full segments from *c in one batch:
// the counters' change over it; *base is the receiver's RCV.NXT before.
static struct lro_counts burst_nseg(int port, struct socket **c, struct socket **s,
				    tcp_seq *base)
{
	tw_pair(port, c, s);
	*base = tw_tp(*s)->rcv_nxt;
	struct lro_counts b;
	lro_snap(&b);
	wire_log_clear();
	send_segs(*c, NSEG, 0);
	CHECK(wire_burst() == NSEG);
	return lro_delta(&b);
}

// Ten full segments in one batch: one merged segment of ten, the bytes
// identical, rcvtotal/rcvpack/rcvbyte counting the ten, one ACK for all
// of them at the batch's end.
static void tcp_lro_inorder_run_merges_into_one(void)
{
	BEGIN();
	CHECK(tcp_lro_on == 1);
	struct socket *c, *s;
	tcp_seq base;
	struct lro_counts d = burst_nseg(5400, &c, &s, &base);
	CHECK(d.held == NSEG && d.merged == 1 && d.mergedsegs == NSEG && d.flushes == 1);
	CHECK(d.unmerged == 0);
	CHECK(d.rcvtotal == NSEG && d.rcvpack == NSEG && d.rcvbyte == NSEG * MSS);
	CHECK(tw_tp(s)->rcv_nxt == base + NSEG * MSS);
	wire_settle();   // the ACKs cross; no time passes
	uint32 acks[NSEG];
	CHECK(pure_acks(port_of(s), base, acks, NSEG) == 1 && acks[0] == NSEG * MSS);
	lro_recv(s, NSEG * MSS, 0);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// One scenario, segment 3 of ten lost: run with the switch as given,
// return the ACK fields s sent while the nine crossed (less the base).
static int lossy_burst(uint16 port, int lro, uint32 *acks, struct lro_counts *d)
{
	struct socket *c, *s;
	CHECK(host_sysctl_write("net.inet.tcp.lro", lro) == 0);
	tw_pair(port, &c, &s);
	tcp_seq base = tw_tp(s)->rcv_nxt;
	struct lro_counts b;
	lro_snap(&b);
	static const int lost[] = { 3 };
	wire_drop_segments(c, lost, 1, MSS);
	wire_log_clear();
	send_segs(c, NSEG, 0);
	CHECK(wire_burst() == NSEG);   // (the dropped one counts as delivered)
	*d = lro_delta(&b);
	wire_settle();   // the ACKs cross: the sender retransmits
	int n = pure_acks(port_of(s), base, acks, 2 * NSEG);
	lro_recv(s, NSEG * MSS, 0);
	wire_filter = NULL;
	soclose(c);
	soclose(s);
	wire_run(2 * 60000 + 1000);
	return n;
}

// A gap: the two segments before it merge; of the seven after it, out of
// order, the first three go one by one into the reassembly queue, each
// with its immediate duplicate ACK (the sender counts them), and the
// last four, which one by one would only extend the highest SACK block
// with their ACK waiting (net/tcp_sackdelay.c), merge: the very ACKs the
// stack sends with the switch off; rcvoopack counts the seven; the bytes
// arrive intact once the hole is filled. With net.inet.tcp.lro_ooo=0
// all seven go one by one, with the same ACKs.
static void tcp_lro_gap_order_kept(void)
{
	BEGIN();
	uint32 on[2 * NSEG], off[2 * NSEG];
	struct lro_counts don, doff;
	int non = lossy_burst(5401, 1, on, &don);
	int noff = lossy_burst(5402, 0, off, &doff);
	CHECK(don.merged == 2 && don.mergedsegs == 2 + 4 && don.unmerged == 3);
	CHECK(don.rcvoopack == 7 && doff.rcvoopack == 7);
	uint32 ooo0[2 * NSEG];
	struct lro_counts d0;
	CHECK(host_sysctl_write("net.inet.tcp.lro_ooo", 0) == 0);
	int n0 = lossy_burst(5403, 1, ooo0, &d0);
	CHECK(d0.merged == 1 && d0.mergedsegs == 2 && d0.unmerged == 7 && d0.rcvoopack == 7);
	CHECK(n0 == noff);
	for (int i = 0; i < n0; i++)
		CHECK(ooo0[i] == off[i]);
	CHECK(don.rcvpack == doff.rcvpack && don.rcvtotal == doff.rcvtotal);
	CHECK(doff.held == 0 && doff.merged == 0);
	CHECK(non == noff && non >= 3);
	for (int i = 0; i < non; i++)
		CHECK(on[i] == off[i]);
	CHECK(on[0] == 2 * MSS && on[non - 1] == NSEG * MSS);
	clean(s0, m0);
}

// A FIN ends the run: the data before it merges, the FIN segment goes
// after it; the bytes arrive, then the end of the stream.
static void tcp_lro_fin_not_merged(void)
{
	BEGIN();
	struct socket *c, *s;
	tw_pair(5403, &c, &s);
	struct lro_counts b;
	lro_snap(&b);
	send_segs(c, 5, 0);
	CHECK(soshutdown(c, SHUT_WR) == 0);
	int n = wire_burst();   // the FIN rides on the fifth, or follows it
	struct lro_counts d = lro_delta(&b);
	CHECK(n == 5 || n == 6);
	CHECK(d.merged == 1 && d.mergedsegs == (n == 5 ? 4 : 5) && d.rcvpack == 5);
	CHECK(tw_state(s) == TCPS_CLOSE_WAIT);
	lro_recv(s, 5 * MSS, 0);
	uint8 x;
	CHECK(tw_recv(s, &x, 1, 0) == 0);   // EOF after the data
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// Two connections in one batch: a run each, never one of both.
static void tcp_lro_flows_kept_apart(void)
{
	BEGIN();
	struct socket *c1, *s1, *c2, *s2;
	tw_pair(5404, &c1, &s1);
	tw_pair(5405, &c2, &s2);
	struct lro_counts b;
	lro_snap(&b);
	send_segs(c1, 6, 0);
	send_segs(c2, 4, 6 * MSS);
	CHECK(wire_burst() == 10);
	struct lro_counts d = lro_delta(&b);
	CHECK(d.merged == 2 && d.mergedsegs == 10 && d.rcvpack == 10);
	lro_recv(s1, 6 * MSS, 0);
	lro_recv(s2, 4 * MSS, 6 * MSS);
	soclose(c1);
	soclose(s1);
	soclose(c2);
	soclose(s2);
	clean(s0, m0);
}

// RFC 1122 mode (ack_batch_max = 0): the runs end where an ACK is due,
// so the ACKs are those of one by one, every second segment.
static void tcp_lro_every_second_segment_acked(void)
{
	BEGIN();
	CHECK(host_sysctl_write("net.inet.tcp.ack_batch_max", 0) == 0);
	struct socket *c, *s;
	tcp_seq base;
	struct lro_counts d = burst_nseg(5406, &c, &s, &base);
	CHECK(d.merged == NSEG / 2 && d.mergedsegs == NSEG && d.rcvpack == NSEG);
	wire_settle();
	uint32 acks[NSEG];
	CHECK(pure_acks(port_of(s), base, acks, NSEG) == NSEG / 2);
	for (int k = 0; k < NSEG / 2; k++)
		CHECK(acks[k] == 2u * MSS * (uint32)(k + 1));
	lro_recv(s, NSEG * MSS, 0);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// Switched off: nothing is held, and the ACK, bytes and counters are
// the same as with it on (the one-ACK-per-batch rule of ack_batch_max).
static void tcp_lro_off_unchanged(void)
{
	BEGIN();
	CHECK(host_sysctl_write("net.inet.tcp.lro", 0) == 0);
	struct socket *c, *s;
	tcp_seq base;
	struct lro_counts d = burst_nseg(5407, &c, &s, &base);
	CHECK(d.held == 0 && d.merged == 0 && d.flushes == 0);
	CHECK(d.rcvtotal == NSEG && d.rcvpack == NSEG && d.rcvbyte == NSEG * MSS);
	wire_settle();   // the ACKs cross; no time passes
	uint32 acks[NSEG];
	CHECK(pure_acks(port_of(s), base, acks, NSEG) == 1 && acks[0] == NSEG * MSS);
	lro_recv(s, NSEG * MSS, 0);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

static void tcp_lro_sysctl_range(void)
{
	CHECK(host_sysctl_write("net.inet.tcp.lro", -1) != 0);
	CHECK(host_sysctl_write("net.inet.tcp.lro", 2) != 0);
	CHECK(tcp_lro_on == 1);
	CHECK(host_sysctl_write("net.inet.tcp.lro", 0) == 0 && tcp_lro_on == 0);
}

// Every held segment is handed on inside a merged segment
// (lro_mergedsegs) or alone (lro_unmerged), whatever kept it alone: a
// run of one, a run the ACK rule cut to one, a gap. So once a batch is
// over, lro_held = lro_mergedsegs + lro_unmerged.
static void tcp_lro_counters_add_up(void)
{
	BEGIN();
	struct socket *c, *s;
	tw_pair(5417, &c, &s);
	struct lro_counts b;
	lro_snap(&b);
	send_segs(c, 1, 0);   // a run of one
	CHECK(wire_burst() == 1);
	struct lro_counts d = lro_delta(&b);
	CHECK(d.held == 1 && d.merged == 0 && d.unmerged == 1 && d.flushes == 1);
	wire_run(1000);   // the delayed ACK
	CHECK(host_sysctl_write("net.inet.tcp.ack_batch_max", 0) == 0);
	lro_snap(&b);
	send_segs(c, 3, MSS);   // [2 + 3] ACKed, then 4 alone
	CHECK(wire_burst() == 3);
	d = lro_delta(&b);
	CHECK(d.held == 3 && d.merged == 1 && d.mergedsegs == 2 && d.unmerged == 1);
	lro_recv(s, 4 * MSS, 0);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

const struct host_test tcp_lro_tests[] = {
	{ tcp_lro_inorder_run_merges_into_one, "tcp_lro_inorder_run_merges_into_one" },
	{ tcp_lro_gap_order_kept, "tcp_lro_gap_order_kept" },
	{ tcp_lro_fin_not_merged, "tcp_lro_fin_not_merged" },
	{ tcp_lro_flows_kept_apart, "tcp_lro_flows_kept_apart" },
	{ tcp_lro_every_second_segment_acked, "tcp_lro_every_second_segment_acked" },
	{ tcp_lro_off_unchanged, "tcp_lro_off_unchanged" },
	{ tcp_lro_sysctl_range, "tcp_lro_sysctl_range" },
	{ tcp_lro_counters_add_up, "tcp_lro_counters_add_up" },
	{ NULL, NULL },
};
