// usertests: sysctl -- reading, writing, errors, walking the names, and
// the declared range of every writable knob.
// Part of usertests (#included by user/usertests.c).
#include "user/ut/ut.h"

static void
t_sysctlread(void)
{
	char buf[32];
	size_t len = sizeof(buf);

	EXPECT_OK(sysctl("kern.ostype", buf, &len, NULL, 0));
	CHECK(len == 8 && strcmp(buf, "netkern") == 0,
	      "kern.ostype = '%s' (len %lu), want 'netkern' (8)", buf,
	      (unsigned long)len);
	int64 ncpu = sysctl_int("kern.ncpu");
	CHECK(ncpu >= 1 && ncpu <= NCPU, "kern.ncpu = %ld", ncpu);
	CHECK(sysctl_int("kern.hz") > 0, "kern.hz <= 0");
	int64 total = sysctl_int("vm.pages_total");
	int64 free = sysctl_int("vm.pages_free");
	CHECK(free > 0 && free < total && total <= (256L << 20) / PGSIZE,
	      "vm.pages_free %ld, vm.pages_total %ld", free, total);
	// A NULL old buffer asks for the size only.
	len = 0;
	EXPECT_OK(sysctl("kern.ostype", NULL, &len, NULL, 0));
	CHECK(len == 8, "size of kern.ostype: %lu, want 8", (unsigned long)len);
}

static void
t_sysctlwrite(void)
{
	int64 old = sysctl_int("kern.debug"), v = 12345, prev = -1;
	size_t len = sizeof(prev);

	EXPECT_OK(sysctl("kern.debug", NULL, NULL, &v, sizeof(v)));
	CHECK(sysctl_int("kern.debug") == 12345, "kern.debug did not change");
	// Read the old value and set a new one in one call.
	v = old;
	EXPECT_OK(sysctl("kern.debug", &prev, &len, &v, sizeof(v)));
	CHECK(prev == 12345 && len == 8, "old value %ld (len %lu), want 12345",
	      prev, (unsigned long)len);
	CHECK(sysctl_int("kern.debug") == old, "kern.debug not restored");
	EXPECT_ERR(EINVAL, sysctl("kern.debug", NULL, NULL, &v, 4));
	EXPECT_ERR(EINVAL, sysctl("kern.debug", NULL, NULL, &v, 16));
}

static void
t_sysctlerr(void)
{
	static char toolong[300];
	char buf[32];
	size_t len = sizeof(buf);
	int64 v = 1;

	EXPECT_ERR(ENOENT, sysctl("kern.no_such_knob", buf, &len, NULL, 0));
	EXPECT_ERR(ENOENT, sysctl("", buf, &len, NULL, 0));
	EXPECT_ERR(ENOENT, sysctl("kern", buf, &len, NULL, 0));
	EXPECT_ERR(ENOENT, sysctl("kern.", buf, &len, NULL, 0));
	memset(toolong, 'k', sizeof(toolong) - 1);
	EXPECT_ERR(ENOENT, sysctl(toolong, buf, &len, NULL, 0));
	// Read-only knobs.
	EXPECT_ERR(EPERM, sysctl("kern.ncpu", NULL, NULL, &v, sizeof(v)));
	EXPECT_ERR(EPERM, sysctl("kern.ostype", NULL, NULL, "x", 2));
	EXPECT_ERR(EPERM, sysctl("vm.pages_free", NULL, NULL, &v, sizeof(v)));
	// Buffer too small: ENOMEM, and the length needed.
	len = 3;
	EXPECT_ERR(ENOMEM, sysctl("kern.ostype", buf, &len, NULL, 0));
	CHECK(len == 8, "needed length %lu, want 8", (unsigned long)len);
	len = 4;
	EXPECT_ERR(ENOMEM, sysctl("kern.ncpu", buf, &len, NULL, 0));
	CHECK(len == 8, "needed length %lu, want 8", (unsigned long)len);
}

// sysctlnext walks every knob once, in increasing order.
static void
t_sysctlnext(void)
{
	char cur[128] = "", next[128];
	int type, n = 0;
	bool ostype = false, ncpu = false, pages = false;

	while ((type = sysctlnext(cur, next, sizeof(next))) > 0) {
		CHECK(type == SYSCTL_TYPE_INT || type == SYSCTL_TYPE_STRING,
		      "%s: type %d", next, type);
		CHECK(strcmp(next, cur) > 0, "'%s' after '%s': not increasing",
		      next, cur);
		if (strcmp(next, "kern.ostype") == 0)
			ostype = (type == SYSCTL_TYPE_STRING);
		if (strcmp(next, "kern.ncpu") == 0)
			ncpu = (type == SYSCTL_TYPE_INT);
		if (strcmp(next, "vm.pages_free") == 0)
			pages = (type == SYSCTL_TYPE_INT);
		strcpy(cur, next);
		CHECK(++n < 10000, "sysctlnext never ends");
	}
	CHECK(type == 0, "sysctlnext after '%s': %s", cur, strerror(errno));
	CHECK(ostype && ncpu && pages,
	      "kern.ostype (string), kern.ncpu or vm.pages_free (int) missing");
	CHECK(sysctlnext("zzzz", next, sizeof(next)) == 0, "knob after 'zzzz'");
	EXPECT_ERR(ENOMEM, sysctlnext("", next, 2));
}

// Write v to knob name: 0, or the errno of the failure.
static int
knob_write(const char *name, int64 v)
{
	return sysctl(name, NULL, NULL, &v, sizeof(v)) < 0 ? errno : 0;
}

// Every writable knob has a declared range: min-1 and max+1 are refused
// with EINVAL and change nothing; min and max are stored (and read back),
// then the old value is restored. Knobs whose write is an action (run the
// self-tests, send a packet) are only checked for the refusals.
static void
t_sysctlrange(void)
{
	char cur[128] = "", next[128];
	struct sysctl_info si;
	int type, nrw = 0;
	bool maxqlen = false;

	while ((type = sysctlnext(cur, next, sizeof(next))) > 0) {
		strcpy(cur, next);
		EXPECT_OK(sysctlinfo(cur, &si));
		CHECK(si.si_type == type, "%s: sysctlinfo type %d, sysctlnext %d", cur,
		      si.si_type, type);
		if (!(si.si_flags & SYSCTL_WR) || type != SYSCTL_TYPE_INT)
			continue;
		nrw++;
		CHECK(si.si_min <= si.si_max, "%s: range [%ld, %ld]", cur, si.si_min, si.si_max);
		int64 old = sysctl_int(cur);
		CHECK(knob_write(cur, si.si_min - 1) == EINVAL, "%s=%ld (min-1) accepted", cur,
		      si.si_min - 1);
		CHECK(knob_write(cur, si.si_max + 1) == EINVAL, "%s=%ld (max+1) accepted", cur,
		      si.si_max + 1);
		if (si.si_flags & SYSCTL_ACT)
			continue;
		CHECK(sysctl_int(cur) == old, "%s changed by a refused write", cur);
		CHECK(old >= si.si_min && old <= si.si_max, "%s: value %ld outside [%ld, %ld]",
		      cur, old, si.si_min, si.si_max);
		CHECK(knob_write(cur, si.si_min) == 0 && sysctl_int(cur) == si.si_min,
		      "%s=%ld (min) not stored", cur, si.si_min);
		CHECK(knob_write(cur, si.si_max) == 0 && sysctl_int(cur) == si.si_max,
		      "%s=%ld (max) not stored", cur, si.si_max);
		CHECK(knob_write(cur, old) == 0, "%s: cannot restore %ld", cur, old);
		if (strcmp(cur, "net.netisr.maxqlen") == 0)
			maxqlen = si.si_min >= 1;
	}
	CHECK(type == 0, "sysctlnext after '%s': %s", cur, strerror(errno));
	// kern.debug, kern.sched_kick, net.inet.udp.*, net.netisr.maxqlen, ...
	CHECK(nrw >= 12, "only %d writable knobs", nrw);
	CHECK(maxqlen, "net.netisr.maxqlen missing or accepts 0");
	// Read-only knobs report no write permission.
	EXPECT_OK(sysctlinfo("kern.ncpu", &si));
	CHECK(!(si.si_flags & SYSCTL_WR), "kern.ncpu writable");
	EXPECT_ERR(ENOENT, sysctlinfo("kern.no_such_knob", &si));
	EXPECT_ERR(EFAULT, sysctlinfo("kern.ncpu", (struct sysctl_info *)0x10));
}
