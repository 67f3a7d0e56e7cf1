// ICMP: echo request -> reply, destination unreachable (generation,
// rate-limited, and input), a test knob that pings an address.
//
// Problem: a host must answer ping (RFC 1122 3.2.2.6) and tell senders
// when a protocol or port is unreachable, without ever answering an
// error with an error, a broadcast with a flood, or letting a flood of
// bad packets turn into a flood of errors.
//
// Idea: icmp_input checks length and checksum, then switches on the type.
// An error (unreachable, time exceeded, parameter problem) quoting one of
// our packets goes to the handler its transport protocol registered
// (icmp_ctl_register; TCP: net/tcp_icmp.c) with the quoted addresses and
// 8 bytes of transport header; what it means is the transport's call.
// An echo reply is built in a fresh mbuf chain (the request may share
// clusters with other packets, so it is not written in place): same
// identifier, sequence and data, type 0, new checksum, sent back with our
// address as source. icmp_error quotes the offending IP header + 8 bytes
// and is limited by a token bucket refilled each second.
//
// Invariants: I1 no ICMP error about an ICMP error, a fragment other than
// the first, or a non-unicast source/destination (RFC 1122 3.2.2);
// I2 at most icmp_errppslimit errors per second.
//
// Locking: counters [a]; the limiter [s] icmp_lock (leaf lock).
//
// Races: "limiter window rollover": reset of the window and the count
// happen together under icmp_lock.
//
// Life of a packet: ip_input -> icmp_input -> [rip_input: copies to raw
// sockets] -> icmp_echo_reply -> ip_output
// -> if_output (lo0: back to netisr -> ip_input -> icmp_input, counted in
// echo_replies_received).
//
// Testing: guest: `sysctl net.inet.icmp.test_ping=167772674` (10.0.2.2),
// then `sysctl net.inet.icmp.echo_replies_received`; 2130706433
// (127.0.0.1) and 167772687 (10.0.2.15) go through lo0. Host: make
// hosttest (test_ip.c: echo reply, protocol unreachable). gdb: break
// icmp_input.
//
// References: RFC 792 (formats), RFC 1122 3.2.2 (when not to send
// errors), 3.2.2.1 (pass errors to the transport), 3.2.2.6 (echo), RFC 1812
// 4.3.2.8 (rate limiting), RFC 1191 4 (the next-hop MTU field).
#include "net/icmp.h"
#include "net/ip.h"
#include "net/byteorder.h"
#include "net/protosw.h"   // rip_input

struct icmpstat icmpstat;
static int icmp_errppslimit = ICMP_ERRPPS_DEFAULT;   // [a] sysctl
static uint32 icmp_test_ping;                        // [a] sysctl knob
static struct net_lock icmp_lock;
static uint64 icmp_err_window;                       // [s] second of the window
static int icmp_err_count;                           // [s] errors sent in it
static icmp_ctlinput_t icmp_ctlsw[256];              // [i] per IP protocol

#define ICMPSTAT(id, field, d) \
	NET_SYSCTL_UINT64(icmp_##id, "net.inet.icmp." #id, SYSCTL_RD, &icmpstat.field, d)
ICMPSTAT(received, icps_received, "messages received");
ICMPSTAT(tooshort, icps_tooshort, "too short");
ICMPSTAT(badsum, icps_badsum, "bad checksum");
ICMPSTAT(echo_received, icps_echo_received, "echo requests received");
ICMPSTAT(echo_replies_sent, icps_echo_replies_sent, "echo replies sent");
ICMPSTAT(echo_replies_received, icps_echo_replies_received, "echo replies received");
ICMPSTAT(echo_sent, icps_echo_sent, "echo requests sent");
ICMPSTAT(unreach_received, icps_unreach_received, "unreachables received");
ICMPSTAT(other_received, icps_other_received, "other types received");
ICMPSTAT(errors_sent, icps_error_sent, "errors sent");
ICMPSTAT(errors_ratelimited, icps_error_ratelimited, "errors not sent: rate limit");
ICMPSTAT(errors_suppressed, icps_error_suppressed, "errors not sent: RFC 1122 3.2.2");
ICMPSTAT(dropped, icps_dropped, "no memory or no route");
NET_SYSCTL_INT_RANGE(icmp_pps, "net.inet.icmp.errppslimit", SYSCTL_RW, &icmp_errppslimit,
		     0, 1000000, "ICMP errors per second at most (0: send none)");
NET_SYSCTL_UINT32_RANGE(icmp_ping, "net.inet.icmp.test_ping", SYSCTL_RW | SYSCTL_ACT,
			&icmp_test_ping, 1, 0xffffffff,
			"write an IPv4 address (host-order integer): send one echo request");

#define STAT(f) __atomic_add_fetch(&icmpstat.f, 1, __ATOMIC_RELAXED)

int icmp_init(void)
{
	net_lock_init(&icmp_lock, "icmp");
	return ip_proto_register(IPPROTO_ICMP, icmp_input);
}

int icmp_ctl_register(uint8 proto, icmp_ctlinput_t fn)
{
	if (fn == NULL)
		return -EINVAL;
	icmp_ctlsw[proto] = fn;
	return 0;
}

#define ICMP_LEAD 64   // room in front for the IP and Ethernet headers

// A new packet holding a copy of len bytes of m from off, with room for
// headers in front. NULL if no memory. Borrows m.
static struct mbuf *icmp_copy(struct mbuf *m, int off, int len)
{
	struct mbuf *n = m_getspace(len, ICMP_LEAD);
	if (n == NULL)
		return NULL;
	for (struct mbuf *p = n; p; off += p->m_len, p = p->m_next) {
		if (m_copydata(m, off, p->m_len, p->m_data) < 0) {
			m_freem(n);
			return NULL;
		}
	}
	return n;
}

// Finish an ICMP message in m (header at the front): checksum, send.
static int icmp_send(struct mbuf *m, uint32 src, uint32 dst)
{
	struct icmp *ic = mtod(m, struct icmp *);
	ic->icmp_cksum = 0;
	ic->icmp_cksum = in_cksum(m, 0, m->m_pkthdr.ph_len);   // RFC 792
	int err = ip_output(m, src, dst, IPPROTO_ICMP, 0, 0);
	if (err < 0)
		STAT(icps_dropped);
	return err;
}

// RFC 792 "Echo or Echo Reply": the reply has the request's identifier,
// sequence number and data; type 0; source and destination swapped.
static void icmp_echo_reply(struct mbuf *m, int hlen, int icmplen)
{
	struct ip *ip = mtod(m, struct ip *);
	uint32 src = ntoh32(ip->ip_src), dst = ntoh32(ip->ip_dst);
	// RFC 1122 3.2.2.6: an echo to a broadcast address MAY be ignored.
	if (!if_islocal(dst) && (dst >> 24) != IN_LOOPBACKNET) {
		m_freem(m);
		return;
	}
	struct mbuf *r = icmp_copy(m, hlen, icmplen);
	m_freem(m);
	if (r == NULL || (r = m_pullup(r, ICMP_MINLEN)) == NULL) {
		STAT(icps_dropped);
		return;
	}
	mtod(r, struct icmp *)->icmp_type = ICMP_ECHOREPLY;
	if (icmp_send(r, dst, src) == 0)
		STAT(icps_echo_replies_sent);
}

// An error message (ICMP header ic, icmplen bytes at hlen of m): hand
// what it quotes to the transport that sent the packet (RFC 1122
// 3.2.2). The quote must hold a whole IP header and 8 bytes after it
// (RFC 792), about a packet from one of our addresses. Borrows m.
static void icmp_notify(struct mbuf *m, int hlen, int icmplen, const struct icmp *ic)
{
	struct ip qip;
	struct icmp_ctl ctl;
	if (icmplen < ICMP_MINLEN + IP_HDR_LEN + 8 ||
	    m_copydata(m, hlen + ICMP_MINLEN, IP_HDR_LEN, &qip) < 0)
		return;
	int qhlen = (qip.ip_vhl & 0xf) << 2;
	if ((qip.ip_vhl >> 4) != 4 || qhlen < IP_HDR_LEN || icmplen < ICMP_MINLEN + qhlen + 8 ||
	    (ntoh16(qip.ip_off) & IP_OFFMASK) != 0 || icmp_ctlsw[qip.ip_p] == NULL)
		return;   // not ours to explain, or no transport header quoted
	memset(&ctl, 0, sizeof(ctl));
	ctl.ic_type = ic->icmp_type;
	ctl.ic_code = ic->icmp_code;
	if (ic->icmp_type == ICMP_UNREACH && ic->icmp_code == ICMP_UNREACH_NEEDFRAG)
		ctl.ic_mtu = ntoh16(ic->icmp_seq);   // RFC 1191 4: "Next-Hop MTU"
	ctl.ic_src = ntoh32(qip.ip_src);
	ctl.ic_dst = ntoh32(qip.ip_dst);
	if (!if_islocal(ctl.ic_src) && (ctl.ic_src >> 24) != IN_LOOPBACKNET)
		return;   // we did not send it
	if (m_copydata(m, hlen + ICMP_MINLEN + qhlen, 8, ctl.ic_th) < 0)
		return;
	icmp_ctlsw[qip.ip_p](&ctl);
}

void icmp_input(struct mbuf *m, int hlen)
{
	int icmplen = m->m_pkthdr.ph_len - hlen;
	struct icmp copy;
	const struct icmp *icp = &copy;

	STAT(icps_received);
	if (icmplen < ICMP_MINLEN) {
		STAT(icps_tooshort);
		goto drop;
	}
	// Read the header in place when it is in the first mbuf (it is, for
	// every packet lo0 or m_devget makes); m is only borrowed below until
	// the switch, so the pointer stays valid.
	if (m->m_len >= hlen + ICMP_MINLEN)
		icp = (const struct icmp *)(mtod(m, char *) + hlen);
	else
		m_copydata(m, hlen, sizeof(copy), &copy);   // icmplen >= 8: fits
	if (in_cksum(m, hlen, icmplen) != 0) {
		STAT(icps_badsum);
		goto drop;
	}
	rip_input(m, hlen);   // a copy to each raw ICMP socket (ping); borrows m
	uint8 type = icp->icmp_type;
	if (type == ICMP_UNREACH || type == ICMP_TIMXCEED || type == ICMP_PARAMPROB)
		icmp_notify(m, hlen, icmplen, icp);
	switch (type) {
	case ICMP_ECHO:
		STAT(icps_echo_received);
		icmp_echo_reply(m, hlen, icmplen);   // consumes m
		return;
	case ICMP_ECHOREPLY:
		STAT(icps_echo_replies_received);
		break;
	case ICMP_UNREACH:
		// RFC 1122 3.2.2.1: pass to the transport layer -- none yet.
		STAT(icps_unreach_received);
		break;
	default:
		STAT(icps_other_received);
		break;
	}
drop:
	m_freem(m);
}

// Token bucket of I2. Any thread.
static bool icmp_ratelimit_ok(void)
{
	uint64 sec = net_now_ms() / 1000;
	bool ok;
	net_lock_acquire(&icmp_lock);
	if (sec != icmp_err_window) {
		icmp_err_window = sec;
		icmp_err_count = 0;
	}
	ok = icmp_err_count < __atomic_load_n(&icmp_errppslimit, __ATOMIC_RELAXED);
	if (ok)
		icmp_err_count++;
	net_lock_release(&icmp_lock);
	return ok;
}

// May we send an error about this packet? (I1, RFC 1122 3.2.2.)
static bool icmp_error_allowed(struct mbuf *m, struct ip *ip, int hlen)
{
	uint32 src = ntoh32(ip->ip_src), dst = ntoh32(ip->ip_dst);
	uint8 type;
	if (ntoh16(ip->ip_off) & IP_OFFMASK)
		return false;   // not the first fragment
	if (m->m_pkthdr.ph_flags & (PH_BCAST | PH_MCAST))
		return false;   // link-level broadcast or multicast
	// Not about a datagram to a broadcast or multicast address, nor from
	// one (or from 0.0.0.0): the error would go to many hosts, or none.
	if (dst == INADDR_BROADCAST || (dst >> 28) == 0xe || if_isbroadcast(dst) ||
	    src == 0 || ip_is_bcastsrc(src))
		return false;
	if (ip->ip_p == IPPROTO_ICMP) {
		if (m_copydata(m, hlen, 1, &type) < 0)
			return false;
		// An error about an error (or anything but a query) is not sent.
		if (type != ICMP_ECHO && type != ICMP_ECHOREPLY)
			return false;
	}
	return true;
}

void icmp_error(struct mbuf *m, int hlen, int type, int code)
{
	icmp_error_mtu(m, hlen, type, code, 0);
}

void icmp_error_mtu(struct mbuf *m, int hlen, int type, int code, uint16 mtu)
{
	struct ip ip;
	if (m_copydata(m, 0, sizeof(ip), &ip) < 0 || !icmp_error_allowed(m, &ip, hlen)) {
		STAT(icps_error_suppressed);
		goto out;
	}
	if (!icmp_ratelimit_ok()) {
		STAT(icps_error_ratelimited);
		goto out;
	}
	// RFC 792: "Internet Header + 64 bits of Original Data Datagram".
	int qlen = m->m_pkthdr.ph_len < hlen + 8 ? m->m_pkthdr.ph_len : hlen + 8;
	struct mbuf *r = icmp_copy(m, 0, qlen);
	if (r == NULL) {
		STAT(icps_dropped);
		goto out;
	}
	M_PREPEND(r, ICMP_MINLEN);
	if (r == NULL) {
		STAT(icps_dropped);
		goto out;
	}
	struct icmp *ic = mtod(r, struct icmp *);
	memset(ic, 0, sizeof(*ic));   // unused field must be zero (RFC 792)
	ic->icmp_type = type;
	ic->icmp_code = code;
	ic->icmp_seq = hton16(mtu);   // RFC 1191 4: the low half of the unused word
	if (icmp_send(r, ntoh32(ip.ip_dst), ntoh32(ip.ip_src)) == 0)
		STAT(icps_error_sent);
out:
	m_freem(m);
}

int icmp_echo(uint32 dst, uint16 id, uint16 seq, int len)
{
	if (len < 0 || len > IP_MAXPACKET - IP_HDR_LEN - ICMP_MINLEN)
		return -EINVAL;
	struct mbuf *m = m_getspace(ICMP_MINLEN + len, ICMP_LEAD);
	if (m == NULL || (m = m_pullup(m, ICMP_MINLEN)) == NULL)
		return -ENOBUFS;
	struct icmp ic = { ICMP_ECHO, 0, 0, hton16(id), hton16(seq) };
	memcpy(mtod(m, struct icmp *), &ic, sizeof(ic));
	int i = 0;
	for (struct mbuf *n = m; n; n = n->m_next)   // payload: a..z repeated
		for (int k = (n == m ? ICMP_MINLEN : 0); k < n->m_len; k++)
			n->m_data[k] = 'a' + i++ % 26;
	STAT(icps_echo_sent);
	return icmp_send(m, 0, dst);
}

void icmp_tick(void)
{
	static uint16 seq;
	uint32 dst = __atomic_exchange_n(&icmp_test_ping, 0, __ATOMIC_RELAXED);
	if (dst == 0)
		return;
	int err = icmp_echo(dst, 0x6e6b, ++seq, 56);   // id "nk", 56 bytes like ping
	if (err < 0)
		printf("icmp: test_ping %d.%d.%d.%d: error %d\n", IPV4_PRINT(dst), err);
}
