/* Guest-initiated ends other than reset, on two I/O ports:
 * - 0x505, pvpanic's ISA port: bit 0 written = the kernel panicked; reads
 *   report that capability (bit 0 PANICKED).
 * - VM_PM_CNT_PORT, an ACPI PM1a control register: writing SLP_EN with
 *   SLP_TYP 5 (S5) is a clean power-off. The FADT that points Linux at it is
 *   written by the boot code (x86 boot, next stage); the agent can also use
 *   it directly. */
#ifndef HULL_VM_DEVICES_LEGACY_PM_H
#define HULL_VM_DEVICES_LEGACY_PM_H

#include <stdbool.h>
#include <stdint.h>

#include "vm/core/fate.h"

#define VM_PVPANIC_PORT 0x505
#define VM_PM_CNT_PORT  0x604
#define VM_PM_SLP_TYP_S5 5

struct vm_pm {
    struct vm_fate_sink sink;
    uint16_t cnt;     /* PM1a_CNT as last written (byte writes, e.g. via /dev/port, assemble it) */
};

void vm_pm_pvpanic_io(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool is_write);
/* 2-byte PM1a_CNT register; word or byte writes. */
void vm_pm_cnt_io(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool is_write);

#endif
