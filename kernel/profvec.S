# Machine-mode trap vector of the profiler (kernel/prof.c): the only trap
# M-mode takes is its own timer interrupt. mscratch holds the top of this
# hart's M-mode stack; swap it with sp, save what C may clobber, call
# prof_mtrap(fp, ra) with the interrupted frame pointer (s0 is
# callee-saved, so it still holds the interrupted code's value) and ra
# (a leaf function's return address lives only there), restore, mret.
        .section .text
        .globl profvec
        .align 4
profvec:
        csrrw sp, mscratch, sp
        addi sp, sp, -144
        sd ra, 0(sp)
        sd t0, 8(sp)
        sd t1, 16(sp)
        sd t2, 24(sp)
        sd t3, 32(sp)
        sd t4, 40(sp)
        sd t5, 48(sp)
        sd t6, 56(sp)
        sd a0, 64(sp)
        sd a1, 72(sp)
        sd a2, 80(sp)
        sd a3, 88(sp)
        sd a4, 96(sp)
        sd a5, 104(sp)
        sd a6, 112(sp)
        sd a7, 120(sp)
        sd s0, 128(sp)
        mv a0, s0
        mv a1, ra               # the interrupted ra: a leaf's caller
        mv s0, zero             # the M-mode C code's frame chain ends here
        call prof_mtrap
        ld ra, 0(sp)
        ld t0, 8(sp)
        ld t1, 16(sp)
        ld t2, 24(sp)
        ld t3, 32(sp)
        ld t4, 40(sp)
        ld t5, 48(sp)
        ld t6, 56(sp)
        ld a0, 64(sp)
        ld a1, 72(sp)
        ld a2, 80(sp)
        ld a3, 88(sp)
        ld a4, 96(sp)
        ld a5, 104(sp)
        ld a6, 112(sp)
        ld a7, 120(sp)
        ld s0, 128(sp)
        addi sp, sp, 144
        csrrw sp, mscratch, sp
        mret
