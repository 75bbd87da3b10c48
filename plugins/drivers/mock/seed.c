/* The seed loader: reads the JSON file a mock member starts from, checks
 * it, and fills the store.
 *
 * Seed format. One JSON object whose "objects" array (or "items", so that
 * the output of `kubectl get ... -o json` can be used as is) holds full
 * Kubernetes objects, each with apiVersion, kind and metadata.name:
 *
 *   {"objects": [
 *     {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
 *     {"apiVersion": "apps/v1", "kind": "Deployment",
 *      "metadata": {"name": "cart", "namespace": "shop"}, "spec": {...},
 *      "status": {...}}
 *   ]}
 *
 * Rules: every kind must be one the mock serves (see kinds.c); names are
 * DNS subdomains (namespaces: DNS labels); a namespaced object without
 * metadata.namespace goes to "default"; a cluster-scoped object must not
 * have one; (kind, namespace, name) is unique. The loader fills what
 * kube-apiserver would: metadata.uid (stable, derived from kind, namespace
 * and name, so every worker's copy agrees), creationTimestamp (load time),
 * resourceVersion (always re-assigned, in file order); namespaces get
 * status.phase Active and the kubernetes.io/metadata.name label, and a
 * namespace that objects use but the seed does not declare is created.
 * Documents nested deeper than MOCK_SEED_MAX_DEPTH are refused before
 * parsing, because cJSON's parser recurses once per level.
 *
 * Why the array is read one element at a time: a cJSON tree of the whole
 * seed costs about six times its size (a 60 MiB seed would peak near
 * 500 MiB), while the store keeps each object serialized (doc.c). Each
 * element is parsed, checked, stored and freed before the next. A seed
 * file is mapped, not read into the heap, and the pages behind the element
 * being read are given back, so that loading peaks near what the store
 * keeps rather than at the file's size on top of it.
 *
 * Pod logs (pods/NAME/log, see logs.c) come from the pod's annotations:
 * "mock.fedgate.io/log.CONTAINER" (or "mock.fedgate.io/log" for every
 * container) holds the running container's log text, one line per "\n";
 * "mock.fedgate.io/previous-log[.CONTAINER]" the log of the run before the
 * last restart (?previous=true). A pod without them gets a generated log
 * of its containers starting up. Annotations travel with the object, so a
 * log set here survives writes, and `kubectl annotate` can change it. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mock.h"

struct loader {
    const char *name;
    const char *array; /* "objects" or "items" */
    char *err;
    size_t err_len;
    int64_t now_ms;
    int keep_rv;     /* a persisted store: objects keep their resourceVersion */
    const char *map; /* a mapped seed file: its pages read so far go back */
    size_t released; /* bytes of MAP given back */
};

/* Gives back the pages of a mapped seed before P (a MiB at a time): the
 * kernel reads them again from the file if they are touched again. */
static void release_behind(struct loader *L, const char *p)
{
    if (!L->map)
        return;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t upto = (size_t)(p - L->map) / page * page;
    if (upto >= L->released + (1u << 20)) {
        madvise((char *)L->map + L->released, upto - L->released,
                MADV_DONTNEED);
        L->released = upto;
    }
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void
fail(struct loader *L, long idx, const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (idx >= 0)
        snprintf(L->err, L->err_len, "seed %s: %s[%ld]: %s", L->name, L->array,
                 idx, msg);
    else
        snprintf(L->err, L->err_len, "seed %s: %s", L->name, msg);
}

static int is_alnum_lower(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* RFC 1123 subdomain (or label when LABEL): what kube-apiserver accepts as
 * metadata.name for most kinds. */
static int valid_name(const char *s, int label)
{
    size_t n = strlen(s);
    if (n == 0 || n > (label ? 63u : 253u))
        return 0;
    if (!is_alnum_lower(s[0]) || !is_alnum_lower(s[n - 1]))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!is_alnum_lower(c) && c != '-' && !(c == '.' && !label))
            return 0;
    }
    return 1;
}

static uint64_t fnv1a(const char *s, uint64_t h)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* A version-4-shaped UUID derived from the object's identity. */
static void make_uid(const struct mock_kind *k, const char *ns,
                     const char *name, char *buf, size_t len)
{
    uint64_t a = 0xcbf29ce484222325ULL, b = 0x84222325cbf29ce4ULL;
    const char *parts[] = {k->group, "/", k->resource, "/", ns, "/", name};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        a = fnv1a(parts[i], a);
        b = fnv1a(parts[i], b ^ 0x9e3779b97f4a7c15ULL);
    }
    snprintf(buf, len, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
             (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xfff,
             (unsigned)(0x8000 | ((b >> 48) & 0x3fff)),
             (unsigned long long)(b & 0xffffffffffffULL));
}

static int check_string_map(struct loader *L, long idx, const cJSON *meta,
                            const char *key)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(meta, key);
    if (!m)
        return 0;
    if (!cJSON_IsObject(m)) {
        fail(L, idx, "metadata.%s is not an object", key);
        return -1;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, m)
    {
        if (!cJSON_IsString(e)) {
            fail(L, idx, "metadata.%s.%s is not a string", key, e->string);
            return -1;
        }
    }
    return 0;
}

static int set_string(cJSON *obj, const char *key, const char *value)
{
    cJSON *v = cJSON_CreateString(value);
    if (!v)
        return -1;
    /* cJSON_HasObjectItem ignores case; keys here must match exactly. */
    if (cJSON_GetObjectItemCaseSensitive(obj, key)) {
        if (cJSON_ReplaceItemInObjectCaseSensitive(obj, key, v))
            return 0;
        cJSON_Delete(v);
        return -1;
    }
    if (!cJSON_AddItemToObject(obj, key, v)) {
        cJSON_Delete(v);
        return -1;
    }
    return 0;
}

static cJSON *child_object(cJSON *obj, const char *key)
{
    cJSON *c = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsObject(c))
        return c;
    if (c)
        return NULL;
    return cJSON_AddObjectToObject(obj, key);
}

/* What kube-apiserver adds to every namespace. */
static int fill_namespace(cJSON *obj, const char *name)
{
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    cJSON *labels = child_object(meta, "labels");
    cJSON *status = child_object(obj, "status");
    if (!labels || !status)
        return -1;
    if (set_string(labels, "kubernetes.io/metadata.name", name) != 0)
        return -1;
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(status, "phase")))
        return set_string(status, "phase", "Active");
    return 0;
}

/* Checks element IDX and moves it into the store. Returns 0 or -1. */
static int load_one(struct loader *L, struct mock_store *s, long idx,
                    cJSON *obj)
{
    if (!cJSON_IsObject(obj)) {
        fail(L, idx, "not an object");
        return -1;
    }
    const char *api = mock_json_str(obj, "apiVersion", NULL);
    const char *kind = mock_json_str(obj, "kind", NULL);
    if (!api || !*api) {
        fail(L, idx, "missing apiVersion");
        return -1;
    }
    if (!kind || !*kind) {
        fail(L, idx, "missing kind");
        return -1;
    }
    const struct mock_kind *k = mock_kind_by_kind(api, kind);
    if (!k) {
        fail(L, idx, "unknown kind %.64s in %.64s", kind, api);
        return -1;
    }
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    if (!cJSON_IsObject(meta)) {
        fail(L, idx, "missing metadata");
        return -1;
    }
    const cJSON *jn = cJSON_GetObjectItemCaseSensitive(meta, "name");
    if (!jn) {
        fail(L, idx, "missing metadata.name");
        return -1;
    }
    if (!cJSON_IsString(jn) ||
        !valid_name(jn->valuestring,
                    k == mock_kind_by_resource("", "v1", "namespaces"))) {
        fail(L, idx, "metadata.name is not a valid %s name", k->singular);
        return -1;
    }
    const char *name = jn->valuestring;
    const cJSON *jns = cJSON_GetObjectItemCaseSensitive(meta, "namespace");
    const char *ns = "";
    if (k->namespaced) {
        ns = "default";
        if (jns && (!cJSON_IsString(jns) || !valid_name(jns->valuestring, 1))) {
            fail(L, idx,
                 "%s \"%.64s\": metadata.namespace is not a valid "
                 "namespace name",
                 k->kind, name);
            return -1;
        }
        if (jns)
            ns = jns->valuestring;
        else if (set_string(meta, "namespace", ns) != 0)
            goto nomem;
    } else if (jns && !(cJSON_IsString(jns) && jns->valuestring[0] == '\0')) {
        fail(L, idx,
             "%s \"%.64s\" is cluster-scoped but has "
             "metadata.namespace",
             k->kind, name);
        return -1;
    }
    if (check_string_map(L, idx, meta, "labels") ||
        check_string_map(L, idx, meta, "annotations"))
        return -1;
    const cJSON *ts =
        cJSON_GetObjectItemCaseSensitive(meta, "creationTimestamp");
    if (ts && !(cJSON_IsString(ts) && mock_time_parse(ts->valuestring) >= 0)) {
        fail(L, idx, "metadata.creationTimestamp is not an RFC 3339 time");
        return -1;
    }
    if (mock_store_get(s, k, ns, name)) {
        if (*ns)
            fail(L, idx, "duplicate %s %.64s/%.64s", k->kind, ns, name);
        else
            fail(L, idx, "duplicate %s %.64s", k->kind, name);
        return -1;
    }
    char buf[64];
    if (!ts) {
        mock_time_format(L->now_ms, buf, sizeof(buf));
        if (set_string(meta, "creationTimestamp", buf) != 0)
            goto nomem;
    }
    const cJSON *uid = cJSON_GetObjectItemCaseSensitive(meta, "uid");
    if (uid && !cJSON_IsString(uid)) {
        fail(L, idx, "metadata.uid is not a string");
        return -1;
    }
    if (!uid) {
        make_uid(k, ns, name, buf, sizeof(buf));
        if (set_string(meta, "uid", buf) != 0)
            goto nomem;
    }
    if (strcmp(k->resource, "namespaces") == 0 && fill_namespace(obj, name))
        goto nomem;
    /* NAME and NS point into OBJ, which the store is about to own. */
    char *kname = strdup(name), *kns = strdup(ns);
    if (!kname || !kns) {
        free(kname);
        free(kns);
        goto nomem;
    }
    const char *rv = mock_json_str(meta, "resourceVersion", "");
    char *rv_end = NULL;
    unsigned long long kept = L->keep_rv ? strtoull(rv, &rv_end, 10) : 0;
    if (!rv_end || *rv_end || rv[0] < '1' || rv[0] > '9')
        kept = 0;
    int rc = kept ? mock_store_put_kept(s, k, kns, kname, obj, kept)
                  : mock_store_put(s, k, kns, kname, obj, NULL);
    free(kname);
    free(kns);
    if (rc != 0) {
        fail(L, -1, "out of memory");
        return -2; /* OBJ is gone already */
    }
    return 0;
nomem:
    fail(L, idx, "out of memory");
    return -1;
}

/* Creates namespaces that objects use but the seed does not declare. */
static int add_missing_namespaces(struct loader *L, struct mock_store *s)
{
    const struct mock_kind *nsk = mock_kind_by_resource("", "v1", "namespaces");
    for (size_t i = 0; i < MOCK_N_KINDS; i++) {
        const struct mock_kind *k = mock_kind_at(i);
        if (!k->namespaced)
            continue;
        const struct mock_bucket *b = mock_store_bucket(s, k);
        for (size_t j = 0; j < b->n; j++) {
            const char *ns = b->v[j]->ns;
            if (j > 0 && strcmp(ns, b->v[j - 1]->ns) == 0)
                continue;
            if (mock_store_get(s, nsk, "", ns))
                continue;
            cJSON *obj = cJSON_CreateObject();
            cJSON *meta = obj ? cJSON_AddObjectToObject(obj, "metadata") : NULL;
            if (!meta || !cJSON_AddStringToObject(obj, "apiVersion", "v1") ||
                !cJSON_AddStringToObject(obj, "kind", "Namespace") ||
                !cJSON_AddStringToObject(meta, "name", ns)) {
                cJSON_Delete(obj);
                fail(L, -1, "out of memory");
                return -1;
            }
            int rc = load_one(L, s, -1, obj);
            if (rc == -1)
                cJSON_Delete(obj);
            if (rc != 0)
                return -1;
        }
    }
    return 0;
}

static const char *skip_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* The JSON value at *P (before E) parsed, *P moved past it; NULL when it is
 * not valid JSON (the reason in L). */
static cJSON *parse_at(struct loader *L, const char *data, const char **p,
                       const char *e)
{
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(*p, (size_t)(e - *p), &end, 0);
    if (!v) {
        long at = end && end >= *p ? (long)(end - data) : (long)(*p - data);
        fail(L, -1, "not valid JSON (near byte %ld)", at);
        return NULL;
    }
    *p = end;
    return v;
}

/* Expects C at *P (after white space): 0, or -1 with the reason in L. */
static int expect(struct loader *L, const char *data, const char **p,
                  const char *e, char c)
{
    *p = skip_ws(*p, e);
    if (*p < e && **p == c) {
        *p = skip_ws(*p + 1, e);
        return 0;
    }
    fail(L, -1, "not valid JSON (near byte %ld)", (long)(*p - data));
    return -1;
}

/* Loads the elements of the array at *P into S, one at a time. */
static int load_array(struct loader *L, struct mock_store *s, const char *data,
                      const char **p, const char *e)
{
    if (expect(L, data, p, e, '[') != 0)
        return -1;
    if (*p < e && **p == ']') {
        (*p)++;
        return 0;
    }
    for (long idx = 0;; idx++) {
        cJSON *obj = parse_at(L, data, p, e);
        if (!obj)
            return -1;
        int rc = load_one(L, s, idx, obj);
        if (rc == -1)
            cJSON_Delete(obj);
        if (rc != 0)
            return -1;
        release_behind(L, *p);
        *p = skip_ws(*p, e);
        if (*p < e && **p == ']') {
            (*p)++;
            return 0;
        }
        if (expect(L, data, p, e, ',') != 0)
            return -1;
    }
}

/* The members of the root object at *P: the first "objects" (or "items")
 * array is loaded into S, others are only checked to be JSON. Returns 1
 * when an array was loaded, 0 when there was none, -1 on failure. */
static int load_root(struct loader *L, struct mock_store *s, const char *data,
                     const char **p, const char *e)
{
    int loaded = 0;
    if (expect(L, data, p, e, '{') != 0)
        return -1;
    if (*p < e && **p == '}') {
        (*p)++;
        return 0;
    }
    for (;;) {
        cJSON *key = parse_at(L, data, p, e);
        if (!key)
            return -1;
        int is_str = cJSON_IsString(key);
        const char *k = is_str ? key->valuestring : "";
        int list = strcmp(k, "objects") == 0 || strcmp(k, "items") == 0;
        if (!is_str || expect(L, data, p, e, ':') != 0) {
            cJSON_Delete(key);
            if (!is_str)
                fail(L, -1, "not valid JSON (near byte %ld)",
                     (long)(*p - data));
            return -1;
        }
        if (list && loaded) {
            fail(L, -1, "has both \"objects\" and \"items\"");
            cJSON_Delete(key);
            return -1;
        }
        if (list && *p < e && **p == '[') {
            L->array = k[0] == 'o' ? "objects" : "items";
            cJSON_Delete(key);
            if (load_array(L, s, data, p, e) != 0)
                return -1;
            loaded = 1;
        } else {
            cJSON_Delete(key);
            cJSON *v = parse_at(L, data, p, e);
            if (!v)
                return -1;
            cJSON_Delete(v);
            if (list) {
                fail(L, -1, "expected an object with an \"objects\" array");
                return -1;
            }
        }
        *p = skip_ws(*p, e);
        if (*p < e && **p == '}') {
            (*p)++;
            return loaded;
        }
        if (expect(L, data, p, e, ',') != 0)
            return -1;
    }
}

static struct mock_store *load(struct loader *L, const char *data, size_t len)
{
    if (len > MOCK_SEED_MAX_BYTES) {
        fail(L, -1, "larger than %u bytes", MOCK_SEED_MAX_BYTES);
        return NULL;
    }
    if (fg_json_depth(data, len, MOCK_SEED_MAX_DEPTH) > MOCK_SEED_MAX_DEPTH) {
        fail(L, -1, "JSON nested deeper than %d levels", MOCK_SEED_MAX_DEPTH);
        return NULL;
    }
    if (L->map) /* the depth check read it all */
        madvise((char *)L->map, len, MADV_DONTNEED);
    const char *p = skip_ws(data, data + len), *e = data + len;
    if (p < e && *p != '{') {
        /* Valid JSON of another shape, or no JSON at all. */
        cJSON *v = parse_at(L, data, &p, e);
        cJSON_Delete(v);
        if (v)
            fail(L, -1, "expected an object with an \"objects\" array");
        return NULL;
    }
    struct mock_store *s = mock_store_new();
    if (!s) {
        fail(L, -1, "out of memory");
        return NULL;
    }
    int rc = load_root(L, s, data, &p, e);
    if (rc < 0)
        goto bad;
    p = skip_ws(p, e);
    if (p != e) {
        fail(L, -1, "not valid JSON (trailing data at byte %ld)",
             (long)(p - data));
        goto bad;
    }
    if (rc == 0) {
        fail(L, -1, "expected an object with an \"objects\" array");
        goto bad;
    }
    if (add_missing_namespaces(L, s) != 0)
        goto bad;
    return s;
bad:
    mock_store_free(s);
    return NULL;
}

struct mock_store *mock_seed_load_mem(const char *data, size_t len,
                                      const char *name, int64_t now_ms,
                                      char *err, size_t err_len)
{
    struct loader L = {
        name ? name : "(memory)", "objects", err, err_len, now_ms, 0, NULL, 0};
    return load(&L, data, len);
}

struct mock_store *mock_seed_load_kept(const char *data, size_t len,
                                       const char *name, int64_t now_ms,
                                       char *err, size_t err_len)
{
    struct loader L = {
        name ? name : "(memory)", "objects", err, err_len, now_ms, 1, NULL, 0};
    return load(&L, data, len);
}

struct mock_store *mock_seed_load_file(const char *path, int64_t now_ms,
                                       char *err, size_t err_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, err_len, "seed %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, err_len, "seed %s: not a regular file", path);
        close(fd);
        return NULL;
    }
    if ((uint64_t)st.st_size > MOCK_SEED_MAX_BYTES) {
        snprintf(err, err_len, "seed %s: larger than %u bytes", path,
                 MOCK_SEED_MAX_BYTES);
        close(fd);
        return NULL;
    }
    size_t len = (size_t)st.st_size;
    void *map = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    int map_errno = errno;
    close(fd);
    if (len && map == MAP_FAILED) {
        snprintf(err, err_len, "seed %s: %s", path, strerror(map_errno));
        return NULL;
    }
    struct loader L = {path, "objects", err, err_len, now_ms, 0, map, 0};
    struct mock_store *s = load(&L, len ? map : "", len);
    if (len)
        munmap(map, len);
    return s;
}
