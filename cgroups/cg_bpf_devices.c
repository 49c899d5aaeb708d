/* cgroup v2 has no devices.allow: device access is decided by
 * BPF_PROG_TYPE_CGROUP_DEVICE programs attached to the cgroup. This file
 * generates one from linux.resources.devices and attaches it.
 *
 * Semantics match v1 with an initial "deny all": rules are evaluated from
 * the last to the first and the first that matches decides; nothing
 * matching means deny. An allow rule matches when every requested access
 * bit is in the rule; a deny rule matches when any requested bit is.
 *
 * The context (struct bpf_cgroup_dev_ctx) holds access_type = access << 16 |
 * type, major, minor. Program layout:
 *   r2 = type, r3 = access, r4 = major, r5 = minor
 *   per rule: a few compares jumping to the next rule on mismatch, then
 *   r0 = verdict; exit
 *   r0 = 0; exit */
#include "cgroups/cg_internal.h"

#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

struct prog {
    struct bpf_insn *v;
    size_t n, cap;
    bool oom;
};

static size_t emit(struct prog *p, struct bpf_insn in) {
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 64;
        struct bpf_insn *nv = realloc(p->v, nc * sizeof *nv);
        if (!nv) { p->oom = true; return p->n; }
        p->v = nv;
        p->cap = nc;
    }
    p->v[p->n] = in;
    return p->n++;
}

static int access_bits(const char *a) {
    int bits = 0;
    for (; a && *a; a++)
        bits |= *a == 'r' ? BPF_DEVCG_ACC_READ : *a == 'w' ? BPF_DEVCG_ACC_WRITE : *a == 'm' ? BPF_DEVCG_ACC_MKNOD : 0;
    return bits;
}

int cg_bpf_devices_build(const struct hull_device_rule *rules, size_t n, void **insns, size_t *n_insns,
                         struct hull_err *err) {
    const int all = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
    struct prog p = { 0 };
    bool terminated = false;
    emit(&p, INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0, 0));
    emit(&p, INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_2, 0, 0));
    emit(&p, INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff));
    emit(&p, INSN(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16));
    emit(&p, INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, 4, 0));
    emit(&p, INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1, 8, 0));
    for (size_t k = n; k-- > 0;) {
        const struct hull_device_rule *r = &rules[k];
        size_t jumps[4];
        int nj = 0;
        if (r->type != 'a' && r->type != 'c' && r->type != 'b') {
            free(p.v);
            return hull_err_set(err, EINVAL, "linux.resources.devices[%zu]: unknown device type '%c'", k, r->type);
        }
        int acc = r->access ? access_bits(r->access) : all;
        if (r->type != 'a')
            jumps[nj++] = emit(&p, INSN(BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_2, 0, 0,
                                        r->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK));
        if (acc != all) {
            emit(&p, INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0));
            if (r->allow) {
                emit(&p, INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0, all & ~acc));
                jumps[nj++] = emit(&p, INSN(BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_1, 0, 0, 0));
            } else {
                emit(&p, INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0, acc));
                jumps[nj++] = emit(&p, INSN(BPF_JMP32 | BPF_JEQ | BPF_K, BPF_REG_1, 0, 0, 0));
            }
        }
        if (r->type != 'a' && r->major >= 0)
            jumps[nj++] = emit(&p, INSN(BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_4, 0, 0, (int32_t)(uint32_t)r->major));
        if (r->type != 'a' && r->minor >= 0)
            jumps[nj++] = emit(&p, INSN(BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_5, 0, 0, (int32_t)(uint32_t)r->minor));
        emit(&p, INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, r->allow ? 1 : 0));
        emit(&p, INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
        if (p.oom) break;
        for (int j = 0; j < nj; j++) p.v[jumps[j]].off = (int16_t)(p.n - jumps[j] - 1);
        /* A rule that always matches ends the program: the verifier refuses
         * unreachable instructions after it. */
        if (nj == 0) { terminated = true; break; }
    }
    if (!terminated) {
        emit(&p, INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0));
        emit(&p, INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    }
    if (p.oom || p.n > 32768) {
        free(p.v);
        return hull_err_set(err, p.oom ? ENOMEM : E2BIG, "cgroup: device filter: %s", p.oom ? "out of memory" : "too many rules");
    }
    *insns = p.v;
    *n_insns = p.n;
    return 0;
}

static int sys_bpf(int cmd, union bpf_attr *attr) {
    return (int)syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

static int prog_load(const struct bpf_insn *insns, size_t n, struct hull_err *err) {
    char log[4096];
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    a.insns = (uintptr_t)insns;
    a.insn_cnt = (uint32_t)n;
    a.license = (uintptr_t)"GPL";
    int fd = sys_bpf(BPF_PROG_LOAD, &a);
    if (fd >= 0) return fd;
    int saved = errno;
    /* Load again with the verifier log, only to explain the failure. */
    a.log_buf = (uintptr_t)log;
    a.log_size = sizeof log;
    a.log_level = 1;
    log[0] = '\0';
    int fd2 = sys_bpf(BPF_PROG_LOAD, &a);
    if (fd2 >= 0) return fd2;
    errno = saved;
    /* the verifier's first line names the problem */
    log[strcspn(log, "\n")] = '\0';
    return hull_err_sys(err, "cgroup: loading the device filter (verifier: %s)", log[0] ? log : "no log");
}

static uint32_t prog_id(int fd) {
    struct bpf_prog_info info;
    union bpf_attr a;
    memset(&info, 0, sizeof info);
    memset(&a, 0, sizeof a);
    a.info.bpf_fd = (uint32_t)fd;
    a.info.info_len = sizeof info;
    a.info.info = (uintptr_t)&info;
    return sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) == 0 ? info.id : 0;
}

static void detach_id(int cgfd, uint32_t id) {
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.prog_id = id;
    _cleanup_close_ int pfd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
    if (pfd < 0) return;
    memset(&a, 0, sizeof a);
    a.target_fd = (uint32_t)cgfd;
    a.attach_bpf_fd = (uint32_t)pfd;
    a.attach_type = BPF_CGROUP_DEVICE;
    sys_bpf(BPF_PROG_DETACH, &a);
}

int cg_bpf_devices_apply(const char *dir, const struct hull_device_rule *rules, size_t n, uint32_t *prev_id,
                         struct hull_err *err) {
    void *insns = NULL;
    size_t ni = 0;
    int rc = cg_bpf_devices_build(rules, n, &insns, &ni, err);
    if (rc < 0) return rc;
    _cleanup_close_ int pfd = prog_load(insns, ni, err);
    free(insns);
    if (pfd < 0) return pfd;
    _cleanup_close_ int cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cgfd < 0) return hull_err_sys(err, "cgroup %s: open for the device filter", dir);
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.target_fd = (uint32_t)cgfd;
    a.attach_bpf_fd = (uint32_t)pfd;
    a.attach_type = BPF_CGROUP_DEVICE;
    a.attach_flags = BPF_F_ALLOW_MULTI;
    if (sys_bpf(BPF_PROG_ATTACH, &a) < 0) return hull_err_sys(err, "cgroup %s: attaching the device filter", dir);
    uint32_t new_id = prog_id(pfd);

    /* New program in place first, then the old ones go: there is never a
     * moment without a filter. Programs attached directly to this cgroup
     * are hull's (the cgroup is the container's own), so any left from an
     * earlier update whose id was not saved are replaced too. */
    uint32_t ids[64];
    memset(&a, 0, sizeof a);
    a.query.target_fd = (uint32_t)cgfd;
    a.query.attach_type = BPF_CGROUP_DEVICE;
    a.query.prog_ids = (uintptr_t)ids;
    a.query.prog_cnt = 64;
    if (sys_bpf(BPF_PROG_QUERY, &a) == 0) {
        for (uint32_t i = 0; i < a.query.prog_cnt && i < 64; i++)
            if (ids[i] != new_id) detach_id(cgfd, ids[i]);
    } else if (*prev_id && *prev_id != new_id) {
        detach_id(cgfd, *prev_id);
    }
    *prev_id = new_id;
    return 0;
}
