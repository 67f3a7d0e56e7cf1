// Runner of the host unit tests: every table, each test in a forked child
// with a time limit. Usage: nettest [-l] [name...]  (-l lists the names).
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <time.h>
#include <sys/wait.h>
#include "tests/host/test.h"

static const struct host_test *tables[] = { mbuf_tests, lwkt_tests, ifq_tests, ifq_model_tests,
					    netisr_tests, arp_tests, ip_tests,
					    sockbuf_tests, pcq_tests, pcq_model_tests, inpcb_tests, udp_tests,
					    flowhash_tests, string_tests,
					    sysctl_tests, tcp_tests,
					    tcp_opts_tests,
					    tcp_loss_tests, tcp_sack_tests, tcp_state_tests, tcp_reuseport_tests,
					    tcp_rcvd_async_tests, lockorder_tests, cksum_tests,
					    soreceive_stream_tests, tcp_challenge_tests,
					    tcp_rfc_tests, tcp_syncache_tests, tcp_tlp_tests,
					    tcp_prr_tests, tcp_sackdelay_tests, tcp_ackbatch_tests,
					    tcp_sndbuf_tests, tcp_sndwnd_tests, tcp_lro_tests,
					    tcp_lro_peer_tests };

// A unit that runs this long is hung (a lost wake-up, a spinning loop):
// it is killed and reported. Generous, since a loaded host (and ASan)
// can make a 4 s unit take 15.
#define TEST_TIMEOUT_S 60

bool expect_panic(void (*fn)(void))
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		freopen("/dev/null", "w", stderr);
		fn();
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT;
}

int64 sysctl_get(const char *name)
{
	int64 v = 0;
	if (net_sysctl_read(name, &v) < 0) {
		fprintf(stderr, "no sysctl %s\n", name);
		exit(1);
	}
	return v;
}

void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

static bool run_one(const struct host_test *t)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		alarm(TEST_TIMEOUT_S);
		t->fn();
		fflush(NULL);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	if (ok)
		printf("%s: OK\n", t->name);
	else if (WIFSIGNALED(st))
		printf("%s: FAIL (signal %d%s)\n", t->name, WTERMSIG(st),
		       WTERMSIG(st) == SIGALRM ? ", timeout" : "");
	else
		printf("%s: FAIL\n", t->name);
	return ok;
}

static bool selected(const char *name, int argc, char **argv)
{
	if (argc <= 1)
		return true;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		for (const struct host_test *t = tables[i]; t->fn; t++) {
			if (argc == 2 && strcmp(argv[1], "-l") == 0) {
				printf("%s\n", t->name);
				continue;
			}
			if (!selected(t->name, argc, argv))
				continue;
			if (run_one(t))
				passed++;
			else
				failed++;
		}
	}
	if (argc == 2 && strcmp(argv[1], "-l") == 0)
		return 0;
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
