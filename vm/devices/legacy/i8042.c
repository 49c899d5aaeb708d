/* i8042: only the reset command. */
#include "vm/devices/legacy/i8042.h"

#include <string.h>

void i8042_data_io(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool is_write) {
    if (!is_write)
        memset(data, 0, len);   /* no keyboard, no data */
}

void i8042_cmd_io(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool is_write) {
    struct i8042 *k = opaque;
    if (!is_write) {
        memset(data, 0, len);   /* status: output buffer empty, input buffer empty */
        return;
    }
    if (off == 0 && data[0] == I8042_CMD_RESET && k->sink.request)
        k->sink.request(k->sink.opaque, VM_FATE_RESET);
}
