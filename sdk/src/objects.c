/* The store of fedgate/objects.h: objects of a few kinds in memory, in
 * (namespace, name) order, each also one JSON file under the store's
 * directory, replaced atomically (written beside, synced, renamed), and
 * a ring of recent events that watches resume from. */
#include "objects_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include <fedgate/util.h>

#define MAX_FILE_BYTES (3u << 20)
#define MAX_DEPTH 64

static const char *meta_text(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(obj, "metadata"), key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

struct fg_objects_kind_rt *fg__objects_rt(const struct fg_objects *s,
                                          const struct fg_object_kind *k)
{
    for (size_t i = 0; i < s->n_kinds; i++)
        if (s->kinds[i].k == k)
            return &s->kinds[i];
    return NULL;
}

long fg__objects_find(const struct fg_objects_kind_rt *rt, const char *ns,
                      const char *name)
{
    size_t lo = 0, hi = rt->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(rt->v[mid].ns, ns);
        if (c == 0)
            c = strcmp(rt->v[mid].name, name);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -(long)lo - 1;
}

/* DIR/RESOURCE[/NS]; with NAME, DIR/RESOURCE[/NS]/NAME.json. */
static int path_of(const struct fg_objects *s, const struct fg_object_kind *k,
                   const char *ns, const char *name, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s/%s%s%s%s%s", s->dir, k->resource,
                     *ns ? "/" : "", ns, name ? "/" : "", name ? name : "");
    if (n < 0 || (size_t)n + 6 > len)
        return -1;
    if (name)
        strcat(buf, ".json");
    return 0;
}

static int make_dir(const char *path)
{
    return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

/* PATH and the directories above it (PATH is changed meanwhile). */
static int make_dirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int r = make_dir(path);
        *p = '/';
        if (r != 0)
            return -1;
    }
    return make_dir(path);
}

/* Writes TEXT to PATH as a whole or not at all. */
static int write_atomic(const char *path, const char *text)
{
    char tmp[4200];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    int ok = off == len && fsync(fd) == 0;
    if (close(fd) != 0 || !ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int persist(struct fg_objects *s, const struct fg_object_kind *k,
                   const cJSON *obj)
{
    char path[4096];
    const char *ns = meta_text(obj, "namespace");
    if (path_of(s, k, "", NULL, path, sizeof(path)) != 0 ||
        make_dir(path) != 0 ||
        path_of(s, k, ns, NULL, path, sizeof(path)) != 0 ||
        make_dir(path) != 0 ||
        path_of(s, k, ns, meta_text(obj, "name"), path, sizeof(path)) != 0)
        return -1;
    char *text = cJSON_PrintUnformatted(obj);
    int r = text ? write_atomic(path, text) : -1;
    free(text);
    return r;
}

/* Records event TYPE of OBJ (a copy) in the ring, forgetting the oldest. */
static void remember(struct fg_objects *s, const struct fg_object_kind *k,
                     enum fg_object_event type, const cJSON *obj)
{
    if (s->ring_n == FG_OBJECTS_RING) {
        struct fg_objects_event *old = &s->ring[s->ring_start];
        s->forgotten_rv = old->rv;
        cJSON_Delete(old->obj);
        s->ring_start = (s->ring_start + 1) % FG_OBJECTS_RING;
        s->ring_n--;
    }
    struct fg_objects_event *e =
        &s->ring[(s->ring_start + s->ring_n) % FG_OBJECTS_RING];
    *e = (struct fg_objects_event){k, type, s->rv, cJSON_Duplicate(obj, 1)};
    if (!e->obj) {
        s->forgotten_rv = s->rv; /* a watch from before must re-list */
        return;
    }
    s->ring_n++;
    fg__objects_notify(s, e);
}

static void set_rv(cJSON *obj, uint64_t rv)
{
    char text[24];
    snprintf(text, sizeof(text), "%llu", (unsigned long long)rv);
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    fg_json_set(meta, "resourceVersion", cJSON_CreateString(text));
}

int fg__objects_store(struct fg_objects *s, struct fg_objects_kind_rt *rt,
                      cJSON *obj, char *err, size_t err_len)
{
    const char *ns = meta_text(obj, "namespace"),
               *name = meta_text(obj, "name");
    long at = fg__objects_find(rt, ns, name);
    uint32_t max = rt->k->max_objects ? rt->k->max_objects : 10000;
    if (at < 0 && rt->n >= max) {
        snprintf(err, err_len, "%s: at most %u objects", rt->k->resource,
                 (unsigned)max);
        cJSON_Delete(obj);
        return -1;
    }
    if (at < 0 && rt->n == rt->cap) {
        size_t cap = rt->cap ? rt->cap * 2 : 16;
        struct fg_objects_entry *v = realloc(rt->v, cap * sizeof(*v));
        if (!v) {
            snprintf(err, err_len, "out of memory");
            cJSON_Delete(obj);
            return -1;
        }
        rt->v = v;
        rt->cap = cap;
    }
    if (at >= 0 && fg__objects_finalized(obj)) {
        /* the last finalizer went: the deletion asked for earlier ends */
        cJSON_Delete(rt->v[at].obj);
        rt->v[at].obj = obj;
        fg__objects_drop(s, rt, (size_t)at);
        return 0;
    }
    set_rv(obj, s->rv + 1);
    if (persist(s, rt->k, obj) != 0) {
        snprintf(err, err_len, "cannot write %s \"%s\" under %s",
                 rt->k->resource, name, s->dir);
        cJSON_Delete(obj);
        return -1;
    }
    s->rv++;
    enum fg_object_event ev = at < 0 ? FG_OBJECT_ADDED : FG_OBJECT_MODIFIED;
    if (at < 0) {
        size_t i = (size_t)(-at - 1);
        char *n = strdup(name), *space = strdup(ns);
        if (!n || !space) {
            free(n);
            free(space);
            snprintf(err, err_len, "out of memory");
            cJSON_Delete(obj);
            return -1;
        }
        memmove(&rt->v[i + 1], &rt->v[i], (rt->n - i) * sizeof(rt->v[0]));
        rt->v[i] = (struct fg_objects_entry){space, n, obj};
        rt->n++;
    } else {
        cJSON_Delete(rt->v[at].obj);
        rt->v[at].obj = obj;
    }
    remember(s, rt->k, ev, obj);
    if (s->hooks.changed)
        s->hooks.changed(s->hooks.arg, rt->k, ev, obj);
    return 0;
}

void fg__objects_drop(struct fg_objects *s, struct fg_objects_kind_rt *rt,
                      size_t i)
{
    struct fg_objects_entry e = rt->v[i];
    char path[4096];
    if (path_of(s, rt->k, e.ns, e.name, path, sizeof(path)) == 0)
        unlink(path);
    memmove(&rt->v[i], &rt->v[i + 1], (rt->n - i - 1) * sizeof(rt->v[0]));
    rt->n--;
    set_rv(e.obj, ++s->rv);
    remember(s, rt->k, FG_OBJECT_DELETED, e.obj);
    if (s->hooks.changed)
        s->hooks.changed(s->hooks.arg, rt->k, FG_OBJECT_DELETED, e.obj);
    cJSON_Delete(e.obj);
    free(e.ns);
    free(e.name);
}

/* ---- loading ------------------------------------------------------------- */

static cJSON *read_object(const char *path, char *err, size_t err_len)
{
    FILE *f = fopen(path, "rb");
    char *buf = malloc(MAX_FILE_BYTES + 1);
    size_t n = f && buf ? fread(buf, 1, MAX_FILE_BYTES + 1, f) : 0;
    cJSON *obj = NULL;
    if (!f || !buf)
        snprintf(err, err_len, "%s: cannot read it", path);
    else if (n > MAX_FILE_BYTES)
        snprintf(err, err_len, "%s: larger than %u bytes", path,
                 MAX_FILE_BYTES);
    else if (fg_json_depth(buf, n, MAX_DEPTH) > MAX_DEPTH ||
             !(obj = cJSON_ParseWithLength(buf, n)) || !cJSON_IsObject(obj))
        snprintf(err, err_len, "%s: not a JSON object", path);
    if (f)
        fclose(f);
    free(buf);
    if (obj && !cJSON_IsObject(obj)) {
        cJSON_Delete(obj);
        obj = NULL;
    }
    return obj;
}

/* Loads the files of one directory (DIR/RESOURCE or DIR/RESOURCE/NS). */
static int load_dir(struct fg_objects *s, struct fg_objects_kind_rt *rt,
                    const char *ns, char *err, size_t err_len)
{
    char path[4096];
    if (path_of(s, rt->k, ns, NULL, path, sizeof(path)) != 0)
        return -1;
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT ? 0 : -1;
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        size_t len = strlen(n);
        if (n[0] == '.')
            continue;
        if (rt->k->namespaced && !*ns) {
            rc = load_dir(s, rt, n, err, err_len);
            continue;
        }
        if (len < 6 || strcmp(n + len - 5, ".json") != 0)
            continue; /* a .tmp left by a crash */
        char file[4400];
        snprintf(file, sizeof(file), "%s/%s", path, n);
        cJSON *obj = read_object(file, err, err_len);
        const char *name = obj ? meta_text(obj, "name") : "";
        if (!obj) {
            rc = -1;
        } else if (strlen(name) != len - 5 || strncmp(name, n, len - 5) != 0 ||
                   strcmp(meta_text(obj, "namespace"), ns) != 0) {
            snprintf(err, err_len, "%s: its metadata names another object",
                     file);
            cJSON_Delete(obj);
            rc = -1;
        } else {
            uint64_t rv = strtoull(meta_text(obj, "resourceVersion"), NULL, 10);
            long at = fg__objects_find(rt, ns, name);
            char *nm = strdup(name), *space = strdup(ns);
            struct fg_objects_entry *v =
                rt->n == rt->cap
                    ? realloc(rt->v, (rt->cap ? rt->cap * 2 : 16) * sizeof(*v))
                    : rt->v;
            if (!nm || !space || !v || at >= 0) {
                snprintf(err, err_len, "%s: out of memory", file);
                free(nm);
                free(space);
                cJSON_Delete(obj);
                rc = -1;
                if (v)
                    rt->v = v;
                continue;
            }
            if (rt->n == rt->cap)
                rt->cap = rt->cap ? rt->cap * 2 : 16;
            rt->v = v;
            size_t i = (size_t)(-at - 1);
            memmove(&rt->v[i + 1], &rt->v[i], (rt->n - i) * sizeof(rt->v[0]));
            rt->v[i] = (struct fg_objects_entry){space, nm, obj};
            rt->n++;
            if (rv > s->rv)
                s->rv = rv;
        }
    }
    closedir(d);
    return rc;
}

struct fg_objects *fg_objects_new(const char *dir,
                                  const struct fg_object_kind *kinds,
                                  const struct fg_object_hooks *hooks,
                                  char *err, size_t err_len)
{
    struct fg_objects *s = calloc(1, sizeof(*s));
    size_t n = 0;
    while (kinds[n].resource)
        n++;
    if (!s || !(s->dir = strdup(dir)) ||
        !(s->kinds = calloc(n ? n : 1, sizeof(*s->kinds)))) {
        snprintf(err, err_len, "out of memory");
        fg_objects_free(s);
        return NULL;
    }
    if (hooks)
        s->hooks = *hooks;
    s->n_kinds = n;
    if (make_dirs(s->dir) != 0) {
        snprintf(err, err_len, "%s: cannot make the directory: %s", dir,
                 strerror(errno));
        fg_objects_free(s);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        s->kinds[i].k = &kinds[i];
        if (load_dir(s, &s->kinds[i], "", err, err_len) != 0) {
            fg_objects_free(s);
            return NULL;
        }
    }
    return s;
}

void fg_objects_free(struct fg_objects *s)
{
    if (!s)
        return;
    fg__objects_end_watches(s);
    for (size_t i = 0; s->kinds && i < s->n_kinds; i++) {
        for (size_t j = 0; j < s->kinds[i].n; j++) {
            cJSON_Delete(s->kinds[i].v[j].obj);
            free(s->kinds[i].v[j].ns);
            free(s->kinds[i].v[j].name);
        }
        free(s->kinds[i].v);
    }
    for (size_t i = 0; i < s->ring_n; i++)
        cJSON_Delete(s->ring[(s->ring_start + i) % FG_OBJECTS_RING].obj);
    free(s->kinds);
    free(s->dir);
    free(s);
}

/* ---- what a new object gets --------------------------------------------- */

int fg__objects_random_hex(char *out, size_t n)
{
    unsigned char b[32];
    if (n > 2 * sizeof(b) || RAND_bytes(b, (int)((n + 1) / 2)) != 1)
        return -1;
    for (size_t i = 0; i < n; i++)
        out[i] = "0123456789abcdef"[(b[i / 2] >> (i % 2 ? 0 : 4)) & 15];
    out[n] = '\0';
    return 0;
}

void fg__objects_now(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void fg__objects_stamp(cJSON *meta)
{
    char hex[33], uid[37], stamp[32];
    fg__objects_random_hex(hex, 32);
    snprintf(uid, sizeof(uid), "%.8s-%.4s-4%.3s-a%.3s-%.12s", hex, hex + 8,
             hex + 12, hex + 15, hex + 18);
    fg__objects_now(stamp);
    fg_json_set(meta, "uid", cJSON_CreateString(uid));
    fg_json_set(meta, "creationTimestamp", cJSON_CreateString(stamp));
    fg_json_set(meta, "generation", cJSON_CreateNumber(1));
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "resourceVersion");
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "deletionTimestamp");
}

int fg__objects_finalized(const cJSON *obj)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    return cJSON_GetObjectItemCaseSensitive(meta, "deletionTimestamp") &&
           cJSON_GetArraySize(
               cJSON_GetObjectItemCaseSensitive(meta, "finalizers")) == 0;
}

/* ---- the service's own access ------------------------------------------- */

const struct cJSON *fg_objects_get(const struct fg_objects *s,
                                   const struct fg_object_kind *k,
                                   const char *ns, const char *name)
{
    const struct fg_objects_kind_rt *rt = fg__objects_rt(s, k);
    long at = rt ? fg__objects_find(rt, ns ? ns : "", name) : -1;
    return at >= 0 ? rt->v[at].obj : NULL;
}

int fg_objects_put(struct fg_objects *s, const struct fg_object_kind *k,
                   struct cJSON *obj, char *err, size_t err_len)
{
    struct fg_objects_kind_rt *rt = fg__objects_rt(s, k);
    if (!rt || !*meta_text(obj, "name") ||
        (k->namespaced != 0) != (*meta_text(obj, "namespace") != 0)) {
        snprintf(err, err_len, "not a %s of this store", k->kind);
        cJSON_Delete(obj);
        return -1;
    }
    if (!fg_objects_get(s, k, meta_text(obj, "namespace"),
                        meta_text(obj, "name")))
        fg__objects_stamp(cJSON_GetObjectItemCaseSensitive(obj, "metadata"));
    return fg__objects_store(s, rt, obj, err, err_len);
}

int fg_objects_remove(struct fg_objects *s, const struct fg_object_kind *k,
                      const char *ns, const char *name)
{
    struct fg_objects_kind_rt *rt = fg__objects_rt(s, k);
    long at = rt ? fg__objects_find(rt, ns ? ns : "", name) : -1;
    if (at < 0)
        return -1;
    fg__objects_drop(s, rt, (size_t)at);
    return 0;
}

void fg_objects_each(const struct fg_objects *s, const struct fg_object_kind *k,
                     int (*fn)(void *arg, const struct cJSON *obj), void *arg)
{
    const struct fg_objects_kind_rt *rt = fg__objects_rt(s, k);
    for (size_t i = 0; rt && i < rt->n; i++)
        if (fn(arg, rt->v[i].obj))
            return;
}
