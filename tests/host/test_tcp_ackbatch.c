// Host tests of net.inet.tcp.ack_batch_max (net/tcp_input_sync.c,
// tcp_input_delack): the in-order full segments of one input batch get
// one ACK at the batch's end, as Linux's GRO receiver ACKs one merged
// poll, unless more than ack_batch_max bytes are unacknowledged; with 0,
// every second full segment gets its ACK at once (the strict RFC 1122
// case is tcp_delack_every_second_segment_in_a_batch in test_tcp_rfc.c).
// Over the fake wire (tcp_wire.h); a burst is one input batch.
#include "tests/host/tcp_wire.h"

#define NSEG 10

// Send NSEG full segments from c as one burst, let the ACKs cross, and
// check the data arrives intact. Returns the number of pure ACKs s sent;
// their ACK numbers (minus the base) go to acks[].
static int burst_acks(struct socket *c, struct socket *s, uint32 *acks)
{
	uint16 cp = port_of(c), sp = port_of(s);
	tcp_seq base = tw_tp(s)->rcv_nxt;
	CHECK(tw_tp(c)->t_maxseg == 1460);
	static uint8 buf[NSEG * 1460];
	tw_pattern(buf, sizeof(buf), 0);
	wire_log_clear();
	CHECK(tw_send(c, buf, sizeof(buf)) == (long)sizeof(buf));
	CHECK(wire_burst() == NSEG && tw_count(cp, 0, true) == NSEG);
	wire_settle();   // the ACKs cross; no time passes
	int n = 0;
	for (int i = 0; i < wire_nlog; i++)
		if (wire_log[i].ws_sport == sp && wire_log[i].ws_len == 0 &&
		    (wire_log[i].ws_flags & TH_ACK))
			acks[n++] = wire_log[i].ws_ack - base;
	static uint8 got[sizeof(buf)];
	CHECK(tw_recv(s, got, sizeof(got), 0) == (long)sizeof(got));
	CHECK(memcmp(got, buf, sizeof(buf)) == 0);
	return n;
}

// Default (65535): ten full segments in one batch, one ACK for all ten,
// sent at the batch's end (not by the delayed-ACK timer).
static void tcp_ack_batch_one_ack_per_batch(void)
{
	BEGIN();
	CHECK(tcp_ack_batch_max == 65535);
	struct socket *c, *s;
	tw_pair(5330, &c, &s);
	uint32 acks[NSEG];
	CHECK(burst_acks(c, s, acks) == 1);
	CHECK(acks[0] == NSEG * 1460);
	CHECK(tcpstat.tcps_delack == 0);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// A cap of four segments' bytes: the fifth segment takes the unacked
// count past it (7300 > 5840), so its ACK leaves at once, mid-batch; the
// next five do the same: two ACKs, at 5 and 10 segments. Writing 0 gives
// the RFC 1122 pattern back (an ACK per two segments), in the same
// connection.
static void tcp_ack_batch_cap_and_off(void)
{
	BEGIN();
	struct socket *c, *s;
	tw_pair(5331, &c, &s);
	uint32 acks[NSEG];
	CHECK(host_sysctl_write("net.inet.tcp.ack_batch_max", 4 * 1460) == 0);
	CHECK(burst_acks(c, s, acks) == 2);
	CHECK(acks[0] == 5 * 1460 && acks[1] == 10 * 1460);
	CHECK(host_sysctl_write("net.inet.tcp.ack_batch_max", 0) == 0);
	CHECK(burst_acks(c, s, acks) == NSEG / 2);
	for (int k = 0; k < NSEG / 2; k++)
		CHECK(acks[k] == 2u * 1460 * (uint32)(k + 1));
	CHECK(tcpstat.tcps_delack == 0);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// The knob's range: 0 .. 1 MiB, EINVAL outside (the value stays).
static void tcp_ack_batch_sysctl_range(void)
{
	CHECK(host_sysctl_write("net.inet.tcp.ack_batch_max", -1) != 0);
	CHECK(host_sysctl_write("net.inet.tcp.ack_batch_max", (1 << 20) + 1) != 0);
	CHECK(tcp_ack_batch_max == 65535);
	CHECK(host_sysctl_write("net.inet.tcp.ack_batch_max", 1 << 20) == 0);
	CHECK(tcp_ack_batch_max == 1 << 20);
}

const struct host_test tcp_ackbatch_tests[] = {
	{ tcp_ack_batch_one_ack_per_batch, "tcp_ack_batch_one_ack_per_batch" },
	{ tcp_ack_batch_cap_and_off, "tcp_ack_batch_cap_and_off" },
	{ tcp_ack_batch_sysctl_range, "tcp_ack_batch_sysctl_range" },
	{ NULL, NULL },
};
