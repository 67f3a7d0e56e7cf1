// Host tests of proportional rate reduction (net/tcp_prr.c, RFC 6937)
// over the fake wire (tcp_wire.h) with 20 ms each way. The sender has a
// window of 20 segments, sent one per millisecond, so their duplicate
// ACKs come back one per millisecond too and the log shows which ACK
// let which segment go (a segment is logged when it arrives, DELAY after
// it left). Each test runs the same losses with net.inet.tcp.prr at 1
// and at 0 (RFC 6675 alone) and checks what PRR changes. Deterministic.
#include "tests/host/tcp_wire.h"
#include "net/tcp_sack.h"

#define MSS 1460
#define DELAY 20          // ms one way: RTT 40 ms
#define WND 20            // segments in flight when the losses happen
#define TOTAL 40          // segments written

// Drop the first transmission of data segments [lo, hi] (1-based) of port.
static uint16 f_port;
static tcp_seq f_start;
static int f_lo, f_hi;
static uint8 f_gone[TOTAL + 1];

static enum wire_verdict drop_range(const struct wire_seg *ws)
{
	if (ws->ws_sport != f_port || ws->ws_len == 0)
		return WIRE_PASS;
	int k = (int)((ws->ws_seq - f_start) / MSS) + 1;
	if (k < f_lo || k > f_hi || k > TOTAL || f_gone[k])
		return WIRE_PASS;
	f_gone[k] = 1;
	return WIRE_DROP;
}

// What one run did: when recovery began (the first retransmission
// left), the retransmissions that left at that same moment, when the
// first new segment (beyond the first WND) left, how many new segments
// left before the sender's recovery ended, and cwnd/ssthresh after.
struct prr_run {
	uint64 t_start;       // the first segment left
	uint64 t_enter;
	int rexmit_at_enter;
	uint64 t_first_new;
	int new_in_recovery;
	uint32 cwnd, ssthresh;
	uint64 recoveries, prr_recoveries;
};

static struct prr_run prr_run(uint16 port, int prr, int lo, int hi)
{
	struct prr_run r;
	struct socket *c, *s;
	static uint8 buf[TOTAL * MSS];
	memset(&r, 0, sizeof(r));
	uint64 rec0 = tcpstat.tcps_sack_recovery, prr0 = tcpstat.tcps_prr_recovery;
	CHECK(host_sysctl_write("net.inet.tcp.prr", prr) == 0);
	CHECK(host_sysctl_write("net.inet.tcp.tlp", 0) == 0);   // RFC 6675 (+ PRR) alone
	wire_filter = NULL;
	wire_delay_ms = 0;   // tw_pair's handshake runs no clock
	tw_pair(port, &c, &s);
	wire_delay_ms = DELAY;
	struct tcpcb *tp = tw_tp(c);
	CHECK(tp->t_flags & TF_SACK_PERMIT);
	tp->snd_cwnd = WND * MSS;
	f_port = port_of(c);
	f_start = tp->snd_nxt;
	f_lo = lo, f_hi = hi;
	memset(f_gone, 0, sizeof(f_gone));
	wire_filter = drop_range;
	wire_log_clear();
	tw_pattern(buf, sizeof(buf), 0);
	r.t_start = net_now_ms();
	for (int i = 0; i < WND; i++) {   // one segment a millisecond
		CHECK(tw_send(c, buf + i * MSS, MSS) == MSS);
		wire_run(1);
	}
	// The rest waits behind cwnd: new data for recovery to send.
	CHECK(tw_send(c, buf + WND * MSS, (TOTAL - WND) * MSS) == (TOTAL - WND) * MSS);
	tcp_seq rec_end = 0;
	uint64 t_end = 0;
	for (int t = 0; t < 400 && t_end == 0; t++) {
		uint64 before = net_now_ms();
		wire_run(1);
		if (tp->t_flags & TF_SACKRECOVERY)
			rec_end = tp->snd_recover;
		if (rec_end != 0 && !(tp->t_flags & TF_INRECOVERY))
			t_end = before;   // the ACK that ended it came in this step
	}
	CHECK(t_end != 0);
	r.cwnd = tp->snd_cwnd;
	r.ssthresh = tp->snd_ssthresh;
	tcp_seq hi_sent = f_start, first_new = f_start + WND * MSS;
	for (int i = 0; i < wire_nlog; i++) {
		struct wire_seg *w = &wire_log[i];
		if (w->ws_sport != port_of(c) || w->ws_len == 0)
			continue;
		uint64 left = w->ws_time - DELAY;   // logged on arrival
		if (SEQ_LT(w->ws_seq, hi_sent)) {   // a retransmission
			if (r.t_enter == 0 || left == r.t_enter) {
				r.t_enter = left;
				r.rexmit_at_enter++;
			}
		} else if (SEQ_GEQ(w->ws_seq, first_new)) {
			if (r.t_first_new == 0 && r.t_enter != 0 && left > r.t_enter)
				r.t_first_new = left;   // (not limited transmit's, before)
			if (r.t_enter != 0 && left >= r.t_enter && left < t_end)
				r.new_in_recovery++;
		}
		hi_sent = SEQ_MAX(hi_sent, w->ws_seq + w->ws_len);
	}
	r.recoveries = tcpstat.tcps_sack_recovery - rec0;
	r.prr_recoveries = tcpstat.tcps_prr_recovery - prr0;
	wire_run(2000);
	CHECK(tp->snd_una == tp->snd_max);
	recv_check(s, TOTAL * MSS);
	soclose(c);
	soclose(s);
	wire_run(1000);   // the FINs cross: the wire is empty for the next pair
	return r;
}

// One loss at the head of the window. RFC 6675 alone cuts cwnd to
// ssthresh = 11 segments with ~19 in the pipe: nothing new may leave
// until 9 more duplicate ACKs are in, 9 ms of silence. PRR
// sends one new segment for about every second segment delivered from
// the start. Both end with cwnd = ssthresh, having sent about ssthresh.
static void tcp_prr_keeps_ack_clock_on_entry(void)
{
	BEGIN();
	struct prr_run on = prr_run(5400, 1, 1, 1);
	struct prr_run off = prr_run(5401, 0, 1, 1);
	clean(s0, m0);
	CHECK(on.recoveries == 1 && on.prr_recoveries == 1);
	CHECK(off.recoveries == 1 && off.prr_recoveries == 0);
	CHECK(on.rexmit_at_enter == 1 && off.rexmit_at_enter == 1);
	// Entered at the third duplicate ACK (segment 4's), 3 ms + one RTT
	// after the first segment left.
	CHECK(on.t_enter - on.t_start == off.t_enter - off.t_start);
	CHECK(on.t_first_new - on.t_enter <= 3);    // the third ACK after entry
	CHECK(off.t_first_new - off.t_enter >= 8);  // pipe must fall below cwnd first
	// ssthresh: FlightSize 22 (the 20 and two segments of limited
	// transmit, RFC 6675 5 (3), before DupThresh) / 2. RFC 6937 3: by the
	// end of recovery about ssthresh has been sent (the retransmission
	// and 8 new segments, the rest of the pipe being limited transmit's)
	// either way, and cwnd is ssthresh.
	CHECK(on.ssthresh == 11 * MSS && on.cwnd == on.ssthresh);
	CHECK(off.ssthresh == 11 * MSS && off.cwnd == off.ssthresh);
	CHECK(on.new_in_recovery >= 7 && on.new_in_recovery <= 10);
	CHECK(off.new_in_recovery >= 7 && off.new_in_recovery <= 10);
}

// Fifteen of the twenty lost: at entry (the third duplicate ACK, of
// segment 18) pipe is 5 segments (19, 20, two of limited transmit, the
// fast retransmission), ssthresh 11. RFC 6675 sends ssthresh - pipe at
// once: 6 more retransmissions with the first, a burst of 7 into the
// path that has just lost most of a window. PRR-SSRB lets pipe grow by
// at most DeliveredData + 1 MSS per ACK: the ACK that starts recovery
// delivered one segment, so 2 go with the fast retransmission. Either
// way everything arrives (prr_run reads it all).
static void tcp_prr_no_burst_below_ssthresh(void)
{
	BEGIN();
	struct prr_run on = prr_run(5410, 1, 1, 15);
	struct prr_run off = prr_run(5411, 0, 1, 15);
	clean(s0, m0);
	CHECK(on.t_enter - on.t_start == off.t_enter - off.t_start);
	CHECK(off.rexmit_at_enter == 7);
	CHECK(on.rexmit_at_enter == 3);
	CHECK(on.prr_recoveries >= 1 && off.prr_recoveries == 0);
}

// net.inet.tcp.prr is a 0/1 switch (the *_RANGE sysctl: EINVAL outside).
static void tcp_prr_sysctl_range(void)
{
	CHECK(host_sysctl_write("net.inet.tcp.prr", 2) == -EINVAL);
	CHECK(host_sysctl_write("net.inet.tcp.prr", -1) == -EINVAL);
	CHECK(host_sysctl_write("net.inet.tcp.prr", 0) == 0 && tcp_do_prr == 0);
	CHECK(host_sysctl_write("net.inet.tcp.prr", 1) == 0 && tcp_do_prr == 1);
}

const struct host_test tcp_prr_tests[] = {
	{ tcp_prr_keeps_ack_clock_on_entry, "tcp_prr_keeps_ack_clock_on_entry" },
	{ tcp_prr_no_burst_below_ssthresh, "tcp_prr_no_burst_below_ssthresh" },
	{ tcp_prr_sysctl_range, "tcp_prr_sysctl_range" },
	{ NULL, NULL },
};
