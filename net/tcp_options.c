// TCP options: parsing the options of a received segment, building the
// options of every segment we send, and the RFC 7323 rules that act on
// them (window scale negotiation, timestamps, PAWS, RTT from TSecr).
//
// Problem: a 16-bit window caps a connection at 64 KB per round trip
// (6.5 MB/s at 10 ms, 3.2 MB/s at 20 ms); one RTT sample per window
// (RFC 6298 with Karn's rule) misses every retransmitted window; and a
// fast connection wraps its 32-bit sequence space within the lifetime
// of an old duplicate, which could then be taken as new data. RFC 7323
// fixes all three with two options that both ends must offer in their
// SYNs.
//
// Idea: negotiation sets flags in the tcpcb (TF_REQ_* we offered,
// TF_RCVD_* the peer offered: an option is on with both), so every
// later decision is one test. tcp_addoptions writes the options of any
// segment into a buffer with a byte budget (40 at most): a SYN offers
// MSS, timestamps, window scale and SACK-permitted; every later segment
// carries timestamps once they are on, and SACK blocks take the room
// left (tcp_sack_addopt). Windows: the shift is fixed by the SYNs;
// SEG.WND is shifted left on input (never in a SYN) and our window
// shifted right on output (net/tcp_output.c, tcp_output_win).
//
// Timestamp clock: TSval = net_now_ms() + t_ts_offset, one tick per
// millisecond (RFC 7323 5.4 asks for 1 ms to 1 s per tick). The offset
// is a keyed hash of the 4-tuple (tcp_ts_offset_for): a peer cannot read
// our uptime off TSval (RFC 7323 7.1), and a new incarnation of the
// same 4-tuple continues the same clock, so PAWS still protects it.
//
// Invariants:
//   I1 rcv_scale and snd_scale are 0 unless TF_BOTH_SCALE; they never
//      change after the SYNs (RFC 7323 2.2: "fixed ... for the life of
//      the connection").
//   I2 Once TF_BOTH_TSTMP, every segment we send carries timestamps
//      (RFC 7323 3.2), and ts_recent only moves forward except after 24
//      days of idleness (5.5).
//   I3 tcp_addoptions never writes more than its room, and its result is
//      a multiple of 4.
//
// Locking: [o] only: every function runs on the connection's owning
// netisr (tcp_dooptions is pure and runs anywhere).
//
// Races: none between threads (single owner). On the wire: "SYN
// retransmitted after the peer's options changed": the flags are set
// from the SYN that moves the state (LISTEN, SYN_SENT), later SYNs are
// answered without renegotiation.
//
// Life of a segment: receive: tcp_input -> tcp_input_parse ->
// tcp_dooptions; LISTEN/SYN_SENT: tcp_options_request + tcp_options_syn;
// synchronized: tcp_input_sync -> tcp_options_input (unscale, PAWS) ->
// acceptability -> tcp_ts_update (TS.Recent) -> tcp_input_ack ->
// tcp_ts_rtt (an ACK of new data: the RTT sample). Send:
// tcp_output_decide -> tcp_addoptions -> tcp_output_build.
//
// Testing: make hosttest (tcp_wscale_*, tcp_ts_*, tcp_paws_*); tests/
// test_tcp_opts.py (against Linux, tshark). gdb: break tcp_options_syn,
// tcp_options_input.
//
// References: RFC 7323 (2: window scale; 3: timestamps option; 4: RTTM;
// 5: PAWS; 7.1: TSval privacy; Appendix A: option layout), RFC 9293 3.1,
// 3.2, 3.7.1 (MSS), RFC 2018 2, 3 (SACK-permitted, SACK), RFC 6691 (MSS
// excludes options); McKusick et al., FreeBSD design, 14.
#include "net/tcp_var.h"
#include "net/in_pcb.h"
#include "net/socket.h"

int tcp_do_wscale = 1;
NET_SYSCTL_INT_RANGE(tcp_do_wscale, "net.inet.tcp.wscale", SYSCTL_RW, &tcp_do_wscale, 0, 1,
		     "offer RFC 7323 window scaling in our SYNs");
int tcp_do_timestamps = 1;
NET_SYSCTL_INT_RANGE(tcp_do_timestamps, "net.inet.tcp.timestamps", SYSCTL_RW,
		     &tcp_do_timestamps, 0, 1, "offer RFC 7323 timestamps in our SYNs");

// RFC 7323 5.5: "If a connection remains idle for more than 24 days,
// TS.Recent is invalid" -- a 1 ms clock may have wrapped half its space.
#define TCP_PAWS_IDLE_MS (24ull * 24 * 60 * 60 * 1000)

static uint32 get32(const uint8 *p)
{
	return (uint32)p[0] << 24 | (uint32)p[1] << 16 | (uint32)p[2] << 8 | p[3];
}

static void put32(uint8 *p, uint32 v)
{
	p[0] = (uint8)(v >> 24), p[1] = (uint8)(v >> 16), p[2] = (uint8)(v >> 8), p[3] = (uint8)v;
}

// ---- parsing -----------------------------------------------------------------------

// One option of kind cp[0], length olen (checked) into *to.
static void tcp_dooption(struct tcpopt *to, const uint8 *cp, int olen, bool syn)
{
	switch (cp[0]) {
	case TCPOPT_MSS:   // RFC 9293 3.2: only in a SYN
		if (olen == TCPOLEN_MSS && syn) {
			to->to_flags |= TOF_MSS;
			to->to_mss = (uint16)(cp[2] << 8 | cp[3]);
		}
		break;
	case TCPOPT_WSCALE:   // RFC 7323 2.2; 2.3: "use 14 instead of" a larger shift
		if (olen == TCPOLEN_WSCALE && syn) {
			to->to_flags |= TOF_WSCALE;
			to->to_wscale = cp[2] > TCP_MAX_WINSHIFT ? TCP_MAX_WINSHIFT : cp[2];
		}
		break;
	case TCPOPT_SACK_PERMITTED:   // RFC 2018 2
		if (olen == TCPOLEN_SACK_PERMITTED && syn)
			to->to_flags |= TOF_SACKPERM;
		break;
	case TCPOPT_TIMESTAMP:   // RFC 7323 3.2
		if (olen == TCPOLEN_TIMESTAMP) {
			to->to_flags |= TOF_TS;
			to->to_tsval = get32(cp + 2);
			to->to_tsecr = get32(cp + 6);
		}
		break;
	case TCPOPT_SACK:   // RFC 2018 3
		if ((olen - 2) % TCPOLEN_SACK_BLOCK == 0 && olen > 2 && !syn) {
			to->to_flags |= TOF_SACK;
			for (int i = 0; i < (olen - 2) / TCPOLEN_SACK_BLOCK && i < 4; i++) {
				const uint8 *b = cp + 2 + TCPOLEN_SACK_BLOCK * i;
				to->to_sacks[i][0] = get32(b);
				to->to_sacks[i][1] = get32(b + 4);
				to->to_nsacks = (uint8)(i + 1);
			}
		}
		break;
	}
}

// Options in the layout of RFC 7323 Appendix A -- NOP, NOP, TS(10) --
// are what every segment of a connection with timestamps carries (Linux
// sends them so): read in one step, with what the loop below would
// find: TOF_TS, TSval, TSecr. The struct is zeroed by inline stores, not
// a memset call. Together 2% of a received segment's instructions
// (bench/icountab.py --dir l2g, one boot, temporary switch: 4,849 /
// 4,848 -> 4,743 / 4,747 per 1460 B).
void tcp_dooptions(struct tcpopt *to, const uint8 *cp, int len, bool syn)
{
	*to = (struct tcpopt){ .to_flags = 0 };
	if (len == TCPOLEN_TSTAMP_APPA && cp[0] == TCPOPT_NOP && cp[1] == TCPOPT_NOP &&
	    cp[2] == TCPOPT_TIMESTAMP && cp[3] == TCPOLEN_TIMESTAMP) {
		to->to_flags = TOF_TS;
		to->to_tsval = get32(cp + 4);
		to->to_tsecr = get32(cp + 8);
		return;
	}
	while (len > 0) {
		if (cp[0] == TCPOPT_EOL)
			break;
		if (cp[0] == TCPOPT_NOP) {
			cp++, len--;
			continue;
		}
		if (len < 2 || cp[1] < 2 || cp[1] > len)
			break;   // a lying length ends the parse
		tcp_dooption(to, cp, cp[1], syn);
		len -= cp[1], cp += cp[1];
	}
}

// ---- building ----------------------------------------------------------------------

uint32 tcp_ts_now(struct tcpcb *tp)
{
	return (uint32)net_now_ms() + tp->t_ts_offset;
}

// NOP NOP TS(10): TSval now, TSecr = TS.Recent (RFC 7323 3.2: TSecr is
// 0 in a SYN, where no TS.Recent exists yet -- tcp_options_syn sets it
// before our SYN,ACK, which must echo the peer's TSval).
static int tcp_addts(struct tcpcb *tp, uint8 *cp)
{
	cp[0] = TCPOPT_NOP, cp[1] = TCPOPT_NOP;
	cp[2] = TCPOPT_TIMESTAMP, cp[3] = TCPOLEN_TIMESTAMP;
	put32(cp + 4, tcp_ts_now(tp));
	put32(cp + 8, (tp->t_flags & TF_RCVD_TSTMP) ? tp->ts_recent : 0);
	return TCPOLEN_TSTAMP_APPA;
}

// The options of a SYN: MSS first (the order Linux uses; tools and the
// host tests find it at offset 20), then what TF_REQ_* asks for. At
// most 4 + 12 + 4 + 4 = 24 bytes. A SYN,ACK offers only what the
// peer's SYN carried (RFC 7323 2.2, 3.2; RFC 2018 2): tcp_options_syn
// cleared the other TF_REQ_* bits already.
static int tcp_addoptions_syn(struct tcpcb *tp, uint8 *cp, int room)
{
	int n = 0;
	if (room >= TCPOLEN_MSS) {   // RFC 9293 3.7.1: kind 2, length 4, our MSS
		cp[0] = TCPOPT_MSS, cp[1] = TCPOLEN_MSS;
		cp[2] = (uint8)(tp->t_ourmss >> 8), cp[3] = (uint8)tp->t_ourmss;
		n = TCPOLEN_MSS;
	}
	if ((tp->t_flags & TF_REQ_TSTMP) && room - n >= TCPOLEN_TSTAMP_APPA)
		n += tcp_addts(tp, cp + n);
	if ((tp->t_flags & TF_REQ_SCALE) && room - n >= 4) {
		cp[n] = TCPOPT_NOP, cp[n + 1] = TCPOPT_WSCALE, cp[n + 2] = TCPOLEN_WSCALE;
		cp[n + 3] = tp->request_r_scale;
		n += 4;
	}
	if ((tp->t_flags & TF_REQ_SACK) && room - n >= 4) {
		cp[n] = TCPOPT_NOP, cp[n + 1] = TCPOPT_NOP;
		cp[n + 2] = TCPOPT_SACK_PERMITTED, cp[n + 3] = TCPOLEN_SACK_PERMITTED;
		n += 4;
	}
	return n;
}

int tcp_optlen_fixed(struct tcpcb *tp)
{
	return (tp->t_flags & TF_BOTH_TSTMP) == TF_BOTH_TSTMP ? TCPOLEN_TSTAMP_APPA : 0;
}

uint32 tcp_smss(struct tcpcb *tp)
{
	return tp->t_maxseg - (uint32)tcp_optlen_fixed(tp);   // t_maxseg >= TCP_MSS_MIN
}

int tcp_addoptions(struct tcpcb *tp, uint8 flags, uint8 *cp, int room)
{
	if (room > TCP_MAXOLEN)
		room = TCP_MAXOLEN;
	if (flags & TH_SYN)
		return tcp_addoptions_syn(tp, cp, room);
	if (flags & TH_RST)
		return 0;   // RFC 7323 5.3 R1 note: RSTs need not carry timestamps
	int n = 0;
	if (tcp_optlen_fixed(tp) > 0 && room >= TCPOLEN_TSTAMP_APPA)
		n = tcp_addts(tp, cp);   // I2
	n += tcp_sack_addopt(tp, cp + n, room - n);
	return n;   // I3: each part is a multiple of 4 within its room
}


int tcp_optlen(struct tcpcb *tp, uint8 flags)
{
	// The common segment (not a SYN or RST, no SACK block owed: the
	// early return of tcp_sack_addopt) carries the timestamps or
	// nothing: its length without building it. Anything else: build it
	// aside and count.
	bool sack = (tp->t_flags & TF_SACK_PERMIT) &&
		    (tp->t_reass.tr_head != NULL || tp->t_dsack_on);
	if (!(flags & (TH_SYN | TH_RST)) && !sack)
		return tcp_optlen_fixed(tp);
	uint8 scratch[TCP_MAXOLEN];
	return tcp_addoptions(tp, flags, scratch, TCP_MAXOLEN);
}

// ---- negotiation -------------------------------------------------------------------

// The smallest shift so that the largest buffer tp may get fits in a
// 16-bit window shifted by it (RFC 7323 2.3), at most 14.
static uint8 tcp_rscale_for(struct tcpcb *tp)
{
	uint32 buf = tcp_rcvbuf_ceiling(tp);
	uint8 s = 0;
	while (s < TCP_MAX_WINSHIFT && ((uint32)TCP_MAXWIN << s) < buf)
		s++;
	return s;
}

void tcp_options_request(struct tcpcb *tp)
{
	struct inpcb *inp = tp->t_inp;
	tp->t_flags &= ~(TF_REQ_SCALE | TF_REQ_TSTMP);
	if (__atomic_load_n(&tcp_do_wscale, __ATOMIC_RELAXED)) {
		tp->t_flags |= TF_REQ_SCALE;
		tp->request_r_scale = tcp_rscale_for(tp);
	}
	if (__atomic_load_n(&tcp_do_timestamps, __ATOMIC_RELAXED))
		tp->t_flags |= TF_REQ_TSTMP;
	tp->t_ts_offset = tcp_ts_offset_for(inp->inp_laddr, inp->inp_lport, inp->inp_faddr,
					    inp->inp_fport);
}

void tcp_options_syn(struct tcpcb *tp, const struct tcpopt *to, uint32 now_ms)
{
	bool passive = tp->t_state == TCPS_LISTEN || tp->t_state == TCPS_CLOSED;
	// RFC 7323 2.2: "if a Window Scale option is received in the <SYN>
	// segment" ... "both sides MUST send Window Scale options in their
	// <SYN> segments to enable window scaling in either direction".
	if (to->to_flags & TOF_WSCALE) {
		tp->t_flags |= TF_RCVD_SCALE;
		tp->snd_scale = to->to_wscale;
	}
	if ((tp->t_flags & TF_BOTH_SCALE) == TF_BOTH_SCALE) {
		tp->rcv_scale = tp->request_r_scale;
	} else {
		tp->snd_scale = tp->rcv_scale = 0;   // I1
		if (passive)
			tp->t_flags &= ~TF_REQ_SCALE;   // our SYN,ACK does not offer it
	}
	// RFC 7323 3.2: timestamps are on only if the SYN carried them (and
	// we offer them); the SYN,ACK echoes the SYN's TSval.
	if (to->to_flags & TOF_TS) {
		tp->t_flags |= TF_RCVD_TSTMP;
		tp->ts_recent = to->to_tsval;
		tp->ts_recent_age = now_ms;
	}
	if ((tp->t_flags & TF_BOTH_TSTMP) != TF_BOTH_TSTMP) {
		tp->t_flags &= ~TF_RCVD_TSTMP;
		if (passive)
			tp->t_flags &= ~TF_REQ_TSTMP;
	}
	if ((to->to_flags & TOF_SACKPERM) && (tp->t_flags & TF_REQ_SACK))
		tp->t_flags |= TF_SACK_PERMIT;
	else if (passive)
		tp->t_flags &= ~TF_REQ_SACK;
}

// ---- per segment -------------------------------------------------------------------

// RFC 7323 5.3 R1: is sg's TSval older than TS.Recent? After 24 days of
// idleness TS.Recent is no longer trusted (5.5) and is reset instead.
static bool tcp_paws_reject(struct tcpcb *tp, const struct tcp_seg *sg)
{
	if (!TSTMP_LT(sg->sg_opt.to_tsval, tp->ts_recent))
		return false;
	if (net_now_ms() - tp->ts_recent_age > TCP_PAWS_IDLE_MS) {
		tp->ts_recent = 0;   // "TS.Recent is invalid": take the new value
		return false;
	}
	return true;
}

bool tcp_options_input(struct tcpcb *tp, struct tcp_seg *sg)
{
	// RFC 7323 2.3: "The window field (SEG.WND) in the header of every
	// incoming segment, with the exception of <SYN> segments, MUST be
	// left-shifted by Snd.Wind.Shift bits before updating SND.WND".
	if (!(sg->sg_flags & TH_SYN))
		sg->sg_win <<= tp->snd_scale;
	if ((tp->t_flags & TF_BOTH_TSTMP) != TF_BOTH_TSTMP || (sg->sg_flags & TH_RST))
		return true;   // 5.3: RSTs are accepted regardless of timestamps
	if (!(sg->sg_opt.to_flags & TOF_TS)) {
		// 3.2: "If a non-<RST> segment is received without a TSopt, a
		// TCP SHOULD silently drop the segment."
		TCPSTAT_INC(tcps_tsmissing);
		return false;
	}
	if (tcp_paws_reject(tp, sg)) {
		// 5.3 R1: "If SEG.TSval < TS.Recent ... then treat the arriving
		// segment as not acceptable: Send an acknowledgment in reply as
		// specified in [RFC793] page 69 and drop the segment."
		TCPSTAT_INC(tcps_pawsdrop);
		tcp_ack_invalid(tp);
		return false;
	}
	return true;
}

void tcp_ts_update(struct tcpcb *tp, const struct tcp_seg *sg)
{
	const struct tcpopt *to = &sg->sg_opt;
	if ((tp->t_flags & TF_BOTH_TSTMP) != TF_BOTH_TSTMP || !(to->to_flags & TOF_TS))
		return;
	// 4.3 (2): "If SEG.TSval >= TS.Recent and SEG.SEQ <= Last.ACK.sent
	// then SEG.TSval is copied to TS.Recent" -- the segment covers the
	// point our last ACK acknowledged, so a delayed ACK echoes the
	// earliest unacknowledged segment (4.3 (1), case (A)) and a hole
	// filled late echoes the segment that filled it (case (C)), never a
	// segment that arrived after the hole (the RTT would be too short).
	if (TSTMP_GEQ(to->to_tsval, tp->ts_recent) && SEQ_LEQ(sg->sg_seq, tp->last_ack_sent)) {
		tp->ts_recent = to->to_tsval;
		tp->ts_recent_age = net_now_ms();
	}
}

bool tcp_ts_rtt(struct tcpcb *tp, const struct tcp_seg *sg)
{
	const struct tcpopt *to = &sg->sg_opt;
	if ((tp->t_flags & TF_BOTH_TSTMP) != TF_BOTH_TSTMP || !(to->to_flags & TOF_TS))
		return false;
	// 4.1: "RTT = current time - SEG.TSecr" for an ACK of new data. The
	// echo is the time of the segment the peer answered, original or
	// retransmission alike, so Karn's rule is not needed. A zero TSecr
	// means "no echo" (a peer's first segments, RFC 7323 3.2).
	if (to->to_tsecr == 0)
		return false;
	uint32 rtt = tcp_ts_now(tp) - to->to_tsecr;
	int hi = __atomic_load_n(&tcp_rto_max_ms, __ATOMIC_RELAXED);
	if ((int32)rtt < 0 || rtt > (uint32)hi * 4)
		return false;   // an echo of a time we never sent: ignore it
	TCPSTAT_INC(tcps_tsrtt);
	tcp_rtt_update(tp, (int)rtt);
	return true;
}
