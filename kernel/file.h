// Open files (struct file): what a file descriptor points to.
//
// A struct file is shared by every descriptor that came from the same
// open() or pipe() (dup, dup2, fork), so the offset and the status flags
// are shared too, as in Unix. The type says what is behind it; fileread,
// filewrite, filestat, fileseek and fileclose (file.c) dispatch on it with
// a switch, so a student can step through them in gdb.
//
// Adding a kind of file (the network stack adds FD_SOCKET): set f_type and
// the pointer in the union, and add a case to each switch in file.c.
#pragma once
#include "kernel/types.h"
#include "kernel/fcntl.h"

struct pipe;
struct inode;
struct socket;

enum file_type {
	FD_NONE,      // free table entry
	FD_PIPE,      // one end of a pipe (pipe.c)
	FD_INODE,     // a regular file or a directory
	FD_DEVICE,    // a T_DEVICE inode: I/O goes to devsw[f_major]
	FD_SOCKET,    // a socket: f_socket (kernel/sys_socket.c, net/socket.c)
};

// f_ref and f_type: [s] ftable.lock. The rest is set by the opener before
// the file is shared and then read-only, except where tagged.
struct file {
	enum file_type f_type;    // [s] ftable.lock
	int f_ref;                // [s] ftable.lock: descriptors pointing here
	bool f_readable;          // [i]
	bool f_writable;          // [i]
	int f_flags;              // [a] O_APPEND | O_NONBLOCK (open, fcntl)
	union {
		struct pipe *f_pipe;      // FD_PIPE [i]
		struct inode *f_ip;       // FD_INODE, FD_DEVICE [i]
		struct socket *f_socket;  // FD_SOCKET [i]
	};
	short f_major;            // [i] FD_DEVICE: index into devsw[]
	uint64 f_off;             // [S] f_ip->i_lock: FD_INODE read/write offset
};

// The flags fcntl(F_SETFL) may change; the others stay as open() set them.
#define FILE_SETFL_MASK (O_APPEND | O_NONBLOCK)

void fileinit(void);
struct file *filealloc(void);              // NULL if the table is full
struct file *filedup(struct file *f);
void fileclose(struct file *f);
int filestat(struct file *f, uint64 addr); // addr: user struct stat *
long fileread(struct file *f, uint64 addr, size_t n);
long filewrite(struct file *f, uint64 addr, size_t n);
long fileseek(struct file *f, long off, int whence);
int file_getfl(struct file *f);
void file_setfl(struct file *f, int flags);

// Install f in the lowest free descriptor of the current process. Returns
// the descriptor, or -EMFILE (then the caller still owns its reference).
int fdalloc(struct file *f);
