/* Internal to the microVM executor: executor.c and create.c (hull's side:
 * create, start, kill, exec, ps, delete), assets.c (the host check, kernel,
 * initramfs, helper binaries), monitor*.c (the long-lived monitor process
 * per container) and exec_proxy.c (the host-side stand-in of an exec'd
 * process).
 *
 * Processes of one container:
 *
 *   hull create ──fork──> hull-vmm   the VMM = the container's pid in `state`: in the
 *        │                           container's cgroup; signals sent to it are forwarded
 *        │                           to the container's process; it exits with that
 *        │                           process's status (vm/vmm/link.c)
 *        └─fork─fork──> monitor      owns the agent's control port, the stdio ports
 *                                    (relayed to create's stdio) and <state>/vm.sock
 *   hull exec ──fork──> exec proxy   relays one EXEC's stdio and exits with its status
 *
 * All three talk only through fds set up by create, and vm.sock. */
#ifndef HULL_VM_EXECUTOR_CONTAINER_H
#define HULL_VM_EXECUTOR_CONTAINER_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

/* Files in the container's state dir, besides state.json and config.json. */
#define VM_IMAGES_FILE "vm.images"   /* path of the container's image directory */
#define VM_LOG_FILE    "vm.log"      /* the VMM's stderr (+ the kernel console with HULL_VM_CONSOLE=1) */

/* The guest's kernel command line (hull.poweroff=reboot: without ACPI tables a
 * power-off would only halt; reboot=k makes the reset the i8042 line, which
 * ends the VM). */
#define VM_CMDLINE "console=ttyS0 quiet loglevel=1 reboot=k panic=-1 nokaslr tsc=reliable no_timer_check " \
                   "i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd audit=0 init_on_alloc=0 "       \
                   "hull.poweroff=reboot"

/* Settings, each from the environment, else from /etc/hull/vm.conf or the
 * file HULL_VM_CONFIG names (settings.c; documented in vm/README.md):
 * HULL_VM_KERNEL, HULL_VM_INITRD, HULL_VM_BOOT_TIMEOUT (seconds),
 * HULL_VM_ALLOW_SLOW_KVM=1, HULL_VM_CONSOLE=1, HULL_VM_UPPER_SIZE (bytes,
 * k/m/g), HULL_VM_CMDLINE (extra words), HULL_VMM / HULL_AGENT (helper
 * binaries), HULL_ROOT (data root), HULL_VM_TEST_AGENT=1 (tests: the agent
 * in its host test mode instead of a VM). */
struct vm_opts {
    char data_root[PATH_MAX];
    char kernel[PATH_MAX];       /* what hull-vmm boots (a cached vmlinux, or as given) */
    char initrd[PATH_MAX];
    char vmm[PATH_MAX];          /* hull-vmm */
    char agent[PATH_MAX];        /* hull-agent (initramfs build, test mode) */
    char cmdline_extra[1024];
    unsigned boot_timeout_ms;
    uint64_t upper_bytes;
    bool allow_slow, console, test_agent;
};

/* settings.c: a setting from the environment, else from /etc/hull/vm.conf
 * (HULL_VM_CONFIG names another file); NULL when neither sets it. load reads
 * the file once and reports a malformed one; reset forgets it (tests). */
int vm_settings_load(struct hull_err *err);
const char *vm_setting(const char *name);
void vm_settings_reset(void);

/* assets.c: the settings (vm_setting) and their defaults. */
int vm_opts_load(struct vm_opts *o, struct hull_err *err);
/* A helper binary: $env if set, else next to hull (HULL_SELF_DIR, which
 * cli/main.c records before re-executing from a sealed copy), else in
 * ../lib/hull from there (the installed layout). */
int vm_locate(const char *name, const char *env, char *out, size_t n, struct hull_err *err);
/* /dev/kvm exists, opens, and can run a kernel (kvm_check_host). */
int vm_check_kvm(bool allow_slow, struct hull_err *err);
/* Fills o->kernel and o->initrd: HULL_VM_KERNEL / HULL_VM_INITRD, else the
 * newest /boot/vmlinuz-* (booted through its cached vmlinux) and an
 * initramfs hull builds from it and its modules (cached). */
int vm_boot_assets(struct vm_opts *o, struct hull_err *err);

/* create.c */
struct hull_create_req;
int vm_create(struct hull_create_req *req, struct hull_err *err);
/* Removes the container's image directory (only one hull made) and its record. */
void vm_remove_images(int state_dir_fd);
/* The caller's terminal size (fd 0) when it will proxy the pty master, else 0x0. */
void vm_caller_size(bool want_master, unsigned *rows, unsigned *cols);
unsigned vm_host_cpus(void);

/* monitor.c: the monitor process. Everything it needs was set up by
 * create (it is a fork of it); it never returns. */
struct vm_monitor_cfg {
    int ctl_fd;                  /* the agent's control port (a socket to the VMM) */
    int link_fd;                 /* the VMM's link (vm/vmm/link.c) */
    int port_in_fd;              /* write end: the stdin port */
    int port_out_fd, port_err_fd;   /* read ends: the stdout/stderr ports */
    int listen_fd;               /* <state>/vm.sock */
    int ready_fd;                /* to create: our pid, then "OK" or "E<message>" */
    int state_dir_fd;            /* unlocked */
    int term_fd;                 /* process.terminal: the host pty's slave (raw), else -1 */
    pid_t vmm_pid;
    unsigned boot_timeout_ms;
    const char *config;          /* the guest's config.json */
    size_t config_len;
    bool root_dir;               /* test mode: root_source is a host directory, no upper */
    uint8_t root_fs;             /* HULL_AGENT_FS_* of /dev/vda */
    char root_source[PATH_MAX];
};
void vm_monitor_main(const struct vm_monitor_cfg *cfg) __attribute__((noreturn));

/* exec_proxy.c: forks the proxy for an EXEC that the monitor accepted on
 * conn (which the proxy takes over). term_fd >= 0: the host pty's slave the
 * proxy makes its terminal (stdio, SIGWINCH -> RESIZE). *pid: the proxy, the
 * exec'd process's stand-in on the host. */
int vm_exec_proxy_start(int conn, int term_fd, pid_t *pid, struct hull_err *err);
/* process.terminal on the host: a pty pair whose master goes where runc sends
 * it (the console socket, or *master for `run -t`), and whose slave, in raw
 * mode (the guest's pty does the line discipline), is relayed to the guest. */
int vm_host_pty(unsigned rows, unsigned cols, const char *console_socket, bool want_master, int *master,
                int *slave, struct hull_err *err);

#endif
