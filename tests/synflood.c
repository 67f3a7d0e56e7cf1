// synflood: send N TCP SYNs from random spoofed IPv4 sources to one
// address and port, as fast as the host can, on an AF_PACKET socket bound
// to an interface (the test's tap, inside its network namespace).
//
// Built at test time by tests/test_synflood.py with the host's gcc (not
// part of the guest); run as root in the namespace:
//   synflood IFNAME DSTMAC DSTIP DPORT COUNT SEED
// Every frame is built before the first is sent (a SYN of 60 bytes with
// an MSS option: 14 + 20 + 24, padded by the NIC to 60), so the sending
// loop is one sendto per frame. Sources are random addresses outside
// 0/8, 10/8, 127/8 and 224/3 (never the rig's own subnet: the guest
// sends its SYN,ACKs to the gateway, where they die), random ports and
// ISNs. Prints one JSON line: {"sent": n, "secs": t, "rate": n/t,
// "failed": sendto errors}.
#include <arpa/inet.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FRAME_LEN 62   // 14 Ethernet + 20 IP + 24 TCP (header + MSS option) + 4 pad

static uint64_t rng_state;

static uint32_t rnd(void)
{
	// xorshift64*: reproducible for a seed
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ull) >> 32);
}

static uint16_t sum16(const uint8_t *p, int n, uint32_t s)
{
	for (int i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static int parse_mac(const char *s, uint8_t *mac)
{
	unsigned m[6];
	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)m[i];
	return 0;
}

static uint32_t spoofed_source(void)
{
	for (;;) {
		uint32_t a = rnd();
		uint8_t top = a >> 24;
		if (top == 0 || top == 10 || top == 127 || top >= 224)
			continue;
		if ((a & 0xff) == 0 || (a & 0xff) == 255)
			continue;
		return a;
	}
}

static void build(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, uint32_t dst,
		  uint16_t dport)
{
	uint32_t src = spoofed_source();
	uint16_t sport = (uint16_t)(1024 + rnd() % 64000);
	uint32_t seq = rnd();
	memset(f, 0, FRAME_LEN);
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	f[12] = 0x08, f[13] = 0x00;
	uint8_t *ip = f + 14, *t = ip + 20;
	ip[0] = 0x45, ip[3] = 44;   // total length 20 + 24
	ip[4] = (uint8_t)(rnd() >> 8), ip[5] = (uint8_t)rnd();
	ip[8] = 64, ip[9] = 6;
	uint32_t s = htonl(src), d = htonl(dst);
	memcpy(ip + 12, &s, 4);
	memcpy(ip + 16, &d, 4);
	uint16_t c = sum16(ip, 20, 0);
	ip[10] = c >> 8, ip[11] = c & 0xff;
	t[0] = sport >> 8, t[1] = sport & 0xff, t[2] = dport >> 8, t[3] = dport & 0xff;
	t[4] = seq >> 24, t[5] = seq >> 16, t[6] = seq >> 8, t[7] = seq;
	t[12] = 6 << 4, t[13] = 0x02;   // 24-byte header, SYN
	t[14] = 0xfa, t[15] = 0xf0;     // window 64240
	t[20] = 2, t[21] = 4, t[22] = 0x05, t[23] = 0xb4;   // MSS 1460
	uint8_t ph[12];
	memcpy(ph, ip + 12, 8);
	ph[8] = 0, ph[9] = 6, ph[10] = 0, ph[11] = 24;
	uint32_t acc = (uint16_t)~sum16(ph, 12, 0);
	c = sum16(t, 24, acc);
	t[16] = c >> 8, t[17] = c & 0xff;
}

int main(int argc, char **argv)
{
	if (argc != 7) {
		fprintf(stderr, "usage: synflood IFNAME DSTMAC DSTIP DPORT COUNT SEED\n");
		return 2;
	}
	uint8_t dmac[6], smac[6];
	struct in_addr dst;
	if (parse_mac(argv[2], dmac) < 0 || inet_aton(argv[3], &dst) == 0) {
		fprintf(stderr, "synflood: bad MAC or address\n");
		return 2;
	}
	int dport = atoi(argv[4]), count = atoi(argv[5]);
	rng_state = strtoull(argv[6], NULL, 0) * 0x9e3779b97f4a7c15ull + 1;
	char path[128];
	snprintf(path, sizeof(path), "/sys/class/net/%s/address", argv[1]);
	FILE *fp = fopen(path, "r");
	char macs[32] = "";
	if (fp == NULL || fgets(macs, sizeof(macs), fp) == NULL || parse_mac(macs, smac) < 0) {
		fprintf(stderr, "synflood: cannot read %s\n", path);
		return 1;
	}
	fclose(fp);
	int s = socket(AF_PACKET, SOCK_RAW, htons(0x0800));
	if (s < 0) {
		perror("synflood: socket");
		return 1;
	}
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(0x0800),
				  .sll_ifindex = (int)if_nametoindex(argv[1]), .sll_halen = 6 };
	memcpy(ll.sll_addr, dmac, 6);
	uint8_t *frames = malloc((size_t)count * FRAME_LEN);
	if (ll.sll_ifindex == 0 || frames == NULL) {
		fprintf(stderr, "synflood: no interface %s or no memory\n", argv[1]);
		return 1;
	}
	for (int i = 0; i < count; i++)
		build(frames + (size_t)i * FRAME_LEN, dmac, smac, ntohl(dst.s_addr), (uint16_t)dport);
	struct timespec t0, t1;
	int failed = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < count; i++)
		if (sendto(s, frames + (size_t)i * FRAME_LEN, FRAME_LEN, 0, (struct sockaddr *)&ll,
			   sizeof(ll)) != FRAME_LEN)
			failed++;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("{\"sent\": %d, \"secs\": %.4f, \"rate\": %.0f, \"failed\": %d}\n", count - failed,
	       secs, (count - failed) / (secs > 0 ? secs : 1e-9), failed);
	free(frames);
	close(s);
	return 0;
}
