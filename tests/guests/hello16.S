/* Tier-2 test guest: 16-bit real-mode code loaded at 0x1000 (CS=0, IP=0x1000).
 * Prints a line on COM1, then ends the VM the way the byte at 0x0ff0 says:
 * 0 = i8042 reset (0xFE to port 0x64), 1 = pvpanic (1 to port 0x505),
 * 2 = ACPI PM1a_CNT S5 power-off (port 0x604), 3 = HLT with interrupts off
 * (with an in-kernel irqchip that sleeps forever: not used by the tests).
 * Every instruction here is ring 0, which kvm_pvm emulates (~1.5 us each):
 * keep it tiny. */
    .code16
    .text
    .globl _start
_start:
    xor %ax, %ax
    mov %ax, %ds
    mov $0x3f8, %dx
    mov $msg, %si
1:  lodsb
    test %al, %al
    jz 2f
    out %al, (%dx)
    jmp 1b
2:  mov 0x0ff0, %al
    cmp $1, %al
    je panic
    cmp $2, %al
    je poweroff
    cmp $3, %al
    je halt
    mov $0xfe, %al
    out %al, $0x64
    jmp halt
panic:
    mov $0x505, %dx
    mov $1, %al
    out %al, (%dx)
    jmp halt
poweroff:
    mov $0x604, %dx
    mov $0x3400, %ax        /* SLP_EN | SLP_TYP=5 */
    out %ax, (%dx)
halt:
    cli
    hlt
    jmp halt
msg:
    .asciz "hello from the hull test guest\n"
