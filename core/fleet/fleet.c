/* The fleet's state (fleet.h): reconciled with worker 0's view of the
 * running generation, and each member's health read on an interval with
 * jitter. Ready turns False only after health_failures bad reads in a row
 * and True after health_successes good ones, so a Cluster's status does
 * not flicker; each change is a new resourceVersion and an event. */
#include "fleet/fleet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <openssl/rand.h>

#include "base/log.h"
#include "config/config.h"
#include "daemon/gateway.h"
#include "daemon/generation.h"
#include "fleet/fleet_internal.h"

/* Changes a watch can catch up on after a pause; older ones get 410. */
#define RING 512

struct event_rec {
    uint64_t rv;
    const char *type; /* ADDED, MODIFIED, DELETED */
    cJSON *object;
};

struct fg_fleet {
    struct fg_gateway *gw;
    pthread_mutex_t lock;
    uint64_t base; /* the first resourceVersion of this run */
    uint64_t rv;   /* the last one given */
    struct fg_fleet_cluster **clusters;
    size_t n;
    uint64_t gen_id; /* the generation reconciled with */
    struct event_rec ring[RING];
    uint64_t ring_next;  /* events made so far */
    struct event *timer; /* on worker 0's loop */
    struct fg_fleet_watchers watchers;
    struct fg_fleet_writer *writer;
};

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct fg_fleet_watchers *fg_fleet_watchers_of(struct fg_fleet *f)
{
    return &f->watchers;
}

struct fg_fleet_writer *fg_fleet_writer_of(struct fg_fleet *f)
{
    return f->writer;
}

/* Records C's change as TYPE, under the lock. */
static void changed(struct fg_fleet *f, struct fg_fleet_cluster *c,
                    const char *type)
{
    c->rv = ++f->rv;
    struct event_rec *e = &f->ring[f->ring_next % RING];
    cJSON_Delete(e->object);
    e->rv = c->rv;
    e->type = type;
    e->object = fg_fleet_cluster_object(c);
    f->ring_next++;
}

static void cluster_free(struct fg_fleet_cluster *c)
{
    if (!c)
        return;
    fg_config_section_destroy(c->section);
    free(c);
}

static void set_condition(struct fg_fleet_condition *k, const char *status,
                          const char *reason, const char *message)
{
    if (!k->status || strcmp(k->status, status) != 0)
        k->changed_ms = wall_ms();
    k->status = status;
    k->reason = reason;
    snprintf(k->message, sizeof(k->message), "%s", message);
}

static struct fg_fleet_cluster *cluster_new(const struct fg_config_section *s)
{
    struct fg_fleet_cluster *c = calloc(1, sizeof(*c));
    unsigned char r[16];
    if (!c || !(c->section = fg_config_section_dup(s))) {
        free(c);
        return NULL;
    }
    if (RAND_bytes(r, sizeof(r)) != 1)
        memset(r, 0, sizeof(r));
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    snprintf(c->uid, sizeof(c->uid),
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10],
             r[11], r[12], r[13], r[14], r[15]);
    /* The file that declares the member was written when it joined: its
     * age survives restarts, as a Cluster object's would. */
    struct stat st;
    c->created_ms = stat(s->file, &st) == 0 ? (int64_t)st.st_mtim.tv_sec * 1000
                                            : wall_ms() / 1000 * 1000;
    snprintf(c->connection_type, sizeof(c->connection_type), "%s",
             fg_config_get(s, "driver"));
    set_condition(&c->ready, "Unknown", "Probing",
                  "the member's health has not been read often enough yet");
    return c;
}

static struct fg_fleet_cluster *find(struct fg_fleet *f, const char *name,
                                     size_t *at)
{
    for (size_t i = 0; i < f->n; i++) /* reconcile() leaves holes */
        if (f->clusters[i] &&
            strcmp(f->clusters[i]->section->name, name) == 0) {
            if (at)
                *at = i;
            return f->clusters[i];
        }
    return NULL;
}

/* The members of CFG, in its order: kept when their section is the same,
 * else made again (MODIFIED) or new (ADDED); the others DELETED. Under
 * the lock. Returns whether anything changed. */
static int reconcile(struct fg_fleet *f, const struct fg_config *cfg)
{
    struct fg_fleet_cluster **next =
        calloc(cfg->n_members ? cfg->n_members : 1, sizeof(*next));
    if (!next)
        return 0;
    int any = 0;
    for (size_t i = 0; i < cfg->n_members; i++) {
        const struct fg_config_section *s = &cfg->members[i];
        int is_host =
            cfg->host_cluster && strcmp(cfg->host_cluster, s->name) == 0;
        size_t at;
        struct fg_fleet_cluster *old = find(f, s->name, &at);
        if (old && fg_config_section_equal(old->section, s) &&
            old->is_host == is_host) {
            next[i] = old;
            f->clusters[at] = NULL;
            continue;
        }
        struct fg_fleet_cluster *c = cluster_new(s);
        if (!c)
            continue; /* out of memory: listed again on the next look */
        const char *type = old ? "MODIFIED" : "ADDED";
        if (old) { /* the same object, its spec changed: what was seen stays */
            struct fg_config_section *section = c->section;
            *c = *old;
            c->section = section;
            snprintf(c->connection_type, sizeof(c->connection_type), "%s",
                     fg_config_get(section, "driver"));
            f->clusters[at] = NULL;
            cluster_free(old);
        }
        c->is_host = is_host;
        next[i] = c;
        changed(f, c, type);
        any = 1;
    }
    for (size_t i = 0; i < f->n; i++) {
        if (!f->clusters[i])
            continue;
        changed(f, f->clusters[i], "DELETED");
        cluster_free(f->clusters[i]);
        any = 1;
    }
    free(f->clusters);
    f->clusters = next;
    f->n = cfg->n_members;
    /* a member that could not be copied (out of memory) is left out */
    size_t m = 0;
    for (size_t i = 0; i < f->n; i++)
        if (next[i])
            next[m++] = next[i];
    f->n = m;
    return any;
}

static int same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* One health read H of C, under the lock. Returns whether C changed. */
static int observe(struct fg_fleet *f, struct fg_fleet_cluster *c,
                   const struct fg_member_health *h)
{
    const struct fg_config *cfg = f->gw->workers[0].gen->cfg;
    struct fg_fleet_cluster before = *c;
    c->health = *h;
    c->health.version[sizeof(c->health.version) - 1] = '\0';
    c->health.last_error[sizeof(c->health.last_error) - 1] = '\0';
    if (h->ready) {
        c->healthy_streak++;
        c->failed_streak = 0;
    } else {
        c->failed_streak++;
        c->healthy_streak = 0;
    }
    /* the first good read decides a Cluster never seen yet; a bad one
     * waits for the count, as a member may still be starting */
    uint32_t successes =
        strcmp(c->ready.status, "Unknown") == 0 ? 1 : cfg->health.successes;
    if (h->ready && (uint32_t)c->healthy_streak >= successes)
        set_condition(&c->ready, "True", "Healthy",
                      "the member answers its health probe");
    else if (!h->ready && (uint32_t)c->failed_streak >= cfg->health.failures)
        set_condition(&c->ready, "False", "Unhealthy",
                      c->health.last_error[0] ? c->health.last_error
                                              : "the member is not ready");
    c->has_agent = h->tunnels_expected > 0;
    if (c->has_agent) {
        char msg[96];
        snprintf(msg, sizeof(msg), "%u of %u tunnel(s) connected",
                 h->tunnels_live, h->tunnels_expected);
        set_condition(&c->agent, h->tunnels_live ? "True" : "False",
                      h->tunnels_live ? "AgentConnected" : "AgentDisconnected",
                      msg);
        snprintf(c->connection_type, sizeof(c->connection_type), "proxy");
    }
    if (h->client_cert_not_after) {
        char msg[128];
        time_t at = (time_t)h->client_cert_not_after;
        struct tm tm;
        int soon = h->client_cert_not_after - wall_ms() / 1000 < 7 * 86400;
        if (!gmtime_r(&at, &tm) ||
            !strftime(msg, sizeof(msg),
                      "the client certificate expires at "
                      "%Y-%m-%dT%H:%M:%SZ",
                      &tm))
            snprintf(msg, sizeof(msg), "the client certificate's expiry");
        set_condition(&c->cert, soon ? "True" : "False",
                      soon ? "CertificateExpiresSoon" : "CertificateValid",
                      msg);
    }
    /* what a Cluster shows and a watcher wants to hear of; the round trip
     * is a live reading, not a change */
    return strcmp(before.ready.status, c->ready.status) != 0 ||
           strcmp(before.ready.message, c->ready.message) != 0 ||
           strcmp(before.health.version, c->health.version) != 0 ||
           before.has_agent != c->has_agent ||
           before.health.tunnels_live != c->health.tunnels_live ||
           before.health.tunnels_expected != c->health.tunnels_expected ||
           before.health.node_count != c->health.node_count ||
           before.health.node_count_known != c->health.node_count_known ||
           before.health.client_cert_not_after !=
               c->health.client_cert_not_after ||
           !same(before.cert.status, c->cert.status) ||
           strcmp(before.connection_type, c->connection_type) != 0;
}

/* Reads every member's health on worker 0's view. */
static void sample(struct fg_fleet *f, int *any)
{
    const struct fg_worker_gen *g = f->gw->workers[0].gen;
    for (size_t i = 0; i < g->n_members; i++) {
        const struct fg_member_rt *m = g->members[i];
        struct fg_member_health h = {.ready = 1};
        if (m->ops->health)
            m->ops->health(m->instance, &h);
        pthread_mutex_lock(&f->lock);
        struct fg_fleet_cluster *c = find(f, m->section->name, NULL);
        if (c && observe(f, c, &h)) {
            changed(f, c, "MODIFIED");
            *any = 1;
        }
        pthread_mutex_unlock(&f->lock);
    }
}

static void arm(struct fg_fleet *f)
{
    uint64_t ms = f->gw->workers[0].gen->cfg->health.interval_ms;
    uint32_t r = 0;
    if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
        r = (uint32_t)wall_ms();
    /* +-10%: members joined together are not read in step forever */
    ms = ms * 9 / 10 + (ms / 5 ? r % (ms / 5 + 1) : 0);
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(f->timer, &tv);
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct fg_fleet *f = arg;
    const struct fg_worker_gen *g = f->gw->workers[0].gen;
    int any = 0;
    if (!g)
        return; /* stopping */
    pthread_mutex_lock(&f->lock);
    if (f->gen_id != g->gen->id) {
        f->gen_id = g->gen->id;
        any |= reconcile(f, g->cfg);
    }
    pthread_mutex_unlock(&f->lock);
    sample(f, &any);
    if (any)
        fg_fleet_watchers_notify(&f->watchers);
    arm(f);
}

struct fg_fleet *fg_fleet_new(struct fg_gateway *gw)
{
    struct fg_fleet *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->gw = gw;
    /* Counted on from the start time: a resourceVersion from an earlier
     * run is older than anything this one has, so its watch gets 410. */
    f->base = f->rv = (uint64_t)wall_ms() * 1000;
    pthread_mutex_init(&f->lock, NULL);
    f->timer = evtimer_new(gw->workers[0].base, tick, f);
    if (!f->timer || fg_fleet_watchers_init(&f->watchers, gw) != 0 ||
        !(f->writer = fg_fleet_writer_new(gw))) {
        fg_fleet_free(f);
        return NULL;
    }
    tick(-1, 0, f);
    return f;
}

void fg_fleet_free(struct fg_fleet *f)
{
    if (!f)
        return;
    fg_fleet_writer_free(f->writer); /* first: it reads the fleet */
    if (f->timer)
        event_free(f->timer);
    fg_fleet_watchers_free(&f->watchers);
    for (size_t i = 0; i < f->n; i++)
        cluster_free(f->clusters[i]);
    free(f->clusters);
    for (size_t i = 0; i < RING; i++)
        cJSON_Delete(f->ring[i].object);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

void fg_fleet_poke(struct fg_fleet *f)
{
    if (f)
        event_active(f->timer, EV_TIMEOUT, 0);
}

int fg_fleet_snapshot(struct fg_fleet *f, cJSON **items, uint64_t *rv)
{
    cJSON *arr = cJSON_CreateArray();
    int failed = !arr;
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; !failed && i < f->n; i++) {
        cJSON *o = fg_fleet_cluster_object(f->clusters[i]);
        failed = !o || !cJSON_AddItemToArray(arr, o);
        if (failed)
            cJSON_Delete(o);
    }
    *rv = f->rv;
    pthread_mutex_unlock(&f->lock);
    if (failed) {
        cJSON_Delete(arr);
        return -1;
    }
    *items = arr;
    return 0;
}

cJSON *fg_fleet_get(struct fg_fleet *f, const char *name, int *missing)
{
    pthread_mutex_lock(&f->lock);
    struct fg_fleet_cluster *c = find(f, name, NULL);
    cJSON *o = c ? fg_fleet_cluster_object(c) : NULL;
    pthread_mutex_unlock(&f->lock);
    *missing = !c;
    return o;
}

uint64_t fg_fleet_rv(struct fg_fleet *f)
{
    pthread_mutex_lock(&f->lock);
    uint64_t rv = f->rv;
    pthread_mutex_unlock(&f->lock);
    return rv;
}

int fg_fleet_events_since(struct fg_fleet *f, uint64_t rv, cJSON *out,
                          uint64_t *last)
{
    int rc = 0;
    pthread_mutex_lock(&f->lock);
    uint64_t first = f->ring_next > RING ? f->ring_next - RING : 0;
    /* from another run, from the future, or older than the ring holds */
    if (rv < f->base || rv > f->rv ||
        (f->ring_next > RING && f->ring[first % RING].rv > rv + 1))
        rc = 1;
    *last = rv > f->rv ? rv : f->rv;
    for (uint64_t s = first; rc == 0 && s < f->ring_next; s++) {
        const struct event_rec *e = &f->ring[s % RING];
        if (e->rv <= rv)
            continue;
        cJSON *ev = cJSON_CreateObject();
        cJSON *o = cJSON_Duplicate(e->object, 1);
        if (!ev || !o || !cJSON_AddItemToArray(out, ev)) {
            cJSON_Delete(ev);
            cJSON_Delete(o);
            rc = -1;
            break;
        }
        cJSON_AddStringToObject(ev, "type", e->type);
        cJSON_AddItemToObject(ev, "object", o);
    }
    pthread_mutex_unlock(&f->lock);
    return rc;
}
