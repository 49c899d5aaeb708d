/* virtio-console multiport: the control-queue handshake as Linux's driver
 * does it, then port traffic both ways. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "vm/devices/virtio/console.h"
#include "tests/lib/virtq_sim.h"

#define RAM 0x200000ull
#define QS  8
#define NQ  8                       /* 3 ports: 2 * (3 + 1) queues */
#define RINGS(q) (0x1000ull + 0x1000ull * (q))
#define BUFS(q)  (0x100000ull + 0x2000ull * (q))

static struct vm_mem mem;
static uint8_t *ram;
static struct virtq_sim sim[NQ];

struct msg { uint32_t id; uint16_t event, value; };

/* Offers n writable buffers of 256 bytes on queue q. */
static void give_rx(struct virtio_dev *d, unsigned q, unsigned n) {
    for (uint16_t i = 0; i < n; i++) {
        virtq_sim_desc(&sim[q], sim[q].desc, i, BUFS(q) + 256u * i, 256, VIRTQ_DESC_F_WRITE, 0);
        virtq_sim_publish(&sim[q], i);
    }
    virtio_dev_notify(d, q);
}

static void send_ctrl(struct virtio_dev *d, uint32_t id, uint16_t event, uint16_t value) {
    struct msg m = { id, event, value };
    uint16_t slot = sim[3].avail_idx % QS;
    vm_mem_write(&mem, BUFS(3) + 16u * slot, &m, sizeof(m));
    virtq_sim_desc(&sim[3], sim[3].desc, slot, BUFS(3) + 16u * slot, sizeof(m), 0, 0);
    virtq_sim_publish(&sim[3], slot);
    virtio_dev_notify(d, 3);
}

/* Next control message from the device; name receives PORT_NAME's payload. */
static int recv_ctrl(struct msg *m, char *name) {
    uint32_t id, len;
    if (!virtq_sim_used(&sim[2], &id, &len))
        return 0;
    memcpy(m, ram + BUFS(2) + 256u * id, sizeof(*m));
    if (name)
        snprintf(name, 64, "%s", (char *)ram + BUFS(2) + 256u * id + sizeof(*m));
    virtq_sim_publish(&sim[2], (uint16_t)id);   /* recycle the buffer, as the driver does */
    return 1;
}

int main(void) {
    ram = aligned_alloc(4096, RAM);
    memset(ram, 0, RAM);
    vm_mem_init(&mem);
    struct hull_err err;
    vm_mem_add_host(&mem, 0, RAM, ram, &err);
    int out[2];
    if (pipe2(out, O_NONBLOCK) < 0)
        bail_out("fixture: pipe2: %s", strerror(errno));

    struct virtio_console_opts o = { .nports = 3 };
    o.port[0] = (struct virtio_console_port_cfg){ .console = true, .out_fd = -1 };
    o.port[1] = (struct virtio_console_port_cfg){ .name = "hull.stdout", .out_fd = out[1] };
    o.port[2] = (struct virtio_console_port_cfg){ .name = "hull.stdin", .out_fd = -1 };
    struct virtio_dev *d;
    is_int(virtio_console_create(&d, &mem, &o, &err), 0, "console with 3 ports");
    is_int(d->num_queues, NQ, "8 queues");
    uint32_t maxp = 0;
    virtio_dev_config_read(d, 4, &maxp, 4);
    is_int(maxp, 3, "config max_nr_ports");

    d->driver_features = d->host_features & ((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_CONSOLE_F_MULTIPORT));
    virtio_dev_set_status(d, 0x0b);
    for (unsigned q = 0; q < NQ; q++) {
        virtq_sim_init(&sim[q], &mem, QS, RINGS(q));
        virtio_dev_queue_enable(d, q, QS, sim[q].desc, sim[q].avail, sim[q].used);
    }
    virtio_dev_set_status(d, 0x0f);
    ok(virtio_dev_running(d), "driver ok");

    give_rx(d, 2, QS);
    send_ctrl(d, 0, VIRTIO_CONSOLE_DEVICE_READY, 1);
    struct msg m;
    int adds = 0;
    while (recv_ctrl(&m, NULL))
        adds += m.event == VIRTIO_CONSOLE_DEVICE_ADD && m.id == (uint32_t)adds;
    is_int(adds, 3, "DEVICE_ADD for ports 0, 1, 2 in order");

    int console = 0, opens = 0, names_ok = 0;
    char name[64];
    for (uint32_t p = 0; p < 3; p++) {
        send_ctrl(d, p, VIRTIO_CONSOLE_PORT_READY, 1);
        while (recv_ctrl(&m, name)) {
            console += m.event == VIRTIO_CONSOLE_CONSOLE_PORT && m.id == 0;
            opens += m.event == VIRTIO_CONSOLE_PORT_OPEN && m.value == 1;
            if (m.event == VIRTIO_CONSOLE_PORT_NAME)
                names_ok += (p == 1 && !strcmp(name, "hull.stdout")) || (p == 2 && !strcmp(name, "hull.stdin"));
        }
    }
    is_int(console, 1, "port 0 announced as the console");
    is_int(names_ok, 2, "named ports announce their names");
    is_int(opens, 3, "host side of every port open");
    ok(virtio_console_port_open(d, 0), "console port counts as open");
    ok(!virtio_console_port_open(d, 2), "port 2 not open until the guest opens it");

    /* guest → host on port 1 (tx queue 5), split over two descriptors */
    vm_mem_write(&mem, BUFS(5), "hello ", 6);
    vm_mem_write(&mem, BUFS(5) + 100, "host\n", 5);
    virtq_sim_desc(&sim[5], sim[5].desc, 0, BUFS(5), 6, VIRTQ_DESC_F_NEXT, 1);
    virtq_sim_desc(&sim[5], sim[5].desc, 1, BUFS(5) + 100, 5, 0, 0);
    virtq_sim_publish(&sim[5], 0);
    virtio_dev_notify(d, 5);
    char got[32] = {0};
    ok(read(out[0], got, sizeof(got)) == 11 && !strcmp(got, "hello host\n"), "port 1 bytes reach its fd");

    /* host → guest on port 2: buffered until the guest opens the port */
    give_rx(d, 6, 2);
    is_int(virtio_console_send(d, 2, "input!", 6), 6, "host input accepted");
    uint32_t id, len;
    ok(!virtq_sim_used(&sim[6], &id, &len), "not delivered to a closed port");
    send_ctrl(d, 2, VIRTIO_CONSOLE_PORT_OPEN, 1);
    ok(virtq_sim_used(&sim[6], &id, &len) && len == 6 && !memcmp(ram + BUFS(6) + 256u * id, "input!", 6),
       "delivered once the guest opened the port");
    ok(virtio_console_port_open(d, 2), "port 2 open");

    /* more than fits in one guest buffer: split across buffers */
    char big[300];
    memset(big, 'x', sizeof(big));
    is_int(virtio_console_send(d, 2, big, sizeof(big)), 300, "300 bytes accepted");
    ok(virtq_sim_used(&sim[6], &id, &len) && len == 256, "first buffer full");
    ok(!virtq_sim_used(&sim[6], &id, &len), "rest waits for another buffer");
    give_rx(d, 6, 1);
    ok(virtq_sim_used(&sim[6], &id, &len) && len == 44, "rest delivered when the guest gives a buffer");

    /* bounded host buffer */
    static char huge[VIRTIO_CONSOLE_PORT_BUF + 100];
    size_t n = virtio_console_send(d, 1, huge, sizeof(huge));
    is_int(n, VIRTIO_CONSOLE_PORT_BUF, "a port buffers at most VIRTIO_CONSOLE_PORT_BUF bytes");
    ok(virtio_console_send(d, 9, "x", 1) == 0, "unknown port accepts nothing");

    /* bad control traffic: a PORT_READY for a port that does not exist is ignored */
    send_ctrl(d, 77, VIRTIO_CONSOLE_PORT_READY, 1);
    ok(virtio_dev_running(d), "unknown port id ignored");
    /* a malformed tx ring breaks only this device */
    virtq_sim_desc(&sim[1], sim[1].desc, 0, RAM - 2, 16, 0, 0);
    virtq_sim_publish(&sim[1], 0);
    virtio_dev_notify(d, 1);
    ok(d->broken, "buffer outside RAM on the console's tx queue: NEEDS_RESET");
    ok(virtio_console_send(d, 0, "late", 4) == 4, "host side still accepts input (buffered)");

    virtio_dev_free(d);
    close(out[0]);
    close(out[1]);
    vm_mem_free(&mem);
    free(ram);
    return done_testing();
}
