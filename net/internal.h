/* Helpers shared inside net/ (not a public contract). */
#ifndef HULL_NET_INTERNAL_H
#define HULL_NET_INTERNAL_H

#include <stdbool.h>
#include <stdlib.h>

/* A growable array of elem-sized slots; oom is sticky. */
struct hull_vec { void *v; size_t n, cap, elem; bool oom; };

static inline void *hull_vec_push(struct hull_vec *x) {
    if (x->oom) return NULL;
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 16;
        void *nv = realloc(x->v, cap * x->elem);
        if (!nv) { x->oom = true; return NULL; }
        x->v = nv;
        x->cap = cap;
    }
    return (char *)x->v + x->elem * x->n++;
}

/* ---- the per-container record (record.c) ---------------------------------------- */
#include "net/net.h"

#define HULL_NET_MAX_PORTS 64

/* <data_root>/containers/<id>/net.json: written before anything it names exists. */
struct hull_net_record {
    enum hull_net_mode mode;
    char network[65];
    char bridge[16];
    char veth[16];
    struct hull_port ports[HULL_NET_MAX_PORTS];
    size_t n_ports;
};

void hull_net_ctr_dir(const char *data_root, const char *id, char *out, size_t len);
int hull_net_record_write(const char *data_root, const char *id, const struct hull_net_record *r,
                          struct hull_err *err);
/* -ENOENT (err filled) when there is no record. */
int hull_net_record_read(const char *data_root, const char *id, struct hull_net_record *r, struct hull_err *err);
const char *hull_net_mode_name(enum hull_net_mode m);
/* 8 hex digits naming the data root in rule comments and link aliases, so a
 * prune of one data root never touches another's. */
void hull_net_root_tag(const char *data_root, char out[9]);
/* The host end of a container's veth: "hv" + 13 hex digits of a hash of the id. */
void hull_net_veth_name(const char *id, char out[16]);
/* Rule comment / link alias of a container: "hull:<id> r=<tag>[ p=<mapping>]". */
void hull_net_tag(const char *id, const char *root_tag, const struct hull_port *p, char *out, size_t len);
/* Parses such a tag; false when it is not one. port->host_port == 0 when absent. */
bool hull_net_tag_parse(const char *s, char *id, size_t id_len, char root_tag[9], struct hull_port *port);

/* Hosts files of every container on the network, from its leases (record.c). */
void hull_net_refresh_hosts(const char *data_root, const struct hull_network *net, const struct hull_lease *v,
                            size_t n);

#endif
