/* Client connections per source address, for max_connections_per_source:
 * a worker's open-addressing table from source to count, touched only by
 * that worker's thread (no lock; the cap is therefore per worker). An IPv4
 * address is one source; IPv6 addresses are grouped by /64, the block one
 * host usually holds, and IPv4-mapped IPv6 addresses count as IPv4. */
#ifndef FG_CONN_SOURCES_H
#define FG_CONN_SOURCES_H

#include <stddef.h>
#include <stdint.h>

struct sockaddr;

struct fg_source {
    uint64_t bits; /* the IPv4 address, or the IPv6 /64 prefix */
    int family;    /* AF_INET, AF_INET6, or 0: not counted */
};

struct fg_source_entry {
    struct fg_source src;
    uint32_t count; /* 0: the entry is free */
};

struct fg_source_table {
    struct fg_source_entry *entries;
    size_t mask; /* capacity - 1, capacity a power of two */
    uint64_t seed;
};

/* A table for up to MAX_SOURCES distinct sources at once. Returns 0 or -1. */
int fg_source_table_init(struct fg_source_table *t, size_t max_sources);
void fg_source_table_free(struct fg_source_table *t);

/* The source ADDR counts as (family 0 for anything but IPv4 and IPv6). */
struct fg_source fg_source_of(const struct sockaddr *addr);

/* Counts one more connection from SRC unless it has CAP already (CAP 0: no
 * cap). Returns 0, or -1 when over the cap or the table is full. */
int fg_source_take(struct fg_source_table *t, const struct fg_source *src,
                   uint32_t cap);
/* One connection from SRC closed. */
void fg_source_release(struct fg_source_table *t, const struct fg_source *src);
/* Connections counted for SRC. */
uint32_t fg_source_count(const struct fg_source_table *t,
                         const struct fg_source *src);

#endif
