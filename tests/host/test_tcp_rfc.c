// Host tests of TCP rules that are easy to get almost right, over the
// fake wire (tcp_wire.h): the TIME_WAIT reuse rule for a new SYN (RFC
// 9293 3.6.1, RFC 6191, with and without timestamps) in its accept and
// reject cases (and kept when the listener drops the SYN), the ACK of every
// second full segment inside one input batch (RFC 1122 4.2.3.2) and
// immediate ACKs out of order (RFC 5681 4.2), ICMP errors (RFC 1122
// 4.2.3.9, RFC 5927, RFC 1191: net/tcp_icmp.c), what write() says after
// a reset (Linux's order), the options an accepted socket inherits, the
// RTO after a SYN timeout (RFC 6298 5.7), zero-window probing and
// keepalives against a peer that vanished, and cwnd after idle (RFC 5681
// 4.1).
#include "tests/host/tcp_wire.h"
#include "net/tcp_syncache.h"
#include "net/icmp.h"

// ---- TIME_WAIT reuse ----------------------------------------------------------------

static uint16 drop_to_port;   // the filter below drops segments to this port

static enum wire_verdict drop_to(const struct wire_seg *ws)
{
	return ws->ws_dport == drop_to_port ? WIRE_DROP : WIRE_PASS;
}

// Drops what goes to drop_to_port and to the spoofed peers 6400-6419.
static enum wire_verdict drop_to_spoofed(const struct wire_seg *ws)
{
	return ws->ws_dport == drop_to_port || (ws->ws_dport >= 6400 && ws->ws_dport < 6420)
		       ? WIRE_DROP : WIRE_PASS;
}

// Count logged segments from sport to dport with exactly flags.
static int count_exact(uint16 sport, uint16 dport, uint8 flags)
{
	int n = 0;
	for (int i = 0; i < wire_nlog; i++)
		if (wire_log[i].ws_sport == sport && wire_log[i].ws_dport == dport &&
		    (wire_log[i].ws_flags & ~TH_PUSH) == flags)
			n++;
	return n;
}

// The server closes first and holds TIME_WAIT for (5300, 6300). Returns
// its tcpcb (alive until TIME_WAIT ends) and leaves the listener in *l.
static struct tcpcb *server_time_wait(struct socket **l)
{
	struct socket *s, *c;
	*l = tw_listen(5300, 5);
	c = tw_connect(5300, 6300);
	wire_settle();
	CHECK(soaccept(*l, true, &s) == 0);
	CHECK(tw_send(c, "data", 4) == 4);   // rcv_nxt moves past the SYN
	wire_run(300);
	char b[8];
	CHECK(tw_recv(s, b, sizeof(b), 0) == 4);
	struct tcpcb *stp = tw_tp(s);
	soclose(s);
	wire_settle();
	soclose(c);
	wire_settle();
	CHECK(stp->t_state == TCPS_TIME_WAIT && tcpstat.tcps_pcbs == 2);
	return stp;
}

// A SYN whose sequence number is not beyond the old connection's final
// RCV.NXT may be an old duplicate: it is answered by an ACK, the
// TIME_WAIT stays, the listener sees nothing. A SYN beyond it reopens.
static void tcp_time_wait_reuse_rejects_old_syn(void)
{
	BEGIN();
	struct socket *l;
	struct tcpcb *stp = server_time_wait(&l);
	tcp_seq last = stp->t_last_rcvnxt;
	CHECK(last == stp->rcv_nxt);
	drop_to_port = 6300;   // no client answers the ACKs (its RST would end TIME_WAIT)
	wire_filter = drop_to;
	wire_log_clear();
	tw_forge_syn(6300, 5300, last - 100000, 1460);   // an old duplicate
	wire_settle();
	CHECK(tcpstat.tcps_twreuse == 0 && stp->t_state == TCPS_TIME_WAIT);
	CHECK(count_exact(5300, 6300, TH_ACK) == 1);
	CHECK(wire_log[wire_nlog - 1].ws_ack == last && count_exact(5300, 6300, TH_SYN | TH_ACK) == 0);
	CHECK(syncache_stat.scs_count == 0 && l->so_incqlen == 0 && tcpstat.tcps_pcbs == 2);
	wire_run(1000);   // past the ACK rate limit
	CHECK(stp->t_state == TCPS_TIME_WAIT);
	tw_forge_syn(6300, 5300, last, 1460);   // equal is not beyond
	wire_settle();
	CHECK(tcpstat.tcps_twreuse == 0 && stp->t_state == TCPS_TIME_WAIT);
	CHECK(count_exact(5300, 6300, TH_ACK) == 2 && syncache_stat.scs_count == 0 && l->so_incqlen == 0);
	tcp_seq old_snd_max = stp->snd_max;
	tw_forge_syn(6300, 5300, last + 1000, 1460);   // beyond: a new connection
	wire_settle();
	CHECK(tcpstat.tcps_twreuse == 1 && syncache_stat.scs_count == 1);
	CHECK(count_exact(5300, 6300, TH_SYN | TH_ACK) == 1);
	struct wire_seg *sa = &wire_log[wire_nlog - 1];
	CHECK(sa->ws_flags == (TH_SYN | TH_ACK) && sa->ws_ack == last + 1001);
	CHECK(SEQ_GT(sa->ws_seq, old_snd_max));   // RFC 1122 4.2.2.13: ISS above the old
	soclose(l);
	clean(s0, m0);
}

// A SYN with a timestamp option (kind 8: NOP NOP TS tsval 0).
static void forge_syn_ts(uint16 sport, uint16 dport, uint32 seq, uint32 tsval)
{
	uint8 o[12] = { TCPOPT_NOP, TCPOPT_NOP, TCPOPT_TIMESTAMP, 10,
			(uint8)(tsval >> 24), (uint8)(tsval >> 16), (uint8)(tsval >> 8), (uint8)tsval };
	tw_forge_raw(sport, dport, seq, 0, TH_SYN, 16384, o, sizeof(o), 0);
}

// RFC 6191: when both incarnations use timestamps, the SYN's TSval
// decides: older is refused even with a newer sequence number; newer is
// taken even with an old sequence number.
static void tcp_time_wait_reuse_timestamps(void)
{
	BEGIN();
	tw_rfc7323(true);
	struct socket *l;
	struct tcpcb *stp = server_time_wait(&l);
	CHECK((stp->t_flags & TF_BOTH_TSTMP) == TF_BOTH_TSTMP);
	uint32 ts = stp->ts_recent;
	tcp_seq last = stp->t_last_rcvnxt;
	drop_to_port = 6300;
	wire_filter = drop_to;
	wire_log_clear();
	forge_syn_ts(6300, 5300, last + 1000, ts - 1000);   // new sequence, old TSval
	wire_settle();
	CHECK(tcpstat.tcps_twreuse == 0 && stp->t_state == TCPS_TIME_WAIT && syncache_stat.scs_count == 0 && l->so_incqlen == 0);
	forge_syn_ts(6300, 5300, last - 1000, ts);          // equal TSval, old sequence
	wire_settle();
	CHECK(tcpstat.tcps_twreuse == 0 && stp->t_state == TCPS_TIME_WAIT && syncache_stat.scs_count == 0 && l->so_incqlen == 0);
	forge_syn_ts(6300, 5300, last - 1000, ts + 1000);   // old sequence, newer TSval
	wire_settle();
	CHECK(tcpstat.tcps_twreuse == 1 && syncache_stat.scs_count == 1);
	CHECK(count_exact(5300, 6300, TH_SYN | TH_ACK) == 1);
	soclose(l);
	clean(s0, m0);
}

// A retransmitted FIN in TIME_WAIT (the peer did not get our ACK) is
// acknowledged every time, even twice within the invalid-ACK rate limit,
// and restarts the 2 MSL wait (RFC 9293 3.10.7.4).
static void tcp_time_wait_acks_retransmitted_fin(void)
{
	BEGIN();
	struct socket *l;
	struct tcpcb *stp = server_time_wait(&l);
	soclose(l);
	drop_to_port = 6300;
	wire_filter = drop_to;
	wire_log_clear();
	wire_run(1000);
	uint64 end0 = stp->t_timer[TCPT_2MSL];
	for (int i = 1; i <= 2; i++) {
		tw_forge(6300, 5300, stp->rcv_nxt - 1, stp->snd_max, TH_FIN | TH_ACK);
		wire_settle();
		CHECK(count_exact(5300, 6300, TH_ACK) == i);
		CHECK(wire_log[wire_nlog - 1].ws_ack == stp->rcv_nxt);
	}
	CHECK(stp->t_state == TCPS_TIME_WAIT);
	CHECK(stp->t_timer[TCPT_2MSL] == net_now_ms() + 2 * (uint64)tcp_msl_ms);
	CHECK(stp->t_timer[TCPT_2MSL] > end0);
	clean(s0, m0);
}

// Without a listener to take it, even a good SYN leaves TIME_WAIT alone
// (as Linux does): it gets an ACK, not a RST.
static void tcp_time_wait_kept_without_listener(void)
{
	BEGIN();
	struct socket *l;
	struct tcpcb *stp = server_time_wait(&l);
	soclose(l);
	wire_settle();
	drop_to_port = 6300;
	wire_filter = drop_to;
	wire_log_clear();
	tw_forge_syn(6300, 5300, stp->t_last_rcvnxt + 1000, 1460);
	wire_settle();
	CHECK(tcpstat.tcps_twreuse == 0 && stp->t_state == TCPS_TIME_WAIT);
	CHECK(count_exact(5300, 6300, TH_ACK) == 1 && tw_count(5300, TH_RST, false) == 0);
	clean(s0, m0);
}

// A good SYN that the listener then drops -- its accept queue full, or
// its syncache full (a cookie cannot promise the ISS rule) -- leaves the
// TIME_WAIT in place: it is given up only for a SYN the syncache takes.
// (Were it closed first, the dropped SYN would have cost the old
// connection its protection against old duplicates for nothing.)
static void tcp_time_wait_kept_when_syn_dropped(void)
{
	BEGIN();
	struct socket *l;
	struct tcpcb *stp = server_time_wait(&l);
	tcp_seq good = stp->t_last_rcvnxt + 1000;
	drop_to_port = 6300;
	wire_filter = drop_to_spoofed;   // nobody answers at 6300 or 64xx
	wire_log_clear();
	// The accept queue full (as if 0 connections were allowed to wait).
	int qlimit = l->so_qlimit;
	l->so_qlimit = 0;
	tw_forge_syn(6300, 5300, good, 1460);
	wire_settle();
	CHECK(tcpstat.tcps_twreuse == 0 && tcpstat.tcps_pcbs == 2);
	CHECK(stp->t_state == TCPS_TIME_WAIT && count_exact(5300, 6300, TH_SYN | TH_ACK) == 0);
	l->so_qlimit = qlimit;
	// Every netisr's syncache full (one entry each, spoofed SYNs).
	CHECK(host_sysctl_write("net.inet.tcp.syncache.limit", 1) == 0);
	for (uint16 p = 6400; p < 6420 && syncache_stat.scs_count < (uint64)net_ncpu(); p++) {
		tw_forge_syn(p, 5300, p * 1000u, 1460);
		wire_settle();
	}
	CHECK(syncache_stat.scs_count == (uint64)net_ncpu());
	tw_forge_syn(6300, 5300, good, 1460);
	wire_settle();
	CHECK(tcpstat.tcps_twreuse == 0 && tcpstat.tcps_pcbs == 2);
	CHECK(stp->t_state == TCPS_TIME_WAIT && count_exact(5300, 6300, TH_SYN | TH_ACK) == 0);
	// Room again: the retransmitted SYN reopens the connection.
	CHECK(host_sysctl_write("net.inet.tcp.syncache.limit", 256) == 0);
	tw_forge_syn(6300, 5300, good, 1460);
	wire_settle();
	CHECK(tcpstat.tcps_twreuse == 1 && syncache_stat.scs_count == (uint64)net_ncpu() + 1);
	CHECK(count_exact(5300, 6300, TH_SYN | TH_ACK) == 1);
	soclose(l);
	clean(s0, m0);
}

// ---- ACKs -----------------------------------------------------------------------------

// With net.inet.tcp.ack_batch_max 0 (RFC 1122 to the letter; the
// default batches: test_tcp_ackbatch.c): ten full segments arrive in one
// batch: five ACKs, one per second segment, each acknowledging two more
// (not one ACK at the batch's end).
static void tcp_delack_every_second_segment_in_a_batch(void)
{
	BEGIN();
	CHECK(host_sysctl_write("net.inet.tcp.ack_batch_max", 0) == 0);
	struct socket *c, *s;
	tw_pair(5302, &c, &s);
	uint16 cp = port_of(c), sp = port_of(s);
	tcp_seq base = tw_tp(s)->rcv_nxt;
	uint32 mss = tw_tp(c)->t_maxseg;
	CHECK(mss == 1460);
	static uint8 buf[10 * 1460];
	tw_pattern(buf, sizeof(buf), 0);
	wire_log_clear();
	CHECK(tw_send(c, buf, sizeof(buf)) == (long)sizeof(buf));
	CHECK(wire_burst() == 10 && tw_count(cp, 0, true) == 10);
	wire_settle();   // the ACKs cross; no time passes
	CHECK(tw_count(sp, TH_ACK, false) == 5);
	int k = 0;
	for (int i = 0; i < wire_nlog; i++)
		if (wire_log[i].ws_sport == sp && wire_log[i].ws_len == 0)
			CHECK(wire_log[i].ws_ack == base + 2 * mss * (uint32)++k);
	CHECK(tcpstat.tcps_delack == 0);
	static uint8 got[sizeof(buf)];
	CHECK(tw_recv(s, got, sizeof(got), 0) == (long)sizeof(got));
	CHECK(memcmp(got, buf, sizeof(buf)) == 0);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// A delayed ACK that cannot be built when its timer fires (no mbufs) is
// owed still: it goes one delayed-ACK interval later, not when the
// sender's retransmission timer (here 1 s) makes it send again.
static void tcp_delack_retried_after_enobufs(void)
{
	BEGIN();
	CHECK(host_sysctl_write("net.inet.tcp.rto_min_ms", 1000) == 0);
	struct socket *c, *s;
	tw_pair(5303, &c, &s);
	uint16 cp = port_of(c), sp = port_of(s);
	static uint8 buf[100];
	tw_pattern(buf, sizeof(buf), 0);
	wire_log_clear();
	CHECK(tw_send(c, buf, sizeof(buf)) == (long)sizeof(buf));
	CHECK(wire_burst() == 1 && tw_count(sp, TH_ACK, false) == 0);   // delayed
	host_malloc_fail = true;
	wire_run(tcp_delack_ms + 1);   // the timer fires; no mbuf for the ACK
	host_malloc_fail = false;
	CHECK(tcpstat.tcps_delack == 1 && tw_count(sp, TH_ACK, false) == 0);
	wire_run(tcp_delack_ms + 1);
	CHECK(tcpstat.tcps_delack == 2 && tw_count(sp, TH_ACK, false) == 1);
	CHECK(tw_count(cp, 0, true) == 1);                  // no retransmission
	CHECK(tw_tp(c)->snd_una == tw_tp(c)->snd_max);
	static uint8 got[sizeof(buf)];
	CHECK(tw_recv(s, got, sizeof(got), 0) == (long)sizeof(got));
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

static int drop_first_data;

static enum wire_verdict drop_first(const struct wire_seg *ws)
{
	if (ws->ws_len > 0 && drop_first_data) {
		drop_first_data = 0;
		return WIRE_DROP;
	}
	return WIRE_PASS;
}

// Out-of-order segments are each ACKed at once, in the same batch (the
// sender counts duplicate ACKs), and so is the one that fills the hole.
// (With SACK, net.inet.tcp.sack_delack ACKs every second one after the
// first three: test_tcp_sackdelay.c; here it is off.)
static void tcp_ooo_and_hole_fill_ack_at_once(void)
{
	BEGIN();
	CHECK(host_sysctl_write("net.inet.tcp.sack_delack", 0) == 0);
	struct socket *c, *s;
	tw_pair(5303, &c, &s);
	uint16 sp = port_of(s);
	tcp_seq base = tw_tp(s)->rcv_nxt;
	static uint8 buf[6 * 1460];
	wire_log_clear();
	drop_first_data = 1;
	wire_filter = drop_first;
	CHECK(tw_send(c, buf, sizeof(buf)) == (long)sizeof(buf));
	CHECK(wire_burst() == 6);
	wire_filter = NULL;
	CHECK(tw_count(sp, TH_ACK, false) == 0);   // still on the wire
	wire_burst();                              // the five duplicate ACKs reach c
	CHECK(tw_count(sp, TH_ACK, false) == 5);
	for (int i = 0; i < wire_nlog; i++)
		if (wire_log[i].ws_sport == sp)
			CHECK(wire_log[i].ws_ack == base);
	wire_settle();   // fast retransmit after the third duplicate; the hole fills
	int last = -1;
	for (int i = 0; i < wire_nlog; i++)
		if (wire_log[i].ws_sport == sp)
			last = i;
	CHECK(last >= 0 && wire_log[last].ws_ack == base + sizeof(buf));
	CHECK(tcpstat.tcps_delack == 0 && tcpstat.tcps_fastrexmt == 1);
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// ---- ICMP errors ------------------------------------------------------------------

// An ICMP error of type/code (mtu for "fragmentation needed") about a
// TCP segment from 127.0.0.1:lport to 127.0.0.1:fport with sequence seq,
// as a router or the peer's host would send it.
static void icmp_about(uint16 lport, uint16 fport, uint32 seq, int type, int code, uint16 mtu)
{
	struct mbuf *m = m_getspace(IP_HDR_LEN + TCP_HDR_LEN, 64);
	CHECK(m != NULL && m->m_len >= IP_HDR_LEN + TCP_HDR_LEN);
	uint8 *p = mtod(m, uint8 *);
	memset(p, 0, IP_HDR_LEN + TCP_HDR_LEN);
	p[0] = 0x45;
	p[3] = IP_HDR_LEN + TCP_HDR_LEN;
	p[8] = 64;
	p[9] = IPPROTO_TCP;
	p[12] = p[16] = 127, p[15] = p[19] = 1;
	uint8 *t = p + IP_HDR_LEN;
	t[0] = (uint8)(lport >> 8), t[1] = (uint8)lport;
	t[2] = (uint8)(fport >> 8), t[3] = (uint8)fport;
	t[4] = (uint8)(seq >> 24), t[5] = (uint8)(seq >> 16), t[6] = (uint8)(seq >> 8), t[7] = (uint8)seq;
	icmp_error_mtu(m, IP_HDR_LEN, type, code, mtu);
	wire_settle();
}

static int so_error_of(struct socket *so)
{
	int v = 0;
	struct sockopt sopt = { SOL_SOCKET, SO_ERROR, true, &v, sizeof(v) };
	CHECK(sogetopt(so, &sopt) == 0);
	return v;
}

// Port unreachable for our SYN: connect fails at once with ECONNREFUSED;
// one quoting a sequence number we never sent is ignored (RFC 5927 4.1).
static void tcp_icmp_port_unreach_refuses_connect(void)
{
	BEGIN();
	drop_to_port = 5310;   // the SYNs vanish: no RST comes back
	wire_filter = drop_to;
	struct socket *c = tw_connect(5310, 6310);
	wire_settle();
	struct tcpcb *tp = tw_tp(c);
	CHECK(tp->t_state == TCPS_SYN_SENT);
	icmp_about(6310, 5310, tp->iss + 1, ICMP_UNREACH, ICMP_UNREACH_PORT, 0);
	CHECK(tw_state(c) == TCPS_SYN_SENT && tcpstat.tcps_icmp_badseq == 1);
	icmp_about(6310, 5310, tp->iss - 1, ICMP_UNREACH, ICMP_UNREACH_PORT, 0);
	CHECK(tw_state(c) == TCPS_SYN_SENT && tcpstat.tcps_icmp_badseq == 2);
	icmp_about(6311, 5310, tp->iss, ICMP_UNREACH, ICMP_UNREACH_PORT, 0);   // other port
	CHECK(tw_state(c) == TCPS_SYN_SENT && tcpstat.tcps_icmp_hard == 0);
	icmp_about(6310, 5310, tp->iss, ICMP_UNREACH, ICMP_UNREACH_PORT, 0);
	CHECK(tw_state(c) == TCPS_CLOSED && tcpstat.tcps_icmp_hard == 1);
	CHECK(so_error_of(c) == ECONNREFUSED);
	soclose(c);
	clean(s0, m0);
}

// Host unreachable is a soft error (RFC 1122 4.2.3.9 "MUST NOT abort"):
// the connect goes on, and when it times out the error it reports is
// EHOSTUNREACH, not ETIMEDOUT. Established, port unreachable is soft too.
static void tcp_icmp_host_unreach_soft_error(void)
{
	BEGIN();
	tcp_syn_rexmt_max = 2;
	drop_to_port = 5311;
	wire_filter = drop_to;
	struct socket *c = tw_connect(5311, 6311);
	wire_settle();
	struct tcpcb *tp = tw_tp(c);
	icmp_about(6311, 5311, tp->iss, ICMP_UNREACH, ICMP_UNREACH_HOST, 0);
	CHECK(tw_state(c) == TCPS_SYN_SENT && tp->t_softerror == -EHOSTUNREACH);
	CHECK(tcpstat.tcps_icmp_soft == 1 && tcpstat.tcps_icmp_hard == 0);
	wire_run(1000);
	CHECK(tw_state(c) == TCPS_SYN_SENT);   // retransmitting
	wire_run(20000);
	CHECK(tw_state(c) == TCPS_CLOSED && tcpstat.tcps_timeoutdrop == 1);
	CHECK(so_error_of(c) == EHOSTUNREACH);
	soclose(c);
	wire_filter = NULL;

	struct socket *a, *s;
	tw_pair(5312, &a, &s);
	tcp_rexmt_max = 2;
	uint16 ap = port_of(a), sp = port_of(s);
	drop_to_port = sp;   // a's data vanishes
	wire_filter = drop_to;
	CHECK(tw_send(a, "lost", 4) == 4);
	wire_settle();
	tp = tw_tp(a);
	icmp_about(ap, sp, tp->snd_una, ICMP_UNREACH, ICMP_UNREACH_PORT, 0);
	CHECK(tw_state(a) == TCPS_ESTABLISHED && tp->t_softerror == -ECONNREFUSED);
	icmp_about(ap, sp, tp->snd_max, ICMP_UNREACH, ICMP_UNREACH_NET, 0);   // not in flight
	CHECK(tp->t_softerror == -ECONNREFUSED && tcpstat.tcps_icmp_badseq == 1);
	wire_run(60000);
	CHECK(tw_state(a) == TCPS_CLOSED);
	char b[4];
	CHECK(tw_recv(a, b, sizeof(b), 0) == -ECONNREFUSED);
	soclose(a);
	soclose(s);
	clean(s0, m0);
}

// Fragmentation needed with a next-hop MTU of 1000: segments of 960 from
// then on, what was in flight resent that size (RFC 1191); a tiny MTU is
// floored at net.inet.tcp.minmss (RFC 5927 7); a larger one changes
// nothing; one without an MTU is ignored.
static void tcp_icmp_needfrag_shrinks_mss(void)
{
	BEGIN();
	struct socket *c, *s;
	tw_pair(5313, &c, &s);
	uint16 cp = port_of(c), sp = port_of(s);
	struct tcpcb *tp = tw_tp(c);
	static uint8 buf[4000], got[4000];
	tw_pattern(buf, sizeof(buf), 0);
	tw_setopt(c, IPPROTO_TCP, TCP_NODELAY, 1);   // the tail goes too
	drop_to_port = sp;   // the big segments are "too big" on the way
	wire_filter = drop_to;
	CHECK(tw_send(c, buf, sizeof(buf)) == (long)sizeof(buf));
	wire_settle();
	CHECK(tp->t_maxseg == 1460 && tp->snd_max - tp->snd_una == sizeof(buf));
	icmp_about(cp, sp, tp->snd_una, ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG, 0);
	CHECK(tp->t_maxseg == 1460);   // no MTU given
	icmp_about(cp, sp, tp->snd_una, ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG, 2000);
	CHECK(tp->t_maxseg == 1460);   // never up
	wire_filter = NULL;
	wire_log_clear();
	icmp_about(cp, sp, tp->snd_una, ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG, 1000);
	CHECK(tp->t_maxseg == 960 && tcpstat.tcps_icmp_mtu == 1);
	int n = 0;
	for (int i = 0; i < wire_nlog; i++)
		if (wire_log[i].ws_sport == cp && wire_log[i].ws_len > 0) {
			CHECK(wire_log[i].ws_len <= 960);
			n++;
		}
	CHECK(n == 5);   // 4000 bytes in 960-byte segments, at once
	CHECK(tw_recv(s, got, sizeof(got), 0) == (long)sizeof(got));
	CHECK(memcmp(got, buf, sizeof(buf)) == 0);
	CHECK(tcpstat.tcps_rexmttimeo == 0);
	CHECK(tw_send(c, "x", 1) == 1);
	wire_settle();
	icmp_about(cp, sp, tp->snd_max, ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG, 100);
	CHECK(tp->t_maxseg == 960 && tcpstat.tcps_icmp_badseq == 1);   // acked already
	drop_to_port = sp;
	wire_filter = drop_to;
	CHECK(tw_send(c, "y", 1) == 1);
	wire_settle();
	icmp_about(cp, sp, tp->snd_una, ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG, 100);
	CHECK(tp->t_maxseg == (uint32)tcp_minmss && tcp_minmss == 216);
	wire_filter = NULL;
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// ---- timers -----------------------------------------------------------------------

static int drop_n_flags;    // drop the first drop_n_flags_left segments with exactly these flags
static int drop_n_flags_left;

static enum wire_verdict drop_flags(const struct wire_seg *ws)
{
	if (drop_n_flags_left > 0 && (ws->ws_flags & ~TH_PUSH) == drop_n_flags) {
		drop_n_flags_left--;
		return WIRE_DROP;
	}
	return WIRE_PASS;
}

// RFC 6298 5.7: a SYN (or SYN,ACK) that timed out leaves RTO = 3 s once
// the handshake completes (no RTT sample: Karn); without a timeout the
// handshake's sample sets it.
static void tcp_rto_3s_after_syn_timeout(void)
{
	BEGIN();
	struct socket *l = tw_listen(5330, 5), *s;
	struct socket *c = tw_connect(5330, 0);
	wire_settle();
	CHECK(soaccept(l, true, &s) == 0);
	CHECK(tw_tp(c)->t_srtt != 0 && tw_tp(c)->t_rto < TCP_RTO_SYN_FALLBACK_MS);
	soclose(c);
	soclose(s);
	drop_n_flags = TH_SYN, drop_n_flags_left = 1;   // our SYN is lost once
	wire_filter = drop_flags;
	c = tw_connect(5330, 0);
	wire_run(1500);
	CHECK(tw_state(c) == TCPS_ESTABLISHED && tcpstat.tcps_rexmttimeo == 1);
	CHECK(tw_tp(c)->t_srtt == 0 && tw_tp(c)->t_rto == TCP_RTO_SYN_FALLBACK_MS);
	CHECK(soaccept(l, true, &s) == 0);
	soclose(c);
	soclose(s);
	drop_n_flags = TH_SYN | TH_ACK, drop_n_flags_left = 1;   // the SYN,ACK, once
	c = tw_connect(5330, 0);
	wire_run(1500);
	CHECK(soaccept(l, true, &s) == 0 && tw_state(s) == TCPS_ESTABLISHED);
	CHECK(tw_tp(s)->t_srtt == 0 && tw_tp(s)->t_rto == TCP_RTO_SYN_FALLBACK_MS);
	soclose(c);
	soclose(s);
	soclose(l);
	clean(s0, m0);
}

// Zero-window probes: while the peer answers them the connection stays
// open however long the window stays shut (RFC 1122 4.2.2.17); once it
// answers nothing, rexmt_max probes later the connection is dropped with
// ETIMEDOUT instead of probing for ever.
static void tcp_persist_gives_up_on_a_dead_peer(void)
{
	BEGIN();
	tcp_rexmt_max = 3;
	struct socket *l = tw_listen(5331, 5), *s;
	tw_setopt(l, SOL_SOCKET, SO_RCVBUF, 4096);
	struct socket *c = tw_connect(5331, 0);
	wire_settle();
	CHECK(soaccept(l, true, &s) == 0);
	soclose(l);
	static uint8 buf[20000];
	CHECK(tw_send(c, buf, sizeof(buf)) == (long)sizeof(buf));
	wire_run(1000);
	struct tcpcb *tp = tw_tp(c);
	CHECK(tp->snd_wnd == 0);
	wire_run(10 * 60000);   // answered probes, far more than rexmt_max
	CHECK(tw_state(c) == TCPS_ESTABLISHED && tcpstat.tcps_sndprobe > 3);
	CHECK(tcpstat.tcps_persistdrop == 0);
	drop_to_port = port_of(s);   // the receiver vanishes
	wire_filter = drop_to;
	uint64 probes = tcpstat.tcps_sndprobe;
	wire_run(10 * 60000);
	CHECK(tw_state(c) == TCPS_CLOSED && tcpstat.tcps_persistdrop == 1);
	CHECK(tcpstat.tcps_sndprobe - probes == 3);
	CHECK(so_error_of(c) == ETIMEDOUT);
	soclose(c);
	wire_filter = NULL;
	soclose(s);
	clean(s0, m0);
}

// RFC 9293 3.8.4: no keepalive probe while sent data is outstanding --
// the retransmission timer is in charge of a peer that stopped
// answering, and ends the connection by its own limit.
static void tcp_no_keepalive_with_data_outstanding(void)
{
	BEGIN();
	tcp_keepidle_ms = 1000, tcp_keepintvl_ms = 500, tcp_keepcnt = 3;
	tcp_rexmt_max = 6;
	struct socket *c, *s;
	tw_pair(5332, &c, &s);
	tw_setopt(c, SOL_SOCKET, SO_KEEPALIVE, 1);
	wire_run(3000);   // idle: probes, answered
	uint64 probes = tcpstat.tcps_keepprobe;
	CHECK(probes >= 2 && tw_state(c) == TCPS_ESTABLISHED);
	drop_to_port = port_of(s);   // the peer vanishes; c has data in flight
	wire_filter = drop_to;
	CHECK(tw_send(c, "data", 4) == 4);
	wire_run(5 * 60000);
	CHECK(tw_state(c) == TCPS_CLOSED);
	CHECK(tcpstat.tcps_keepprobe == probes && tcpstat.tcps_keepdrops == 0);
	CHECK(tcpstat.tcps_timeoutdrop == 1 && so_error_of(c) == ETIMEDOUT);
	soclose(c);
	wire_filter = NULL;
	soclose(s);
	clean(s0, m0);
}

// RFC 5681 4.1: after more than an RTO without sending, the next flight
// is at most the initial window, however large cwnd had grown; a pause
// shorter than the RTO keeps cwnd.
static void tcp_cwnd_restart_after_idle(void)
{
	BEGIN();
	struct socket *c, *s;
	tw_pair(5333, &c, &s);
	struct tcpcb *tp = tw_tp(c);
	static uint8 buf[40 * 1460], got[sizeof(buf)];
	uint32 iw = 10 * 1460;
	for (int i = 0; i < 3; i++) {   // grow cwnd in slow start
		CHECK(tw_send(c, buf, sizeof(buf)) == (long)sizeof(buf));
		wire_run(50);
		CHECK(tw_recv(s, got, sizeof(got), 0) == (long)sizeof(got));
		wire_run(50);
	}
	CHECK(tp->snd_max == tp->snd_una && tp->snd_cwnd > 2 * iw);
	uint32 grown = tp->snd_cwnd;
	wire_run((uint64)tp->t_rto / 2);   // shorter than the RTO: no restart
	CHECK(tw_send(c, buf, sizeof(buf)) == (long)sizeof(buf));
	CHECK(tp->snd_max - tp->snd_una > iw && tcpstat.tcps_idlerestart == 0);
	wire_run(50);
	CHECK(tw_recv(s, got, sizeof(got), 0) == (long)sizeof(got));
	wire_run(50);
	CHECK(tp->snd_cwnd >= grown);
	wire_run((uint64)tp->t_rto + 1000);   // idle longer than the RTO
	CHECK(tw_send(c, buf, sizeof(buf)) == (long)sizeof(buf));
	CHECK(tp->snd_cwnd == iw && tp->snd_max - tp->snd_una == iw);   // one IW in flight
	CHECK(tcpstat.tcps_idlerestart == 1);
	wire_run(200);
	CHECK(tw_recv(s, got, sizeof(got), 0) == (long)sizeof(got));
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

// ---- the socket interface ---------------------------------------------------------

// After the peer's reset, the first write says ECONNRESET (and clears
// it), the next ones EPIPE -- Linux's order (BSD says EPIPE at once).
static void tcp_write_after_reset(void)
{
	BEGIN();
	struct socket *c, *s;
	tw_pair(5320, &c, &s);
	struct tcpcb *ctp = tw_tp(c);
	tw_forge(port_of(s), port_of(c), ctp->rcv_nxt, 0, TH_RST);
	wire_settle();
	CHECK(tw_state(c) == TCPS_CLOSED);
	CHECK(tw_send(c, "x", 1) == -ECONNRESET);
	CHECK(tw_send(c, "x", 1) == -EPIPE);
	CHECK(tw_send(c, "x", 1) == -EPIPE);
	char b[4];
	CHECK(tw_recv(c, b, sizeof(b), 0) == 0);   // the error is taken: EOF
	soclose(c);
	soclose(s);
	clean(s0, m0);
}

static int getopt_int(struct socket *so, int level, int name)
{
	int v = -1;
	struct sockopt sopt = { level, name, true, &v, sizeof(v) };
	CHECK(sogetopt(so, &sopt) == 0);
	return v;
}

// An accepted socket starts with its listener's options: TCP_NODELAY,
// SO_KEEPALIVE, SO_RCVBUF/SO_SNDBUF, SO_LINGER (BSD and Linux).
static void tcp_accept_inherits_options(void)
{
	BEGIN();
	struct socket *l = tw_listen(5321, 5), *s;
	tw_setopt(l, IPPROTO_TCP, TCP_NODELAY, 1);
	tw_setopt(l, SOL_SOCKET, SO_KEEPALIVE, 1);
	tw_setopt(l, SOL_SOCKET, SO_RCVBUF, 8192);
	tw_setopt(l, SOL_SOCKET, SO_SNDBUF, 16384);
	struct linger lg = { 1, 7 };
	struct sockopt sopt = { SOL_SOCKET, SO_LINGER, false, &lg, sizeof(lg) };
	CHECK(sosetopt(l, &sopt) == 0);
	struct socket *c = tw_connect(5321, 0);
	wire_settle();
	CHECK(soaccept(l, true, &s) == 0 && tw_state(s) == TCPS_ESTABLISHED);
	CHECK(getopt_int(s, IPPROTO_TCP, TCP_NODELAY) == 1);
	CHECK(tw_tp(s)->t_flags & TF_NODELAY);
	CHECK(getopt_int(s, SOL_SOCKET, SO_KEEPALIVE) == 1);
	CHECK(getopt_int(s, SOL_SOCKET, SO_RCVBUF) == getopt_int(l, SOL_SOCKET, SO_RCVBUF));
	CHECK(getopt_int(s, SOL_SOCKET, SO_SNDBUF) == getopt_int(l, SOL_SOCKET, SO_SNDBUF));
	CHECK(getopt_int(s, SOL_SOCKET, SO_RCVBUF) < getopt_int(c, SOL_SOCKET, SO_RCVBUF));
	struct linger got = { 0, 0 };
	struct sockopt gs = { SOL_SOCKET, SO_LINGER, true, &got, sizeof(got) };
	CHECK(sogetopt(s, &gs) == 0 && got.l_onoff == 1 && got.l_linger == 7);
	CHECK(getopt_int(c, IPPROTO_TCP, TCP_NODELAY) == 0);   // the connector's own
	// The option off on the listener: the next child has it off.
	tw_setopt(l, IPPROTO_TCP, TCP_NODELAY, 0);
	struct socket *c2 = tw_connect(5321, 0), *s2;
	wire_settle();
	CHECK(soaccept(l, true, &s2) == 0 && getopt_int(s2, IPPROTO_TCP, TCP_NODELAY) == 0);
	soclose(c);
	soclose(c2);
	wire_settle();
	struct linger nol = { 0, 0 };   // close without lingering
	struct sockopt off = { SOL_SOCKET, SO_LINGER, false, &nol, sizeof(nol) };
	CHECK(sosetopt(s, &off) == 0 && sosetopt(s2, &off) == 0);
	soclose(s);
	soclose(s2);
	soclose(l);
	clean(s0, m0);
}

const struct host_test tcp_rfc_tests[] = {
	{ tcp_time_wait_reuse_rejects_old_syn, "tcp_time_wait_reuse_rejects_old_syn" },
	{ tcp_time_wait_reuse_timestamps, "tcp_time_wait_reuse_timestamps" },
	{ tcp_time_wait_kept_without_listener, "tcp_time_wait_kept_without_listener" },
	{ tcp_time_wait_kept_when_syn_dropped, "tcp_time_wait_kept_when_syn_dropped" },
	{ tcp_time_wait_acks_retransmitted_fin, "tcp_time_wait_acks_retransmitted_fin" },
	{ tcp_delack_every_second_segment_in_a_batch, "tcp_delack_every_second_segment_in_a_batch" },
	{ tcp_delack_retried_after_enobufs, "tcp_delack_retried_after_enobufs" },
	{ tcp_ooo_and_hole_fill_ack_at_once, "tcp_ooo_and_hole_fill_ack_at_once" },
	{ tcp_icmp_port_unreach_refuses_connect, "tcp_icmp_port_unreach_refuses_connect" },
	{ tcp_icmp_host_unreach_soft_error, "tcp_icmp_host_unreach_soft_error" },
	{ tcp_icmp_needfrag_shrinks_mss, "tcp_icmp_needfrag_shrinks_mss" },
	{ tcp_rto_3s_after_syn_timeout, "tcp_rto_3s_after_syn_timeout" },
	{ tcp_persist_gives_up_on_a_dead_peer, "tcp_persist_gives_up_on_a_dead_peer" },
	{ tcp_no_keepalive_with_data_outstanding, "tcp_no_keepalive_with_data_outstanding" },
	{ tcp_cwnd_restart_after_idle, "tcp_cwnd_restart_after_idle" },
	{ tcp_write_after_reset, "tcp_write_after_reset" },
	{ tcp_accept_inherits_options, "tcp_accept_inherits_options" },
	{ NULL, NULL },
};
