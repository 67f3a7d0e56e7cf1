// Tiny test framework for the host unit tests of net/ (make hosttest).
// Each test is a function in a table {fn, "name"}; test_main.c runs each in
// a forked child (a panic or crash fails one test, not the run) and prints
// "name: OK" or "name: FAIL", then "N passed, M failed".
// Run one test: tests/host/nettest name [name...].
#pragma once
#include <stdio.h>
#include <stdlib.h>
#include "net/shim.h"

struct host_test {
	void (*fn)(void);
	const char *name;
};

#include "tests/host/check.h"   // CHECK(cond)

// Tables, each ended by {NULL, NULL}.
extern const struct host_test mbuf_tests[];
extern const struct host_test lwkt_tests[];
extern const struct host_test ifq_tests[];
extern const struct host_test ifq_model_tests[];
extern const struct host_test netisr_tests[];
extern const struct host_test arp_tests[];
extern const struct host_test ip_tests[];
extern const struct host_test sockbuf_tests[];
extern const struct host_test pcq_tests[];
extern const struct host_test pcq_model_tests[];
extern const struct host_test inpcb_tests[];
extern const struct host_test udp_tests[];
extern const struct host_test flowhash_tests[];
extern const struct host_test string_tests[];
extern const struct host_test sysctl_tests[];
extern const struct host_test tcp_tests[];
extern const struct host_test tcp_opts_tests[];
extern const struct host_test tcp_loss_tests[];
extern const struct host_test tcp_sack_tests[];
extern const struct host_test tcp_state_tests[];
extern const struct host_test cksum_tests[];
extern const struct host_test tcp_reuseport_tests[];
extern const struct host_test tcp_rcvd_async_tests[];
extern const struct host_test lockorder_tests[];
extern const struct host_test soreceive_stream_tests[];
extern const struct host_test tcp_challenge_tests[];
extern const struct host_test tcp_rfc_tests[];
extern const struct host_test tcp_syncache_tests[];
extern const struct host_test tcp_tlp_tests[];
extern const struct host_test tcp_prr_tests[];
extern const struct host_test tcp_sackdelay_tests[];
extern const struct host_test tcp_ackbatch_tests[];
extern const struct host_test tcp_sndbuf_tests[];
extern const struct host_test tcp_sndwnd_tests[];
extern const struct host_test tcp_lro_tests[];
extern const struct host_test tcp_lro_peer_tests[];

// Run fn in a grandchild and report whether it died by a panic (abort).
bool expect_panic(void (*fn)(void));
// Read a sysctl that must exist.
int64 sysctl_get(const char *name);
// Sleep ms milliseconds of real time.
void msleep(int ms);
