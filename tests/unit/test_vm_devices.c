/* Legacy devices and the bus: 8250 UART registers and interrupt logic,
 * i8042 reset, pvpanic / PM power-off, range dispatch. */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "vm/core/bus.h"
#include "vm/devices/legacy/i8042.h"
#include "vm/devices/legacy/uart8250.h"
#include "vm/devices/legacy/pm.h"

static int level = -1, fate;
static void on_irq(void *o, unsigned gsi, int l) { level = l; }
static void on_fate(void *o, enum vm_fate f) { fate = (int)f; }

static uint8_t io(struct vm_bus *b, uint64_t port, int write, uint8_t v) {
    vm_bus_access(b, port, &v, 1, write);
    return v;
}

int main(void) {
    struct vm_bus b = {0};
    struct hull_err err;
    struct uart8250 u;
    int p[2];
    if (pipe2(p, O_NONBLOCK) < 0)
        bail_out("pipe2: %s", strerror(errno));
    signal(SIGPIPE, SIG_IGN);   /* as the VMM process does: a gone reader is EPIPE, not death */
    uart8250_init(&u, p[1], on_irq, NULL, UART_COM1_IRQ);
    is_int(vm_bus_add(&b, UART_COM1_BASE, 8, uart8250_io, &u, &err), 0, "UART on COM1");
    ok(vm_bus_add(&b, 0x3fc, 2, uart8250_io, &u, &err) < 0, "overlapping range refused");
    ok(vm_bus_add(&b, UINT64_MAX, 2, uart8250_io, &u, &err) < 0, "wrapping range refused");

    for (const char *c = "hi\n"; *c; c++)
        io(&b, 0x3f8, 1, (uint8_t)*c);
    char got[8] = {0};
    ok(read(p[0], got, sizeof(got)) == 3 && !strcmp(got, "hi\n"), "THR bytes reach the fd");
    is_int(io(&b, 0x3fd, 0, 0) & 0x60, 0x60, "LSR: THR empty and transmitter idle");
    io(&b, 0x3ff, 1, 0x5a);
    is_int(io(&b, 0x3ff, 0, 0), 0x5a, "scratch register");
    io(&b, 0x3fb, 1, 0x83);
    io(&b, 0x3f8, 1, 0x01);
    io(&b, 0x3fb, 1, 0x03);
    ok(read(p[0], got, sizeof(got)) < 0, "divisor latch write is not output");
    io(&b, 0x3fa, 1, 0x01);
    is_int(io(&b, 0x3fa, 0, 0) & 0xc0, 0xc0, "IIR reports FIFOs (16550A)");

    io(&b, 0x3fc, 1, 0x08);   /* OUT2: interrupts reach the PIC */
    io(&b, 0x3f9, 1, 0x02);   /* enable THRI */
    is_int(level, 1, "enabling THRI with THR empty raises the line");
    is_int(io(&b, 0x3fa, 0, 0) & 0x0f, 0x02, "IIR: THRI");
    is_int(level, 0, "reading IIR acknowledges");
    uart8250_input(&u, "k", 1);
    io(&b, 0x3f9, 1, 0x01);
    is_int(level, 1, "RDI with data pending");
    is_int(io(&b, 0x3fd, 0, 0) & 1, 1, "LSR: data ready");
    is_int(io(&b, 0x3f8, 0, 0), 'k', "RBR returns the input byte");
    is_int(level, 0, "line drops when the FIFO is empty");
    close(p[0]);
    fate = 0;
    io(&b, 0x3f8, 1, 'x');
    is_int(u.out_fd, -1, "reader gone: the UART stops writing (out_fd -1)");
    io(&b, 0x3f8, 1, 'y');
    is_int(io(&b, 0x3fd, 0, 0) & 0x60, 0x60, "reader gone: LSR still says THR empty, the guest is not stalled");
    io(&b, 0x3ff, 1, 0xa5);
    is_int(io(&b, 0x3ff, 0, 0), 0xa5, "reader gone: registers still answer");
    is_int(fate, 0, "reader gone: no VM fate (the guest keeps running)");

    struct i8042 k = { { on_fate, NULL } };
    struct vm_pm pm = { { on_fate, NULL }, 0 };
    vm_bus_add(&b, I8042_DATA_PORT, 1, i8042_data_io, &k, &err);
    vm_bus_add(&b, I8042_CMD_PORT, 1, i8042_cmd_io, &k, &err);
    vm_bus_add(&b, VM_PVPANIC_PORT, 1, vm_pm_pvpanic_io, &pm, &err);
    vm_bus_add(&b, VM_PM_CNT_PORT, 2, vm_pm_cnt_io, &pm, &err);
    is_int(io(&b, 0x64, 0, 0xff), 0, "i8042 status: nothing pending");
    io(&b, 0x64, 1, 0x20);
    is_int(fate, 0, "other i8042 commands do nothing");
    io(&b, 0x64, 1, 0xfe);
    is_int(fate, VM_FATE_RESET, "0xFE: reset");
    is_int(io(&b, 0x505, 0, 0), 1, "pvpanic advertises PANICKED");
    io(&b, 0x505, 1, 1);
    is_int(fate, VM_FATE_PANIC, "pvpanic write: panic");
    uint16_t s3 = (3 << 10) | (1 << 13), s5 = (5 << 10) | (1 << 13);
    fate = 0;
    vm_bus_access(&b, 0x604, (uint8_t *)&s3, 2, true);
    is_int(fate, 0, "S3 request is not a power-off");
    vm_bus_access(&b, 0x604, (uint8_t *)&s5, 2, true);
    is_int(fate, VM_FATE_POWEROFF, "S5: power-off");
    /* byte by byte, as a guest writing /dev/port does: low byte, then high */
    struct vm_pm pm2 = { { on_fate, NULL }, 0 };
    struct vm_bus b2 = {0};
    vm_bus_add(&b2, VM_PM_CNT_PORT, 2, vm_pm_cnt_io, &pm2, &err);
    fate = 0;
    uint8_t lo = 0x00, hi = 0x34;
    vm_bus_access(&b2, 0x604, &lo, 1, true);
    is_int(fate, 0, "PM1a_CNT low byte alone: nothing yet");
    vm_bus_access(&b2, 0x605, &hi, 1, true);
    is_int(fate, VM_FATE_POWEROFF, "PM1a_CNT high byte with SLP_EN|S5: power-off");

    uint32_t v = 0;
    ok(!vm_bus_access(&b, 0x1234, (uint8_t *)&v, 4, false) && v == 0xffffffffu, "unclaimed port reads all ones");
    ok(!vm_bus_access(&b, 0x3ff, (uint8_t *)&v, 2, false), "access straddling a range end is not dispatched");
    is_str(vm_fate_name(VM_FATE_SHUTDOWN), "shutdown (triple fault)", "fate names");
    uart8250_destroy(&u);
    close(p[1]);
    return done_testing();
}
