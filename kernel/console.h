// Console: line discipline on top of the 16550 UART.
#pragma once
void consoleinit(void);
void consoleintr(int c);   // called by the UART interrupt for each byte
void consputc(int c);      // kernel printf output
// poll(2) on the console: POLLIN when a whole line (or ^D) is waiting;
// POLLOUT always (output never blocks for long).
int console_poll(int events);
void uartinit(void);
void uartputc_sync(int c);
void uartintr(void *arg);
