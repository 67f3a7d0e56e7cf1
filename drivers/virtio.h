// virtio over MMIO, version 2 ("modern"): the register layout, the status
// and feature bits, and the split-virtqueue structures the block driver
// (virtio_disk.c) shares with the device.
//
// [VIRTIO] = Virtual I/O Device (VIRTIO) Version 1.1, OASIS, 2019:
//   2.1 device status, 2.2 feature bits, 2.6 split virtqueues,
//   4.2.2 MMIO register layout, 5.2 block device.
// QEMU's virt machine offers a modern device only when started with
// -global virtio-mmio.force-legacy=false (the Makefile does).
#pragma once
#include "kernel/types.h"

// [VIRTIO 4.2.2] MMIO device registers: byte offsets from the base.
#define VIRTIO_MMIO_MAGIC_VALUE        0x000  // "virt" = 0x74726976
#define VIRTIO_MMIO_VERSION            0x004  // 2: modern
#define VIRTIO_MMIO_DEVICE_ID          0x008  // 2: block device
#define VIRTIO_MMIO_VENDOR_ID          0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES    0x010  // 32 bits, chosen by ..._SEL
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES    0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL          0x030  // queue the QUEUE_* registers mean
#define VIRTIO_MMIO_QUEUE_NUM_MAX      0x034  // largest queue size the device takes
#define VIRTIO_MMIO_QUEUE_NUM          0x038  // queue size the driver chose
#define VIRTIO_MMIO_QUEUE_READY        0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY       0x050  // write a queue index: "look"
#define VIRTIO_MMIO_INTERRUPT_STATUS   0x060
#define VIRTIO_MMIO_INTERRUPT_ACK      0x064
#define VIRTIO_MMIO_STATUS             0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW     0x080  // descriptor table address
#define VIRTIO_MMIO_QUEUE_DESC_HIGH    0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW   0x090  // available ring address
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH  0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW   0x0a0  // used ring address
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH  0x0a4
#define VIRTIO_MMIO_CONFIG_GENERATION  0x0fc
#define VIRTIO_MMIO_CONFIG             0x100  // device-specific configuration

#define VIRTIO_MAGIC 0x74726976
#define VIRTIO_DEVICE_BLOCK 2

// [VIRTIO 2.1] device status bits, set by the driver in this order.
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

// Feature bits (numbers, not masks). [VIRTIO 6] VERSION_1 is in the
// second 32-bit word; a modern driver must accept it.
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_BLK_F_RO 5          // [VIRTIO 5.2.3] device is read-only

// [VIRTIO 4.2.2] InterruptStatus bits.
#define VIRTIO_INT_USED_BUFFER 1
#define VIRTIO_INT_CONFIG_CHANGE 2

// [VIRTIO 2.6.5] descriptor table entry.
struct virtq_desc {
	uint64 addr;      // guest-physical address of the buffer
	uint32 len;
	uint16 flags;     // VIRTQ_DESC_F_*
	uint16 next;      // next descriptor if flags & NEXT
};
#define VIRTQ_DESC_F_NEXT 1    // the chain continues in next
#define VIRTQ_DESC_F_WRITE 2   // the device writes this buffer

// [VIRTIO 2.6.6] available ring: driver -> device. Entries are the heads
// of descriptor chains; idx counts entries ever added (wraps at 2^16).
struct virtq_avail {
	uint16 flags;
	uint16 idx;
	uint16 ring[];    // queue size entries, then used_event (unused)
};

// [VIRTIO 2.6.8] used ring: device -> driver.
struct virtq_used_elem {
	uint32 id;        // head of the finished chain
	uint32 len;       // bytes the device wrote
};
struct virtq_used {
	uint16 flags;
	uint16 idx;
	struct virtq_used_elem ring[];
};

// [VIRTIO 5.2.6] block request: this header, the data, a status byte.
#define VIRTIO_BLK_T_IN 0      // read
#define VIRTIO_BLK_T_OUT 1     // write
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_SECTOR_SIZE 512

struct virtio_blk_req {
	uint32 type;      // VIRTIO_BLK_T_*
	uint32 reserved;
	uint64 sector;    // in 512-byte sectors
};

// [VIRTIO 5.2.4] the configuration space starts with the capacity.
#define VIRTIO_BLK_CONFIG_CAPACITY 0x00  // uint64, in 512-byte sectors

// drivers/virtio_disk.c
void virtio_disk_init(void);
void virtio_disk_intr(void *arg);
