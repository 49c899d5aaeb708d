/* pvpanic + ACPI PM1a_CNT sleep request → the VM's fate. */
#include "vm/devices/legacy/pm.h"

#include <string.h>

#define PVPANIC_PANICKED 0x01
#define PM_SLP_EN        (1u << 13)
#define PM_SLP_TYP(v)    (((v) >> 10) & 7u)

const char *vm_fate_name(enum vm_fate f) {
    switch (f) {
    case VM_FATE_RUNNING:  return "running";
    case VM_FATE_POWEROFF: return "power-off";
    case VM_FATE_RESET:    return "reset";
    case VM_FATE_SHUTDOWN: return "shutdown (triple fault)";
    case VM_FATE_CRASH:    return "crash";
    case VM_FATE_PANIC:    return "guest panic";
    case VM_FATE_TIMEOUT:  return "timeout";
    case VM_FATE_KILLED:   return "stopped by the host";
    }
    return "unknown";
}

void vm_pm_pvpanic_io(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool is_write) {
    struct vm_pm *pm = opaque;
    if (!is_write) {
        memset(data, 0, len);
        data[0] = PVPANIC_PANICKED;
        return;
    }
    if (data[0] & PVPANIC_PANICKED)
        pm->sink.request(pm->sink.opaque, VM_FATE_PANIC);
}

void vm_pm_cnt_io(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool is_write) {
    struct vm_pm *pm = opaque;
    if (!is_write) {
        memset(data, 0, len);   /* SCI_EN clear: nothing else to report */
        return;
    }
    if (off > 1)
        return;
    uint8_t b[2];
    memcpy(b, &pm->cnt, 2);
    memcpy(b + off, data, len < 2 - off ? len : 2 - off);
    memcpy(&pm->cnt, b, 2);
    if ((pm->cnt & PM_SLP_EN) && PM_SLP_TYP(pm->cnt) == VM_PM_SLP_TYP_S5)
        pm->sink.request(pm->sink.opaque, VM_FATE_POWEROFF);
}
