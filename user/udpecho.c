// udpecho: a UDP echo server (RFC 862) for tests and students.
// Usage: udpecho [port]       (default 7)
//
// Binds 0.0.0.0:port, prints one line "udpecho: port N" once it is bound
// (a test waits for it), then sends every datagram back to its sender,
// unchanged, whatever its size (0 to 65507 bytes). Prints nothing per
// datagram. Runs until it is killed (kill pid, or halt).
#include "user/user.h"

static char buf[65536];

int
main(int argc, char *argv[])
{
	int port = 7, s;
	struct sockaddr_in me, from;
	socklen_t fl;
	ssize_t n;

	if (argc > 2 || (argc == 2 && ((port = atoi(argv[1])) <= 0 || port > 65535)))
		die("usage: udpecho [port]");
	if ((s = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
		die("udpecho: socket: %s", strerror(errno));
	memset(&me, 0, sizeof(me));
	me.sin_family = AF_INET;
	me.sin_port = htons(port);
	if (bind(s, (struct sockaddr *)&me, sizeof(me)) < 0)
		die("udpecho: bind port %d: %s", port, strerror(errno));
	// The default send buffer caps a datagram at 9216 bytes (EMSGSIZE
	// beyond, as in BSD): raise both buffers so any size is echoed.
	int big = 65536 * 2;
	if (setsockopt(s, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big)) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)) < 0)
		die("udpecho: setsockopt: %s", strerror(errno));
	printf("udpecho: port %d\n", port);
	for (;;) {
		fl = sizeof(from);
		n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n < 0) {
			fprintf(2, "udpecho: recvfrom: %s\n", strerror(errno));
			sleep(10);
			continue;
		}
		// A failed reply (no route, no memory) is the network's loss,
		// but say so: a silent drop would look like a kernel bug.
		if (sendto(s, buf, n, 0, (struct sockaddr *)&from, fl) < 0)
			fprintf(2, "udpecho: sendto: %s\n", strerror(errno));
	}
}
