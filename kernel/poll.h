// poll(2), shared by the kernel and user space. Values are Linux's.
#pragma once

#define POLLIN 0x001    // data to read (or a connection to accept, or EOF)
#define POLLPRI 0x002
#define POLLOUT 0x004   // writing will not block
#define POLLERR 0x008   // error pending (revents only)
#define POLLHUP 0x010   // peer closed / hung up (revents only)
#define POLLNVAL 0x020  // fd not open (revents only)

struct pollfd {
	int fd;
	short events;
	short revents;
};
