/* Optional persistence of a mock member's store (the member key
 * `persist = PATH`): at start the store comes from PATH when that file
 * exists, else from the seed; after writes it is saved back to PATH.
 *
 * The file has the seed format ({"objects": [...]}) so it can serve as a
 * seed too. Unlike a seed, loading it keeps each object's resourceVersion
 * and sets the member's counter to the largest one, so that clients that
 * remember resourceVersions across a restart see them move forward.
 *
 * Saves are atomic (a temporary file in the same directory, fsync,
 * rename, fsync of the directory) so a crash leaves the old file or the
 * new one, never half of one. A write marks the store dirty and arms a
 * short host timer; the save runs when it fires, so a burst of writes
 * (`kubectl apply -f dir/`) costs one save. The instance's end saves what
 * is still pending. Each worker owns its own store, so persistence is
 * meant for members served by one worker (workers = 1, the default). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mock.h"

#define MOCK_PERSIST_DELAY_MS 10

struct mock_persist {
    struct mock_instance *in;
    char *path;
    struct fg_timer *timer;
    int dirty;
};

static char *read_file(const char *path, size_t *len, char *err, size_t err_len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_len, "persist %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_size > MOCK_SEED_MAX_BYTES) {
        snprintf(err, err_len,
                 "persist %s: not a regular file of at most %u "
                 "bytes",
                 path, MOCK_SEED_MAX_BYTES);
        fclose(f);
        return NULL;
    }
    *len = (size_t)st.st_size;
    char *data = malloc(*len + 1);
    if (!data || fread(data, 1, *len, f) != *len) {
        snprintf(err, err_len, "persist %s: read error", path);
        free(data);
        fclose(f);
        return NULL;
    }
    fclose(f);
    data[*len] = '\0';
    return data;
}

/* Puts back the resourceVersions the file recorded, which the seed loader
 * re-assigned. */
static void restore_versions(struct mock_store *s, const char *data, size_t len)
{
    cJSON *root = cJSON_ParseWithLength(data, len);
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "objects");
    if (!arr)
        arr = cJSON_GetObjectItemCaseSensitive(root, "items");
    uint64_t max = s->rv;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        const struct mock_kind *k = mock_kind_by_kind(
            mock_json_str(e, "apiVersion", ""), mock_json_str(e, "kind", ""));
        const char *rv = mock_json_str(e, "metadata.resourceVersion", NULL);
        if (!k || !rv || !*rv)
            continue;
        const char *ns = k->namespaced
                             ? mock_json_str(e, "metadata.namespace", "default")
                             : "";
        struct mock_obj *o =
            mock_store_get(s, k, ns, mock_json_str(e, "metadata.name", ""));
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(rv, &end, 10);
        if (!o || errno || !end || *end || v == 0)
            continue;
        cJSON *meta = cJSON_GetObjectItemCaseSensitive(o->json, "metadata");
        if (fg_json_set(meta, "resourceVersion", cJSON_CreateString(rv)) == 0)
            o->rv = v;
        if (v > max)
            max = v;
    }
    s->rv = max;
    cJSON_Delete(root);
}

struct mock_store *mock_persist_load(const char *path, int64_t now_ms,
                                     char *err, size_t err_len)
{
    size_t len = 0;
    char *data = read_file(path, &len, err, err_len);
    if (!data)
        return NULL;
    struct mock_store *s =
        mock_seed_load_mem(data, len, path, now_ms, err, err_len);
    if (s)
        restore_versions(s, data, len);
    free(data);
    return s;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int mock_persist_save(const struct mock_store *s, const char *path, char *err,
                      size_t err_len)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    char *dir = strdup(path);
    if (!tmp || !dir) {
        free(tmp);
        free(dir);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    snprintf(tmp, plen + 16, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, err_len, "persist %s: %s", tmp, strerror(errno));
        free(tmp);
        free(dir);
        return -1;
    }
    int bad = write_all(fd, "{\"objects\":[", 12);
    int first = 1;
    for (size_t i = 0; i < MOCK_N_KINDS && !bad; i++) {
        const struct mock_bucket *b = mock_store_bucket(s, mock_kind_at(i));
        for (size_t j = 0; j < b->n && !bad; j++) {
            char *text = cJSON_PrintUnformatted(b->v[j]->json);
            bad = !text || write_all(fd, first ? "\n" : ",\n", first ? 1 : 2) ||
                  write_all(fd, text, strlen(text));
            first = 0;
            free(text);
        }
    }
    bad = bad || write_all(fd, "\n]}\n", 4) || fsync(fd) != 0;
    int saved_errno = errno;
    if (close(fd) != 0 && !bad) {
        bad = 1;
        saved_errno = errno;
    }
    if (!bad && rename(tmp, path) != 0) {
        bad = 1;
        saved_errno = errno;
    }
    if (bad) {
        snprintf(err, err_len, "persist %s: %s", path, strerror(saved_errno));
        unlink(tmp);
    } else {
        /* The rename itself is durable only once the directory is. */
        int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    free(tmp);
    free(dir);
    return bad ? -1 : 0;
}

struct mock_persist *mock_persist_new(struct mock_instance *in,
                                      const char *path)
{
    struct mock_persist *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->in = in;
    p->path = strdup(path);
    if (!p->path) {
        free(p);
        return NULL;
    }
    return p;
}

static void save_now(struct mock_persist *p)
{
    char err[512];
    p->dirty = 0;
    if (mock_persist_save(p->in->store, p->path, err, sizeof(err)) != 0)
        p->in->host->log(p->in->host, FG_LOG_WARN, "%s", err);
}

static void on_timer(void *arg)
{
    struct mock_persist *p = arg;
    if (p->dirty)
        save_now(p);
}

void mock_persist_touch(struct mock_instance *in)
{
    struct mock_persist *p = in->persist;
    if (!p || p->dirty)
        return;
    p->dirty = 1;
    /* The timer is made here, on the loop that serves the member. */
    if (!p->timer)
        p->timer = in->host->timer_new(in->host, on_timer, p);
    if (p->timer)
        in->host->timer_arm(p->timer, MOCK_PERSIST_DELAY_MS);
    else
        save_now(p);
}

void mock_persist_free(struct mock_persist *p)
{
    if (!p)
        return;
    if (p->dirty)
        save_now(p);
    if (p->timer)
        p->in->host->timer_free(p->timer);
    free(p->path);
    free(p);
}
