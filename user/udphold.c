// udphold: bind a UDP port and never read it (a reader that is stuck).
// Usage: udphold port
//
// For tests of what a remote sender can make an unread socket hold:
// binds 0.0.0.0:port with the default SO_RCVBUF, prints one line
// "udphold: port N" (a test waits for it), then sleeps until it is killed
// (kill pid); the socket is closed when the process exits.
#include "user/user.h"

int
main(int argc, char *argv[])
{
	int port, s;
	struct sockaddr_in me;

	if (argc != 2 || (port = atoi(argv[1])) <= 0 || port > 65535)
		die("usage: udphold port");
	if ((s = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
		die("udphold: socket: %s", strerror(errno));
	memset(&me, 0, sizeof(me));
	me.sin_family = AF_INET;
	me.sin_port = htons(port);
	if (bind(s, (struct sockaddr *)&me, sizeof(me)) < 0)
		die("udphold: bind port %d: %s", port, strerror(errno));
	printf("udphold: port %d\n", port);
	for (;;)
		sleep(100000);
}
