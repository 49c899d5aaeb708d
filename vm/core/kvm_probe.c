/* The honest refusal: tell the user up front that this /dev/kvm cannot boot
 * a stock kernel at speed, instead of letting the guest crawl for minutes
 * (kvm_pvm emulates guest ring 0 at ~1.5 µs per instruction) and die. */
#include "vm/core/kvm.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Does some "flags" line of cpuinfo list vmx or svm as a whole word? */
static int cpu_has_hw_virt(const char *path) {
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    char line[8192];
    int found = 0;
    while (!found && fgets(line, sizeof(line), f)) {
        if (strncmp(line, "flags", 5) != 0)
            continue;
        char *save = NULL;
        char *colon = strchr(line, ':');
        for (char *t = strtok_r(colon ? colon + 1 : line, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save))
            if (!strcmp(t, "vmx") || !strcmp(t, "svm"))
                found = 1;
    }
    fclose(f);
    return found;
}

static bool module_listed(const char *path, const char *name) {
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    char line[512];
    size_t n = strlen(name);
    bool found = false;
    while (!found && fgets(line, sizeof(line), f))
        found = !strncmp(line, name, n) && line[n] == ' ';
    fclose(f);
    return found;
}

int kvm_check_host(const struct kvm_host_paths *paths, bool allow_slow, struct hull_err *err) {
    const char *cpuinfo = paths && paths->cpuinfo ? paths->cpuinfo : "/proc/cpuinfo";
    const char *modules = paths && paths->modules ? paths->modules : "/proc/modules";
    const char *sysmod = paths && paths->sys_module ? paths->sys_module : "/sys/module";
    char pvm[512];
    snprintf(pvm, sizeof(pvm), "%s/kvm_pvm", sysmod);
    struct stat st;
    bool is_pvm = module_listed(modules, "kvm_pvm") || stat(pvm, &st) == 0;
    int hw = cpu_has_hw_virt(cpuinfo);
    if (allow_slow)
        return 0;
    if (is_pvm)
        return hull_err_set(err, ENOTSUP,
                            "/dev/kvm is the kvm_pvm software backend (no VT-x/AMD-V): guest kernel code is emulated "
                            "instruction by instruction and a stock Linux kernel cannot boot on it; "
                            "use a host with hardware virtualisation (or override to try anyway)");
    if (hw == 0)
        return hull_err_set(err, ENOTSUP,
                            "this CPU reports neither vmx nor svm: /dev/kvm cannot run an unmodified kernel at speed; "
                            "use a host with hardware virtualisation (or override to try anyway)");
    return 0;   /* hw < 0: cpuinfo unreadable; let KVM itself decide */
}
