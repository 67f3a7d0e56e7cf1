// Interface configuration through ioctl(2) on a socket, as in BSD and
// Linux (ifconfig uses these). Shared by the kernel and user space.
#pragma once
#include "kernel/types.h"
#include "kernel/socket.h"

#define IFNAMSIZ 16

// Interface flags as seen by user space (struct ifreq ifr_flags).
#define IFF_UP 0x01
#define IFF_BROADCAST 0x02
#define IFF_LOOPBACK 0x04
#define IFF_RUNNING 0x08

struct ifreq {
	char ifr_name[IFNAMSIZ];  // "em0"
	union {
		struct sockaddr ifru_addr;   // address, netmask, broadcast (sockaddr_in)
		short ifru_flags;
		int ifru_mtu;
		int ifru_index;
		uint8 ifru_hwaddr[6];
	} ifr_ifru;
};
#define ifr_addr ifr_ifru.ifru_addr
#define ifr_flags ifr_ifru.ifru_flags
#define ifr_mtu ifr_ifru.ifru_mtu
#define ifr_index ifr_ifru.ifru_index
#define ifr_hwaddr ifr_ifru.ifru_hwaddr

// ioctl commands (Linux numbers)
#define SIOCGIFNAME 0x8910     // ifr_index -> ifr_name (walk interfaces 1..)
#define SIOCGIFFLAGS 0x8913
#define SIOCSIFFLAGS 0x8914    // IFF_UP set/cleared: interface up/down
#define SIOCGIFADDR 0x8915
#define SIOCSIFADDR 0x8916
#define SIOCGIFBRDADDR 0x8919
#define SIOCGIFNETMASK 0x891b
#define SIOCSIFNETMASK 0x891c
#define SIOCGIFMTU 0x8921
#define SIOCGIFHWADDR 0x8927
#define SIOCGIFINDEX 0x8933
