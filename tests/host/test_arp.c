// Host tests of net/arp.c through the fake interface fx0: replies to
// requests, the pending queue while resolving and its bound, retries and
// giving up, expiry (virtual clock), the gratuitous announcement, a full
// table, malformed packets.
#include "tests/host/net_fake.h"

static const uint8 zero_mac[6];

static uint16 be16at(const uint8 *p) { return (uint16)(p[0] << 8 | p[1]); }
static uint32 be32at(const uint8 *p)
{
	return (uint32)p[0] << 24 | (uint32)p[1] << 16 | (uint32)p[2] << 8 | p[3];
}

// Frame i is an ARP packet with operation op, target address tpa.
static void check_arp_frame(int i, int op, uint32 tpa)
{
	CHECK(i < ncap);
	CHECK(be16at(cap[i] + 12) == ETHERTYPE_ARP);
	const uint8 *a = cap[i] + ETHER_HDR_LEN;
	CHECK(be16at(a + 6) == op);
	CHECK(memcmp(a + 8, fx_mac, 6) == 0);
	CHECK(be32at(a + 14) == FX_ADDR);
	CHECK(be32at(a + 24) == tpa);
}

static void arp_gratuitous_request_when_interface_comes_up(void)
{
	fx_setup();
	CHECK(ncap == 1);
	CHECK(memcmp(cap[0], ether_broadcast, 6) == 0);
	check_arp_frame(0, 1, FX_ADDR);   // sender == target == us
}

static void arp_replies_to_request_for_our_address(void)
{
	fx_setup();
	fx_clear();
	uint8 a[28];
	fx_arp(a, 1, gw_mac, GW_ADDR, zero_mac, FX_ADDR);
	fx_inject(ETHERTYPE_ARP, a, 28);
	CHECK(ncap == 1);
	CHECK(memcmp(cap[0], gw_mac, 6) == 0);           // unicast to the asker
	check_arp_frame(0, 2, GW_ADDR);
	CHECK(memcmp(cap[0] + ETHER_HDR_LEN + 18, gw_mac, 6) == 0);
	uint8 mac[6];
	CHECK(arp_lookup(GW_ADDR, mac) == 0 && memcmp(mac, gw_mac, 6) == 0);
	CHECK(sysctl_get("net.link.ether.arp.requests_received") == 1);
	CHECK(sysctl_get("net.link.ether.arp.replies_sent") == 1);
}

static void arp_ignores_request_for_other_address(void)
{
	fx_setup();
	fx_clear();
	uint8 a[28];
	fx_arp(a, 1, gw_mac, GW_ADDR, zero_mac, IPV4(10, 0, 2, 77));
	fx_inject(ETHERTYPE_ARP, a, 28);
	CHECK(ncap == 0);
	uint8 mac[6];
	CHECK(arp_lookup(GW_ADDR, mac) == -ENOENT);   // RFC 826: not for us, not new
}

static void arp_miss_holds_packet_until_reply(void)
{
	fx_setup();
	fx_clear();
	CHECK(icmp_echo(GW_ADDR, 1, 1, 10) == 0);
	CHECK(ncap == 1);
	CHECK(memcmp(cap[0], ether_broadcast, 6) == 0);
	check_arp_frame(0, 1, GW_ADDR);
	uint8 a[28];
	fx_arp(a, 2, gw_mac, GW_ADDR, fx_mac, FX_ADDR);
	fx_inject(ETHERTYPE_ARP, a, 28);
	CHECK(ncap == 2);                                 // the held echo, sent now
	CHECK(be16at(cap[1] + 12) == ETHERTYPE_IP);
	CHECK(memcmp(cap[1], gw_mac, 6) == 0);
	CHECK(sysctl_get("net.link.ether.arp.replies_received") == 1);
}

static void arp_pending_queue_is_bounded(void)
{
	fx_setup();
	fx_clear();
	for (int i = 0; i < 10; i++)
		icmp_echo(IPV4(10, 0, 2, 3), 1, i, 10);
	CHECK(sysctl_get("net.link.ether.arp.dropped") == 10 - ARP_MAXHOLD);
	CHECK(ncap == 1);   // one request, not one per packet
	uint8 a[28], mac3[6] = { 2, 0, 0, 0, 0, 3 };
	fx_arp(a, 2, mac3, IPV4(10, 0, 2, 3), fx_mac, FX_ADDR);
	fx_inject(ETHERTYPE_ARP, a, 28);
	CHECK(ncap == 1 + ARP_MAXHOLD);
}

static void arp_retries_then_gives_up_and_fails_fast(void)
{
	fx_setup();
	fx_clear();
	uint32 dead = IPV4(10, 0, 2, 9);
	CHECK(icmp_echo(dead, 1, 1, 10) == 0);
	for (int i = 0; i < ARP_MAXTRIES + 2; i++) {
		host_clock_advance(ARP_RETRY_MS);
		arp_tick();
	}
	CHECK(ncap == ARP_MAXTRIES);   // requests, then silence
	CHECK(sysctl_get("net.link.ether.arp.timeouts") == 1);
	CHECK(sysctl_get("net.link.ether.arp.dropped") == 1);
	CHECK(icmp_echo(dead, 1, 2, 10) == -EHOSTDOWN);
	CHECK(ncap == ARP_MAXTRIES);
	host_clock_advance(ARP_DOWN_MS);
	arp_tick();
	CHECK(icmp_echo(dead, 1, 3, 10) == 0);   // asks again
	CHECK(ncap == ARP_MAXTRIES + 1);
}

static void arp_entry_expires_after_timeout(void)
{
	fx_setup();
	fx_learn_gw();
	uint8 mac[6];
	host_clock_advance(ARP_TIMEOUT_MS - 1000);
	arp_tick();
	CHECK(arp_lookup(GW_ADDR, mac) == 0);
	host_clock_advance(1000);
	arp_tick();
	CHECK(arp_lookup(GW_ADDR, mac) == -ENOENT);
	CHECK(sysctl_get("net.link.ether.arp.entries") == 0);
}

static void arp_refreshes_entry_in_use_before_expiry(void)
{
	fx_setup();
	fx_learn_gw();
	host_clock_advance(ARP_TIMEOUT_MS - ARP_REFRESH_MS + 1);
	CHECK(icmp_echo(GW_ADDR, 1, 1, 10) == 0);
	CHECK(ncap == 2);   // a refresh request, and the echo (not held)
	check_arp_frame(0, 1, GW_ADDR);
	CHECK(be16at(cap[1] + 12) == ETHERTYPE_IP);
}

static void arp_full_table_evicts_oldest(void)
{
	fx_setup();
	uint8 a[28], mac[6] = { 2, 0, 0, 0, 1, 0 };
	for (int i = 0; i < ARP_NENTRIES + 1; i++) {
		mac[5] = i;
		fx_arp(a, 1, mac, IPV4(10, 0, 2, 100 + i), zero_mac, FX_ADDR);
		fx_inject(ETHERTYPE_ARP, a, 28);
		host_clock_advance(10);
	}
	CHECK(sysctl_get("net.link.ether.arp.entries") == ARP_NENTRIES);
	CHECK(sysctl_get("net.link.ether.arp.evicted") == 1);
	CHECK(arp_lookup(IPV4(10, 0, 2, 100), mac) == -ENOENT);   // the oldest
	CHECK(arp_lookup(IPV4(10, 0, 2, 100 + ARP_NENTRIES), mac) == 0);
}

static void arp_malformed_packets_are_counted_not_used(void)
{
	fx_setup();
	fx_clear();
	uint8 a[28];
	fx_arp(a, 1, gw_mac, GW_ADDR, zero_mac, FX_ADDR);
	fx_inject(ETHERTYPE_ARP, a, 20);             // short
	a[4] = 8;                                    // hardware length 8
	fx_inject(ETHERTYPE_ARP, a, 28);
	fx_arp(a, 1, gw_mac, GW_ADDR, zero_mac, FX_ADDR);
	a[2] = 0x86, a[3] = 0xdd;                    // protocol IPv6
	fx_inject(ETHERTYPE_ARP, a, 28);
	CHECK(sysctl_get("net.link.ether.arp.bad") == 3);
	fx_arp(a, 1, gw_mac, FX_ADDR, zero_mac, FX_ADDR);   // claims our address
	fx_inject(ETHERTYPE_ARP, a, 28);
	CHECK(sysctl_get("net.link.ether.arp.dup_address") == 1);
	CHECK(ncap == 0);
	CHECK(sysctl_get("net.link.ether.arp.entries") == 0);
	fx_inject(ETHERTYPE_ARP, a, 0);              // empty frame body
	fx_inject(0x1234, a, 28);                    // unknown ethertype
	CHECK(sysctl_get("net.link.ether.unknown_type") == 1);
}

const struct host_test arp_tests[] = {
	{ arp_gratuitous_request_when_interface_comes_up, "arp_gratuitous_request_when_interface_comes_up" },
	{ arp_replies_to_request_for_our_address, "arp_replies_to_request_for_our_address" },
	{ arp_ignores_request_for_other_address, "arp_ignores_request_for_other_address" },
	{ arp_miss_holds_packet_until_reply, "arp_miss_holds_packet_until_reply" },
	{ arp_pending_queue_is_bounded, "arp_pending_queue_is_bounded" },
	{ arp_retries_then_gives_up_and_fails_fast, "arp_retries_then_gives_up_and_fails_fast" },
	{ arp_entry_expires_after_timeout, "arp_entry_expires_after_timeout" },
	{ arp_refreshes_entry_in_use_before_expiry, "arp_refreshes_entry_in_use_before_expiry" },
	{ arp_full_table_evicts_oldest, "arp_full_table_evicts_oldest" },
	{ arp_malformed_packets_are_counted_not_used, "arp_malformed_packets_are_counted_not_used" },
	{ NULL, NULL },
};
