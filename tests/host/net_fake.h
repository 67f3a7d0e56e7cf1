// A fake Ethernet interface "fx0" (10.0.2.15/24) for the ARP and IP host
// tests: its send queue's start routine captures every frame, and helpers
// build and inject frames from a fake gateway 10.0.2.2; UDP sockets for
// the pcb tests are made on the real protocol.
#pragma once
#include "tests/host/test.h"
#include "net/if.h"
#include "net/ether.h"
#include "net/arp.h"
#include "net/ip.h"
#include "net/icmp.h"
#include "net/byteorder.h"
#include "net/socket.h"

#define FX_ADDR IPV4(10, 0, 2, 15)
#define GW_ADDR IPV4(10, 0, 2, 2)
#define FX_MAXCAP 64

extern struct ifnet fx;
extern const uint8 fx_mac[6], gw_mac[6];
extern uint8 cap[FX_MAXCAP][2048];   // captured frames, linear
extern int cap_len[FX_MAXCAP];
extern int ncap;

// Initialise ARP/IP/ICMP and attach fx0 (up, announced); clears captures.
void fx_setup(void);
void fx_clear(void);
// Inject a frame from gw_mac with ethertype type and payload p.
void fx_inject(uint16 type, const void *p, int len);
// Build an IPv4 header + payload into buf; returns the length. vhl 0x45
// unless given; checksum computed.
int fx_ip(uint8 *buf, uint8 proto, uint32 src, uint32 dst, uint16 id,
	  uint16 off, const void *payload, int plen);
// Build an ICMP echo request (id, seq, plen bytes of pattern) into buf.
int fx_echo(uint8 *buf, uint16 id, uint16 seq, int plen);
// Make GW_ADDR resolved in the ARP cache (inject its request for us).
void fx_learn_gw(void);
// An ARP packet (op, sender, target) into buf; returns 28.
int fx_arp(uint8 *buf, int op, const uint8 *sha, uint32 spa, const uint8 *tha, uint32 tpa);
// A UDP socket made with the real protocol (its pru_attach called directly,
// as the netisr would), with so_options set to opts; checked, never NULL.
struct socket *fx_udp_socket(uint32 opts);
// Detach and release a socket from fx_udp_socket.
void fx_udp_close(struct socket *so);
