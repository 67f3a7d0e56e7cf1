// Compile-time limits of the kernel. One place, so a student can find them.
#pragma once

#define NCPU 8              // maximum number of harts (CPUS=1..8)
#define NPROC 64            // maximum number of processes and kernel threads
#define NOFILE 32           // open files per process
#define NFILE 256           // open files per system
#define NINODE 64           // maximum number of active i-nodes
#define NDEV 10             // maximum major device number
#define ROOTDEV 1           // device number of file system root disk
#define MAXARG 32           // max exec arguments
#define MAXARGLEN 1024      // max length of one exec argument
#define MAXOPBLOCKS 32      // max # of blocks any FS op writes (a big write
                            // is cut into transactions of MAXOPBLOCKS - 7
                            // data blocks: see kernel/file.c)
#define LOGSIZE (MAXOPBLOCKS * 3) // max data blocks in on-disk log
#define NBUF (MAXOPBLOCKS * 3)    // size of disk block cache
#define FSSIZE 20000        // size of file system in blocks (20 MiB)
#define MAXPATH 128         // maximum file path name
#define PIPE_BUF 2048       // a pipe write of at most this many bytes is atomic (POSIX)
#define KSTACKPAGES 4       // kernel stack of each process: 16 KiB
#define USTACKPAGES 8       // user stack: 32 KiB (guard page below it)
#define HZ 1000             // timer interrupts per second per hart (1 ms)
#define QUANTUM_MS 10       // a user process runs this long before yield
#define TIMEBASE 10000000UL // QEMU virt: the time CSR runs at 10 MHz
