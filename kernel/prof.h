// prof: a sampling profiler of the guest, run from machine mode.
// See kernel/prof.c for the design; tools/profile.py (make profile) reads
// the samples out of guest memory and prints the report.
#pragma once
#include "kernel/types.h"

#define PROF_DEPTH 14            // return addresses kept per sample
#define PROF_MAXSAMPLES 32768    // 4 MiB of samples

// One sample, 128 bytes. The host reads the array prof_buf[] directly.
struct prof_sample {
	uint64 ps_pc;                // interrupted pc (mepc)
	uint64 ps_info;              // hart | mode << 8 | depth << 16
	uint64 ps_stack[PROF_DEPTH]; // return addresses, innermost first
};

#define PROF_MODE_U 0            // ps_info mode: the privilege interrupted
#define PROF_MODE_S 1

// Machine-mode set-up of this hart (start.c, before mret).
void prof_mstart(uint64 hartid);
