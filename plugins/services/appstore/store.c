/* The repository store: every chart version of every hosted repository,
 * in memory and under STATE_DIR/appstore/:
 *   blobs/HEX                      chart archives and provenance files by
 *                                  their SHA-256
 *   repos/REPO/NAME/VERSION.json   one version: its Chart.yaml fields,
 *                                  digest, provenance blob, created time
 * Files are written whole and atomically (a temporary file, fsync,
 * rename, fsync of the directory), blobs before the version that names
 * them, so a crash leaves either the old state or the new one plus an
 * unused blob, which the next open removes. NAME and VERSION are a chart
 * name and a SemVer text, neither of which can be "." or "..". */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include <fedgate/host.h>

#include "appstore.h"

#define VERSION_FILE_MAX (8 * 1024 * 1024)

struct appstore_store {
    char *root; /* STATE_DIR/appstore */
    struct appstore_repo *repos;
    size_t n_repos;
};

static int fail(char *err, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -1;
}

void appstore_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static char *path_join(const char *a, const char *b, const char *c)
{
    size_t n = strlen(a) + strlen(b) + (c ? strlen(c) + 1 : 0) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s%s%s", a, b, c ? "/" : "", c ? c : "");
    return p;
}

int appstore_mkdir_p(const char *path, char *err, size_t len)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return fail(err, len, "path too long: %s", path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || !*p) {
            char c = *p;
            *p = 0;
            if (mkdir(buf, 0700) < 0 && errno != EEXIST)
                return fail(err, len, "mkdir %s: %s", buf, strerror(errno));
            *p = c;
            if (!c)
                return 0;
        }
    }
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Writes DATA as DIR/NAME atomically. */
int appstore_write_atomic(const char *dir, const char *name, const void *data,
                          size_t n, char *err, size_t len)
{
    char *tmp = path_join(dir, ".tmp-XXXXXX", NULL);
    char *dst = path_join(dir, name, NULL);
    int rc = -1;
    int fd = tmp && dst ? mkostemp(tmp, O_CLOEXEC) : -1;
    if (fd < 0) {
        fail(err, len, "cannot create a file in %s: %s", dir, strerror(errno));
        goto out;
    }
    const char *p = data;
    size_t left = n;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        p += w;
        left -= (size_t)w;
    }
    if (left > 0 || fsync(fd) < 0) {
        fail(err, len, "cannot write %s: %s", dst, strerror(errno));
        close(fd);
        unlink(tmp);
        goto out;
    }
    close(fd);
    if (rename(tmp, dst) < 0) {
        fail(err, len, "cannot rename into %s: %s", dst, strerror(errno));
        unlink(tmp);
        goto out;
    }
    fsync_dir(dir);
    rc = 0;
out:
    free(tmp);
    free(dst);
    return rc;
}

static char *read_file(const char *path, size_t max, size_t *n)
{
    FILE *f = fopen(path, "rbe");
    if (!f)
        return NULL;
    char *buf = NULL;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) &&
        (uint64_t)st.st_size <= max) {
        buf = malloc((size_t)st.st_size + 1);
        if (buf && fread(buf, 1, (size_t)st.st_size, f) == (size_t)st.st_size) {
            buf[st.st_size] = 0;
            *n = (size_t)st.st_size;
        } else {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

static void version_free(struct appstore_version *v)
{
    if (!v)
        return;
    free(v->name);
    free(v->version);
    cJSON_Delete(v->meta);
    free(v);
}

/* Chart name first, then newest version first. */
static int version_order(const struct appstore_version *a,
                         const struct appstore_version *b)
{
    int c = strcmp(a->name, b->name);
    if (c)
        return c;
    c = appstore_semver_cmp(&b->sv, &a->sv);
    return c ? c : strcmp(a->version, b->version);
}

static int repo_insert(struct appstore_repo *r, struct appstore_version *v)
{
    struct appstore_version **nv =
        realloc(r->versions, (r->n + 1) * sizeof *nv);
    if (!nv)
        return -1;
    r->versions = nv;
    size_t i = r->n;
    while (i > 0 && version_order(v, nv[i - 1]) < 0) {
        nv[i] = nv[i - 1];
        i--;
    }
    nv[i] = v;
    r->n++;
    free(r->index);
    r->index = NULL;
    return 0;
}

static void repo_remove(struct appstore_repo *r, struct appstore_version *v)
{
    for (size_t i = 0; i < r->n; i++) {
        if (r->versions[i] != v)
            continue;
        memmove(&r->versions[i], &r->versions[i + 1],
                (r->n - i - 1) * sizeof *r->versions);
        r->n--;
        break;
    }
    free(r->index);
    r->index = NULL;
}

static int is_hex64(const char *s)
{
    size_t i = 0;
    for (; s[i]; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return i == 64;
}

static int blob_used(const struct appstore_store *s, const char *hex)
{
    for (size_t i = 0; i < s->n_repos; i++)
        for (size_t k = 0; k < s->repos[i].n; k++) {
            const struct appstore_version *v = s->repos[i].versions[k];
            if (strcmp(v->digest, hex) == 0 || strcmp(v->prov, hex) == 0)
                return 1;
        }
    return 0;
}

static void blob_release(struct appstore_store *s, const char *hex)
{
    if (!*hex || blob_used(s, hex))
        return;
    char *p = path_join(s->root, "blobs", hex);
    if (p)
        unlink(p);
    free(p);
}

static int blob_write(struct appstore_store *s, const void *data, size_t n,
                      char hex[65], char *err, size_t len)
{
    appstore_sha256_hex(data, n, hex);
    char *dir = path_join(s->root, "blobs", NULL);
    char *p = path_join(s->root, "blobs", hex);
    struct stat st;
    int rc = !dir || !p ? fail(err, len, "out of memory")
             : stat(p, &st) == 0 && (size_t)st.st_size == n
                 ? 0
                 : appstore_write_atomic(dir, hex, data, n, err, len);
    free(dir);
    free(p);
    return rc;
}

/* A version from its saved JSON, or NULL. */
static struct appstore_version *version_from_json(const cJSON *j)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "name");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(j, "version");
    const cJSON *dig = cJSON_GetObjectItemCaseSensitive(j, "digest");
    const cJSON *prov = cJSON_GetObjectItemCaseSensitive(j, "prov");
    const cJSON *cr = cJSON_GetObjectItemCaseSensitive(j, "created");
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(j, "metadata");
    if (!cJSON_IsString(name) || !cJSON_IsString(ver) || !cJSON_IsString(dig) ||
        !is_hex64(dig->valuestring) ||
        (prov && (!cJSON_IsString(prov) || !is_hex64(prov->valuestring))) ||
        !cJSON_IsString(cr) || strlen(cr->valuestring) >= 40 ||
        !cJSON_IsObject(md))
        return NULL;
    struct appstore_version *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->name = strdup(name->valuestring);
    v->version = strdup(ver->valuestring);
    v->meta = cJSON_Duplicate(md, 1);
    if (!v->name || !v->version || !v->meta ||
        appstore_semver_parse(v->version, &v->sv) < 0) {
        version_free(v);
        return NULL;
    }
    strcpy(v->digest, dig->valuestring);
    strcpy(v->prov, prov ? prov->valuestring : "");
    strcpy(v->created, cr->valuestring);
    return v;
}

static char *version_to_json(const struct appstore_version *v)
{
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return NULL;
    cJSON_AddStringToObject(j, "name", v->name);
    cJSON_AddStringToObject(j, "version", v->version);
    cJSON_AddStringToObject(j, "digest", v->digest);
    if (*v->prov)
        cJSON_AddStringToObject(j, "prov", v->prov);
    cJSON_AddStringToObject(j, "created", v->created);
    cJSON_AddItemToObject(j, "metadata", cJSON_Duplicate(v->meta, 1));
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return s;
}

static void warn(const struct fg_host *host, const char *path, const char *why)
{
    if (host)
        host->log(host, FG_LOG_WARN, "appstore: ignoring %s (%s)", path, why);
}

/* Loads the versions of R saved under DIR (repos/REPO). */
static int repo_load(struct appstore_store *s, struct appstore_repo *r,
                     const char *dir, const struct fg_host *host)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -1;
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *sub = path_join(dir, e->d_name, NULL);
        DIR *sd = sub ? opendir(sub) : NULL;
        struct dirent *f;
        while (rc == 0 && sd && (f = readdir(sd))) {
            size_t fl = strlen(f->d_name);
            char *p = path_join(sub, f->d_name, NULL);
            if (!p) {
                rc = -1;
                break;
            }
            if (strncmp(f->d_name, ".tmp-", 5) == 0)
                unlink(p); /* a write a crash interrupted */
            if (f->d_name[0] == '.' || fl < 6 ||
                strcmp(f->d_name + fl - 5, ".json") != 0) {
                free(p);
                continue;
            }
            size_t n;
            char *text = read_file(p, VERSION_FILE_MAX, &n);
            cJSON *j = text ? cJSON_ParseWithLength(text, n) : NULL;
            struct appstore_version *v = j ? version_from_json(j) : NULL;
            char *bp = v ? path_join(s->root, "blobs", v->digest) : NULL;
            if (!v || !bp || access(bp, R_OK) != 0 ||
                appstore_store_find(r, v->name, v->version)) {
                warn(host, p,
                     v ? "its chart blob is missing or it repeats a version"
                       : "not a chart version record");
                version_free(v);
            } else if (repo_insert(r, v) < 0) {
                version_free(v);
                rc = -1;
            }
            free(bp);
            cJSON_Delete(j);
            free(text);
            free(p);
        }
        if (sd)
            closedir(sd);
        free(sub);
    }
    closedir(d);
    return rc;
}

/* Removes the blobs no version uses: a crash after a blob's write. */
static void blobs_collect(struct appstore_store *s)
{
    char *dir = path_join(s->root, "blobs", NULL);
    DIR *d = dir ? opendir(dir) : NULL;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (strncmp(e->d_name, ".tmp-", 5) == 0 ||
            (is_hex64(e->d_name) && !blob_used(s, e->d_name))) {
            char *p = path_join(dir, e->d_name, NULL);
            if (p)
                unlink(p);
            free(p);
        }
    }
    if (d)
        closedir(d);
    free(dir);
}

/* Adds the repository NAME (the next slot of S->repos) from its
 * directory. 0, or -1 with ERR. */
static int repo_open(struct appstore_store *s, const char *name,
                     const struct fg_host *host, char *err, size_t err_len)
{
    struct appstore_repo *r = &s->repos[s->n_repos];
    memset(r, 0, sizeof(*r));
    if (!(r->name = strdup(name)))
        return fail(err, err_len, "out of memory");
    s->n_repos++;
    char *dir = path_join(s->root, "repos", name);
    int rc = !dir ? fail(err, err_len, "out of memory")
                  : appstore_mkdir_p(dir, err, err_len);
    if (rc == 0 && repo_load(s, r, dir, host) < 0)
        rc = fail(err, err_len, "cannot read %s: %s", dir, strerror(errno));
    free(dir);
    return rc;
}

struct appstore_repo *appstore_store_add(struct appstore_store *s,
                                         const char *name,
                                         const struct fg_host *host, char *err,
                                         size_t err_len)
{
    struct appstore_repo *r = appstore_store_repo(s, name);
    if (r)
        return r;
    r = realloc(s->repos, (s->n_repos + 1) * sizeof(*r));
    if (!r) {
        fail(err, err_len, "out of memory");
        return NULL;
    }
    s->repos = r;
    if (repo_open(s, name, host, err, err_len) < 0)
        return NULL; /* the slot, named, stays: freed with the store */
    return &s->repos[s->n_repos - 1];
}

struct appstore_store *appstore_store_open(const char *state_dir,
                                           const char *const *repos, size_t n,
                                           const struct fg_host *host,
                                           char *err, size_t err_len)
{
    struct appstore_store *s = calloc(1, sizeof *s);
    if (!s || !(s->root = path_join(state_dir, "appstore", NULL)) ||
        !(s->repos = calloc(n ? n : 1, sizeof *s->repos))) {
        appstore_store_free(s);
        fail(err, err_len, "out of memory");
        return NULL;
    }
    char *blobs = path_join(s->root, "blobs", NULL);
    int rc = blobs ? appstore_mkdir_p(blobs, err, err_len)
                   : fail(err, err_len, "out of memory");
    free(blobs);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = repo_open(s, repos[i], host, err, err_len);
    if (rc < 0) {
        appstore_store_free(s);
        return NULL;
    }
    blobs_collect(s);
    return s;
}

void appstore_store_free(struct appstore_store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_repos; i++) {
        struct appstore_repo *r = &s->repos[i];
        for (size_t k = 0; k < r->n; k++)
            version_free(r->versions[k]);
        free(r->versions);
        free(r->index);
        free(r->name);
    }
    free(s->repos);
    free(s->root);
    free(s);
}

struct appstore_repo *appstore_store_repo(struct appstore_store *s,
                                          const char *name)
{
    for (size_t i = 0; i < s->n_repos; i++)
        if (strcmp(s->repos[i].name, name) == 0)
            return &s->repos[i];
    return NULL;
}

struct appstore_version *appstore_store_find(const struct appstore_repo *r,
                                             const char *name,
                                             const char *version)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->versions[i]->name, name) == 0 &&
            strcmp(r->versions[i]->version, version) == 0)
            return r->versions[i];
    return NULL;
}

struct appstore_version *appstore_store_find_file(const struct appstore_repo *r,
                                                  const char *file, int *prov)
{
    size_t fl = strlen(file);
    *prov = fl > 9 && strcmp(file + fl - 9, ".tgz.prov") == 0;
    size_t stem = fl - (*prov ? 9 : 4);
    if (!*prov && (fl < 5 || strcmp(file + fl - 4, ".tgz") != 0))
        return NULL;
    for (size_t i = 0; i < r->n; i++) {
        const struct appstore_version *v = r->versions[i];
        size_t nl = strlen(v->name);
        if (nl + 1 + strlen(v->version) == stem &&
            memcmp(file, v->name, nl) == 0 && file[nl] == '-' &&
            memcmp(file + nl + 1, v->version, stem - nl - 1) == 0)
            return r->versions[i];
    }
    return NULL;
}

/* Writes V's record to repos/REPO/NAME/VERSION.json. */
static int version_save(struct appstore_store *s, struct appstore_repo *r,
                        const struct appstore_version *v, char *err, size_t len)
{
    char *repo = path_join(s->root, "repos", r->name);
    char *dir = repo ? path_join(repo, v->name, NULL) : NULL;
    char *json = version_to_json(v);
    char file[300];
    snprintf(file, sizeof file, "%s.json", v->version);
    int rc = !dir || !json ? fail(err, len, "out of memory")
                           : appstore_mkdir_p(dir, err, len);
    if (rc == 0)
        rc = appstore_write_atomic(dir, file, json, strlen(json), err, len);
    free(json);
    free(dir);
    free(repo);
    return rc;
}

void appstore_now_rfc3339(char out[40])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char date[24];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 40, "%s.%09ldZ", date, ts.tv_nsec);
}

int appstore_store_put(struct appstore_store *s, struct appstore_repo *r,
                       const void *tgz, size_t len, cJSON *meta,
                       const void *prov, size_t prov_len, int force, char *err,
                       size_t err_len)
{
    const char *name =
        cJSON_GetObjectItemCaseSensitive(meta, "name")->valuestring;
    const char *version =
        cJSON_GetObjectItemCaseSensitive(meta, "version")->valuestring;
    struct appstore_version *old = appstore_store_find(r, name, version);
    if (old && !force) {
        cJSON_Delete(meta);
        return APPSTORE_EXISTS;
    }
    struct appstore_version *v = calloc(1, sizeof *v);
    if (!v || !(v->name = strdup(name)) || !(v->version = strdup(version))) {
        version_free(v);
        cJSON_Delete(meta);
        return fail(err, err_len, "out of memory");
    }
    v->meta = meta;
    appstore_semver_parse(v->version, &v->sv);
    appstore_now_rfc3339(v->created);
    if (!prov && old)
        strcpy(v->prov, old->prov);
    int rc = blob_write(s, tgz, len, v->digest, err, err_len);
    if (rc == 0 && prov)
        rc = blob_write(s, prov, prov_len, v->prov, err, err_len);
    if (rc == 0)
        rc = version_save(s, r, v, err, err_len);
    if (rc == 0) {
        if (old)
            repo_remove(r, old);
        rc = repo_insert(r, v) < 0 ? fail(err, err_len, "out of memory") : 0;
    }
    if (rc < 0) {
        /* nothing of this upload stays (the record, if it was written,
         * named what an older version still may use) */
        blob_release(s, v->digest);
        blob_release(s, v->prov);
        version_free(v);
        return -1;
    }
    if (old) {
        blob_release(s, old->digest);
        blob_release(s, old->prov);
        version_free(old);
    }
    return 0;
}

int appstore_store_put_prov(struct appstore_store *s, struct appstore_repo *r,
                            struct appstore_version *v, const void *prov,
                            size_t len, char *err, size_t err_len)
{
    char old[65];
    strcpy(old, v->prov);
    if (blob_write(s, prov, len, v->prov, err, err_len) < 0 ||
        version_save(s, r, v, err, err_len) < 0) {
        char fresh[65];
        strcpy(fresh, v->prov);
        strcpy(v->prov, old);
        blob_release(s, fresh);
        return -1;
    }
    blob_release(s, old);
    free(r->index);
    r->index = NULL;
    return 0;
}

int appstore_store_delete(struct appstore_store *s, struct appstore_repo *r,
                          struct appstore_version *v, char *err, size_t err_len)
{
    char *repo = path_join(s->root, "repos", r->name);
    char *dir = repo ? path_join(repo, v->name, NULL) : NULL;
    char file[300];
    snprintf(file, sizeof file, "%s.json", v->version);
    char *p = dir ? path_join(dir, file, NULL) : NULL;
    int rc = 0;
    if (!p)
        rc = fail(err, err_len, "out of memory");
    else if (unlink(p) < 0 && errno != ENOENT)
        rc = fail(err, err_len, "cannot remove %s: %s", p, strerror(errno));
    if (rc == 0) {
        fsync_dir(dir);
        rmdir(dir); /* when it was the chart's last version */
        repo_remove(r, v);
        blob_release(s, v->digest);
        blob_release(s, v->prov);
        version_free(v);
    }
    free(p);
    free(dir);
    free(repo);
    return rc;
}

void *appstore_store_blob(struct appstore_store *s, const char *hex,
                          size_t *len, char *err, size_t err_len)
{
    char *p = path_join(s->root, "blobs", hex);
    char *data = p ? read_file(p, SIZE_MAX / 2, len) : NULL;
    if (!data)
        fail(err, err_len, "cannot read blob %s", hex);
    free(p);
    return data;
}
