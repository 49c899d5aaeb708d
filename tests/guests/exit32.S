/* Bench guest: the smallest complete VM life. A PVH ELF that prints "BYE"
 * on COM1 and resets through the i8042 (port 0x64 <- 0xFE): hull reports
 * the fate "reset". qemu's microvm has no i8042, so the next write goes to
 * isa-debug-exit (port 0xf4, when the bench adds that device), which ends
 * qemu. Linked with pvh32.ld. */
    .code32
    .text
    .globl pvh_start
pvh_start:
    mov $0x3f8, %dx
    mov $'B', %al
    out %al, (%dx)
    mov $'Y', %al
    out %al, (%dx)
    mov $'E', %al
    out %al, (%dx)
    mov $'\n', %al
    out %al, (%dx)
    mov $0xfe, %al
    out %al, $0x64
    xor %al, %al
    out %al, $0xf4
1:  cli
    hlt
    jmp 1b

    .section .note.Xen, "a", @note
    .p2align 2
    .long 4                         /* name size: "Xen\0" */
    .long 4                         /* descriptor size */
    .long 18                        /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .long pvh_start
