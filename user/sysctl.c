// sysctl: read and set kernel knobs (BSD style).
// Usage: sysctl [-n|-r] -a | name ... | name=value ...
//   sysctl -a           every knob, as "name: value"
//   -r                  also print each writable knob's accepted range
//   sysctl name         one knob; if name is not a knob but a prefix
//                       ("vm", "vm.kmalloc"), every knob under "name."
//   sysctl name=value   set a knob and print "name: old -> new"
//   -n                  print values only, without "name: "
// Integers are int64 (decimal, or 0x hex when setting); strings are
// NUL-terminated. Exit status 1 if anything failed.
//
// The kernel's interface is two calls (kernel/sysctl.h): sysctl() reads
// and writes one knob by name, and sysctlnext() walks the names in
// sorted order and says the type of each, which is how we learn whether a
// value is an integer or a string.
#include "user/user.h"

#define NAMEMAX 128

static bool opt_n, opt_r;

// " [min..max]" for a writable knob with -r, else "".
static const char *
range_of(const char *name)
{
	static char buf[64];
	struct sysctl_info si;

	buf[0] = '\0';
	if (opt_r && sysctlinfo(name, &si) == 0 && (si.si_flags & SYSCTL_WR))
		snprintf(buf, sizeof(buf), " [%ld..%ld]%s", si.si_min, si.si_max,
			 (si.si_flags & SYSCTL_ACT) ? " (action)" : "");
	return buf;
}

// Type of knob name (SYSCTL_TYPE_*), or 0 if there is no such knob.
static int
knob_type(const char *name)
{
	struct sysctl_info si;

	return sysctlinfo(name, &si) == 0 ? si.si_type : 0;
}

// Format the value of knob name (of the given type) into a malloc'ed
// string; NULL with errno set on failure.
static char *
read_value(const char *name, int type)
{
	size_t len = 0;
	int64 v;
	char *s;

	if (type == SYSCTL_TYPE_INT) {
		len = sizeof(v);
		if (sysctl(name, &v, &len, NULL, 0) < 0)
			return NULL;
		if ((s = malloc(24)) != NULL)
			snprintf(s, 24, "%ld", v);
		return s;
	}
	return sysctl_getstr(name, 0);   // a string
}

static bool
show(const char *name, int type)
{
	char *v = read_value(name, type);

	if (v == NULL) {
		fprintf(2, "sysctl: %s: %s\n", name, strerror(errno));
		return false;
	}
	if (opt_n)
		printf("%s%s\n", v, range_of(name));
	else
		printf("%s: %s%s\n", name, v, range_of(name));
	free(v);
	return true;
}

// Show every knob whose name starts with prefix ("" for all). False if
// there was none or one could not be read.
static bool
show_prefix(const char *prefix)
{
	char cur[NAMEMAX] = "", next[NAMEMAX];
	size_t plen = strlen(prefix);
	bool any = false, ok = true;
	int type;

	while ((type = sysctlnext(cur, next, sizeof(next))) > 0) {
		if (strncmp(next, prefix, plen) == 0 &&
		    (plen == 0 || next[plen] == '.')) {
			any = true;
			ok = show(next, type) && ok;
		}
		strcpy(cur, next);
	}
	if (type < 0) {
		fprintf(2, "sysctl: %s\n", strerror(errno));
		return false;
	}
	return any && ok;
}

// name=value: set the knob and print old -> new.
static bool
set(char *arg)
{
	char *eq = strchr(arg, '='), *val = eq + 1, *old, *new, *end;
	int64 v;
	int type, r;

	*eq = '\0';
	if ((type = knob_type(arg)) == 0) {
		fprintf(2, "sysctl: unknown oid '%s'\n", arg);
		return false;
	}
	if ((old = read_value(arg, type)) == NULL) {
		fprintf(2, "sysctl: %s: %s\n", arg, strerror(errno));
		return false;
	}
	if (type == SYSCTL_TYPE_INT) {
		v = strtol(val, &end, 0);
		if (end == val || *end != '\0') {
			fprintf(2, "sysctl: %s: invalid integer '%s'\n", arg, val);
			free(old);
			return false;
		}
		r = sysctl(arg, NULL, NULL, &v, sizeof(v));
	} else {
		r = sysctl(arg, NULL, NULL, val, strlen(val) + 1);
	}
	if (r < 0 || (new = read_value(arg, type)) == NULL) {
		fprintf(2, "sysctl: %s: %s\n", arg, strerror(errno));
		free(old);
		return false;
	}
	if (opt_n)
		printf("%s\n", new);
	else
		printf("%s: %s -> %s\n", arg, old, new);
	free(old);
	free(new);
	return true;
}

static bool
get(const char *name)
{
	int type = knob_type(name);

	if (type != 0)
		return show(name, type);
	if (name[0] != '\0' && show_prefix(name))
		return true;
	fprintf(2, "sysctl: unknown oid '%s'\n", name);
	return false;
}

int
main(int argc, char *argv[])
{
	bool all = false, ok = true;
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-n") == 0)
			opt_n = true;
		else if (strcmp(argv[i], "-r") == 0)
			opt_r = true;
		else if (strcmp(argv[i], "-a") == 0)
			all = true;
		else
			goto usage;
	}
	if (all == (i < argc))
		goto usage;
	if (all)
		return show_prefix("") ? 0 : 1;
	for (; i < argc; i++)
		ok = (strchr(argv[i], '=') != NULL ? set(argv[i]) : get(argv[i])) && ok;
	return ok ? 0 : 1;

usage:
	fprintf(2, "usage: sysctl [-n] [-r] -a | name[=value] ...\n");
	return 1;
}
