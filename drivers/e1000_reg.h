// Intel 8254x (e1000) registers and descriptor formats, as far as the
// netkern driver (drivers/e1000.c) uses them.
//
// [E1000 x.y] = PCI/PCI-X Family of Gigabit Ethernet Controllers Software
// Developer's Manual (8254x), Intel, rev. 4.0. The useful chapters:
//   3.2  receive descriptors and the receive ring
//   3.3  transmit descriptors, 3.4 the transmit ring
//   13.4 register descriptions (one subsection per register)
//   13.7 statistics registers (clear on read)
//   14   initialization: 14.3 general, 14.4 receive, 14.5 transmit,
//        14.7 reset
// QEMU's "e1000" device models the 82540EM (8086:100e).
//
// Registers are 32 bits wide, at byte offsets in the memory BAR (BAR0,
// 128 KiB); access them with 32-bit loads and stores only [E1000 13.3].
#pragma once
#include "kernel/types.h"

// ---- register offsets [E1000 13.4, Table 13-2] ---------------------------
#define E1000_CTRL     0x00000  // device control [E1000 13.4.1]
#define E1000_STATUS   0x00008  // device status [E1000 13.4.2]
#define E1000_EERD     0x00014  // EEPROM read [E1000 13.4.4]
#define E1000_FCAL     0x00028  // flow control address low [E1000 13.4.10]
#define E1000_FCAH     0x0002c  // flow control address high
#define E1000_FCT      0x00030  // flow control type
#define E1000_ICR      0x000c0  // interrupt cause read, clears on read [E1000 13.4.17]
#define E1000_ITR      0x000c4  // interrupt throttling [E1000 13.4.18]
#define E1000_ICS      0x000c8  // interrupt cause set [E1000 13.4.19]
#define E1000_IMS      0x000d0  // interrupt mask set/read [E1000 13.4.20]
#define E1000_IMC      0x000d8  // interrupt mask clear [E1000 13.4.21]
#define E1000_RCTL     0x00100  // receive control [E1000 13.4.22]
#define E1000_FCTTV    0x00170  // flow control transmit timer value
#define E1000_TCTL     0x00400  // transmit control [E1000 13.4.33]
#define E1000_TIPG     0x00410  // transmit inter-packet gap [E1000 13.4.34]
#define E1000_RDBAL    0x02800  // rx descriptor base low [E1000 13.4.25]
#define E1000_RDBAH    0x02804  // rx descriptor base high [E1000 13.4.26]
#define E1000_RDLEN    0x02808  // rx ring length in bytes [E1000 13.4.27]
#define E1000_RDH      0x02810  // rx head [E1000 13.4.28]
#define E1000_RDT      0x02818  // rx tail [E1000 13.4.29]
#define E1000_RDTR     0x02820  // rx delay timer [E1000 13.4.30]
#define E1000_RADV     0x0282c  // rx absolute delay [E1000 13.4.32]
#define E1000_TDBAL    0x03800  // tx descriptor base low [E1000 13.4.36]
#define E1000_TDBAH    0x03804  // tx descriptor base high [E1000 13.4.37]
#define E1000_TDLEN    0x03808  // tx ring length in bytes [E1000 13.4.38]
#define E1000_TDH      0x03810  // tx head [E1000 13.4.39]
#define E1000_TDT      0x03818  // tx tail [E1000 13.4.40]
#define E1000_TIDV     0x03820  // tx interrupt delay [E1000 13.4.41]
#define E1000_MTA      0x05200  // multicast table, 128 words [E1000 13.5.1]
#define E1000_MTA_N    128
#define E1000_RAL0     0x05400  // receive address 0 low [E1000 13.5.2]
#define E1000_RAH0     0x05404  // receive address 0 high [E1000 13.5.3]

// ---- statistics [E1000 13.7]: all clear on read ----------------------------
// 64-bit counters are two registers; read the low one first: reading the
// high one clears both [E1000 13.7].
#define E1000_CRCERRS  0x04000  // CRC errors
#define E1000_RXERRC   0x0400c  // receive errors
#define E1000_MPC      0x04010  // missed packets (rx FIFO full)
#define E1000_COLC     0x04028  // collisions
#define E1000_RLEC     0x04040  // receive length errors
#define E1000_GPRC     0x04074  // good packets received
#define E1000_BPRC     0x04078  // broadcast packets received
#define E1000_MPRC     0x0407c  // multicast packets received
#define E1000_GPTC     0x04080  // good packets transmitted
#define E1000_GORCL    0x04088  // good octets received (low, then GORCH)
#define E1000_GOTCL    0x04090  // good octets transmitted (low, then GOTCH)
#define E1000_RNBC     0x040a0  // receive no buffers (ring empty)
#define E1000_RUC      0x040a4  // receive undersize
#define E1000_ROC      0x040ac  // receive oversize
#define E1000_TPR      0x040d0  // total packets received
#define E1000_TPT      0x040d4  // total packets transmitted

// ---- CTRL [E1000 13.4.1] ----------------------------------------------------
#define E1000_CTRL_FD      (1u << 0)   // full duplex
#define E1000_CTRL_LRST    (1u << 3)   // link reset
#define E1000_CTRL_ASDE    (1u << 5)   // auto-speed detection enable
#define E1000_CTRL_SLU     (1u << 6)   // set link up
#define E1000_CTRL_ILOS    (1u << 7)   // invert loss-of-signal
#define E1000_CTRL_RST     (1u << 26)  // device reset, self-clearing
#define E1000_CTRL_VME     (1u << 30)  // VLAN mode enable
#define E1000_CTRL_PHY_RST (1u << 31)  // PHY reset

// ---- STATUS [E1000 13.4.2] --------------------------------------------------
#define E1000_STATUS_FD    (1u << 0)   // full duplex
#define E1000_STATUS_LU    (1u << 1)   // link up
#define E1000_STATUS_SPEED(s) (((s) >> 6) & 3)  // 0: 10, 1: 100, 2/3: 1000 Mb/s

// ---- EERD [E1000 13.4.4] ----------------------------------------------------
#define E1000_EERD_START   (1u << 0)
#define E1000_EERD_DONE    (1u << 4)
#define E1000_EERD_ADDR(a) ((uint32)(a) << 8)
#define E1000_EERD_DATA(r) ((r) >> 16)

// ---- interrupt causes, same bits in ICR/ICS/IMS/IMC [E1000 13.4.17] ----
#define E1000_ICR_TXDW     (1u << 0)   // a descriptor with RS was written back
#define E1000_ICR_TXQE     (1u << 1)   // transmit queue empty
#define E1000_ICR_LSC      (1u << 2)   // link status change
#define E1000_ICR_RXSEQ    (1u << 3)   // receive sequence error
#define E1000_ICR_RXDMT0   (1u << 4)   // free rx descriptors below RCTL.RDMTS
#define E1000_ICR_RXO      (1u << 6)   // receiver overrun (FIFO full)
#define E1000_ICR_RXT0     (1u << 7)   // receiver timer: frames are in the ring

// ---- RCTL [E1000 13.4.22] ---------------------------------------------------
#define E1000_RCTL_EN      (1u << 1)   // receiver enable
#define E1000_RCTL_SBP     (1u << 2)   // store bad packets
#define E1000_RCTL_UPE     (1u << 3)   // unicast promiscuous
#define E1000_RCTL_MPE     (1u << 4)   // multicast promiscuous
#define E1000_RCTL_LPE     (1u << 5)   // long packet enable (> 1522 bytes)
#define E1000_RCTL_LBM_NO  (0u << 6)   // no loopback
#define E1000_RCTL_RDMTS_HALF (0u << 8)  // RXDMT0 when 1/2 of the ring is free
#define E1000_RCTL_MO_36   (0u << 12)  // multicast offset: bits 47:36
#define E1000_RCTL_BAM     (1u << 15)  // accept broadcast
#define E1000_RCTL_BSIZE_2048 (0u << 16)  // with BSEX=0: 2048-byte buffers
#define E1000_RCTL_BSEX    (1u << 25)  // buffer size extension (x16)
#define E1000_RCTL_SECRC   (1u << 26)  // strip the Ethernet CRC

// ---- TCTL [E1000 13.4.33] and TIPG [E1000 13.4.34] --------------------------
#define E1000_TCTL_EN      (1u << 1)   // transmitter enable
#define E1000_TCTL_PSP     (1u << 3)   // pad short packets to 64 bytes
#define E1000_TCTL_CT(x)   ((uint32)(x) << 4)   // collision threshold
#define E1000_TCTL_COLD(x) ((uint32)(x) << 12)  // collision distance
#define E1000_TCTL_CT_DEFAULT   0x10   // [E1000 14.5]: 0x10
#define E1000_TCTL_COLD_FULL    0x40   // [E1000 14.5]: 0x40 full duplex
// [E1000 13.4.34 Table 13-77] recommended IEEE 802.3 values, copper.
#define E1000_TIPG_IPGT    10
#define E1000_TIPG_IPGR1   (8u << 10)
#define E1000_TIPG_IPGR2   (6u << 20)

// ---- RAH [E1000 13.5.3] -----------------------------------------------------
#define E1000_RAH_AV       (1u << 31)  // address valid: use it for filtering

// ---- ITR [E1000 13.4.18] ----------------------------------------------------
// Minimum gap between interrupts, in units of 256 ns; 0 = no throttling.
// interrupts/s = 10^9 / (ITR * 256).
#define E1000_ITR_UNIT_NS  256

// ---- legacy receive descriptor [E1000 3.2.3] --------------------------------
struct e1000_rx_desc {
	uint64 rd_addr;     // physical address of the buffer (driver writes)
	uint16 rd_length;   // bytes DMAed into the buffer (device writes)
	uint16 rd_csum;     // packet checksum (device writes)
	uint8 rd_status;    // E1000_RXD_STAT_* (device writes)
	uint8 rd_errors;    // E1000_RXD_ERR_* (device writes, valid with EOP)
	uint16 rd_special;  // VLAN tag
};
#define E1000_RXD_STAT_DD  0x01  // descriptor done: the device is finished
#define E1000_RXD_STAT_EOP 0x02  // last descriptor of the frame
#define E1000_RXD_ERR_CE   0x01  // CRC or alignment error
#define E1000_RXD_ERR_SE   0x02  // symbol error
#define E1000_RXD_ERR_SEQ  0x04  // sequence error
#define E1000_RXD_ERR_CXE  0x10  // carrier extension error
#define E1000_RXD_ERR_RXE  0x80  // rx data error
#define E1000_RXD_ERR_FRAME (E1000_RXD_ERR_CE | E1000_RXD_ERR_SE | \
			     E1000_RXD_ERR_SEQ | E1000_RXD_ERR_CXE | E1000_RXD_ERR_RXE)

// ---- legacy transmit descriptor [E1000 3.3.3] -------------------------------
struct e1000_tx_desc {
	uint64 td_addr;     // physical address of the data
	uint16 td_length;   // bytes of data at td_addr
	uint8 td_cso;       // checksum offset (unused)
	uint8 td_cmd;       // E1000_TXD_CMD_*
	uint8 td_status;    // E1000_TXD_STAT_* (device writes, with RS)
	uint8 td_css;       // checksum start (unused)
	uint16 td_special;  // VLAN tag
};
#define E1000_TXD_CMD_EOP  0x01  // end of packet [E1000 3.3.3.1]
#define E1000_TXD_CMD_IFCS 0x02  // insert the FCS (CRC)
#define E1000_TXD_CMD_RS   0x08  // report status: write DD back when done
#define E1000_TXD_CMD_DEXT 0x20  // extended descriptor (0: legacy)
#define E1000_TXD_CMD_IDE  0x80  // delay the TXDW interrupt by TIDV
#define E1000_TXD_STAT_DD  0x01  // descriptor done [E1000 3.3.3.2]

// ---- TCP/IP context descriptor and extended data descriptor [E1000 3.3.5-3.3.7]
// Offload: a context descriptor tells the device where the IP and TCP
// headers and their checksum fields are, and (with TSE) how to cut a large
// TCP packet; the data descriptors that follow (DEXT, DTYP_D) carry the
// packet and say, in POPTS, which checksums to insert.
struct e1000_ctx_desc {
	uint8 cd_ipcss;     // IP checksum start: first byte of the IP header
	uint8 cd_ipcso;     // IP checksum offset: where ip_sum goes
	uint16 cd_ipcse;    // IP checksum end: last byte summed (inclusive)
	uint8 cd_tucss;     // TCP checksum start: first byte of the TCP header
	uint8 cd_tucso;     // TCP checksum offset: where th_sum goes
	uint16 cd_tucse;    // TCP checksum end, 0 = to the end of the packet
	uint32 cd_cmdlen;   // PAYLEN (bits 0-19, TSO) | DTYP_C | TUCMD (bits 24-31)
	uint8 cd_status;    // E1000_TXD_STAT_DD if RS
	uint8 cd_hdrlen;    // TSO: bytes of headers copied in front of each frame
	uint16 cd_mss;      // TSO: payload bytes per frame
};
#define E1000_TXC_TCP   (1u << 24)  // TUCMD.TCP: the packet is TCP (TSO)
#define E1000_TXC_IP    (1u << 25)  // TUCMD.IP: IPv4 (TSO adjusts ip_len, ip_id)
#define E1000_TXC_TSE   (1u << 26)  // TUCMD.TSE: this context is for TSO
#define E1000_TXC_DEXT  (1u << 29)  // extended (with DTYP 0: context)
// Extended data descriptor: struct e1000_tx_desc with td_cso = DTYP_D
// (the length's bits 16-19 are 0: an mbuf is at most 2 KiB) and td_css =
// POPTS.
#define E1000_TXD_DTYP_D   0x10  // in td_cso's high nibble
#define E1000_TXD_CMD_TSE  0x04  // in td_cmd of a data descriptor: TCP segmentation
#define E1000_TXD_POPTS_IXSM 0x01  // insert the IP header checksum
#define E1000_TXD_POPTS_TXSM 0x02  // insert the TCP checksum

_Static_assert(sizeof(struct e1000_ctx_desc) == 16, "context descriptor is 16 bytes");
_Static_assert(sizeof(struct e1000_rx_desc) == 16, "rx descriptor is 16 bytes");
_Static_assert(sizeof(struct e1000_tx_desc) == 16, "tx descriptor is 16 bytes");
