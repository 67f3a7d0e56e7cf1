// Pipes: a one-page ring buffer between a writing and a reading file
// (see pipe.c).
#pragma once
#include "kernel/types.h"

struct pipe;
struct file;

// Make a pipe and its two files: *rf reads, *wf writes. Returns 0,
// -ENOMEM (no page) or -ENFILE (file table full).
int pipealloc(struct file **rf, struct file **wf);
// The read end (writable false) or the write end was closed for good.
void pipeclose(struct pipe *pi, bool writable);
// Move up to n bytes between the pipe and the user address addr. Return the
// count, or -EAGAIN, -EINTR, -EPIPE (write) or -EFAULT when nothing moved.
long pipewrite(struct pipe *pi, uint64 addr, size_t n, bool nonblock);
long piperead(struct pipe *pi, uint64 addr, size_t n, bool nonblock);
// poll(2): which of events (POLLIN for the read end, POLLOUT for the write
// end) hold now, plus POLLHUP (writer gone) / POLLERR (reader gone).
int pipe_poll(struct pipe *pi, bool writable, int events);
