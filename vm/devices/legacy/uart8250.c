/* 8250/16550A UART model: transmission is instantaneous (THR is always
 * empty), so the guest never waits on us; the only state that matters is the
 * interrupt logic the Linux driver relies on. */
#include "vm/devices/legacy/uart8250.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

enum { RBR_THR = 0, IER = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };
#define IER_RDI  0x01
#define IER_THRI 0x02
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI  0x04
#define IIR_FIFO 0xc0   /* FIFOs enabled: makes the driver detect a 16550A */
#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define MCR_OUT2 0x08   /* PC convention: interrupts reach the PIC only with OUT2 */
#define LSR_DR   0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_IDLE 0xb0   /* DCD | DSR | CTS: a peer is attached and ready */

void uart8250_init(struct uart8250 *u, int out_fd, void (*irq)(void *opaque, unsigned gsi, int level),
                   void *irq_opaque, unsigned gsi) {
    memset(u, 0, sizeof(*u));
    pthread_mutex_init(&u->lock, NULL);
    u->out_fd = out_fd;
    u->irq = irq;
    u->irq_opaque = irq_opaque;
    u->gsi = gsi;
    u->lcr = 0x03;   /* 8N1 */
    u->dll = 0x0c;   /* 9600 baud: any value works, but 0 would be odd */
}

void uart8250_destroy(struct uart8250 *u) {
    pthread_mutex_destroy(&u->lock);
}

static uint8_t iir(const struct uart8250 *u) {
    if ((u->ier & IER_RDI) && u->rx_len)
        return IIR_RDI | IIR_FIFO;
    if ((u->ier & IER_THRI) && u->thri_pending)
        return IIR_THRI | IIR_FIFO;
    return IIR_NONE | IIR_FIFO;
}

static void update_irq(struct uart8250 *u) {
    int level = !(iir(u) & IIR_NONE) && (u->mcr & MCR_OUT2);
    if (level != u->irq_level && u->irq) {
        u->irq_level = level;
        u->irq(u->irq_opaque, u->gsi, level);
    }
}

static void transmit(struct uart8250 *u, uint8_t c) {
    if (u->mcr & MCR_LOOP) {   /* loopback: the byte comes back as input (driver self-test) */
        if (u->rx_len < UART_RX_FIFO)
            u->rx[(u->rx_head + u->rx_len++) % UART_RX_FIFO] = c;
        return;
    }
    while (u->out_fd >= 0) {
        ssize_t w = write(u->out_fd, &c, 1);
        if (w == 1 || (w < 0 && errno != EINTR)) {
            if (w < 0)
                u->out_fd = -1;   /* console reader gone: the guest keeps running */
            break;
        }
    }
}

static uint8_t reg_read(struct uart8250 *u, unsigned reg) {
    switch (reg) {
    case RBR_THR: {
        if (u->lcr & LCR_DLAB)
            return u->dll;
        if (!u->rx_len)
            return 0;
        uint8_t c = u->rx[u->rx_head];
        u->rx_head = (u->rx_head + 1) % UART_RX_FIFO;
        u->rx_len--;
        return c;
    }
    case IER:
        return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
    case IIR_FCR: {
        uint8_t v = iir(u);
        if ((v & 0x0f) == IIR_THRI)   /* reading IIR acknowledges THRE */
            u->thri_pending = false;
        return v;
    }
    case LCR:
        return u->lcr;
    case MCR:
        return u->mcr;
    case LSR:
        return LSR_THRE | LSR_TEMT | (u->rx_len ? LSR_DR : 0);
    case MSR:
        if (u->mcr & MCR_LOOP)   /* loopback wires MCR outputs to MSR inputs */
            return (uint8_t)(((u->mcr & 0x0c) << 4) | ((u->mcr & 0x01) << 5) | ((u->mcr & 0x02) << 3));
        return MSR_IDLE;
    default:
        return u->scr;
    }
}

static void reg_write(struct uart8250 *u, unsigned reg, uint8_t v) {
    switch (reg) {
    case RBR_THR:
        if (u->lcr & LCR_DLAB) {
            u->dll = v;
        } else {
            transmit(u, v);
            u->thri_pending = true;   /* done at once: THR is empty again */
        }
        break;
    case IER:
        if (u->lcr & LCR_DLAB) {
            u->dlm = v;
        } else {
            /* Enabling THRI while THR is empty raises it at once (the
             * driver's start_tx depends on that). */
            if ((v & IER_THRI) && !(u->ier & IER_THRI))
                u->thri_pending = true;
            u->ier = v & 0x0f;
        }
        break;
    case IIR_FCR:
        u->fcr = v;
        if (v & 0x02) {   /* clear receive FIFO */
            u->rx_len = 0;
            u->rx_head = 0;
        }
        break;
    case LCR:
        u->lcr = v;
        break;
    case MCR:
        u->mcr = v & 0x1f;
        break;
    case SCR:
        u->scr = v;
        break;
    default:
        break;   /* LSR/MSR are read-only */
    }
}

void uart8250_io(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool is_write) {
    struct uart8250 *u = opaque;
    pthread_mutex_lock(&u->lock);
    for (unsigned i = 0; i < len; i++) {   /* wider accesses act bytewise on consecutive registers */
        unsigned reg = (unsigned)((off + i) & 7);
        if (is_write)
            reg_write(u, reg, data[i]);
        else
            data[i] = reg_read(u, reg);
    }
    update_irq(u);
    pthread_mutex_unlock(&u->lock);
}

unsigned uart8250_input(struct uart8250 *u, const void *buf, unsigned len) {
    const uint8_t *b = buf;
    unsigned n = 0;
    pthread_mutex_lock(&u->lock);
    while (n < len && u->rx_len < UART_RX_FIFO)
        u->rx[(u->rx_head + u->rx_len++) % UART_RX_FIFO] = b[n++];
    update_irq(u);
    pthread_mutex_unlock(&u->lock);
    return n;
}
