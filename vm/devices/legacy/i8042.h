/* The PC keyboard controller, reduced to what ends a VM: the "pulse reset
 * line" command 0xFE on port 0x64 (Linux's reboot=k). Status reads say "no
 * data, input buffer empty" so the guest's reboot path never waits. */
#ifndef HULL_VM_DEVICES_LEGACY_I8042_H
#define HULL_VM_DEVICES_LEGACY_I8042_H

#include <stdbool.h>
#include <stdint.h>

#include "vm/core/fate.h"

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT  0x64
#define I8042_CMD_RESET 0xfe

struct i8042 {
    struct vm_fate_sink sink;
};

/* vm_io_fn for ports 0x60 (off 0) and 0x64 (off 0 of a second range):
 * register the same struct twice with these two handlers. */
void i8042_data_io(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool is_write);
void i8042_cmd_io(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool is_write);

#endif
