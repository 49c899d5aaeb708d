/* Tier-2 test guest for the VMM's stop paths: a PVH ELF that prints "SPIN"
 * on COM1 and then spins forever in ring 0 (no hlt), so only the host can
 * end it (deadline, stop request, signal). Linked with pvh32.ld. */
    .code32
    .text
    .globl pvh_start
pvh_start:
    mov $0x3f8, %dx
    mov $msg, %esi
1:  mov (%esi), %al
    test %al, %al
    jz 2f
    out %al, (%dx)
    inc %esi
    jmp 1b
2:  jmp 2b

msg: .asciz "SPIN\n"

    .section .note.Xen, "a", @note
    .p2align 2
    .long 4                         /* name size: "Xen\0" */
    .long 4                         /* descriptor size */
    .long 18                        /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .long pvh_start
