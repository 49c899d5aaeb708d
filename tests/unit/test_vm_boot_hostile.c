/* Hostile kernels and initrds against the loader (tier 1, no KVM): each
 * synthesised image breaks one rule and must be refused with a message that
 * says which; guest RAM is a host buffer with guard pages around it, so a
 * write outside RAM would show. Controls (a valid image of each kind) prove
 * the failures come from the broken field and not from the fixture. */
#include <asm/bootparam.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot_fixtures.h"
#include "tap.h"
#include "vm/boot/boot.h"

#define RAM (4u << 20)
#define GUARD 4096

static char tmp[] = "/tmp/hull-vmboot-XXXXXX";
static uint8_t *host;   /* GUARD | RAM | GUARD */
static struct vm_mem mem;
static char kpath[300], rdpath[300], bigrd[300];

static int load(const char *kernel, const char *initrd, const char *cmdline, enum boot_format fmt,
                struct boot_entry *e, struct hull_err *err) {
    struct boot_config bc = { .kernel = kernel, .initrd = initrd, .cmdline = cmdline, .nvcpus = 2, .format = fmt };
    return boot_load(&mem, &bc, e, err);
}

/* Writes the image to kpath and expects a refusal mentioning `why`. */
static void refused(const uint8_t *img, size_t len, const char *initrd, const char *cmdline, const char *why,
                    const char *name) {
    struct hull_err err = {0};
    struct boot_entry e;
    if (fx_write(kpath, img, len) < 0) {
        ok(0, "%s: cannot write the fixture", name);
        return;
    }
    int rc = load(kpath, initrd, cmdline, BOOT_FMT_AUTO, &e, &err);
    ok(rc < 0, "%s: refused", name);
    like(err.msg, why, "%s: says why (%s)", name, err.msg);
}

static void bz_cases(void) {
    struct fx_bz o = fx_bz_default();
    size_t len;
    uint8_t *img = fx_bzimage(&o, &len);
    struct hull_err err = {0};
    struct boot_entry e;
    fx_write(kpath, img, len);
    int rc = load(kpath, rdpath, "console=ttyS0", BOOT_FMT_AUTO, &e, &err);
    ok(rc == 0 && e.kind == BOOT_KIND_LINUX64 && e.entry == 0x100200, "control bzImage loads, entry 1 MiB + 0x200%s%s",
       rc ? ": " : "", rc ? err.msg : "");
    ok(rc == 0 && e.initrd_addr >= e.kernel_end && e.initrd_addr + e.initrd_size <= RAM && !(e.initrd_addr & 0xfff),
       "control: initrd page-aligned between the kernel's end and the top of RAM");
    rc = load(kpath, NULL, NULL, BOOT_FMT_PVH, &e, &err);
    ok(rc < 0 && strstr(err.msg, "not an ELF"), "a bzImage forced through PVH: refused (%s)", err.msg);
    /* Truncated inside the header itself. */
    refused(img, 0x210, NULL, NULL, "truncated inside the setup header", "header cut at 0x210");
    char longcmd[40];
    memset(longcmd, 'x', sizeof(longcmd) - 1);
    longcmd[sizeof(longcmd) - 1] = '\0';
    o.cmdline_size = 16;
    free(img);
    img = fx_bzimage(&o, &len);
    refused(img, len, NULL, longcmd, "command line too long", "cmdline above cmdline_size");
    refused(img, len, bigrd, NULL, "too large", "initrd as large as RAM");
    refused(img, len, "/nonexistent/initrd", NULL, "initrd /nonexistent/initrd", "missing initrd");
    free(img);

    static const struct { const char *name, *why; struct fx_bz o; } bad[] = {
        { "protocol 2.10", "boot protocol 2.10", { .setup_sects = 1, .version = 0x20a, .xloadflags = 1, .pm_len = 0x2000 } },
        { "no XLF_KERNEL_64", "no 64-bit entry", { .setup_sects = 1, .version = 0x20f, .xloadflags = 2, .pm_len = 0x2000 } },
        { "setup_sects 200 in a 2 KiB file", "past the end of the file",
          { .setup_sects = 200, .setup_len = 1024, .version = 0x20f, .xloadflags = 1, .pm_len = 1024 } },
        { "syssize above the file", "truncated",
          { .setup_sects = 1, .version = 0x20f, .xloadflags = 1, .syssize = 0x1000, .pm_len = 0x2000 } },
        { "init_size 2 GiB", "guest RAM too small",
          { .setup_sects = 1, .version = 0x20f, .xloadflags = 1, .init_size = 0x7fffffff, .pref_address = 0x100000,
            .pm_len = 0x2000 } },
        { "pref_address near 2^64", "guest RAM too small",
          { .setup_sects = 1, .version = 0x20f, .xloadflags = 1, .init_size = 0x4000,
            .pref_address = 0xffffffffffe00000ull, .pm_len = 0x2000 } },
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        img = fx_bzimage(&bad[i].o, &len);
        refused(img, len, NULL, NULL, bad[i].why, bad[i].name);
        free(img);
    }
    uint8_t zeros[4096] = {0};
    refused(zeros, sizeof(zeros), NULL, NULL, "neither a bzImage", "4 KiB of zeros");
    refused(zeros, 0, NULL, NULL, "neither a bzImage", "empty file");
}

static void elf_cases(void) {
    uint8_t note[64];
    struct fx_elf o = fx_elf_default(note);
    size_t len;
    uint8_t *img = fx_elf_build(&o, &len);
    struct hull_err err = {0};
    struct boot_entry e;
    fx_write(kpath, img, len);
    memset(vm_mem_ptr(&mem, 0x204000, 0x2000), 0xee, 0x2000);   /* the bss must come back zeroed */
    int rc = load(kpath, rdpath, "x", BOOT_FMT_AUTO, &e, &err);
    ok(rc == 0 && e.kind == BOOT_KIND_PVH32 && e.entry == 0x200100 && e.kernel_start == 0x200000 &&
       e.kernel_end == 0x206000, "control ELF loads: entry from the note, extent 2 MiB..+24 KiB%s%s",
       rc ? ": " : "", rc ? err.msg : "");
    const uint8_t *g = vm_mem_ptr(&mem, 0x200000, 0x6000);
    static const uint8_t zero[0x2000];
    ok(rc == 0 && memcmp(g, img + 0x1000, 0x4000) == 0 && memcmp(g + 0x4000, zero, 0x2000) == 0,
       "control: file bytes at p_paddr, bss zeroed");
    ok(rc == 0 && e.initrd_addr >= 0x206000 && !(e.initrd_addr & 0xfff), "control: initrd above the kernel");
    free(img);

#define CASE(name, why, ...) do { struct fx_elf c = fx_elf_default(note); __VA_ARGS__; \
        img = fx_elf_build(&c, &len); refused(img, len, NULL, NULL, why, name); free(img); } while (0)
    CASE("PT_LOAD beyond RAM", "outside guest RAM", c.ph[0].p_paddr = RAM - 0x1000);
    CASE("PT_LOAD at 2^64 - 4 KiB", "outside guest RAM", c.ph[0].p_paddr = 0xfffffffffffff000ull);
    CASE("PT_LOAD below 1 MiB", "below 1 MiB", c.ph[0].p_paddr = 0x8000);
    CASE("overlapping PT_LOADs", "overlap", c.nph = 3;
         c.ph[2] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = 0x1000, .p_paddr = 0x205000, .p_filesz = 0x1000,
                                 .p_memsz = 0x1000 });
    CASE("PT_LOAD offset past EOF", "past the end of the file", c.ph[0].p_offset = 0x2000);
    CASE("PT_LOAD offset near 2^64", "past the end of the file", c.ph[0].p_offset = ~0ull - 0x10);
    CASE("filesz above memsz", "file size above memory size", c.ph[0].p_memsz = 0x1000);
    CASE("no PT_LOAD", "no loadable segment", c.ph[0].p_type = PT_NULL);
    CASE("no PVH note (other Xen note)", "no PVH entry note", fx_pvh_note(note, 0x200100, 17));
    CASE("no PT_NOTE at all", "no PVH entry note", c.nph = 1);
    CASE("note with namesz 0xffffffff", "malformed note", memset(note, 0xff, 4));
    CASE("PVH entry outside the segments", "not inside a loaded", fx_pvh_note(note, 0x900000, 18));
    CASE("32-bit ELF", "not a 64-bit", c.cls = ELFCLASS32);
    CASE("zero program headers", "bad program header table", c.nph = 0);
    CASE("program headers past EOF", "truncated", c.file_len = 0x60);
#undef CASE
}

static void special_files(void) {
    struct hull_err err = {0};
    struct boot_entry e;
    ok(load(tmp, NULL, NULL, BOOT_FMT_AUTO, &e, &err) < 0 && strstr(err.msg, "not a regular file"),
       "a directory as kernel: refused (%s)", err.msg);
    char fifo[320];
    snprintf(fifo, sizeof(fifo), "%s/fifo", tmp);
    mkfifo(fifo, 0600);
    ok(load(fifo, NULL, NULL, BOOT_FMT_AUTO, &e, &err) < 0 && strstr(err.msg, "not a regular file"),
       "a FIFO as kernel: refused without blocking (%s)", err.msg);
    ok(load("/nonexistent/vmlinuz", NULL, NULL, BOOT_FMT_AUTO, &e, &err) < 0 &&
       strstr(err.msg, "/nonexistent/vmlinuz") && strstr(err.msg, "No such file"), "missing kernel: %s", err.msg);
}

static int open_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

int main(void) {
    if (!mkdtemp(tmp))
        bail_out("mkdtemp %s: %s", tmp, strerror(errno));
    snprintf(kpath, sizeof(kpath), "%s/kernel", tmp);
    snprintf(rdpath, sizeof(rdpath), "%s/initrd", tmp);
    snprintf(bigrd, sizeof(bigrd), "%s/big-initrd", tmp);
    host = aligned_alloc(4096, RAM + 2 * GUARD);
    memset(host, 0xa5, GUARD);
    memset(host + GUARD, 0, RAM);
    memset(host + GUARD + RAM, 0xa5, GUARD);
    struct hull_err err;
    vm_mem_init(&mem);
    if (vm_mem_add_host(&mem, 0, RAM, host + GUARD, &err) < 0)
        bail_out("vm_mem_add_host (hull's own code) failed: %s", err.msg);
    uint8_t rd[4096] = "INRD";
    uint8_t *big = calloc(1, RAM);
    if (fx_write(rdpath, rd, sizeof(rd)) < 0 || fx_write(bigrd, big, RAM) < 0)
        bail_out("fixture: cannot write %s / %s: %s", rdpath, bigrd, strerror(errno));
    free(big);

    int fds = open_fds();
    bz_cases();
    elf_cases();
    special_files();
    is_int(open_fds(), fds, "no file descriptor leaked on any error path");

    bool intact = true;
    for (unsigned i = 0; i < GUARD; i++)
        intact &= host[i] == 0xa5 && host[GUARD + RAM + i] == 0xa5;
    ok(intact, "nothing was written outside guest RAM");
    vm_mem_free(&mem);
    free(host);
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
    if (system(cmd) != 0)
        diag("could not remove %s", tmp);
    return done_testing();
}
