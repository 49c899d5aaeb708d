/* Running a microVM: one thread per vCPU in KVM_RUN, and the caller's thread
 * as the I/O thread. The I/O thread serves what must not stall a vCPU:
 * queue notifications that arrive through ioeventfds (block I/O, console
 * output), host input for console ports, the stop request and the deadline.
 *
 * Why ioeventfd but not irqfd: a notify bound to an eventfd is completed in
 * the kernel, so the vCPU goes straight back into the guest instead of
 * returning to user space (two mode switches and a bus walk) and doing the
 * device work itself. Interrupts go the other way, from this process, and
 * KVM_SIGNAL_MSI is a single ioctl — the same cost as writing an irqfd's
 * eventfd — so irqfd would add GSI routing tables without saving anything;
 * it pays only when another process (vhost) raises the interrupt.
 *
 * Stopping: the fate is latched first, then every vCPU gets immediate_exit
 * and a signal, so a vCPU inside KVM_RUN leaves it and one about to enter
 * returns at once; both then see the fate and end their thread. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "vm/devices/virtio/console.h"
#include "vm/vmm/internal.h"

#define VMM_KICK_SIGNAL (SIGRTMIN + 6)

enum ev_kind { EV_FATE = 1, EV_SPACE, EV_STOP, EV_TIMER, EV_FEED, EV_IOEV };

static uint64_t ev(enum ev_kind k, uint32_t idx) { return (uint64_t)k << 32 | idx; }

/* ---- ioeventfds ---- */

int vmm_dev_ioev_init(struct vmm_dev *d, struct hull_err *err) {
    pthread_mutex_init(&d->ioev_lock, NULL);
    for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
        d->ioev_fd[q] = -1;
    if (!d->vmm->ioeventfd)
        return 0;
    for (unsigned q = 0; q < d->dev->num_queues; q++) {
        d->ioev_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (d->ioev_fd[q] < 0) {
            int rc = hull_err_sys(err, "vm: eventfd for %s queue %u", d->dev->ops->name, q);
            vmm_dev_ioev_fini(d);
            return rc;
        }
    }
    return 0;
}

static void ioev_bind(struct vmm_dev *d, unsigned q, uint64_t gpa) {
    struct hull_err e;
    if (d->ioev_gpa[q] == gpa)
        return;
    if (d->ioev_gpa[q])
        (void)kvm_vm_ioeventfd(&d->vmm->vm, d->ioev_gpa[q], 2, d->ioev_fd[q], false, &e);
    d->ioev_gpa[q] = 0;
    /* If binding fails the notify simply keeps arriving as an MMIO exit,
     * which the transport handles too: slower, never wrong. */
    if (gpa && kvm_vm_ioeventfd(&d->vmm->vm, gpa, 2, d->ioev_fd[q], true, &e) == 0)
        d->ioev_gpa[q] = gpa;
}

void vmm_dev_ioev_fini(struct vmm_dev *d) {
    for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++) {
        if (d->ioev_fd[q] < 0)
            continue;
        ioev_bind(d, q, 0);
        close(d->ioev_fd[q]);
        d->ioev_fd[q] = -1;
    }
    pthread_mutex_destroy(&d->ioev_lock);
}

/* Queues are bound while the driver runs them at the BAR's current place;
 * a reset, a BAR move or decoding turned off rebinds or unbinds them. */
void vmm_layout_changed(void *opaque) {
    struct vmm_dev *d = opaque;
    bool live = virtio_dev_get_status(d->dev) & VIRTIO_STATUS_DRIVER_OK;
    pthread_mutex_lock(&d->ioev_lock);
    for (unsigned q = 0; q < d->dev->num_queues; q++) {
        uint64_t gpa = 0;
        if (!live || !d->dev->vq[q].ready || !virtio_pci_notify_addr(&d->vp, q, &gpa))
            gpa = 0;
        ioev_bind(d, q, gpa);
    }
    pthread_mutex_unlock(&d->ioev_lock);
}

/* ---- console input ---- */

void vmm_rx_space(void *opaque, unsigned port) {
    struct vmm *v = opaque;
    (void)port;
    (void)eventfd_write(v->space_efd, 1);
}

static int epoll_add(int ep, int fd, uint64_t data) {
    struct epoll_event e = { .events = EPOLLIN, .data.u64 = data };
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

/* Moves what the host fd has into the port until the port is full (the
 * feed is then "blocked" until the guest takes bytes) or the fd is drained.
 * Regular files cannot be polled: they are pumped in bounded steps, again on
 * every space event, and a file that still has data re-arms that event
 * itself, so the I/O thread stays responsive and the file still flows. */
static void feed_pump(struct vmm *v, struct vmm_feed *f, int ep, unsigned idx) {
    for (unsigned rounds = 0; !f->eof; rounds++) {
        if (rounds == 16) {
            /* A file can always be read: come back after serving the rest. */
            (void)eventfd_write(v->space_efd, 1);
            return;
        }
        if (f->off == f->len) {
            ssize_t n = read(f->fd, f->buf, sizeof(f->buf));
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
            if (n <= 0) {
                f->eof = true;
                if (!f->file && !f->blocked)
                    (void)epoll_ctl(ep, EPOLL_CTL_DEL, f->fd, NULL);
                return;
            }
            f->off = 0;
            f->len = (size_t)n;
        }
        size_t took = virtio_console_send(v->console, f->port, f->buf + f->off, f->len - f->off);
        f->off += took;
        if (f->off < f->len) {
            if (!f->file && !f->blocked)
                (void)epoll_ctl(ep, EPOLL_CTL_DEL, f->fd, NULL);
            f->blocked = true;
            return;
        }
        if (f->blocked) {
            f->blocked = false;
            if (!f->file)
                (void)epoll_add(ep, f->fd, ev(EV_FEED, idx));
        }
        if (!f->file)
            return;   /* more comes with the next readiness event */
    }
}

/* ---- vCPU threads ---- */

struct vcpu_arg {
    struct vmm *v;
    struct kvm_vcpu *c;
};

static void kick_handler(int sig) { (void)sig; }

static void *vcpu_main(void *p) {
    struct vcpu_arg *a = p;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, VMM_KICK_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
    struct hull_err e;
    if (kvm_vcpu_run(a->c, &e) < 0) {
        pthread_mutex_lock(&a->v->err_lock);
        if (!a->v->vcpu_err.code)
            a->v->vcpu_err = e;
        pthread_mutex_unlock(&a->v->err_lock);
    }
    (void)eventfd_write(a->v->fate_efd, 1);
    return NULL;
}

static void stop_vcpus(struct vmm *v, enum vm_fate why) {
    kvm_vm_request_fate(&v->vm, why);   /* no effect when a fate is already set */
    for (unsigned i = 0; i < v->vm.nvcpus; i++) {
        kvm_vcpu_request_exit(&v->vm.vcpu[i]);
        if (v->thread_made[i])
            pthread_kill(v->thread[i], VMM_KICK_SIGNAL);
    }
    for (unsigned i = 0; i < v->vm.nvcpus; i++)
        if (v->thread_made[i]) {
            pthread_join(v->thread[i], NULL);
            v->thread_made[i] = false;
        }
}

static int start_vcpus(struct vmm *v, struct vcpu_arg *args, struct hull_err *err) {
    struct sigaction sa = { .sa_handler = kick_handler };   /* no SA_RESTART: KVM_RUN must return */
    sigemptyset(&sa.sa_mask);
    if (sigaction(VMM_KICK_SIGNAL, &sa, NULL) < 0)
        return hull_err_sys(err, "vm: kick signal");
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 << 10);   /* the run loop is shallow; keep RSS small */
    for (unsigned i = 0; i < v->vm.nvcpus; i++) {
        args[i] = (struct vcpu_arg){ v, &v->vm.vcpu[i] };
        int rc = pthread_create(&v->thread[i], &attr, vcpu_main, &args[i]);
        if (rc) {
            pthread_attr_destroy(&attr);
            errno = rc;
            return hull_err_sys(err, "vm: start vcpu %u thread", i);
        }
        v->thread_made[i] = true;
    }
    pthread_attr_destroy(&attr);
    return 0;
}

/* ---- the I/O loop ---- */

static int setup_epoll(struct vmm *v, int ep, int *timer_fd, struct hull_err *err) {
    if (epoll_add(ep, v->fate_efd, ev(EV_FATE, 0)) < 0 || epoll_add(ep, v->space_efd, ev(EV_SPACE, 0)) < 0)
        return hull_err_sys(err, "vm: epoll");
    if (v->cfg->stop_fd >= 0 && epoll_add(ep, v->cfg->stop_fd, ev(EV_STOP, 0)) < 0)
        return hull_err_sys(err, "vm: epoll stop fd");
    if (v->cfg->timeout_ms) {
        *timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        struct itimerspec t = { .it_value = { v->cfg->timeout_ms / 1000, (long)(v->cfg->timeout_ms % 1000) * 1000000 } };
        if (*timer_fd < 0 || timerfd_settime(*timer_fd, 0, &t, NULL) < 0 || epoll_add(ep, *timer_fd, ev(EV_TIMER, 0)) < 0)
            return hull_err_sys(err, "vm: timeout timer");
    }
    for (unsigned i = 0; i < v->nfeeds; i++) {
        struct vmm_feed *f = &v->feed[i];
        if (epoll_add(ep, f->fd, ev(EV_FEED, i)) < 0) {
            if (errno != EPERM)
                return hull_err_sys(err, "vm: epoll console input");
            f->file = true;   /* a regular file: pumped now and on every space event */
        }
    }
    for (unsigned d = 0; d < v->ndevs; d++)
        for (unsigned q = 0; q < v->dev[d].dev->num_queues; q++)
            if (v->dev[d].ioev_fd[q] >= 0 && epoll_add(ep, v->dev[d].ioev_fd[q], ev(EV_IOEV, d << 16 | q)) < 0)
                return hull_err_sys(err, "vm: epoll ioeventfd");
    return 0;
}

static void serve(struct vmm *v, int ep) {
    for (unsigned i = 0; i < v->nfeeds; i++)
        if (v->feed[i].file)
            feed_pump(v, &v->feed[i], ep, i);
    for (;;) {
        struct epoll_event evs[32];
        int n = epoll_wait(ep, evs, 32, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            kvm_vm_request_fate(&v->vm, VM_FATE_CRASH);
            return;
        }
        for (int i = 0; i < n; i++) {
            uint64_t d = evs[i].data.u64;
            uint32_t idx = (uint32_t)d;
            eventfd_t cnt;
            switch ((enum ev_kind)(d >> 32)) {
            case EV_FATE:
                return;   /* some vCPU ended: the fate is latched */
            case EV_STOP:
                kvm_vm_request_fate(&v->vm, VM_FATE_KILLED);
                return;
            case EV_TIMER:
                kvm_vm_request_fate(&v->vm, VM_FATE_TIMEOUT);
                return;
            case EV_SPACE:
                (void)eventfd_read(v->space_efd, &cnt);
                for (unsigned f = 0; f < v->nfeeds; f++)
                    if (v->feed[f].blocked || v->feed[f].file)
                        feed_pump(v, &v->feed[f], ep, f);
                break;
            case EV_FEED:
                feed_pump(v, &v->feed[idx], ep, idx);
                break;
            case EV_IOEV: {
                struct vmm_dev *vd = &v->dev[idx >> 16];
                unsigned q = idx & 0xffff;
                if (eventfd_read(vd->ioev_fd[q], &cnt) == 0)
                    virtio_dev_notify(vd->dev, q);
                break;
            }
            }
        }
    }
}

int vmm_loop(struct vmm *v, struct hull_err *err) {
    struct vcpu_arg args[KVM_MAX_VCPUS];
    int timer_fd = -1, rc;
    sigset_t kick, old;
    sigemptyset(&kick);
    sigaddset(&kick, VMM_KICK_SIGNAL);
    pthread_sigmask(SIG_BLOCK, &kick, &old);   /* only vCPU threads take kicks */
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
        rc = hull_err_sys(err, "vm: epoll");
        goto out;
    }
    if ((rc = setup_epoll(v, ep, &timer_fd, err)) < 0 || (rc = start_vcpus(v, args, err)) < 0) {
        stop_vcpus(v, VM_FATE_CRASH);
        goto out;
    }
    serve(v, ep);
    stop_vcpus(v, VM_FATE_CRASH);   /* the latched fate wins; CRASH only if none */
    rc = (int)kvm_vm_fate(&v->vm);
    if (rc == VM_FATE_CRASH && v->vcpu_err.code)
        *err = v->vcpu_err;
    else if (rc == VM_FATE_CRASH)
        hull_err_set(err, EIO, "vm: the VMM stopped without a reason");
out:
    if (timer_fd >= 0)
        close(timer_fd);
    if (ep >= 0)
        close(ep);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}
