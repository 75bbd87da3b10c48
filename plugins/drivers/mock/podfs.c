/* The files of the mock's pretend containers: one small in-memory tree
 * per pod, keyed by the pod's uid (a pod created again under the same
 * name starts empty, as a new container would). Written by `tar x` and
 * read by `tar c`, `cat` and `test` in exec; the bytes a pod may hold are
 * bounded (podfs_max_bytes). Paths are absolute and normalised ("." and
 * ".." resolved, never above "/"); a directory exists when it was made,
 * holds an entry, or is one an image always has. */
#include <stdlib.h>
#include <string.h>

#include "mock.h"

struct pod_tree {
    char *uid;
    struct mock_file *files;
    size_t n, cap;
    size_t bytes;
    struct pod_tree *next;
};

struct mock_podfs {
    size_t max_bytes;
    struct pod_tree *pods;
};

struct mock_podfs *mock_podfs_new(size_t max_bytes)
{
    struct mock_podfs *fs = calloc(1, sizeof(*fs));
    if (fs)
        fs->max_bytes = max_bytes;
    return fs;
}

void mock_podfs_free(struct mock_podfs *fs)
{
    if (!fs)
        return;
    for (struct pod_tree *t = fs->pods, *next; t; t = next) {
        next = t->next;
        for (size_t i = 0; i < t->n; i++) {
            free(t->files[i].path);
            free(t->files[i].data);
        }
        free(t->files);
        free(t->uid);
        free(t);
    }
    free(fs);
}

int mock_path_join(const char *dir, const char *name, char *out, size_t len)
{
    if (len < 2)
        return -1;
    size_t o = 0;
    out[o++] = '/';
    for (int part = 0; part < 2; part++) {
        const char *p = part ? name : dir;
        if (!p)
            continue;
        while (*p) {
            while (*p == '/')
                p++;
            const char *s = p;
            while (*p && *p != '/')
                p++;
            size_t n = (size_t)(p - s);
            if (n == 0 || (n == 1 && s[0] == '.'))
                continue;
            if (n == 2 && s[0] == '.' && s[1] == '.') {
                while (o > 1 && out[o - 1] != '/')
                    o--;
                if (o > 1)
                    o--; /* the slash before it */
                continue;
            }
            if (o + (o > 1) + n + 1 > len)
                return -1;
            if (o > 1)
                out[o++] = '/';
            memcpy(out + o, s, n);
            o += n;
        }
    }
    out[o] = '\0';
    return 0;
}

static struct pod_tree *tree(struct mock_podfs *fs, const char *uid, int create)
{
    for (struct pod_tree *t = fs->pods; t; t = t->next) {
        if (strcmp(t->uid, uid) == 0)
            return t;
    }
    if (!create)
        return NULL;
    struct pod_tree *t = calloc(1, sizeof(*t));
    if (!t || !(t->uid = strdup(uid))) {
        free(t);
        return NULL;
    }
    t->next = fs->pods;
    fs->pods = t;
    return t;
}

const struct mock_file *mock_podfs_get(struct mock_podfs *fs, const char *uid,
                                       const char *path)
{
    struct pod_tree *t = tree(fs, uid, 0);
    for (size_t i = 0; t && i < t->n; i++) {
        if (strcmp(t->files[i].path, path) == 0)
            return &t->files[i];
    }
    return NULL;
}

/* PATH is DIR itself or under it. */
static int under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    if (strcmp(dir, "/") == 0)
        return 1;
    return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

int mock_podfs_is_dir(struct mock_podfs *fs, const char *uid, const char *path)
{
    static const char *const image[] = {"/",     "/tmp", "/root", "/home",
                                        "/etc",  "/var", "/usr",  "/bin",
                                        "/data", NULL};
    for (int i = 0; image[i]; i++) {
        if (strcmp(path, image[i]) == 0)
            return 1;
    }
    struct pod_tree *t = tree(fs, uid, 0);
    for (size_t i = 0; t && i < t->n; i++) {
        const struct mock_file *f = &t->files[i];
        if (strcmp(f->path, path) == 0)
            return f->is_dir;
        if (under(f->path, path))
            return 1;
    }
    return 0;
}

int mock_podfs_put(struct mock_podfs *fs, const char *uid, const char *path,
                   int is_dir, unsigned mode, const void *data, size_t len)
{
    struct pod_tree *t = tree(fs, uid, 1);
    if (!t)
        return -1;
    struct mock_file *f = (struct mock_file *)mock_podfs_get(fs, uid, path);
    size_t old = f ? f->len : 0;
    if (t->bytes - old + len > fs->max_bytes)
        return -2;
    void *copy = NULL;
    if (len && !(copy = malloc(len)))
        return -1;
    if (len)
        memcpy(copy, data, len);
    if (!f) {
        if (t->n == t->cap) {
            size_t cap = t->cap ? 2 * t->cap : 16;
            struct mock_file *nf = realloc(t->files, cap * sizeof(*nf));
            if (!nf) {
                free(copy);
                return -1;
            }
            t->files = nf;
            t->cap = cap;
        }
        f = &t->files[t->n];
        memset(f, 0, sizeof(*f));
        if (!(f->path = strdup(path))) {
            free(copy);
            return -1;
        }
        t->n++;
    }
    free(f->data);
    f->data = copy;
    f->len = len;
    f->is_dir = is_dir;
    f->mode = mode;
    t->bytes = t->bytes - old + len;
    return 0;
}

int mock_podfs_each(struct mock_podfs *fs, const char *uid, const char *dir,
                    int (*cb)(void *arg, const struct mock_file *f), void *arg)
{
    struct pod_tree *t = tree(fs, uid, 0);
    for (size_t i = 0; t && i < t->n; i++) {
        if (under(t->files[i].path, dir) && strcmp(t->files[i].path, dir)) {
            int rc = cb(arg, &t->files[i]);
            if (rc)
                return rc;
        }
    }
    return 0;
}
