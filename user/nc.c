// nc: netcat, UDP for now (TCP comes with TCP).
// Usage:
//   nc -u [-w secs] [-p srcport] host port
//        send each line of stdin as one datagram to host:port and print
//        every datagram that comes back; at end of input keep printing
//        replies until secs (default 1) pass without one, then exit.
//   nc -u -l [-p] port
//        print every datagram received on port; each line of stdin is
//        sent to the sender of the last datagram. Runs until killed.
// host is a dotted quad or "localhost". Both modes poll stdin and the
// socket together, so replies appear while you type.
#include "user/user.h"

static char buf[65536];

static void
usage(void)
{
	die("usage: nc -u [-w secs] [-p srcport] host port\n       nc -u -l [-p] port");
}

static int
parse_port(const char *s)
{
	char *end;
	long p = strtol(s, &end, 10);
	if (*end != '\0' || p <= 0 || p > 65535)
		usage();
	return (int)p;
}

// One datagram from s to stdout; remembers its sender in *peer.
static void
print_datagram(int s, struct sockaddr_in *peer, bool *havepeer)
{
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
	if (n < 0) {
		// ICMP port unreachable on a connected socket shows up here.
		fprintf(2, "nc: recv: %s\n", strerror(errno));
		return;
	}
	write(1, buf, n);
	*peer = from;
	*havepeer = true;
}

int
main(int argc, char *argv[])
{
	bool udp = false, listen_mode = false, havepeer = false, stdin_open = true;
	int wait_s = 1, srcport = 0, s, i;
	struct sockaddr_in peer, me;
	const char *host = NULL, *portstr = NULL;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-u") == 0)
			udp = true;
		else if (strcmp(argv[i], "-l") == 0)
			listen_mode = true;
		else if (strcmp(argv[i], "-w") == 0 && i + 1 < argc)
			wait_s = atoi(argv[++i]);
		else if (strcmp(argv[i], "-p") == 0 && i + 1 < argc)
			srcport = parse_port(argv[++i]);
		else if (argv[i][0] == '-')
			usage();
		else if (host == NULL && !listen_mode && i + 1 < argc)
			host = argv[i];
		else if (portstr == NULL)
			portstr = argv[i];
		else
			usage();
	}
	if (!udp)
		die("nc: TCP is not supported yet (use -u)");
	if (listen_mode && portstr == NULL && srcport != 0)
		portstr = "";   // nc -u -l -p port
	if (portstr == NULL || (!listen_mode && host == NULL))
		usage();
	if ((s = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
		die("nc: socket: %s", strerror(errno));
	memset(&me, 0, sizeof(me));
	me.sin_family = AF_INET;
	me.sin_port = htons(listen_mode && *portstr ? parse_port(portstr) : srcport);
	if ((listen_mode || srcport) && bind(s, (struct sockaddr *)&me, sizeof(me)) < 0)
		die("nc: bind: %s", strerror(errno));
	if (!listen_mode) {
		memset(&peer, 0, sizeof(peer));
		peer.sin_family = AF_INET;
		peer.sin_port = htons(parse_port(portstr));
		if (strcmp(host, "localhost") == 0)
			peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		else if (!inet_aton(host, &peer.sin_addr))
			die("nc: bad address %s", host);
		if (connect(s, (struct sockaddr *)&peer, sizeof(peer)) < 0)
			die("nc: connect: %s", strerror(errno));
		havepeer = true;
	}
	for (;;) {
		struct pollfd pf[2] = { { s, POLLIN, 0 }, { 0, POLLIN, 0 } };
		int n = poll(pf, stdin_open ? 2 : 1,
			     stdin_open || listen_mode ? -1 : wait_s * 1000);
		if (n < 0)
			die("nc: poll: %s", strerror(errno));
		if (n == 0)
			break;   // client: input done and the peer went quiet
		if (pf[0].revents & (POLLIN | POLLERR))
			print_datagram(s, &peer, &havepeer);
		if (stdin_open && (pf[1].revents & (POLLIN | POLLHUP))) {
			ssize_t len = read(0, buf, sizeof(buf));
			if (len <= 0) {
				stdin_open = false;
				continue;
			}
			if (!havepeer) {
				fprintf(2, "nc: no peer yet\n");
				continue;
			}
			if (listen_mode)
				len = sendto(s, buf, len, 0, (struct sockaddr *)&peer, sizeof(peer));
			else
				len = send(s, buf, len, 0);
			if (len < 0)
				fprintf(2, "nc: send: %s\n", strerror(errno));
		}
	}
	return 0;
}
