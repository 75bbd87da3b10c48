/* The rule files: `rules =` names one file, or a directory whose *.yaml,
 * *.yml and *.json files are read in lexical order (not its
 * subdirectories, whatever their names). Every file is read whole before any
 * roleRef is resolved, so a binding may name a role of another file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rbac.h"

/* Reads FD (a regular file of at most MAX bytes) whole. */
static char *read_whole(int fd, const char *path, size_t max, size_t *len,
                        char *err, size_t err_len)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_size > max) {
        snprintf(err, err_len,
                 "%s: must be a regular file of at most %zu "
                 "bytes (max_file_bytes)",
                 path, max);
        return NULL;
    }
    size_t size = (size_t)st.st_size, got = 0;
    char *text = malloc(size + 1);
    while (text && got < size) {
        ssize_t n = read(fd, text + got, size - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (!text || got != size) {
        snprintf(err, err_len, "%s: %s", path,
                 text ? "could not be read whole" : "out of memory");
        free(text);
        return NULL;
    }
    *len = size;
    return text;
}

static int load_file(struct rbac_policy *p, const char *path, size_t max,
                     char *err, size_t err_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t len = 0;
    char *text = read_whole(fd, path, max, &len, err, err_len);
    close(fd);
    if (!text)
        return -1;
    if (rbac_strings_add(&p->files, path, strlen(path)) != 0) {
        free(text);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    int rc =
        rbac_add_text(p, text, len, p->files.v[p->files.n - 1], err, err_len);
    free(text);
    return rc;
}

int rbac_add_text(struct rbac_policy *p, const char *text, size_t len,
                  const char *file, char *err, size_t err_len)
{
    struct fg_yaml_node **docs = NULL;
    long n = fg_yaml_parse(text, len, file, RBAC_MAX_DEPTH, RBAC_MAX_NODES,
                           &docs, err, err_len);
    int rc = n < 0 ? -1 : 0;
    for (long i = 0; i < n; i++) {
        if (rc == 0)
            rc = rbac_add_document(p, docs[i], file, err, err_len);
        fg_yaml_free(docs[i]);
    }
    free(docs);
    return rc;
}

static int rule_file(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    if (d->d_name[0] == '.')
        return 0;
    return (n > 5 && strcmp(d->d_name + n - 5, ".yaml") == 0) ||
           (n > 4 && strcmp(d->d_name + n - 4, ".yml") == 0) ||
           (n > 5 && strcmp(d->d_name + n - 5, ".json") == 0);
}

static int load_dir(struct rbac_policy *p, const char *dir, size_t max,
                    char *err, size_t err_len)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, rule_file, alphasort);
    if (n < 0) {
        snprintf(err, err_len, "%s: %s", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        if (rc == 0) {
            if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
                                 names[i]->d_name) >= sizeof(path)) {
                snprintf(err, err_len, "%s: path too long", dir);
                rc = -1;
            } else if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
                rc = load_file(p, path, max, err, err_len);
            }
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

struct rbac_policy *rbac_load(const char *path, size_t max_bytes, char *err,
                              size_t err_len)
{
    struct rbac_policy *p = calloc(1, sizeof(*p));
    struct stat st;
    if (!p) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    int rc;
    if (stat(path, &st) != 0) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        rc = -1;
    } else if (S_ISDIR(st.st_mode)) {
        rc = load_dir(p, path, max_bytes, err, err_len);
    } else {
        rc = load_file(p, path, max_bytes, err, err_len);
    }
    if (rc == 0)
        rc = rbac_resolve(p, err, err_len);
    if (rc != 0) {
        rbac_policy_free(p);
        return NULL;
    }
    return p;
}
