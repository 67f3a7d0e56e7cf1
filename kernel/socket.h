// BSD sockets: the constants and structures shared by the kernel and user
// space (the user library's socket calls take exactly these). Values are
// Linux's, so habits and tools carry over.
#pragma once
#include "kernel/types.h"

#define AF_UNSPEC 0
#define AF_INET 2
#define PF_INET AF_INET

#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define SOCK_RAW 3

// setsockopt/getsockopt levels and options
#define SOL_SOCKET 1
#define SO_REUSEADDR 2
#define SO_ERROR 4
#define SO_BROADCAST 6
#define SO_SNDBUF 7
#define SO_RCVBUF 8
#define SO_KEEPALIVE 9
#define SO_LINGER 13
#define SO_REUSEPORT 15
#define SO_RCVLOWAT 18
#define SO_INCOMING_CPU 49   // get only: the CPU of the socket's netisr (Linux's number)

// send/recv flags
#define MSG_PEEK 0x02
#define MSG_DONTWAIT 0x40
#define MSG_WAITALL 0x100

// shutdown(2)
#define SHUT_RD 0
#define SHUT_WR 1
#define SHUT_RDWR 2

typedef uint32 socklen_t;
typedef uint16 sa_family_t;

struct sockaddr {
	sa_family_t sa_family;
	char sa_data[14];
};

struct linger {
	int l_onoff;
	int l_linger;  // seconds
};

#define SOMAXCONN 128
