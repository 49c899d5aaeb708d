/* Tier-2 test guest: the 64-bit Linux boot protocol. A minimal bzImage: one
 * setup sector holding a protocol 2.15 setup header, then the "protected-mode
 * kernel" (1 KiB) whose 64-bit entry sits at +0x200. hull's loader puts it at
 * pref_address (1 MiB) and enters in long mode with RSI = zero page. It
 * checks the zero page against the test's set-up (4 MiB of RAM, a 4 KiB
 * initrd starting with "INRD", the cmdline below), long mode, CS = 0x10,
 * prints "LINUX64 OK" or "LINUX64 FAIL <letter>" on COM1 and ends the VM:
 * i8042 reset when it passed, pvpanic when not. Assembled as a flat file. */
    .text
    .org 0x1f1
    .byte 1                         /* setup_sects: setup is 2 sectors with the boot sector */
    .word 0                         /* root_flags */
    .long 0x40                      /* syssize: 1 KiB of kernel, in 16-byte units */
    .org 0x1fe
    .word 0xAA55                    /* boot_flag */
    .byte 0xeb, hdr_end - 0x202     /* jump over the header: gives its length */
    .ascii "HdrS"
    .word 0x020f                    /* protocol 2.15 */
    .org 0x211
    .byte 0x01                      /* loadflags: LOADED_HIGH */
    .org 0x214
    .long 0x100000                  /* code32_start */
    .org 0x22c
    .long 0x7fffffff                /* initrd_addr_max */
    .long 0x200000                  /* kernel_alignment */
    .byte 1                         /* relocatable_kernel */
    .byte 21                        /* min_alignment */
    .word 0x0001                    /* xloadflags: XLF_KERNEL_64 */
    .long 255                       /* cmdline_size */
    .org 0x258
    .quad 0x100000                  /* pref_address */
    .long 0x1000                    /* init_size */
    .long 0                         /* handover_offset */
    .long 0                         /* kernel_info_offset */
hdr_end:
    .org 0x400                      /* end of setup, start of the kernel (loaded at 1 MiB) */
pm:
    ud2                             /* the 32-bit entry: not ours */
    .org pm + 0x200
    .code64
entry64:
    mov $'A', %cl
    cmpl $0x53726448, 0x202(%rsi)   /* "HdrS" copied into the zero page */
    jne fail
    inc %cl                         /* B: type_of_loader 0xff, CAN_USE_HEAP */
    cmpb $0xff, 0x210(%rsi)
    jne fail
    testb $0x80, 0x211(%rsi)
    jz fail
    inc %cl                         /* C: e820: 3 entries, [0] RAM, [2] 1 MiB..4 MiB */
    cmpb $3, 0x1e8(%rsi)
    jne fail
    cmpl $1, 0x2d0 + 16(%rsi)
    jne fail
    cmpq $0x100000, 0x2d0 + 40(%rsi)
    jne fail
    cmpq $0x300000, 0x2d0 + 48(%rsi)
    jne fail
    inc %cl                         /* D: initrd page-aligned, 4 KiB, "INRD" */
    mov 0x218(%rsi), %edi
    test $0xfff, %edi
    jnz fail
    cmpl $4096, 0x21c(%rsi)
    jne fail
    cmpl $0x44524e49, (%rdi)
    jne fail
    inc %cl                         /* E: cmdline */
    mov 0x228(%rsi), %edi
    lea cmdline(%rip), %rbx
1:  mov (%rdi), %al
    cmp (%rbx), %al
    jne fail
    inc %rdi
    inc %rbx
    test %al, %al
    jnz 1b
    inc %cl                         /* F: EFER.LMA, CR4.PAE, CR0.PG, CS = __BOOT_CS */
    push %rcx
    mov $0xc0000080, %ecx
    rdmsr
    pop %rcx
    bt $10, %eax
    jnc fail
    mov %cr4, %rax
    test $0x20, %al
    jz fail
    mov %cr0, %rax
    bt $31, %rax
    jnc fail
    mov %cs, %ax
    cmp $0x10, %ax
    jne fail
    lea ok(%rip), %rbx
    call puts
    mov $0xfe, %al                  /* pass: i8042 reset */
    out %al, $0x64
    jmp halt
fail:
    lea bad(%rip), %rbx
    call puts
    mov %cl, %al
    mov $0x3f8, %dx
    out %al, (%dx)
    mov $'\n', %al
    out %al, (%dx)
    mov $0x505, %dx                 /* fail: pvpanic */
    mov $1, %al
    out %al, (%dx)
halt:
    cli
    hlt
    jmp halt
puts:
    mov $0x3f8, %dx
1:  mov (%rbx), %al
    test %al, %al
    jz 2f
    out %al, (%dx)
    inc %rbx
    jmp 1b
2:  ret

ok:      .asciz "LINUX64 OK\n"
bad:     .asciz "LINUX64 FAIL "
cmdline: .asciz "console=ttyS0 hull.test=linux64"
    .org pm + 0x400                 /* syssize * 16 */
