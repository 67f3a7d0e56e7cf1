# swtch(struct context *old, struct context *new): save the current
# callee-saved registers in *old, load *new, return into new's ra.
# Offsets are those of struct context in kernel/proc.h.
#
# The CFI directives (here and in kernelvec.S, entry.S) are for gdb: they
# tell its unwinder where a frame's caller is, so a backtrace walks
# through a trap and ends cleanly where a thread began.
        .cfi_sections .debug_frame
        .globl swtch
swtch:
        sd ra, 0(a0)
        sd sp, 8(a0)
        sd s0, 16(a0)
        sd s1, 24(a0)
        sd s2, 32(a0)
        sd s3, 40(a0)
        sd s4, 48(a0)
        sd s5, 56(a0)
        sd s6, 64(a0)
        sd s7, 72(a0)
        sd s8, 80(a0)
        sd s9, 88(a0)
        sd s10, 96(a0)
        sd s11, 104(a0)

        ld ra, 0(a1)
        ld sp, 8(a1)
        ld s0, 16(a1)
        ld s1, 24(a1)
        ld s2, 32(a1)
        ld s3, 40(a1)
        ld s4, 48(a1)
        ld s5, 56(a1)
        ld s6, 64(a1)
        ld s7, 72(a1)
        ld s8, 80(a1)
        ld s9, 88(a1)
        ld s10, 96(a1)
        ld s11, 104(a1)
        ret

# thread_start: where a new thread's first swtch() returns (allocproc and
# kthread_create put it in context.ra and the C entry point, forkret or
# kthread_entry, in context.s1). It calls that entry point, which never
# returns. Its own return address is undefined: the outermost frame, so
# gdb's backtrace of any thread ends here instead of at "0x0 in ?? ()".
        .globl thread_start
thread_start:
        .cfi_startproc
        .cfi_undefined ra
        mv s0, zero
        jalr s1
        unimp
        .cfi_endproc
