// 16550a UART driver (QEMU's virt "uart0" at UART0, PLIC line 10).
//
// Output is synchronous: uartputc_sync() spins until the transmit holding
// register is empty, so printf works anywhere, even in a panic. QEMU's
// UART drains instantly, so the spin costs nothing there. Input is
// interrupt-driven: every received byte goes to consoleintr().
//
// Locking: uart_tx_lock serialises writers to THR [s]; receive runs in the
// interrupt handler only.
#include "kernel/types.h"
#include "kernel/memlayout.h"
#include "kernel/lock.h"
#include "kernel/printf.h"
#include "kernel/console.h"
#include "kernel/intr.h"

// Registers, as offsets from UART0 (16550 data sheet).
#define RHR 0   // receive holding register (read)
#define THR 0   // transmit holding register (write)
#define IER 1   // interrupt enable
#define IER_RX_ENABLE (1 << 0)
#define LCR 3   // line control
#define LCR_EIGHT_BITS (3 << 0)
#define LCR_BAUD_LATCH (1 << 7)
#define LSR 5   // line status
#define LSR_RX_READY (1 << 0)
#define LSR_TX_IDLE (1 << 5)

#define Reg(r) ((volatile uint8 *)(UART0 + (r)))
#define ReadReg(r) (*(Reg(r)))
#define WriteReg(r, v) (*(Reg(r)) = (v))

static struct spinlock uart_tx_lock;

void uartinit(void)
{
	WriteReg(IER, 0x00);
	WriteReg(LCR, LCR_BAUD_LATCH);
	WriteReg(0, 0x03);  // divisor 3: 38400 baud (QEMU ignores it)
	WriteReg(1, 0x00);
	WriteReg(LCR, LCR_EIGHT_BITS);  // 8N1, latch off
	// FCR is left alone: QEMU empties the receive side whenever the FIFO
	// enable bit changes, which would lose input typed (or piped) before
	// boot, and its console then waits for a read that never comes.
	WriteReg(IER, IER_RX_ENABLE);
	initlock(&uart_tx_lock, "uart");
	intr_register(UART0_IRQ, uartintr, NULL);
}

// Write one byte, spinning until the UART takes it. Any context.
void uartputc_sync(int c)
{
	push_off();
	while ((ReadReg(LSR) & LSR_TX_IDLE) == 0)
		;
	WriteReg(THR, c);
	pop_off();
}

// UART interrupt: hand every received byte to the console.
void uartintr(void *arg)
{
	while (ReadReg(LSR) & LSR_RX_READY)
		consoleintr(ReadReg(RHR));
}
