// The fake interface of net_fake.h.
#include "tests/host/net_fake.h"

struct ifnet fx;
const uint8 fx_mac[6] = { 0x02, 0, 0, 0, 0, 0x0f };
const uint8 gw_mac[6] = { 0x52, 0x55, 0x0a, 0, 2, 2 };
uint8 cap[FX_MAXCAP][2048];
int cap_len[FX_MAXCAP];
int ncap;

static void fx_start(struct ifqueue *ifq, void *softc)
{
	struct mbuf *m;
	(void)softc;
	while ((m = ifq_dequeue(ifq)) != NULL) {
		int len = m->m_pkthdr.ph_len;
		CHECK(len <= 2048 && ncap < FX_MAXCAP);
		CHECK(m_copydata(m, 0, len, cap[ncap]) == 0);
		cap_len[ncap++] = len;
		m_freem(m);
	}
}

void fx_clear(void)
{
	ncap = 0;
}

void fx_setup(void)
{
	CHECK(mbuf_init() == 0);
	CHECK(arp_init() == 0);
	CHECK(ip_init() == 0);
	CHECK(icmp_init() == 0);
	strcpy(fx.if_name, "fx0");
	fx.if_mtu = 1500;
	memcpy(fx.if_lladdr, fx_mac, 6);
	CHECK(ifq_init(&fx.if_snd, "fx0", 256, fx_start, &fx) == 0);
	ether_ifattach(&fx);
	CHECK(if_attach(&fx) == 0);
	CHECK(if_setaddr(&fx, FX_ADDR, IPV4(255, 255, 255, 0)) == 0);
	CHECK(if_up(&fx) == 0);
	if_announce_all();
}

void fx_inject(uint16 type, const void *p, int len)
{
	uint8 frame[ETHER_HDR_LEN + 70000];
	CHECK(len <= 70000);
	memcpy(frame, fx_mac, 6);
	memcpy(frame + 6, gw_mac, 6);
	frame[12] = type >> 8, frame[13] = type & 0xff;
	memcpy(frame + ETHER_HDR_LEN, p, len);
	struct mbuf *m = m_devget(frame, ETHER_HDR_LEN + len, &fx);
	CHECK(m != NULL);
	ether_input(m);
}

int fx_ip(uint8 *buf, uint8 proto, uint32 src, uint32 dst, uint16 id,
	  uint16 off, const void *payload, int plen)
{
	struct ip *ip = (struct ip *)buf;
	memset(ip, 0, sizeof(*ip));
	ip->ip_vhl = 0x45;
	ip->ip_len = hton16(IP_HDR_LEN + plen);
	ip->ip_id = hton16(id);
	ip->ip_off = hton16(off);
	ip->ip_ttl = 64;
	ip->ip_p = proto;
	ip->ip_src = hton32(src);
	ip->ip_dst = hton32(dst);
	ip->ip_sum = in_cksum_buf(ip, IP_HDR_LEN);
	memcpy(buf + IP_HDR_LEN, payload, plen);
	return IP_HDR_LEN + plen;
}

int fx_echo(uint8 *buf, uint16 id, uint16 seq, int plen)
{
	struct icmp *ic = (struct icmp *)buf;
	ic->icmp_type = ICMP_ECHO;
	ic->icmp_code = 0;
	ic->icmp_cksum = 0;
	ic->icmp_id = hton16(id);
	ic->icmp_seq = hton16(seq);
	for (int i = 0; i < plen; i++)
		buf[ICMP_MINLEN + i] = (uint8)(i * 7 + seq);
	ic->icmp_cksum = in_cksum_buf(buf, ICMP_MINLEN + plen);
	return ICMP_MINLEN + plen;
}

static void put32(uint8 *p, uint32 v)
{
	p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
}

int fx_arp(uint8 *buf, int op, const uint8 *sha, uint32 spa, const uint8 *tha, uint32 tpa)
{
	buf[0] = 0, buf[1] = 1, buf[2] = 8, buf[3] = 0, buf[4] = 6, buf[5] = 4;
	buf[6] = 0, buf[7] = op;
	memcpy(buf + 8, sha, 6);
	put32(buf + 14, spa);
	memcpy(buf + 18, tha, 6);
	put32(buf + 24, tpa);
	return 28;
}

void fx_learn_gw(void)
{
	static const uint8 zero[6];
	uint8 a[28];
	fx_arp(a, 1, gw_mac, GW_ADDR, zero, FX_ADDR);
	fx_inject(ETHERTYPE_ARP, a, 28);
	uint8 mac[6];
	CHECK(arp_lookup(GW_ADDR, mac) == 0);
	fx_clear();
}

struct socket *fx_udp_socket(uint32 opts)
{
	const struct protosw *pr = pffindproto(SOCK_DGRAM, IPPROTO_UDP);
	CHECK(pr != NULL);
	struct socket *so = so_alloc(pr);
	CHECK(so != NULL && pr->pr_usrreqs->pru_attach(so, IPPROTO_UDP) == 0);
	so->so_options = opts;
	return so;
}

void fx_udp_close(struct socket *so)
{
	CHECK(so->so_proto->pr_usrreqs->pru_detach(so) == 0);
	sorele(so);
}
