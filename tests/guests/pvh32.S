/* Tier-2 test guest: the PVH hand-off. An ELF64 file whose PT_NOTE holds
 * XEN_ELFNOTE_PHYS32_ENTRY, entered (by hull's loader) in 32-bit protected
 * mode with paging off and EBX = hvm_start_info. It checks what the loader
 * promised for the test's set-up (4 MiB of RAM, a 4 KiB initrd starting with
 * "INRD", the cmdline below), prints "PVH OK" or "PVH FAIL <letter>" on COM1
 * and ends the VM: i8042 reset when it passed, pvpanic when not.
 * Ring-0 code is emulated on kvm_pvm (~1.5 us an instruction): keep it short. */
    .code32
    .text
    .globl pvh_start
pvh_start:
    mov $'A', %cl
    cmpl $0x336ec578, (%ebx)        /* magic */
    jne fail
    inc %cl                         /* B: version 1 or later (has the memmap) */
    cmpl $1, 4(%ebx)
    jb fail
    inc %cl                         /* C: 3 memmap entries: RAM 0, reserved EBDA..1M, RAM from 1 MiB */
    cmpl $3, 48(%ebx)
    jne fail
    mov 40(%ebx), %esi              /* memmap_paddr */
    cmpl $1, 16(%esi)               /* [0].type RAM */
    jne fail
    cmpl $0x100000, 48(%esi)        /* [2].addr */
    jne fail
    cmpl $0x300000, 56(%esi)        /* [2].size: 4 MiB - 1 MiB */
    jne fail
    inc %cl                         /* D: one module: the initrd, page-aligned, 4 KiB, "INRD" */
    cmpl $1, 12(%ebx)
    jne fail
    mov 16(%ebx), %esi              /* modlist_paddr */
    mov (%esi), %edi                /* [0].paddr */
    test $0xfff, %edi
    jnz fail
    cmpl $4096, 8(%esi)             /* [0].size */
    jne fail
    cmpl $0x44524e49, (%edi)        /* "INRD" */
    jne fail
    inc %cl                         /* E: the cmdline */
    mov 24(%ebx), %esi
    mov $cmdline, %edi
1:  mov (%esi), %al
    cmp (%edi), %al
    jne fail
    inc %esi
    inc %edi
    test %al, %al
    jnz 1b
    inc %cl                         /* F: PE on, PG off */
    mov %cr0, %eax
    and $0x80000001, %eax
    cmp $1, %eax
    jne fail
    mov $ok, %esi
    call puts
    mov $0xfe, %al                  /* pass: i8042 reset */
    out %al, $0x64
    jmp halt
fail:
    mov $bad, %esi
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
1:  mov (%esi), %al
    test %al, %al
    jz 2f
    out %al, (%dx)
    inc %esi
    jmp 1b
2:  ret

ok:      .asciz "PVH OK\n"
bad:     .asciz "PVH FAIL "
cmdline: .asciz "console=ttyS0 hull.test=pvh"

    .section .note.Xen, "a", @note
    .p2align 2
    .long 4                         /* name size: "Xen\0" */
    .long 4                         /* descriptor size */
    .long 18                        /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .long pvh_start
