// A libFuzzer target: arbitrary segments fed to tcp_input over a
// connection in each TCP state, on the host build of net/ (the fake wire
// of tests/host/tcp_wire.c, a virtual clock, 2 fake netisrs).
//
// Problem: tcp_input parses what any host on the network sends. A bad
// option length, an offset past the end, a sequence number that wraps,
// a RST in a state nobody tested: each must be dropped or answered,
// never crash the kernel or leak. Hand-written tests cover the cases
// someone thought of.
//
// Idea: the fuzzer's bytes describe a scenario. The first byte picks a
// state (enum fz_state; its top bit turns RFC 7323 window scale and
// timestamps on for the sockets) that the harness reaches with ordinary sockets
// over the fake wire (a filter drops what must not arrive); then up to
// 8 segments follow, each one control byte, a 2-byte length and the TCP
// segment itself (header, options, data: anything). The control byte
// can keep the segment close to the connection so deep code is reached:
// bit 0 sets the ports to the connection's (else they stay as given),
// bit 1 makes SEQ relative to the target's RCV.NXT (a signed 16-bit
// offset), bit 2 makes ACK relative to its SND.UNA (or, before a tcpcb
// exists, to the ISS of the last SYN,ACK on the wire: the syncache's or
// a cookie), bit 3 leaves the checksum as given (else it is fixed),
// bit 4 sends it to the other end, bits 5-7 let 0..7 x 300 ms of
// virtual time pass afterwards (timers run). Finally every socket is
// closed and the clock runs on until everything has ended; then no
// tcpcb, socket, mbuf or syncache entry may be left (a leak aborts,
// as a crash does).
//
// Input layout:  state:1 { ctl:1 len:2(big-endian) segment:len }*
//
// Run: make fuzz (builds tests/fuzz/fuzz_tcp with clang
// -fsanitize=fuzzer,address,undefined and runs it for FUZZSECS on
// tests/fuzz/corpus); tests/test_fuzz.py runs it for 60 s in make test.
// A crash input goes to tests/fuzz/crashes/; replay: tests/fuzz/fuzz_tcp
// FILE (FUZZ_TCP_VERBOSE=1 prints the state reached and counters per
// input). Each crash found becomes a named test in tests/host/.
#include "tests/host/tcp_wire.h"
#include "net/tcp_syncache.h"
#include "kernel/poll.h"

enum fz_state {
	FZ_LISTEN,          // a listener; the segment is for it
	FZ_SYNCACHE,        // a SYN was cached: the listener holds an entry
	FZ_COOKIE,          // the cache is full: a cookie SYN,ACK went out
	FZ_SYN_SENT,        // the client's SYN is lost
	FZ_SYN_RECEIVED,    // simultaneous open: a SYN reached a SYN_SENT socket
	FZ_ESTABLISHED,
	FZ_INFLIGHT,        // established, the server has 6 KB unacknowledged
	FZ_OOO,             // established, the client holds out-of-order data
	FZ_FIN_WAIT_1,
	FZ_FIN_WAIT_2,
	FZ_CLOSE_WAIT,
	FZ_CLOSING,
	FZ_LAST_ACK,
	FZ_TIME_WAIT,
	FZ_NSTATES
};

#define SPORT 5000   // the server (listener) port
#define CPORT 6000   // the client's port

static struct socket *fz_l, *fz_c, *fz_s;   // listener, client, server
static struct socket *fz_target;            // the end segments go to (NULL: listener)
// filter: 0 pass, 1 drop all, 2 drop pure ACKs, 3 drop one data segment,
// 4 drop what fz_dropport sends
static int fz_drop;
static uint16 fz_dropport;

static enum wire_verdict fz_filter(const struct wire_seg *ws)
{
	if (fz_drop == 1)
		return WIRE_DROP;
	if (fz_drop == 4 && ws->ws_sport == fz_dropport)
		return WIRE_DROP;
	if (fz_drop == 3 && ws->ws_len > 0) {
		fz_drop = 0;
		return WIRE_DROP;
	}
	if (fz_drop == 2 && ws->ws_flags == TH_ACK && ws->ws_len == 0)
		return WIRE_DROP;
	return WIRE_PASS;
}

static void fz_pair(void)
{
	fz_l = tw_listen(SPORT, 5);
	fz_c = tw_connect(SPORT, CPORT);
	wire_settle();
	CHECK(soaccept(fz_l, true, &fz_s) == 0);
}

// Reach state st. Sets fz_target.
static void fz_reach(enum fz_state st)
{
	static uint8 buf[8192];
	fz_drop = 0;
	fz_l = fz_c = fz_s = fz_target = NULL;
	switch (st) {
	case FZ_LISTEN:
		fz_l = tw_listen(SPORT, 5);
		break;
	case FZ_SYNCACHE:
	case FZ_COOKIE:
		fz_l = tw_listen(SPORT, 5);
		tcp_syncache_limit = st == FZ_COOKIE ? 1 : 256;
		fz_drop = 4;   // the SYN,ACKs are lost: nobody answers them
		fz_dropport = SPORT;
		if (st == FZ_COOKIE) {   // one entry per netisr first
			for (uint16 p = 7000; p < 7010; p++) {
				tw_forge_syn(p, SPORT, 1, 1460);
				wire_settle();
			}
		}
		tw_forge_syn(CPORT, SPORT, 1000, 1460);
		wire_settle();
		break;
	case FZ_SYN_SENT:
		fz_drop = 1;
		fz_c = tw_connect(SPORT, CPORT);
		wire_settle();
		fz_target = fz_c;
		break;
	case FZ_SYN_RECEIVED:
		fz_drop = 4;   // nothing the client sends arrives
		fz_dropport = CPORT;
		fz_c = tw_connect(SPORT, CPORT);
		wire_settle();
		tw_forge_syn(SPORT, CPORT, 5000, 1460);   // the "other" SYN
		wire_settle();
		fz_target = fz_c;
		break;
	case FZ_ESTABLISHED:
		fz_pair();
		fz_target = fz_s;
		break;
	case FZ_INFLIGHT:
		fz_pair();
		fz_drop = 1;
		tw_pattern(buf, 6000, 0);
		tw_send(fz_s, buf, 6000);
		wire_settle();
		fz_target = fz_s;
		break;
	case FZ_OOO:
		fz_pair();
		fz_drop = 3;   // the first data segment is lost
		tw_send(fz_s, buf, 4000);
		wire_settle();
		fz_target = fz_c;
		break;
	case FZ_FIN_WAIT_1:
		fz_pair();
		fz_drop = 1;
		soshutdown(fz_s, SHUT_WR);
		wire_settle();
		fz_target = fz_s;
		break;
	case FZ_FIN_WAIT_2:
	case FZ_CLOSE_WAIT:
		fz_pair();
		soshutdown(fz_s, SHUT_WR);
		wire_settle();
		fz_target = st == FZ_FIN_WAIT_2 ? fz_s : fz_c;
		break;
	case FZ_LAST_ACK:
		fz_pair();
		soshutdown(fz_s, SHUT_WR);
		wire_settle();
		fz_drop = 1;
		soshutdown(fz_c, SHUT_WR);
		wire_settle();
		fz_target = fz_c;
		break;
	case FZ_CLOSING:
		fz_pair();
		fz_drop = 2;
		soshutdown(fz_s, SHUT_WR);
		soshutdown(fz_c, SHUT_WR);
		wire_settle();
		fz_target = fz_s;
		break;
	case FZ_TIME_WAIT:
		fz_pair();
		soshutdown(fz_s, SHUT_WR);
		wire_settle();
		soshutdown(fz_c, SHUT_WR);
		wire_settle();
		fz_target = fz_s;
		break;
	default:
		break;
	}
	fz_drop = 0;
}

// The ISS of the last SYN,ACK the listener sent (syncache or cookie).
static uint32 fz_last_synack_iss(void)
{
	for (int i = wire_nlog - 1; i >= 0; i--)
		if (wire_log[i].ws_sport == SPORT && wire_log[i].ws_flags == (TH_SYN | TH_ACK))
			return wire_log[i].ws_seq;
	return 0;
}

static void put16(uint8 *p, uint16 v)
{
	p[0] = (uint8)(v >> 8), p[1] = (uint8)v;
}

static void put32(uint8 *p, uint32 v)
{
	p[0] = (uint8)(v >> 24), p[1] = (uint8)(v >> 16), p[2] = (uint8)(v >> 8), p[3] = (uint8)v;
}

static uint32 get32(const uint8 *p)
{
	return (uint32)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

// Send one fuzzed segment (len bytes at seg) under control byte ctl.
static void fz_send(uint8 ctl, const uint8 *seg, size_t len)
{
	uint32 lo = IPV4(127, 0, 0, 1);
	uint8 t[1500];
	memcpy(t, seg, len);
	struct socket *to = fz_target;
	if ((ctl & 0x10) && to != NULL)
		to = to == fz_c ? fz_s : fz_c;
	struct tcpcb *tp = to ? tw_tp(to) : NULL;
	if (len >= 20 && (ctl & 0x01)) {
		uint16 us = tp ? tp->t_inp->inp_lport : SPORT;
		uint16 peer = tp ? tp->t_inp->inp_fport : CPORT;
		put16(t, peer);
		put16(t + 2, us);
	}
	if (len >= 20 && (ctl & 0x02) && tp)
		put32(t + 4, tp->rcv_nxt + (uint32)(int16)(get32(t + 4) & 0xffff));
	else if (len >= 20 && (ctl & 0x02))
		put32(t + 4, 1000 + 1 + (uint32)(int16)(get32(t + 4) & 0xffff));
	if (len >= 20 && (ctl & 0x04)) {
		uint32 base = tp ? tp->snd_una : fz_last_synack_iss() + 1;
		put32(t + 8, base + (uint32)(int16)(get32(t + 8) & 0xffff));
	}
	struct mbuf *m = m_getspace((int)len, 64);
	if (m == NULL)
		return;
	if (len > 0)
		CHECK(m_copyback(m, 0, (int)len, t) == 0);
	if (len >= 18 && !(ctl & 0x08)) {
		uint16 zero = 0;
		CHECK(m_copyback(m, 16, 2, &zero) == 0);
		uint16 sum = tcp_cksum(m, 0, (int)len, lo, lo);
		CHECK(m_copyback(m, 16, 2, &sum) == 0);
	}
	ip_output(m, lo, lo, IPPROTO_TCP, 0, 0);
	wire_settle();
	if (ctl >> 5)
		wire_run((uint64)(ctl >> 5) * 300);
}

// Close everything and let the clock run until all has ended.
static void fz_teardown(void)
{
	struct socket *all[3] = { fz_c, fz_s, fz_l };
	for (int i = 0; i < 3; i++)
		if (all[i] != NULL)
			soclose(all[i]);
	wire_filter = NULL;
	wire_run(10 * 60 * 1000);
	wire_filter = fz_filter;
	tcp_syncache_limit = 256;
}

static int fz_sockets0;
static bool fz_verbose;   // FUZZ_TCP_VERBOSE=1: one line per input (counters so far)
static uint64 fz_mbufs0;

static void fz_init(void)
{
	wire_setup();
	fz_verbose = getenv("FUZZ_TCP_VERBOSE") != NULL;
	// Short timers so that every connection ends within the teardown.
	CHECK(host_sysctl_write("net.inet.tcp.msl_ms", 200) == 0);
	CHECK(host_sysctl_write("net.inet.tcp.rexmt_max", 3) == 0);
	CHECK(host_sysctl_write("net.inet.tcp.syn_rexmt_max", 2) == 0);
	CHECK(host_sysctl_write("net.inet.tcp.rto_max_ms", 2000) == 0);
	CHECK(host_sysctl_write("net.inet.tcp.fin_wait_2_ms", 1000) == 0);
	CHECK(host_sysctl_write("net.inet.tcp.keepidle_ms", 5000) == 0);
	CHECK(host_sysctl_write("net.inet.tcp.syncache.rexmtlimit", 1) == 0);
	wire_filter = fz_filter;
	fz_sockets0 = so_count();
	fz_mbufs0 = mbstat.mbs_inuse;
}

int LLVMFuzzerTestOneInput(const uint8 *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8 *data, size_t size)
{
	static bool inited;
	if (!inited) {
		fz_init();
		inited = true;
	}
	if (size < 1)
		return 0;
	tw_rfc7323(data[0] & 0x80);   // window scale and timestamps offered
	fz_reach((enum fz_state)((data[0] & 0x7f) % FZ_NSTATES));
	size_t off = 1;
	for (int n = 0; n < 8 && off + 3 <= size; n++) {
		uint8 ctl = data[off];
		size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
		off += 3;
		if (len > size - off)
			len = size - off;
		if (len > 1400)
			len = 1400;
		fz_send(ctl, data + off, len);
		off += len;
	}
	if (fz_verbose)
		fprintf(stderr, "state %d target %s: connects %lu accepts %lu cookies %lu/%lu "
			"rcvpack %lu oopack %lu challenges %lu rstrcvd %lu\n", (data[0] & 0x7f) % FZ_NSTATES,
			fz_target ? tcp_statenames[tw_state(fz_target)] : "listener",
			(unsigned long)tcpstat.tcps_connects, (unsigned long)tcpstat.tcps_accepts,
			(unsigned long)syncache_stat.scs_cookiessent,
			(unsigned long)syncache_stat.scs_cookiesaccepted,
			(unsigned long)tcpstat.tcps_rcvpack, (unsigned long)tcpstat.tcps_rcvoopack,
			(unsigned long)tcpstat.tcps_challenge_sent, (unsigned long)tcpstat.tcps_rstrcvd);
	fz_teardown();
	// Nothing may outlive the connections (a leak is a finding too).
	CHECK(tcpstat.tcps_pcbs == 0);
	CHECK(syncache_stat.scs_count == 0);
	CHECK(so_count() == fz_sockets0);
	CHECK(mbstat.mbs_inuse == fz_mbufs0);
	return 0;
}
