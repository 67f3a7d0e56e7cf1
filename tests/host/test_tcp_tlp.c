// Host tests of the tail loss probe (net/tcp_tlp.c, RFC 8985 7) and of
// SACK limited transmit (RFC 6675 5 (3)) over the fake wire (tcp_wire.h)
// with 20 ms each way: a loss at the tail of a flight, with nothing
// behind it to make duplicate ACKs, is repaired about two SRTTs after
// the last ACK by a probe, where without the probe the sender waits for
// the retransmission timer (200 ms at least). Deterministic: the losses
// are chosen by a filter, the clock is virtual.
#include "tests/host/tcp_wire.h"
#include "net/tcp_sack.h"

#define MSS 1460
#define DELAY 20          // ms one way: RTT 40 ms

// ---- drop chosen data segments of one port, once each ---------------------------------

// Drop data segments k (1-based, MSS each) of what so sends next.
static void drop_segments(struct socket *so, const int *k, int n)
{
	wire_drop_segments(so, k, n, MSS);
}

// A connected pair on a wire with DELAY each way, the client's RTT
// estimator as after a first sample of one round trip (the handshake
// ran with no delay: its sample was 0 ms).
static struct tcpcb *tlp_pair(uint16 port, struct socket **c, struct socket **s)
{
	tw_pair(port, c, s);
	wire_delay_ms = DELAY;
	struct tcpcb *tp = tw_tp(*c);
	tp->t_srtt = 0;
	tcp_rtt_update(tp, 2 * DELAY);   // RFC 6298 2.2: SRTT = R
	CHECK(tp->t_srtt >> 3 == 2 * DELAY && tp->t_rto == 200);   // the RTO floor
	CHECK(tp->t_flags & TF_SACK_PERMIT);
	return tp;
}

// What happened to a burst of segments from c: when each retransmission
// left c, when c last received an ACK of new data before the first of
// them, and when the ACK of everything reached c.
struct tail_run {
	uint64 t_rexmit[4];
	int rexmits;
	uint64 t_lastack;     // last ACK of new data before the first retransmission
	uint64 t_done;        // ACK of the whole burst at the sender
};

static struct tail_run tail_run(struct socket *c, struct socket *s, tcp_seq start, tcp_seq end)
{
	struct tail_run r;
	memset(&r, 0, sizeof(r));
	tcp_seq hi = start, acked = start;
	for (int i = 0; i < wire_nlog; i++) {
		struct wire_seg *w = &wire_log[i];   // logged as it arrives
		if (w->ws_sport == port_of(c) && w->ws_len > 0) {
			if (SEQ_LT(w->ws_seq, hi) && r.rexmits < 4)
				r.t_rexmit[r.rexmits++] = w->ws_time - DELAY;
			hi = SEQ_MAX(hi, w->ws_seq + w->ws_len);
		}
		if (w->ws_sport == port_of(s) && SEQ_GT(w->ws_ack, acked)) {
			acked = w->ws_ack;
			if (r.rexmits == 0)
				r.t_lastack = w->ws_time;
			if (acked == end && r.t_done == 0)
				r.t_done = w->ws_time;
		}
	}
	return r;
}

// Send n full segments from c with segments lost[] dropped once; run
// the wire for 2 s; check everything arrived.
static struct tail_run tail_loss(struct socket *c, struct socket *s, int n, const int *lost,
				 int nlost)
{
	struct tcpcb *tp = tw_tp(c);
	tcp_seq start = tp->snd_nxt, end = start + (uint32)n * MSS;
	drop_segments(c, lost, nlost);
	wire_log_clear();
	send_pattern(c, (size_t)n * MSS);
	wire_run(2000);
	CHECK(tp->snd_una == end);
	recv_check(s, (size_t)n * MSS);
	return tail_run(c, s, start, end);
}

// ---- tests --------------------------------------------------------------------------------

// RFC 8985 7: the last of ten segments is lost. The ACKs of 1-8 come
// back one RTT later; the PTO (2 SRTT = 80 ms) restarted by the last of
// them fires with nothing new to send, so the probe resends segment 10
// -- 2 SRTT after that ACK, not the 200 ms an RTO would wait from the
// later ACK of segment 9. It fills the tail; no timeout, cwnd intact
// until the ACK of later data shows no duplicate of the probe arrived
// (the original was lost): then cwnd is halved (7.4.2).
static void tcp_tlp_tail_loss_two_srtt(void)
{
	BEGIN();
	struct socket *c, *s;
	struct tcpcb *tp = tlp_pair(5600, &c, &s);
	static const int lost[] = { 10 };
	struct tail_run r = tail_loss(c, s, 10, lost, 1);
	CHECK(r.rexmits == 1);
	CHECK(r.t_lastack == 2 * DELAY);                    // the ACK of 1-8
	CHECK(r.t_rexmit[0] - r.t_lastack == 2 * 2 * DELAY);   // one PTO = 2 SRTT later
	CHECK(tcpstat.tcps_tlp_probe == 1 && tcpstat.tcps_tlp_probe_rexmt == 1);
	CHECK(tcpstat.tcps_rexmttimeo == 0);
	// Segment 9's delayed ACK (100 ms) restarted the RTO at 140: an RTO
	// would have resent segment 10 at 340 at the earliest.
	CHECK(r.t_done < 340 - DELAY);
	CHECK(tcpstat.tcps_tlp_recovered == 0);   // not known yet
	CHECK(tp->snd_ssthresh > tp->snd_cwnd);   // no loss seen yet: "arbitrarily high"
	wire_log_clear();
	send_pattern(c, 4 * MSS);   // later data: its ACK passes the probe's end
	wire_run(1000);
	CHECK(tcpstat.tcps_tlp_recovered == 1 && tp->t_tlp_state == 0);
	// Half the window this data went with: the initial window, as the
	// sender had been idle longer than an RTO (RFC 5681 4.1).
	CHECK(tp->snd_ssthresh == 10 * MSS / 2);
	CHECK(tcpstat.tcps_rexmttimeo == 0);
	recv_check(s, 4 * MSS);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// The same loss with net.inet.tcp.tlp=0: the sender waits for the
// retransmission timer, 200 ms after the last ACK of new data.
static void tcp_tlp_off_waits_for_rto(void)
{
	BEGIN();
	struct socket *c, *s;
	CHECK(host_sysctl_write("net.inet.tcp.tlp", 0) == 0);
	tlp_pair(5601, &c, &s);
	static const int lost[] = { 10 };
	struct tail_run r = tail_loss(c, s, 10, lost, 1);
	CHECK(r.rexmits == 1);
	CHECK(tcpstat.tcps_rexmttimeo == 1 && tcpstat.tcps_tlp_probe == 0);
	CHECK(r.t_rexmit[0] - r.t_lastack == 200);   // the RTO floor
	CHECK(r.t_done >= 340 + DELAY);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// Segments 9 and 10 lost: the probe resends 10, which arrives above the
// hole and is SACKed; every segment below it went a PTO earlier, so 9
// is lost (RACK's inference, RFC 8985 6.2): SACK recovery resends it at
// once. One RTT after the probe, not a timeout.
static void tcp_tlp_two_tail_losses_sack_recovery(void)
{
	BEGIN();
	struct socket *c, *s;
	tlp_pair(5602, &c, &s);
	static const int lost[] = { 9, 10 };
	struct tail_run r = tail_loss(c, s, 10, lost, 2);
	CHECK(r.rexmits == 2);
	CHECK(r.t_rexmit[0] - r.t_lastack == 2 * 2 * DELAY);   // the probe (10)
	CHECK(r.t_rexmit[1] - r.t_rexmit[0] == 2 * DELAY);     // 9, when its SACK is back
	CHECK(tcpstat.tcps_tlp_probe == 1 && tcpstat.tcps_tlp_recovery == 1);
	CHECK(tcpstat.tcps_sack_recovery == 1 && tcpstat.tcps_rexmttimeo == 0);
	CHECK(r.t_done == r.t_rexmit[1] + 2 * DELAY);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// Segment 8 of 10 lost: 9 and 10 are SACKed, too few for RFC 6675's
// IsLost (more than 2 SMSS), and nothing is left to send. At the PTO the
// hole has waited 2 SRTT while later segments arrived: the sender
// recovers at once, without a probe (net/tcp_tlp.c, tlp_rack).
static void tcp_tlp_pto_recovers_a_sacked_hole(void)
{
	BEGIN();
	struct socket *c, *s;
	tlp_pair(5603, &c, &s);
	static const int lost[] = { 8 };
	struct tail_run r = tail_loss(c, s, 10, lost, 1);
	CHECK(r.rexmits == 1);
	CHECK(r.t_rexmit[0] - r.t_lastack == 2 * 2 * DELAY);
	CHECK(tcpstat.tcps_tlp_rack == 1 && tcpstat.tcps_tlp_probe == 0);
	CHECK(tcpstat.tcps_sack_recovery == 1 && tcpstat.tcps_rexmttimeo == 0);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// The probe was not needed: all ten segments arrived, only the ACK of
// 9-10 was lost. The probe resends 10; the receiver reports the
// duplicate in a D-SACK block (RFC 2883) below its cumulative ACK: a
// TLP dupack, so no loss was hidden and cwnd is not cut (RFC 8985 7.4).
static uint16 a_port;
static tcp_seq a_ack;

static enum wire_verdict drop_ack_once(const struct wire_seg *ws)
{
	if (ws->ws_sport == a_port && ws->ws_len == 0 && ws->ws_ack == a_ack) {
		a_port = 0;
		return WIRE_DROP;
	}
	return WIRE_PASS;
}

static void tcp_tlp_spurious_probe_dsack_no_cwnd_cut(void)
{
	BEGIN();
	struct socket *c, *s;
	struct tcpcb *tp = tlp_pair(5604, &c, &s);
	a_port = port_of(s);
	a_ack = tp->snd_nxt + 10 * MSS;
	wire_filter = drop_ack_once;
	wire_log_clear();
	send_pattern(c, 10 * MSS);
	wire_run(2000);
	CHECK(tp->snd_una == a_ack && a_port == 0);
	CHECK(tcpstat.tcps_tlp_probe == 1 && tcpstat.tcps_rexmttimeo == 0);
	CHECK(tcpstat.tcps_rcvduppack == 1);   // the receiver had it
	int dsack = 0;                         // its ACK carried a D-SACK of it
	for (int i = 0; i < wire_nlog; i++) {
		struct wire_seg *w = &wire_log[i];
		if (w->ws_sport == port_of(s) && w->ws_opt.to_nsacks > 0 &&
		    w->ws_opt.to_sacks[0][0] == a_ack - MSS && w->ws_opt.to_sacks[0][1] == a_ack &&
		    w->ws_ack == a_ack)
			dsack++;
	}
	CHECK(dsack == 1);
	recv_check(s, 10 * MSS);
	uint32 ssthresh = tp->snd_ssthresh;
	send_pattern(c, 4 * MSS);
	wire_run(1000);
	CHECK(tcpstat.tcps_tlp_recovered == 0 && tp->t_tlp_state == 0);
	CHECK(tp->snd_ssthresh == ssthresh);
	recv_check(s, 4 * MSS);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// SACK recovery resends segment 2 and that copy is lost too. RFC 6675
// alone cannot see it: the hole stays while new data (sent by NextSeg
// rule 2 after the retransmission) is SACKed, until the RTO. At the PTO
// armed when recovery began (2 SRTT), an ACK of later data has arrived
// and snd_una has not moved: segment 2 goes again, no timeout.
static void tcp_tlp_lost_retransmission_resent(void)
{
	BEGIN();
	struct socket *c, *s;
	tlp_pair(5606, &c, &s);
	static const int lost[] = { 2, 2 };
	struct tail_run r = tail_loss(c, s, 20, lost, 2);
	CHECK(r.rexmits == 2);
	CHECK(r.t_rexmit[1] - r.t_rexmit[0] == 2 * 2 * DELAY);   // one PTO later
	CHECK(tcpstat.tcps_tlp_lostrexmt == 1 && tcpstat.tcps_sack_recovery == 1);
	CHECK(tcpstat.tcps_rexmttimeo == 0);
	CHECK(tcpstat.tcps_persisttimeo == 0);   // the PTO is no "nothing in flight"
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// The same with net.inet.tcp.tlp=0: the RTO repairs it.
static void tcp_tlp_off_lost_retransmission_rto(void)
{
	BEGIN();
	struct socket *c, *s;
	CHECK(host_sysctl_write("net.inet.tcp.tlp", 0) == 0);
	tlp_pair(5607, &c, &s);
	static const int lost[] = { 2, 2 };
	struct tail_run r = tail_loss(c, s, 20, lost, 2);
	CHECK(r.rexmits >= 2 && r.t_rexmit[1] - r.t_rexmit[0] >= 200);
	CHECK(tcpstat.tcps_tlp_lostrexmt == 0 && tcpstat.tcps_rexmttimeo == 1);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// RFC 6675 5 (3): with an initial window of two segments, segment 1 is
// lost; segment 2's SACK leaves pipe at one segment, so one new segment
// may go, and its SACK lets another go: the third SACKed segment above
// the hole starts recovery -- no timeout (the probe is off to show it is
// limited transmit alone; without it the full window waits for the RTO).
static void tcp_sack_limited_transmit(void)
{
	BEGIN();
	struct socket *c, *s;
	CHECK(host_sysctl_write("net.inet.tcp.tlp", 0) == 0);
	CHECK(host_sysctl_write("net.inet.tcp.iw_segs", 2) == 0);
	struct tcpcb *tp = tlp_pair(5605, &c, &s);
	CHECK(tp->snd_cwnd == 2 * MSS);
	static const int lost[] = { 1 };
	struct tail_run r = tail_loss(c, s, 8, lost, 1);
	CHECK(r.rexmits == 1);
	CHECK(tcpstat.tcps_sack_limited == 2);   // segments 3 and 4
	CHECK(tcpstat.tcps_sack_recovery == 1 && tcpstat.tcps_rexmttimeo == 0);
	CHECK(r.t_rexmit[0] == 3 * 2 * DELAY);   // on the third SACK, 3 RTTs in
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// The PTO stands in for the retransmission timer (I2 of net/tcp_tlp.c);
// output must not take "no TCPT_REXMT" for "nothing in flight" and
// start the persist timer (whose expiry forces a resend from snd_una)
// when the window is full and more data waits.
static void tcp_tlp_no_persist_behind_the_pto(void)
{
	BEGIN();
	struct socket *c, *s;
	struct tcpcb *tp = tlp_pair(5608, &c, &s);
	static uint8 buf[15 * MSS];
	tw_pattern(buf, sizeof(buf), 0);
	CHECK(tw_send(c, buf, 10 * MSS) == 10 * MSS);   // the initial window
	CHECK(tcp_timer_active(tp, TCPT_PTO) && !tcp_timer_active(tp, TCPT_REXMT));
	CHECK(tw_send(c, buf + 10 * MSS, 5 * MSS) == 5 * MSS);   // waits for cwnd
	CHECK(!tcp_timer_active(tp, TCPT_PERSIST));
	wire_run(2000);
	CHECK(tp->snd_una == tp->snd_max && tcpstat.tcps_persisttimeo == 0);
	recv_check(s, 15 * MSS);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// RFC 8985 7.2: with one segment out the PTO adds WCDelAckT for the
// peer's delayed ACK (net.inet.tcp.tlp_wcdelack_ms), and is never later
// than the RTO. A lone segment lost: with 40 ms the probe resends it at
// 2 SRTT + 40 = 120 ms; with the RFC's 200 ms, 2 SRTT + 200 = 280 would
// be later than the RTO (200 ms floor), so it goes at 200 ms.
static uint64 lone_segment_probe_ms(uint16 port, int wcdelack)
{
	struct socket *c, *s;
	CHECK(host_sysctl_write("net.inet.tcp.tlp_wcdelack_ms", wcdelack) == 0);
	tlp_pair(port, &c, &s);
	static const int lost[] = { 1 };
	uint64 t0 = net_now_ms();
	struct tail_run r = tail_loss(c, s, 1, lost, 1);
	CHECK(r.rexmits == 1 && tcpstat.tcps_rexmttimeo == 0);
	soclose(c);
	soclose(s);
	wire_delay_ms = 0;
	wire_run(1000);
	return r.t_rexmit[0] - t0;
}

static void tcp_tlp_lone_segment_pto_wcdelack(void)
{
	BEGIN();
	CHECK(lone_segment_probe_ms(5610, 40) == 2 * 2 * DELAY + 40);
	CHECK(lone_segment_probe_ms(5611, 200) == 200);
	CHECK(tcpstat.tcps_tlp_probe == 2);
	CHECK(host_sysctl_write("net.inet.tcp.tlp_wcdelack_ms", 1001) == -EINVAL);
	CHECK(host_sysctl_write("net.inet.tcp.tlp_wcdelack_ms", -1) == -EINVAL);
	clean(s0, m0);
}

// net.inet.tcp.tlp is a 0/1 switch (the *_RANGE sysctl: EINVAL outside).
static void tcp_tlp_sysctl_range(void)
{
	CHECK(host_sysctl_write("net.inet.tcp.tlp", 2) == -EINVAL);
	CHECK(host_sysctl_write("net.inet.tcp.tlp", -1) == -EINVAL);
	CHECK(host_sysctl_write("net.inet.tcp.tlp", 0) == 0 && tcp_do_tlp == 0);
	CHECK(host_sysctl_write("net.inet.tcp.tlp", 1) == 0 && tcp_do_tlp == 1);
}

const struct host_test tcp_tlp_tests[] = {
	{ tcp_tlp_tail_loss_two_srtt, "tcp_tlp_tail_loss_two_srtt" },
	{ tcp_tlp_off_waits_for_rto, "tcp_tlp_off_waits_for_rto" },
	{ tcp_tlp_two_tail_losses_sack_recovery, "tcp_tlp_two_tail_losses_sack_recovery" },
	{ tcp_tlp_pto_recovers_a_sacked_hole, "tcp_tlp_pto_recovers_a_sacked_hole" },
	{ tcp_tlp_spurious_probe_dsack_no_cwnd_cut, "tcp_tlp_spurious_probe_dsack_no_cwnd_cut" },
	{ tcp_tlp_lost_retransmission_resent, "tcp_tlp_lost_retransmission_resent" },
	{ tcp_tlp_off_lost_retransmission_rto, "tcp_tlp_off_lost_retransmission_rto" },
	{ tcp_sack_limited_transmit, "tcp_sack_limited_transmit" },
	{ tcp_tlp_no_persist_behind_the_pto, "tcp_tlp_no_persist_behind_the_pto" },
	{ tcp_tlp_sysctl_range, "tcp_tlp_sysctl_range" },
	{ tcp_tlp_lone_segment_pto_wcdelack, "tcp_tlp_lone_segment_pto_wcdelack" },
	{ NULL, NULL },
};
