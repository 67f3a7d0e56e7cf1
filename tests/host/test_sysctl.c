// Host tests of the sysctl ranges of net/: every writable knob refuses a
// value just outside its declared range with -EINVAL and stores the range's
// ends (kernel/sysctl.h says why every writable knob has a range). The
// guest runs the same walk over all kernel knobs (usertests sysctlrange).
#include "tests/host/test.h"

#define MAXKNOBS 256

struct knobs {
	const struct host_sysctl *k[MAXKNOBS];
	int n;
};

static void collect(const struct host_sysctl *hs, void *arg)
{
	struct knobs *ks = arg;
	if ((hs->hs_flags & SYSCTL_WR) && ks->n < MAXKNOBS)
		ks->k[ks->n++] = hs;
}

static void sysctl_every_writable_knob_enforces_its_range(void)
{
	struct knobs ks = { .n = 0 };
	host_sysctl_foreach(collect, &ks);
	CHECK(ks.n >= 8);   // fast_demux, pcq_maxlen, maxqlen, serializer, ...
	for (int i = 0; i < ks.n; i++) {
		const struct host_sysctl *hs = ks.k[i];
		int64 old, v;
		fprintf(stderr, "  %s [%ld, %ld]\n", hs->hs_name, (long)hs->hs_min,
			(long)hs->hs_max);
		CHECK(hs->hs_min <= hs->hs_max);
		CHECK(net_sysctl_read(hs->hs_name, &old) == 0);
		CHECK(host_sysctl_write(hs->hs_name, hs->hs_min - 1) == -EINVAL);
		CHECK(host_sysctl_write(hs->hs_name, hs->hs_max + 1) == -EINVAL);
		CHECK(net_sysctl_read(hs->hs_name, &v) == 0 && v == old);
		if (hs->hs_flags & SYSCTL_ACT)
			continue;   // a write is an action, not a setting to restore
		CHECK(old >= hs->hs_min && old <= hs->hs_max);   // the default is legal
		CHECK(host_sysctl_write(hs->hs_name, hs->hs_min) == 0);
		CHECK(net_sysctl_read(hs->hs_name, &v) == 0 && v == hs->hs_min);
		CHECK(host_sysctl_write(hs->hs_name, hs->hs_max) == 0);
		CHECK(net_sysctl_read(hs->hs_name, &v) == 0 && v == hs->hs_max);
		CHECK(host_sysctl_write(hs->hs_name, old) == 0);
	}
}

// The bounds that matter most, named: a bound that drops everything, or a
// queue that cannot be allocated, is not accepted.
static void sysctl_ranges_exclude_settings_that_break_the_stack(void)
{
	CHECK(host_sysctl_write("net.netisr.maxqlen", 0) == -EINVAL);
	CHECK(host_sysctl_write("net.netisr.maxqlen", -1) == -EINVAL);
	CHECK(host_sysctl_write("net.inet.udp.pcq_maxlen", 0) == -EINVAL);
	CHECK(host_sysctl_write("net.inet.udp.pcq_maxlen", -1) == -EINVAL);
	CHECK(host_sysctl_write("net.inet.udp.fast_demux", 2) == -EINVAL);
	CHECK(host_sysctl_write("net.ifq.serializer", -1) == -EINVAL);
	CHECK(host_sysctl_write("net.mbuf.inuse", 0) == -EPERM);   // read-only
	// An IPv4 address above 127.255.255.255 is a legal gateway.
	CHECK(host_sysctl_write("net.inet.ip.gateway", 0xc0a80101L) == 0);
	CHECK(sysctl_get("net.inet.ip.gateway") == 0xc0a80101L);
}

const struct host_test sysctl_tests[] = {
	{ sysctl_every_writable_knob_enforces_its_range,
	  "sysctl_every_writable_knob_enforces_its_range" },
	{ sysctl_ranges_exclude_settings_that_break_the_stack,
	  "sysctl_ranges_exclude_settings_that_break_the_stack" },
	{ NULL, NULL },
};
