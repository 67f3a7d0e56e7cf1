// Host tests of the SYN cache and SYN cookies (net/tcp_syncache.c,
// net/tcp_syncookie.c) over the fake wire: the handshake through the
// cache, SYN,ACK retransmission and expiry, RST and repeated SYN, the
// RST for a bad ACK,
// overflow into cookies, forged cookies, cookies switched off, and what
// a cookie encodes.
#include "tests/host/tcp_wire.h"
#include "net/tcp_syncache.h"

// Forged peers use ports 7000-7999 and have no socket: the RSTs the
// stack sends for them are dropped, as a spoofed source never answers.
// allow_rst: that many RSTs the test forges itself pass.
static int allow_rst;
static enum wire_verdict drop_forged(const struct wire_seg *ws)
{
	if (ws->ws_sport < 7000 || ws->ws_sport >= 8000 || !(ws->ws_flags & TH_RST))
		return WIRE_PASS;
	if (allow_rst > 0) {
		allow_rst--;
		return WIRE_PASS;
	}
	return WIRE_DROP;
}

static int count_synack(uint16 sport, uint16 dport)
{
	int n = 0;
	for (int i = 0; i < wire_nlog; i++)
		if (wire_log[i].ws_sport == sport && wire_log[i].ws_dport == dport &&
		    wire_log[i].ws_flags == (TH_SYN | TH_ACK))
			n++;
	return n;
}

static struct wire_seg *last_synack(uint16 sport, uint16 dport)
{
	for (int i = wire_nlog - 1; i >= 0; i--)
		if (wire_log[i].ws_sport == sport && wire_log[i].ws_dport == dport &&
		    wire_log[i].ws_flags == (TH_SYN | TH_ACK))
			return &wire_log[i];
	return NULL;
}

// A handshake goes through the cache: an entry added, completed and
// freed; the child gets the MSS of the SYN and an RTT sample.
static void tcp_syncache_handshake(void)
{
	BEGIN();
	struct socket *l = tw_listen(5310, 5), *c = tw_connect(5310, 0), *s;
	wire_settle();
	CHECK(soaccept(l, true, &s) == 0 && tw_state(s) == TCPS_ESTABLISHED);
	CHECK(syncache_stat.scs_added == 1 && syncache_stat.scs_completed == 1);
	CHECK(syncache_stat.scs_count == 0 && syncache_stat.scs_cookiessent == 0);
	struct tcpcb *stp = tw_tp(s);
	CHECK(stp->t_maxseg == 1460 && (stp->t_flags & TF_RCVD_MSS));
	CHECK(stp->t_srtt != 0 && (stp->t_flags & TF_PASSIVE));
	CHECK(tw_send(c, "hi", 2) == 2);
	wire_run(300);
	char b[4];
	CHECK(tw_recv(s, b, sizeof(b), 0) == 2);
	soclose(c);
	soclose(s);
	soclose(l);
	clean(s0, m0);
}

// A SYN from a source that never answers: the SYN,ACK is sent, then
// retransmitted rexmtlimit times with the RTO doubling (1, 2, 4 s), then
// the entry expires and nothing is left.
static void tcp_syncache_expire(void)
{
	BEGIN();
	struct socket *l = tw_listen(5311, 5);
	wire_filter = drop_forged;
	uint64 t0 = net_now_ms();
	tw_forge_syn(7000, 5311, 1000, 1460);
	wire_settle();
	CHECK(syncache_stat.scs_count == 1 && count_synack(5311, 7000) == 1);
	wire_run(20000);
	CHECK(count_synack(5311, 7000) == 1 + 3);
	CHECK(syncache_stat.scs_retransmitted == 3 && syncache_stat.scs_expired == 1);
	CHECK(syncache_stat.scs_count == 0 && tcpstat.tcps_pcbs == 1);   // the listener
	uint64 t[4];
	for (int i = 0, k = 0; i < wire_nlog; i++)
		if (wire_log[i].ws_sport == 5311 && wire_log[i].ws_flags == (TH_SYN | TH_ACK))
			t[k++] = wire_log[i].ws_time - t0;
	CHECK(t[0] == 0 && t[1] == 1000 && t[2] == 3000 && t[3] == 7000);
	soclose(l);
	clean(s0, m0);
}

// A RST ends a cached handshake only at exactly IRS + 1 (RFC 5961 3.2);
// a repeated SYN is answered again with the same ISS; a SYN with another
// ISN (blind, RFC 5961 4) leaves IRS alone.
static void tcp_syncache_rst_dupsyn(void)
{
	BEGIN();
	struct socket *l = tw_listen(5312, 5);
	wire_filter = drop_forged;
	tw_forge_syn(7001, 5312, 5000, 1460);
	wire_settle();
	tw_forge_syn(7001, 5312, 5000, 1460);
	wire_settle();
	CHECK(syncache_stat.scs_dupsyn == 1 && syncache_stat.scs_count == 1);
	CHECK(count_synack(5312, 7001) == 2);
	CHECK(wire_log[1].ws_seq == last_synack(5312, 7001)->ws_seq);
	tw_forge_syn(7001, 5312, 900000, 1460);
	wire_settle();
	CHECK(syncache_stat.scs_dupsyn == 2 && count_synack(5312, 7001) == 3);
	CHECK(last_synack(5312, 7001)->ws_ack == 5000 + 1);
	allow_rst = 1;
	tw_forge(7001, 5312, 900000 + 1, 0, TH_RST);
	wire_settle();
	CHECK(syncache_stat.scs_count == 1 && syncache_stat.scs_reset == 0);
	allow_rst = 1;
	tw_forge(7001, 5312, 5000 + 7, 0, TH_RST);
	wire_settle();
	CHECK(syncache_stat.scs_count == 1 && syncache_stat.scs_reset == 0);
	allow_rst = 1;
	tw_forge(7001, 5312, 5000 + 1, 0, TH_RST);
	wire_settle();
	CHECK(syncache_stat.scs_count == 0 && syncache_stat.scs_reset == 1);
	soclose(l);
	clean(s0, m0);
}

// RFC 9293 3.10.7.4, "fifth, check the ACK field", SYN-RECEIVED: an ACK
// that is not exactly ISS + 1 (the only acceptable one: nothing but our
// SYN was sent) is answered <SEQ=SEG.ACK><CTL=RST> and changes nothing:
// the entry keeps waiting, and the right ACK still completes it.
static void tcp_syncache_bad_ack_gets_rst(void)
{
	BEGIN();
	struct socket *l = tw_listen(5316, 5), *s;
	wire_filter = drop_forged;
	tw_forge_syn(7003, 5316, 3000, 1460);
	wire_settle();
	struct wire_seg *sa = last_synack(5316, 7003);
	CHECK(sa != NULL && syncache_stat.scs_count == 1);
	tcp_seq iss = sa->ws_seq;
	tcp_seq bad[] = { iss, iss + 2, iss + 100000, iss - 70000 };
	for (int i = 0; i < 4; i++) {
		wire_log_clear();
		tw_forge(7003, 5316, 3001, bad[i], TH_ACK);
		wire_settle();
		int rst = 0;
		for (int k = 0; k < wire_nlog; k++)
			if (wire_log[k].ws_sport == 5316 && wire_log[k].ws_dport == 7003 &&
			    wire_log[k].ws_flags == TH_RST && wire_log[k].ws_seq == bad[i])
				rst++;
		CHECK(rst == 1);
		CHECK(syncache_stat.scs_count == 1 && syncache_stat.scs_completed == 0);
		CHECK(l->so_qlen == 0 && tcpstat.tcps_pcbs == 1);
	}
	tw_forge(7003, 5316, 3001, iss + 1, TH_ACK);
	wire_settle();
	CHECK(syncache_stat.scs_completed == 1 && syncache_stat.scs_count == 0);
	CHECK(soaccept(l, true, &s) == 0 && tw_state(s) == TCPS_ESTABLISHED);
	struct linger nol = { 1, 0 };   // abort: the spoofed peer never closes
	struct sockopt o = { SOL_SOCKET, SO_LINGER, false, &nol, sizeof(nol) };
	CHECK(sosetopt(s, &o) == 0);
	soclose(s);
	soclose(l);
	clean(s0, m0);
}

// Fill every netisr's cache (limit 1 each) with spoofed SYNs.
static void fill_cache(uint16 lport)
{
	CHECK(host_sysctl_write("net.inet.tcp.syncache.limit", 1) == 0);
	wire_filter = drop_forged;
	for (uint16 p = 7100; p < 7120; p++) {
		tw_forge_syn(p, lport, p * 1000u, 1460);
		wire_settle();
	}
	CHECK(syncache_stat.scs_count == (uint64)net_ncpu());
	CHECK(syncache_stat.scs_overflowed == 20 - (uint64)net_ncpu());
}

// The cache is full: a real client gets a cookie SYN,ACK, its ACK
// verifies, and the connection works, with the MSS the cookie kept.
static void tcp_syncookie_connect(void)
{
	BEGIN();
	struct socket *l = tw_listen(5313, 5);
	fill_cache(5313);
	uint64 sent = syncache_stat.scs_cookiessent;
	CHECK(sent == syncache_stat.scs_overflowed);
	struct socket *c = tw_connect(5313, 6313), *s;
	wire_settle();
	CHECK(syncache_stat.scs_cookiessent == sent + 1);
	CHECK(syncache_stat.scs_cookiesaccepted == 1);
	CHECK(soaccept(l, true, &s) == 0 && tw_state(s) == TCPS_ESTABLISHED);
	CHECK(tw_tp(s)->t_maxseg == 1460);
	static uint8 big[20000], got[20000];
	tw_pattern(big, sizeof(big), 0);
	CHECK(tw_send(c, big, sizeof(big)) == (long)sizeof(big));
	wire_run(2000);
	CHECK(tw_recv(s, got, sizeof(got), 0) == (long)sizeof(got));
	CHECK(memcmp(big, got, sizeof(big)) == 0);
	soclose(c);
	soclose(s);
	soclose(l);
	clean(s0, m0);
}

// ACKs with a wrong cookie get a RST and make nothing; before any cookie
// was sent, an ACK is not even checked as one.
static void tcp_syncookie_forged(void)
{
	BEGIN();
	struct socket *l = tw_listen(5314, 5);
	tw_forge(7200, 5314, 1, 12345, TH_ACK);
	wire_settle();
	CHECK(syncache_stat.scs_cookiesrejected == 0 && tcpstat.tcps_drop_badack == 1);
	fill_cache(5314);
	wire_filter = drop_forged;
	for (int i = 0; i < 50; i++) {
		tw_forge(7200, 5314, 1 + i, 0x9e3779b9u * (uint32)(i + 1), TH_ACK);
		wire_settle();
	}
	CHECK(syncache_stat.scs_cookiesrejected == 50);
	CHECK(syncache_stat.scs_cookiesaccepted == 0 && tcpstat.tcps_pcbs == 1);
	soclose(l);
	clean(s0, m0);
}

// net.inet.tcp.syncache.cookies=0: a full cache drops the SYN; the
// client gets in when its SYN retransmission finds room.
static void tcp_syncookie_off(void)
{
	BEGIN();
	CHECK(host_sysctl_write("net.inet.tcp.syncache.cookies", 2) == -EINVAL);
	CHECK(host_sysctl_write("net.inet.tcp.syncache.cookies", 0) == 0);
	CHECK(host_sysctl_write("net.inet.tcp.syncache.rexmtlimit", 1) == 0);
	struct socket *l = tw_listen(5315, 5);
	fill_cache(5315);
	CHECK(syncache_stat.scs_cookiessent == 0);
	struct socket *c = tw_connect(5315, 6315), *s;
	wire_settle();
	CHECK(tw_state(c) == TCPS_SYN_SENT && count_synack(5315, 6315) == 0);
	wire_run(8000);   // entries expire after 1 + 2 s; SYN again at 1, 3, 7 s
	CHECK(tw_state(c) == TCPS_ESTABLISHED);
	CHECK(soaccept(l, true, &s) == 0);
	soclose(c);
	soclose(s);
	soclose(l);
	clean(s0, m0);
}

// What a cookie keeps: MSS rounded down to its table, window scale
// rounded down, SACK-permitted; any flipped bit fails; a cookie lives
// one to two periods of 2^15 ms.
static void tcp_syncookie_encoding(void)
{
	wire_setup();
	struct tcp_seg syn = { .sg_src = IPV4(10, 0, 0, 1), .sg_dst = IPV4(10, 0, 0, 2),
			       .sg_sport = 40000, .sg_dport = 80, .sg_seq = 777, .sg_flags = TH_SYN };
	static const struct { uint16 mss; uint8 ws; uint16 kmss; int kws; } cases[] = {
		{ 1300, 7, 1220, 7 }, { 1460, 8, 1460, 7 }, { 9000, 14, 1460, 9 },
		{ 536, 0, 536, 0 }, { 100, 3, 256, 2 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		syn.sg_opt.to_flags = TOF_MSS | TOF_WSCALE | TOF_SACKPERM;
		syn.sg_opt.to_mss = cases[i].mss;
		syn.sg_opt.to_wscale = cases[i].ws;
		tcp_seq iss = tcp_syncookie_make(&syn);
		struct tcp_seg ack = syn;
		ack.sg_flags = TH_ACK;
		ack.sg_seq = syn.sg_seq + 1;
		ack.sg_ack = iss + 1;
		memset(&ack.sg_opt, 0, sizeof(ack.sg_opt));
		struct tcpopt to;
		CHECK(tcp_syncookie_check(&ack, &to) == 0);
		CHECK(to.to_mss == cases[i].kmss && (to.to_flags & TOF_WSCALE) &&
		      to.to_wscale == cases[i].kws && (to.to_flags & TOF_SACKPERM));
		for (int b = 0; b < 32; b++) {
			ack.sg_ack = (iss ^ (1u << b)) + 1;
			CHECK(tcp_syncookie_check(&ack, &to) == -EINVAL);
		}
		ack.sg_ack = iss + 1;
		ack.sg_sport++;   // another 4-tuple
		CHECK(tcp_syncookie_check(&ack, &to) == -EINVAL);
	}
	syn.sg_opt.to_flags = 0;   // no options: 536, no scale, no SACK
	struct tcp_seg ack = syn;
	ack.sg_seq = syn.sg_seq + 1;
	ack.sg_ack = tcp_syncookie_make(&syn) + 1;
	struct tcpopt to;
	CHECK(tcp_syncookie_check(&ack, &to) == 0);
	CHECK(to.to_mss == 536 && !(to.to_flags & (TOF_WSCALE | TOF_SACKPERM)));
	host_clock_advance(1u << 15);   // the next period: still good
	CHECK(tcp_syncookie_check(&ack, &to) == 0);
	host_clock_advance(2u << 15);   // two periods on: stale
	CHECK(tcp_syncookie_check(&ack, &to) < 0);
}

// With RFC 7323 on: the SYN,ACK from the cache and the one carrying a
// cookie offer window scale and timestamps, and the child negotiates
// what they offered: both ends agree on the shifts, timestamps on, and a
// transfer larger than 64 KB works with a 256 KB buffer.
static void check_agree(struct socket *c, struct socket *s)
{
	struct tcpcb *ctp = tw_tp(c), *stp = tw_tp(s);
	CHECK((ctp->t_flags & TF_BOTH_SCALE) == TF_BOTH_SCALE);
	CHECK((stp->t_flags & TF_BOTH_SCALE) == TF_BOTH_SCALE);
	CHECK((ctp->t_flags & TF_BOTH_TSTMP) == TF_BOTH_TSTMP);
	CHECK((stp->t_flags & TF_BOTH_TSTMP) == TF_BOTH_TSTMP);
	CHECK(ctp->snd_scale == stp->rcv_scale && stp->rcv_scale > 0);
	CHECK(ctp->rcv_scale >= stp->snd_scale);   // a cookie may round it down
	static uint8 big[200000], got[200000];
	tw_pattern(big, sizeof(big), 0);
	long n = 0, r = 0;
	for (int i = 0; i < 100 && r < (long)sizeof(got); i++) {
		if (n < (long)sizeof(big)) {
			long k = tw_send(c, big + n, sizeof(big) - n);
			if (k > 0)
				n += k;
		}
		wire_run(50);
		long k = tw_recv(s, got + r, sizeof(got) - r, 0);
		if (k > 0)
			r += k;
	}
	CHECK(r == (long)sizeof(got) && memcmp(big, got, sizeof(big)) == 0);
	CHECK(stp->snd_wnd > 65535 || ctp->snd_wnd > 65535);
}

static void tcp_syncache_rfc7323(void)
{
	BEGIN();
	tw_rfc7323(true);
	struct socket *l = tw_listen(5316, 5), *c, *s;
	tw_setopt(l, SOL_SOCKET, SO_RCVBUF, 256 * 1024);
	c = tw_socket();
	tw_setopt(c, SOL_SOCKET, SO_RCVBUF, 256 * 1024);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = hton16(5316),
				   .sin_addr.s_addr = hton32(IPV4(127, 0, 0, 1)) };
	CHECK(soconnect(c, &sin, true) == -EINPROGRESS);
	wire_settle();
	CHECK(soaccept(l, true, &s) == 0 && syncache_stat.scs_completed == 1);
	check_agree(c, s);
	soclose(c);
	soclose(s);
	fill_cache(5316);   // now through a cookie
	wire_filter = NULL;
	c = tw_socket();
	tw_setopt(c, SOL_SOCKET, SO_RCVBUF, 256 * 1024);
	CHECK(soconnect(c, &sin, true) == -EINPROGRESS);
	wire_settle();
	CHECK(soaccept(l, true, &s) == 0 && syncache_stat.scs_cookiesaccepted == 1);
	check_agree(c, s);
	soclose(c);
	soclose(s);
	soclose(l);
	clean(s0, m0);
}

const struct host_test tcp_syncache_tests[] = {
	{ tcp_syncache_rfc7323, "tcp_syncache_rfc7323" },
	{ tcp_syncache_handshake, "tcp_syncache_handshake" },
	{ tcp_syncache_expire, "tcp_syncache_expire" },
	{ tcp_syncache_rst_dupsyn, "tcp_syncache_rst_dupsyn" },
	{ tcp_syncache_bad_ack_gets_rst, "tcp_syncache_bad_ack_gets_rst" },
	{ tcp_syncookie_connect, "tcp_syncookie_connect" },
	{ tcp_syncookie_forged, "tcp_syncookie_forged" },
	{ tcp_syncookie_off, "tcp_syncookie_off" },
	{ tcp_syncookie_encoding, "tcp_syncookie_encoding" },
	{ NULL, NULL },
};
