/* The reader of a remote Helm repository's index.yaml (repo.h): Helm's
 * repo.IndexFile (apiVersion v1 required; entries: chart name -> list of
 * ChartVersion maps). An entry Helm could not use (no name, version or
 * url, or a name that cannot be a file name) is skipped and counted, as
 * Helm skips invalid entries rather than refusing the whole index. Only
 * the newest versions of each chart are kept: big public indexes list
 * hundreds of versions per chart. */
#include "repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include <fedgate/yaml.h>

/* an index nests maintainers' maps in a version map in a list in a map */
#define MAX_DEPTH 16
#define MAX_NAME 250
#define MAX_VERSION 128

static int fail(char *err, size_t len, const char *why)
{
    snprintf(err, len, "%s", why);
    return -1;
}

/* A chart name or version that can be part of a file name and an object
 * name: [A-Za-z0-9._+-], not starting with a dot. */
static int word_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max || s[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
              c == '+'))
            return 0;
    }
    return 1;
}

static const char *scalar(const struct fg_yaml_node *n)
{
    return n && n->type == FG_YAML_SCALAR && !fg_yaml_is_null(n) ? n->text
                                                                 : NULL;
}

/* The maintainers list as objects of their scalar fields. */
static cJSON *maintainers(const struct fg_yaml_node *seq)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < seq->n; i++) {
        const struct fg_yaml_node *m = seq->items[i];
        if (m->type != FG_YAML_MAP)
            continue;
        cJSON *o = cJSON_CreateObject();
        for (size_t j = 0; o && j + 1 < m->n; j += 2)
            if (scalar(m->items[j + 1]))
                cJSON_AddStringToObject(o, m->items[j]->text,
                                        m->items[j + 1]->text);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

/* The entry's fields but those the version carries itself. */
static cJSON *entry_meta(const struct fg_yaml_node *e)
{
    static const char *const own[] = {"name", "version", "urls", "digest",
                                      "created"};
    cJSON *meta = cJSON_CreateObject();
    for (size_t i = 0; meta && i + 1 < e->n; i += 2) {
        const char *key = e->items[i]->text;
        const struct fg_yaml_node *v = e->items[i + 1];
        int skip = 0;
        for (size_t k = 0; k < sizeof(own) / sizeof(own[0]); k++)
            skip |= strcmp(key, own[k]) == 0;
        if (skip || cJSON_GetObjectItemCaseSensitive(meta, key))
            continue;
        if (scalar(v))
            cJSON_AddStringToObject(meta, key, v->text);
        else if (v->type == FG_YAML_SEQ && strcmp(key, "maintainers") == 0)
            cJSON_AddItemToObject(meta, key, maintainers(v));
    }
    return meta;
}

static int hex64(const char *s)
{
    if (strlen(s) != 64)
        return 0;
    for (size_t i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
              (s[i] >= 'A' && s[i] <= 'F')))
            return 0;
    return 1;
}

/* Fills R from the ChartVersion map E listed under KEY: 1, 0 when it is
 * skipped, -1 when out of memory. */
static int read_version(const char *key, const struct fg_yaml_node *e,
                        struct appstore_remote_version *r)
{
    if (e->type != FG_YAML_MAP)
        return 0;
    const char *name = scalar(fg_yaml_get(e, "name"));
    const char *version = scalar(fg_yaml_get(e, "version"));
    const struct fg_yaml_node *urls = fg_yaml_get(e, "urls");
    const char *url = urls && urls->type == FG_YAML_SEQ && urls->n > 0
                          ? scalar(urls->items[0])
                          : NULL;
    if (!name)
        name = key;
    if (!version || !url || !word_ok(name, MAX_NAME) ||
        !word_ok(version, MAX_VERSION) || strcmp(name, key) != 0)
        return 0;
    memset(r, 0, sizeof(*r));
    r->v.name = strdup(name);
    r->v.version = strdup(version);
    r->url = strdup(url);
    r->v.meta = entry_meta(e);
    if (!r->v.name || !r->v.version || !r->url || !r->v.meta)
        return -1;
    if (appstore_semver_parse(r->v.version, &r->v.sv) < 0)
        r->v.sv.major = UINT64_MAX; /* marks "not SemVer" for the order */
    const char *digest = scalar(fg_yaml_get(e, "digest"));
    if (digest && hex64(digest))
        for (size_t i = 0; i < 65; i++)
            r->v.digest[i] = (char)(digest[i] | (i < 64 ? 0x20 : 0));
    const char *created = scalar(fg_yaml_get(e, "created"));
    snprintf(r->v.created, sizeof(r->v.created), "%s", created ? created : "");
    return 1;
}

static void version_free(struct appstore_remote_version *r)
{
    free(r->v.name);
    free(r->v.version);
    cJSON_Delete(r->v.meta);
    free(r->url);
}

/* Chart name, then newest first: SemVer precedence, versions that are
 * not SemVer after every SemVer one, by their text. */
static int version_order(const void *pa, const void *pb)
{
    const struct appstore_version
        *a = &((const struct appstore_remote_version *)pa)->v,
        *b = &((const struct appstore_remote_version *)pb)->v;
    int c = strcmp(a->name, b->name);
    if (c)
        return c;
    int sa = a->sv.major != UINT64_MAX, sb = b->sv.major != UINT64_MAX;
    if (sa != sb)
        return sb - sa;
    c = sa ? -appstore_semver_cmp(&a->sv, &b->sv) : 0;
    if (!c)
        c = -strcmp(a->version, b->version);
    size_t pa_pos = ((const struct appstore_remote_version *)pa)->pos,
           pb_pos = ((const struct appstore_remote_version *)pb)->pos;
    return c ? c : (pa_pos > pb_pos) - (pa_pos < pb_pos);
}

/* Keeps the first MAX of each chart (IDX sorted) and the first of a
 * version listed twice (Helm keeps that one too), freeing the others. */
static void cap_versions(struct appstore_remote_index *idx, size_t max)
{
    size_t out = 0, run = 0;
    for (size_t i = 0; i < idx->n; i++) {
        struct appstore_remote_version *r = &idx->versions[i];
        const struct appstore_version *last =
            out > 0 ? &idx->versions[out - 1].v : NULL;
        int same = last && strcmp(last->name, r->v.name) == 0;
        if (same && strcmp(last->version, r->v.version) == 0) {
            version_free(r);
            continue;
        }
        idx->versions[out++] = *r;
    }
    idx->n = out;
    out = 0;
    for (size_t i = 0; i < idx->n; i++) {
        struct appstore_remote_version *r = &idx->versions[i];
        /* the chart's first versions are kept: compare with those */
        int same =
            out > 0 && strcmp(idx->versions[out - 1].v.name, r->v.name) == 0;
        run = same ? run + 1 : 1;
        if (!same)
            idx->charts++;
        if (run > max) {
            idx->dropped++;
            version_free(r);
            continue;
        }
        idx->versions[out++] = *r;
    }
    idx->n = out;
}

static int read_entries(const struct fg_yaml_node *entries,
                        struct appstore_remote_index *out, char *err,
                        size_t err_len)
{
    size_t total = 0;
    for (size_t i = 0; i + 1 < entries->n; i += 2)
        if (entries->items[i + 1]->type == FG_YAML_SEQ)
            total += entries->items[i + 1]->n;
    out->versions = calloc(total ? total : 1, sizeof(*out->versions));
    if (!out->versions)
        return fail(err, err_len, "out of memory");
    for (size_t i = 0; i + 1 < entries->n; i += 2) {
        const struct fg_yaml_node *list = entries->items[i + 1];
        if (list->type != FG_YAML_SEQ) {
            if (!fg_yaml_is_null(list))
                out->skipped++;
            continue;
        }
        for (size_t j = 0; j < list->n; j++) {
            int rc = read_version(entries->items[i]->text, list->items[j],
                                  &out->versions[out->n]);
            if (rc < 0) {
                version_free(&out->versions[out->n]);
                return fail(err, err_len, "out of memory");
            }
            if (rc > 0)
                out->versions[out->n].pos = out->n, out->n++;
            else
                out->skipped++;
        }
    }
    return 0;
}

/* At most 40 bytes of S, a control character shown as '?', into OUT: a
 * message stays one line. */
static const char *printable(const char *s, char out[41])
{
    size_t i = 0;
    for (; s[i] && i < 40; i++)
        out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    out[i] = 0;
    return out;
}

int appstore_index_read(const char *text, size_t len, size_t max_versions,
                        struct appstore_remote_index *out, char *err,
                        size_t err_len)
{
    struct fg_yaml_node **docs = NULL;
    char shown[41];
    memset(out, 0, sizeof(*out));
    /* a node takes at least one byte of text: LEN bounds the tree */
    long n = fg_yaml_parse(text, len, "index.yaml", MAX_DEPTH, len + 16, &docs,
                           err, err_len);
    if (n < 0)
        return -1;
    int rc = -1;
    const struct fg_yaml_node *root = n == 1 ? docs[0] : NULL;
    const char *api = root && root->type == FG_YAML_MAP
                          ? scalar(fg_yaml_get(root, "apiVersion"))
                          : NULL;
    const struct fg_yaml_node *entries =
        api ? fg_yaml_get(root, "entries") : NULL;
    if (n != 1 || !root || root->type != FG_YAML_MAP)
        fail(err, err_len, "index.yaml: not one YAML map");
    else if (!api)
        fail(err, err_len, "index.yaml: no API version specified");
    else if (strcmp(api, "v1") != 0)
        snprintf(err, err_len, "index.yaml: apiVersion \"%s\" is not v1",
                 printable(api, shown));
    else if (entries && !fg_yaml_is_null(entries) &&
             entries->type != FG_YAML_MAP)
        snprintf(err, err_len, "index.yaml:%d: entries is not a map",
                 entries->line);
    else if (entries && entries->type == FG_YAML_MAP &&
             read_entries(entries, out, err, err_len) != 0)
        ;
    else
        rc = 0;
    fg_yaml_free_docs(docs, (size_t)n);
    if (rc != 0) {
        appstore_remote_index_free(out);
        return -1;
    }
    if (out->n)
        qsort(out->versions, out->n, sizeof(*out->versions), version_order);
    cap_versions(out, max_versions);
    return 0;
}

void appstore_remote_index_free(struct appstore_remote_index *idx)
{
    for (size_t i = 0; i < idx->n; i++)
        version_free(&idx->versions[i]);
    free(idx->versions);
    memset(idx, 0, sizeof(*idx));
}
