// nettests: what the test files share.
//
// nettests is one program built from user/nettests.c, which #includes the
// test files in user/nt/ (one program per user/*.c: see user/ut/ut.h). It
// reuses the usertests helpers (fail, CHECK, EXPECT_ERR, EXPECT_OK, xfork,
// xpipe, xwait, run_capture, freed_addr, sysctl_int: user/ut/ut.h) and
// adds the network ones below. Each test is a void function run in a
// forked child; it returns if the kernel behaved and calls fail()
// otherwise. Tests close what they open (the mbuf check at the end of
// the run counts on it).
#pragma once
#include "user/ut/ut.h"

#define GUEST_ADDR "10.0.2.15"   // em0 (docs/design.md 9)
#define GATEWAY_ADDR "10.0.2.2"  // slirp's gateway, or the Linux peer
#define LOOP_ADDR "127.0.0.1"
// How long to wait for what must come (a reply, a reset, a datagram over
// lo0): the netisrs that deliver it may run seconds late on a loaded host.
// A pass waits far less; only a failure waits this long.
#define NT_WAIT_MS 20000

// call must fail with -1 and errno e1 or e2 (where the standards leave a
// choice, or BSD and Linux differ).
#define EXPECT_ERR2(e1, e2, call) \
	expect_err2(__LINE__, #call, (long)(call), (e1), (e2))
void expect_err2(int line, const char *what, long r, int e1, int e2);
#define EXPECT_ERR3(e1, e2, e3, call) \
	expect_err3(__LINE__, #call, (long)(call), (e1), (e2), (e3))
void expect_err3(int line, const char *what, long r, int e1, int e2, int e3);

// A raw ICMP socket; fails the test if none can be made.
int xraw(void);
// sockaddr_in for a dotted quad (port 0).
struct sockaddr_in sin_of(const char *dotted);
// Send an ICMP echo request (our id, seq, datalen bytes of pattern) on
// raw socket s to dst (NULL: the connected peer, with send()).
void send_echo(int s, const char *dst, uint16 seq, size_t datalen);
// The same, but a failed sendto returns false instead of failing the test.
bool try_echo(int s, const char *dst, uint16 seq, size_t datalen);
// Wait up to ms for the echo reply with our id and seq on s; returns the
// received packet's length (IP header included, copied to buf) or -1 on
// timeout. Checks the IP header, ICMP checksum, and data pattern.
long wait_reply(int s, uint16 seq, int ms, uint8 *buf, size_t max);
// send_echo + wait_reply up to tries times (NT_WAIT_MS / 4 each); true if a
// reply came.
bool ping_ok(int s, const char *dst, uint16 seq, size_t datalen, int tries);
// The identifier our echo requests carry.
uint16 nt_ident(void);
// Room for datagrams of bytes on s: SO_SNDBUF and SO_RCVBUF (a datagram
// larger than SO_SNDBUF is EMSGSIZE, as in BSD).
void raw_bufsize(int s, int bytes);
// ioctl(cmd) on interface name with ifr (zeroed first, name filled in);
// returns ioctl's result with errno.
int if_ioctl(int s, const char *name, unsigned long cmd, struct ifreq *ifr);
// The IPv4 address in ifr_addr as a dotted quad (static buffer).
const char *ifr_addr_str(const struct ifreq *ifr);
