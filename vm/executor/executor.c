/* The microVM executor (base/executor.h), its verbs: create is in
 * create.c; start, kill, ps, exec and delete talk to the container's
 * monitor over <state>/vm.sock (ctl.h). */
#include "vm/executor/container.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vm/executor/executor.h"
#include "vm/executor/config.h"
#include "vm/executor/ctl.h"

#define CTL_TIMEOUT_MS 30000

static int vm_adjust_resources(const struct hull_spec *spec, struct hull_resources *res, struct hull_err *err) {
    struct hull_vm_size sz;
    hull_vm_size_from_resources(&spec->linux.resources, vm_host_cpus(), &sz);
    return hull_vm_host_resources(spec->arena, &sz, res, err);
}

/* ---- the verbs over vm.sock ---------------------------------------------- */

static int vm_start(int state_dir_fd, pid_t pid, struct hull_err *err) {
    (void)pid;
    static uint8_t buf[VMC_MAX_PACKET];
    struct vmc_msg m;
    int r = vmc_call(state_dir_fd, VMC_START, 0, 0, NULL, 0, buf, sizeof buf, &m, 120000, err);
    if (r < 0) return hull_err_prefix(err, "start: ");
    unlinkat(state_dir_fd, HULL_EXEC_SOCK, 0);
    return 0;
}

static int vm_signal(int state_dir_fd, int sig, bool all, struct hull_err *err) {
    static uint8_t buf[VMC_MAX_PACKET];
    struct vmc_msg m;
    return vmc_call(state_dir_fd, VMC_SIGNAL, sig, all ? VMC_SIG_ALL : 0, NULL, 0, buf, sizeof buf, &m,
                    CTL_TIMEOUT_MS, err);
}

static int vm_pids(int state_dir_fd, pid_t **pids, size_t *n, struct hull_err *err) {
    static uint8_t buf[VMC_MAX_PACKET];
    struct vmc_msg m;
    *pids = NULL;
    *n = 0;
    int r = vmc_call(state_dir_fd, VMC_PS, 0, 0, NULL, 0, buf, sizeof buf, &m, CTL_TIMEOUT_MS, err);
    if (r < 0) return r;
    if (m.type != VMC_PIDS || m.len % 4) return hull_err_set(err, EPROTO, "ps: bad reply from the VM monitor");
    size_t cnt = m.len / 4;
    *pids = calloc(cnt ? cnt : 1, sizeof **pids);
    if (!*pids) return hull_err_set(err, ENOMEM, "ps: out of memory");
    for (size_t i = 0; i < cnt; i++) {
        uint32_t v;
        memcpy(&v, m.data + 4 * i, 4);
        (*pids)[i] = (pid_t)v;
    }
    *n = cnt;
    return 0;
}

static int vm_exec(struct hull_exec_req *req, struct hull_err *err) {
    req->pid = -1;
    req->console_master = -1;
    if (req->preserve_fds > 0)
        return hull_err_set(err, ENOTSUP, "exec: --preserve-fds cannot reach into a microVM");
    size_t len;
    struct hull_process proc = *req->process;
    if (proc.terminal && !proc.has_console_size) {
        vm_caller_size(req->want_console_master, &proc.console_height, &proc.console_width);
        proc.has_console_size = proc.console_height && proc.console_width;
    }
    char *json = hull_vm_process_json(&proc, &len);
    if (!json) return hull_err_set(err, ENOMEM, "exec: out of memory");
    if (len > VMC_MAX_PAYLOAD) {
        free(json);
        return hull_err_set(err, E2BIG, "exec: the process description is too large (%zu bytes)", len);
    }
    int fd;
    int r = vmc_connect(req->state_dir_fd, &fd, err);
    if (r == 0) r = vmc_send(fd, VMC_EXEC, 0, 0, json, len, err);
    free(json);
    if (r < 0) {
        if (r == -ENOTCONN) hull_err_set(err, ESRCH, "exec: the container is not running (its VM is gone)");
        return r;
    }
    static uint8_t buf[VMC_MAX_PACKET];
    struct vmc_msg m;
    r = vmc_recv_timeout(fd, buf, sizeof buf, &m, CTL_TIMEOUT_MS, err);
    if (r == 0) r = hull_err_set(err, ESRCH, "exec: the VM ended");
    else if (r > 0 && m.type == VMC_ERROR)
        r = hull_err_set(err, m.a > 0 ? m.a : EIO, "exec: %.*s", (int)(m.len < 900 ? m.len : 900), (const char *)m.data);
    else if (r > 0 && m.type != VMC_OK)
        r = hull_err_set(err, EPROTO, "exec: unexpected reply %u from the VM monitor", m.type);
    int master = -1, slave = -1;
    if (r >= 0 && req->process->terminal)
        r = vm_host_pty(proc.console_height, proc.console_width, req->console_socket,
                        req->want_console_master, &master, &slave, err);
    if (r < 0) {
        close(fd);
        return r;
    }
    r = vm_exec_proxy_start(fd, slave, &req->pid, err);
    if (slave >= 0) close(slave);
    if (r < 0) {
        if (master >= 0) close(master);
        return r;
    }
    req->console_master = master;
    return 0;
}

static void vm_cleanup(int state_dir_fd) {
    int fd;
    struct hull_err err;
    if (vmc_connect(state_dir_fd, &fd, &err) == 0) {
        /* the monitor stops the VM and exits: wait for its end of the socket */
        if (vmc_send(fd, VMC_STOP, 0, 0, NULL, 0, &err) == 0) {
            static uint8_t buf[VMC_MAX_PACKET];
            struct vmc_msg m;
            while (vmc_recv_timeout(fd, buf, sizeof buf, &m, 5000, &err) > 0) {}
        }
        close(fd);
    }
    unlinkat(state_dir_fd, VMC_SOCK, 0);
    vm_remove_images(state_dir_fd);
}

const struct hull_executor_ops hull_vm_executor = {
    .name = "vm",
    .create = vm_create,
    .start = vm_start,
    .exec = vm_exec,
    .adjust_resources = vm_adjust_resources,
    .signal = vm_signal,
    .pids = vm_pids,
    .cleanup = vm_cleanup,
};
