/* 16550A-compatible UART (what Linux's 8250 driver calls "16550A"), enough for
 * the kernel console on COM1: THR/RBR, IER, IIR/FCR, LCR (divisor latch),
 * MCR (loopback), LSR, MSR, SCR; interrupt line raised through a callback. */
#ifndef HULL_VM_DEVICES_LEGACY_UART8250_H
#define HULL_VM_DEVICES_LEGACY_UART8250_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define UART_COM1_BASE 0x3f8
#define UART_COM1_IRQ  4
#define UART_RX_FIFO   16

struct uart8250 {
    pthread_mutex_t lock;
    int out_fd;                    /* transmitted bytes go here; -1 drops them (not owned) */
    void (*irq)(void *opaque, unsigned gsi, int level);   /* e.g. kvm_vm_irq_line */
    void *irq_opaque;
    unsigned gsi;
    uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
    bool thri_pending;             /* "transmitter empty" interrupt not yet acknowledged */
    int irq_level;
    uint8_t rx[UART_RX_FIFO];
    unsigned rx_head, rx_len;
};

/* gsi: the interrupt line (UART_COM1_IRQ for COM1). */
void uart8250_init(struct uart8250 *u, int out_fd, void (*irq)(void *opaque, unsigned gsi, int level),
                   void *irq_opaque, unsigned gsi);
void uart8250_destroy(struct uart8250 *u);
/* vm_io_fn for the 8-port range at the UART's base. */
void uart8250_io(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool is_write);
/* Host → guest bytes; returns how many fit in the receive FIFO. */
unsigned uart8250_input(struct uart8250 *u, const void *buf, unsigned len);

#endif
