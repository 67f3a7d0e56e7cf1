// Host tests of the send window's right edge (net/tcp_input_sync.c,
// tcp_input_ack): an ACK that advances SND.UNA and shrinks SND.WND so
// that SND.UNA + SND.WND stays put (a receiver whose reader lags) must
// not let anything sent while that ACK is processed -- SACK limited
// transmit, a retransmission in recovery -- go past SEG.ACK + SEG.WND.
// The peer is forged (tw_forge_raw) from a port nobody listens on; what
// our stack sends it is dropped by the filter and read from wire_log.
#include "tests/host/tcp_wire.h"

#define MSS 1460

static uint16 fp_port;   // the forged peer: what goes there is dropped
static const uint8 nopt[4];   // no options (tw_forge_raw copies 0 bytes)

static enum wire_verdict drop_to_peer(const struct wire_seg *ws)
{
	return ws->ws_dport == fp_port ? WIRE_DROP : WIRE_PASS;
}

// Our accepted socket on lport, connected to a forged peer whose SYN
// offers MSS 1460 and SACK-permitted and whose ACK advertises win.
// *iss: our initial sequence number; *peer_seq: the peer's next.
static struct socket *open_forged(uint16 lport, uint16 win, uint32 *iss, uint32 *peer_seq)
{
	static const uint8 syn_opts[8] = { TCPOPT_MSS, 4, MSS >> 8, MSS & 0xff,
					   TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK_PERMITTED, 2 };
	fp_port = (uint16)(lport + 1000);
	wire_filter = drop_to_peer;
	struct socket *l = tw_listen(lport, 5), *so;
	wire_log_clear();
	tw_forge_raw(fp_port, lport, 70000, 0, TH_SYN, win, syn_opts, 8, 0);
	wire_settle();
	CHECK(wire_nlog >= 2 && wire_log[1].ws_flags == (TH_SYN | TH_ACK));
	*iss = wire_log[1].ws_seq;
	*peer_seq = 70001;
	tw_forge_raw(fp_port, lport, *peer_seq, *iss + 1, TH_ACK, win, nopt, 0, 0);
	wire_settle();
	CHECK(soaccept(l, true, &so) == 0);
	CHECK(tw_state(so) == TCPS_ESTABLISHED);
	CHECK(tw_tp(so)->t_flags & TF_SACK_PERMIT);
	soclose(l);
	return so;
}

// The highest sequence number (seq + len) of the data we sent the
// forged peer among the logged segments from index from on.
static uint32 right_most_sent(int from, uint32 floor)
{
	uint32 hi = floor;
	for (int i = from; i < wire_nlog; i++) {
		const struct wire_seg *w = &wire_log[i];
		if (w->ws_dport == fp_port && w->ws_len > 0 && SEQ_GT(w->ws_seq + w->ws_len, hi))
			hi = w->ws_seq + w->ws_len;
	}
	return hi;
}

// A window-limited sender (peer window 8 segments, cwnd 10) gets an
// ACK of segment 1 that SACKs segment 3 (a duplicate by RFC 6675 2, so
// limited transmit may send new data at once) with a window one segment
// smaller: the right edge stays at 8 segments. Nothing may go past it,
// neither then nor after the next ACK, which fills the hole (segment 2),
// SACKs segment 4 and shrinks the window by one more segment.
static void tcp_sndwnd_right_edge_kept_in_limited_transmit(void)
{
	BEGIN();
	uint32 iss, pseq;
	struct socket *so = open_forged(5340, 8 * MSS, &iss, &pseq);
	struct tcpcb *tp = tw_tp(so);
	uint32 base = iss + 1;
	send_pattern(so, 20 * MSS);
	wire_settle();
	CHECK(tp->snd_max == base + 8 * MSS);   // window-limited, cwnd is not
	CHECK(tp->snd_cwnd >= 10 * MSS);
	CHECK(right_most_sent(0, base) == base + 8 * MSS);
	// ACK k segments, SACK segment k + 2 (1-based), window 8 - k segments.
	for (uint32 k = 1; k <= 2; k++) {
		uint32 s = base + (k + 1) * MSS, e = s + MSS;
		uint8 o[12] = { TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK, 10,
				s >> 24, s >> 16, s >> 8, s, e >> 24, e >> 16, e >> 8, e };
		uint32 ack = base + k * MSS, wnd = (8 - k) * MSS;
		int from = wire_nlog;
		tw_forge_raw(fp_port, 5340, pseq, ack, TH_ACK, (uint16)wnd, o, 12, 0);
		wire_settle();
		CHECK(tp->snd_una == ack && tp->snd_wnd == wnd);
		if (k == 1)
			CHECK(tp->t_dupacks == 1);   // a duplicate: limited transmit ran
		// RFC 9293 3.8.6: send only within SND.UNA + SND.WND of this ACK.
		CHECK(right_most_sent(from, base) <= ack + wnd);
		CHECK(SEQ_LEQ(tp->snd_max, ack + wnd));
	}
	struct linger lg = { 1, 0 };   // abort: the RST goes to the filter
	struct sockopt sopt = { SOL_SOCKET, SO_LINGER, false, &lg, sizeof(lg) };
	CHECK(sosetopt(so, &sopt) == 0);
	soclose(so);
	wire_settle();
	clean(s0, m0);
}

const struct host_test tcp_sndwnd_tests[] = {
	{ tcp_sndwnd_right_edge_kept_in_limited_transmit,
	  "tcp_sndwnd_right_edge_kept_in_limited_transmit" },
	{ NULL, NULL },
};
