// Socket files: what kernel/file.c and kernel/sys_poll.c call for an
// FD_SOCKET file (kernel/sys_socket.c; the socket layer is net/socket.c).
#pragma once
#include "kernel/types.h"

struct file;
struct socket;

// read/write on a socket descriptor: recv/send with flags 0, O_NONBLOCK
// from the file. Count or -Exxx. Sleeps.
long sockfile_read(struct file *f, uint64 addr, size_t n);
long sockfile_write(struct file *f, uint64 addr, size_t n);
// The last descriptor was closed. Sleeps (detaches through the netisr).
void sockfile_close(struct socket *so);
// poll(2): POLLIN/POLLOUT of events that hold, plus POLLERR/POLLHUP.
int sockfile_poll(struct file *f, int events);
