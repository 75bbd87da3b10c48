/* Chart archives: a gzip stream (zlib, gzip framing only) holding a tar
 * archive (ustar, pax extended headers `path` and `size`, GNU long names),
 * read as a stream through a small window so that a chart that expands to
 * gigabytes costs a window, not its size. Every entry is checked as Helm's
 * loader checks it, more strictly where Helm is lax: only regular files and
 * directories, one top-level folder, no absolute path, no drive letter, no
 * backslash, no "." or ".." component, no control character; per-file and
 * total sizes bounded. Only Chart.yaml, the headers' own data and, when
 * asked, the files under templates/ are kept. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "appstore.h"

#define BLOCK 512
#define WINDOW (64 * 1024)

enum tar_state { T_HEADER, T_DATA, T_END };

struct tar {
    const struct appstore_limits *lim;
    char *err;
    size_t err_len;
    enum tar_state state;
    unsigned char hdr[BLOCK];
    size_t hdr_fill;
    int zero_blocks;
    /* the entry whose data is being read */
    char type;
    char name[4096 + 1];
    uint64_t left;    /* data bytes still to come */
    uint64_t padding; /* then this many to the block boundary */
    int keep;         /* its data goes into BUF */
    char *buf;
    size_t buf_len;
    /* what a pax header or GNU long name says of the next entry */
    char *next_path;
    int has_next_size;
    uint64_t next_size;
    /* the archive */
    char top[256];
    char *yaml;
    size_t yaml_len;
    /* the files under templates/, when asked for */
    struct appstore_files *templates;
    int keep_template; /* the entry being read is one */
};

static int fail(struct tar *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int fail(struct tar *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->err, t->err_len, fmt, ap);
    va_end(ap);
    return -1;
}

/* NAME for an error line: at most 100 bytes, what cannot be printed as
 * '?'. */
static const char *shown(const char *name, char *out, size_t cap)
{
    size_t i = 0;
    for (; name[i] && i + 1 < cap && i < 100; i++) {
        unsigned char c = (unsigned char)name[i];
        out[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
    }
    out[i] = 0;
    return out;
}

/* An octal header field (NUL- or space-terminated, leading spaces). */
static int octal(const unsigned char *f, size_t n, uint64_t *out)
{
    size_t i = 0;
    while (i < n && f[i] == ' ')
        i++;
    uint64_t v = 0;
    size_t digits = 0;
    for (; i < n && f[i] >= '0' && f[i] <= '7'; i++, digits++) {
        if (v >> 60)
            return -1;
        v = v * 8 + (uint64_t)(f[i] - '0');
    }
    for (; i < n; i++)
        if (f[i] != ' ' && f[i] != 0)
            return -1;
    if (digits == 0)
        return -1;
    *out = v;
    return 0;
}

/* A NUL-terminated (or full) header field into OUT. */
static size_t field(const unsigned char *f, size_t n, char *out)
{
    size_t i = 0;
    for (; i < n && f[i]; i++)
        out[i] = (char)f[i];
    out[i] = 0;
    return i;
}

static int header_sum_ok(const unsigned char *h)
{
    uint64_t want;
    if (octal(h + 148, 8, &want) < 0)
        return 0;
    uint64_t u = 0;
    int64_t s = 0;
    for (size_t i = 0; i < BLOCK; i++) {
        unsigned char c = (i >= 148 && i < 156) ? ' ' : h[i];
        u += c;
        s += (signed char)c;
    }
    return u == want || (int64_t)want == s;
}

/* Checks an entry's path; DIR: a directory (trailing slashes dropped).
 * Sets the archive's top folder from the first entry. */
static int check_path(struct tar *t, char *name, int dir)
{
    char sh[128];
    size_t n = strlen(name);
    if (dir)
        while (n > 1 && name[n - 1] == '/')
            name[--n] = 0;
    if (n == 0)
        return fail(t, "chart archive: an entry has an empty name");
    if (name[0] == '/')
        return fail(t, "chart archive: absolute path \"%s\"",
                    shown(name, sh, sizeof sh));
    if (n >= 2 && name[1] == ':')
        return fail(t, "chart archive: Windows drive path \"%s\"",
                    shown(name, sh, sizeof sh));
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == '\\')
            return fail(t, "chart archive: backslash in path \"%s\"",
                        shown(name, sh, sizeof sh));
        if (c < 0x20 || c == 0x7f)
            return fail(t, "chart archive: control character in path \"%s\"",
                        shown(name, sh, sizeof sh));
    }
    const char *p = name;
    size_t depth = 0;
    size_t top_len = 0;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len == 0 || (len == 1 && p[0] == '.'))
            return fail(t,
                        "chart archive: empty or \".\" component in "
                        "\"%s\"",
                        shown(name, sh, sizeof sh));
        if (len == 2 && p[0] == '.' && p[1] == '.')
            return fail(t, "chart archive: \"..\" in path \"%s\"",
                        shown(name, sh, sizeof sh));
        if (depth == 0)
            top_len = len;
        depth++;
        if (!slash)
            break;
        p = slash + 1;
    }
    if (depth == 1 && !dir)
        return fail(t,
                    "chart archive: file \"%s\" is outside the chart's "
                    "folder",
                    shown(name, sh, sizeof sh));
    if (top_len >= sizeof t->top)
        return fail(t, "chart archive: top folder name too long");
    if (!t->top[0]) {
        memcpy(t->top, name, top_len);
        t->top[top_len] = 0;
    } else if (strlen(t->top) != top_len ||
               memcmp(t->top, name, top_len) != 0) {
        return fail(t,
                    "chart archive: more than one top-level folder "
                    "(\"%s\" and \"%s\")",
                    t->top, shown(name, sh, sizeof sh));
    }
    return 0;
}

/* The records "LEN KEY=VALUE\n" of a pax extended header in T->buf. */
static int pax_records(struct tar *t)
{
    const char *p = t->buf, *end = t->buf + t->buf_len;
    while (p < end) {
        size_t len = 0;
        const char *q = p;
        while (q < end && *q >= '0' && *q <= '9' && len < 100000000)
            len = len * 10 + (size_t)(*q++ - '0');
        if (q == p || q >= end || *q != ' ' || len > (size_t)(end - p) ||
            len < (size_t)(q - p) + 4 || p[len - 1] != '\n' || *p == '0')
            return fail(t, "chart archive: malformed pax header record");
        const char *key = q + 1, *rec_end = p + len - 1;
        const char *eq = memchr(key, '=', (size_t)(rec_end - key));
        if (!eq || eq == key)
            return fail(t, "chart archive: malformed pax header record");
        size_t klen = (size_t)(eq - key);
        const char *val = eq + 1;
        size_t vlen = (size_t)(rec_end - val);
        if (klen == 4 && memcmp(key, "path", 4) == 0) {
            if (memchr(val, 0, vlen) || vlen == 0 || vlen >= sizeof t->name)
                return fail(t, "chart archive: bad pax path");
            free(t->next_path);
            t->next_path = strndup(val, vlen);
            if (!t->next_path)
                return fail(t, "out of memory");
        } else if (klen == 4 && memcmp(key, "size", 4) == 0) {
            uint64_t v = 0;
            if (vlen == 0 || vlen > 19)
                return fail(t, "chart archive: bad pax size");
            for (size_t i = 0; i < vlen; i++) {
                if (val[i] < '0' || val[i] > '9')
                    return fail(t, "chart archive: bad pax size");
                v = v * 10 + (uint64_t)(val[i] - '0');
            }
            t->has_next_size = 1;
            t->next_size = v;
        } else if (klen > 11 && memcmp(key, "GNU.sparse.", 11) == 0) {
            return fail(t, "chart archive: sparse files are not allowed");
        }
        p += len;
    }
    return 0;
}

/* An entry's data is complete: what it means. */
static int entry_done(struct tar *t)
{
    int rc = 0;
    if (t->type == 'x') {
        rc = pax_records(t);
    } else if (t->type == 'L') {
        size_t n = strnlen(t->buf, t->buf_len);
        if (n == 0 || n >= sizeof t->name)
            rc = fail(t, "chart archive: bad GNU long name");
        free(t->next_path);
        t->next_path = rc ? NULL : strndup(t->buf, n);
        if (!rc && !t->next_path)
            rc = fail(t, "out of memory");
    } else if (t->keep_template) {
        struct appstore_files *f = t->templates;
        struct appstore_file *v =
            realloc(f->v, (f->n + 1) * sizeof(struct appstore_file));
        char *name = strdup(t->name + strlen(t->top) + 1);
        if (!v || !name) {
            free(name);
            if (v)
                f->v = v;
            rc = fail(t, "out of memory");
        } else {
            f->v = v;
            v[f->n++] = (struct appstore_file){name, t->buf, t->buf_len};
            t->buf = NULL;
        }
    } else if (t->keep) {
        if (t->yaml) {
            rc = fail(t, "chart archive: Chart.yaml appears twice");
        } else {
            t->yaml = t->buf;
            t->yaml_len = t->buf_len;
            t->buf = NULL;
        }
    }
    free(t->buf);
    t->buf = NULL;
    t->buf_len = 0;
    t->keep = 0;
    t->keep_template = 0;
    return rc;
}

static int header(struct tar *t)
{
    const unsigned char *h = t->hdr;
    int zero = 1;
    for (size_t i = 0; i < BLOCK && zero; i++)
        zero = h[i] == 0;
    if (zero) {
        if (++t->zero_blocks == 2) {
            if (t->next_path || t->has_next_size)
                return fail(t, "chart archive: extended header without an "
                               "entry");
            t->state = T_END;
        }
        return 0;
    }
    if (t->zero_blocks)
        return fail(t, "chart archive: entry after an end-of-archive block");
    if (memcmp(h + 257,
               "ustar\0"
               "00",
               8) != 0 &&
        memcmp(h + 257, "ustar  \0", 8) != 0)
        return fail(t, "chart archive: not a ustar, pax or GNU tar archive");
    if (!header_sum_ok(h))
        return fail(t, "chart archive: bad tar header checksum");
    uint64_t size;
    if (octal(h + 124, 12, &size) < 0)
        return fail(t, "chart archive: bad tar entry size");
    char type = (char)h[156];
    if (type == 0)
        type = '0';
    int meta = type == 'x' || type == 'g' || type == 'L';
    if (!meta) {
        if (t->has_next_size)
            size = t->next_size;
        if (t->next_path) {
            strcpy(t->name, t->next_path);
        } else {
            char prefix[156], name[101];
            /* GNU headers keep times where ustar has the prefix */
            size_t pl = h[262] == 0 ? field(h + 345, 155, prefix) : 0;
            field(h, 100, name);
            if (pl)
                snprintf(t->name, sizeof t->name, "%s/%s", prefix, name);
            else
                strcpy(t->name, name);
        }
        free(t->next_path);
        t->next_path = NULL;
        t->has_next_size = 0;
        if (type != '0' && type != '5') {
            char sh[128];
            return fail(t,
                        "chart archive: entry \"%s\" has type '%c'; only "
                        "regular files and directories are allowed",
                        shown(t->name, sh, sizeof sh),
                        type >= 0x20 && type < 0x7f ? type : '?');
        }
        if (check_path(t, t->name, type == '5') < 0)
            return -1;
        if (type == '5')
            size = 0;
        if (size > t->lim->max_file_bytes) {
            char sh[128];
            return fail(t,
                        "chart archive: file \"%s\" is larger than "
                        "max_file_bytes (%llu)",
                        shown(t->name, sh, sizeof sh),
                        (unsigned long long)t->lim->max_file_bytes);
        }
        size_t tl = strlen(t->top);
        t->keep = type == '0' && strncmp(t->name, t->top, tl) == 0 &&
                  strcmp(t->name + tl, "/Chart.yaml") == 0;
        t->keep_template = type == '0' && t->templates &&
                           strncmp(t->name, t->top, tl) == 0 &&
                           strncmp(t->name + tl, "/templates/", 11) == 0;
        t->keep |= t->keep_template;
    } else {
        if (size > t->lim->max_file_bytes)
            return fail(t, "chart archive: an extended header is larger "
                           "than max_file_bytes");
        t->keep = type != 'g';
    }
    t->type = type;
    t->left = size;
    t->padding = (BLOCK - size % BLOCK) % BLOCK;
    if (t->keep) {
        t->buf = malloc(size + 1);
        if (!t->buf)
            return fail(t, "out of memory");
        t->buf[size] = 0;
    }
    t->state = T_DATA;
    if (size == 0 && t->padding == 0) {
        t->state = T_HEADER;
        return entry_done(t);
    }
    return 0;
}

/* Feeds N bytes of the tar stream. */
static int tar_feed(struct tar *t, const unsigned char *p, size_t n)
{
    while (n > 0) {
        if (t->state == T_END)
            return 0; /* what follows the end marker is padding */
        if (t->state == T_HEADER) {
            size_t take = BLOCK - t->hdr_fill;
            if (take > n)
                take = n;
            memcpy(t->hdr + t->hdr_fill, p, take);
            t->hdr_fill += take;
            p += take;
            n -= take;
            if (t->hdr_fill == BLOCK) {
                t->hdr_fill = 0;
                if (header(t) < 0)
                    return -1;
            }
            continue;
        }
        if (t->left > 0) {
            size_t take = t->left < n ? (size_t)t->left : n;
            if (t->keep)
                memcpy(t->buf + t->buf_len, p, take);
            t->buf_len += t->keep ? take : 0;
            t->left -= take;
            p += take;
            n -= take;
        } else {
            size_t take = t->padding < n ? (size_t)t->padding : n;
            t->padding -= take;
            p += take;
            n -= take;
        }
        if (t->left == 0 && t->padding == 0) {
            t->state = T_HEADER;
            if (entry_done(t) < 0)
                return -1;
        }
    }
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct appstore_file *)a)->name,
                  ((const struct appstore_file *)b)->name);
}

void appstore_files_free(struct appstore_files *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->v[i].name);
        free(f->v[i].data);
    }
    free(f->v);
    f->v = NULL;
    f->n = 0;
}

static int archive_read(const void *data, size_t len,
                        const struct appstore_limits *lim, char **yaml,
                        size_t *yaml_len, struct appstore_files *templates,
                        char *err, size_t err_len)
{
    struct tar *t = calloc(1, sizeof *t);
    unsigned char *win = malloc(WINDOW);
    if (!t || !win) {
        free(t);
        free(win);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    t->lim = lim;
    t->templates = templates;
    t->err = err;
    t->err_len = err_len;
    int rc = 0;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (len > lim->max_chart_bytes)
        rc = fail(t, "chart archive is larger than max_chart_bytes (%llu)",
                  (unsigned long long)lim->max_chart_bytes);
    else if (len < 2 || ((const unsigned char *)data)[0] != 0x1f ||
             ((const unsigned char *)data)[1] != 0x8b)
        rc = fail(t, "chart archive is not gzip-compressed");
    else if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        rc = fail(t, "out of memory");
    else {
        z.next_in = (unsigned char *)(uintptr_t)data;
        z.avail_in = (uInt)len;
        uint64_t expanded = 0;
        int zr = Z_OK;
        while (rc == 0 && zr != Z_STREAM_END) {
            z.next_out = win;
            z.avail_out = WINDOW;
            zr = inflate(&z, Z_NO_FLUSH);
            size_t got = WINDOW - z.avail_out;
            expanded += got;
            if (zr != Z_OK && zr != Z_STREAM_END)
                rc = fail(t, "chart archive: bad gzip data%s%s",
                          z.msg ? ": " : "", z.msg ? z.msg : "");
            else if (expanded > lim->max_expanded_bytes)
                rc = fail(t,
                          "chart archive expands to more than "
                          "max_expanded_bytes (%llu)",
                          (unsigned long long)lim->max_expanded_bytes);
            else if (tar_feed(t, win, got) < 0)
                rc = -1;
            else if (zr == Z_OK && got == 0 && z.avail_in == 0)
                rc = fail(t, "chart archive: truncated gzip data");
        }
        if (rc == 0 && z.avail_in != 0)
            rc = fail(t, "chart archive: bytes after the gzip stream");
        /* Go's reader, as Helm uses it, also ends at a header boundary
         * without the two zero blocks */
        if (rc == 0 && (t->state == T_DATA || t->hdr_fill != 0 ||
                        t->next_path || t->has_next_size))
            rc = fail(t, "chart archive: truncated tar archive");
        if (rc == 0 && !t->yaml)
            rc = fail(t, "chart archive: Chart.yaml is missing");
        inflateEnd(&z);
    }
    if (rc == 0) {
        *yaml = t->yaml;
        *yaml_len = t->yaml_len;
        t->yaml = NULL;
        if (templates && templates->n)
            qsort(templates->v, templates->n, sizeof(templates->v[0]), by_name);
    } else if (templates) {
        appstore_files_free(templates);
    }
    free(t->yaml);
    free(t->buf);
    free(t->next_path);
    free(t);
    free(win);
    return rc;
}

int appstore_archive_read(const void *data, size_t len,
                          const struct appstore_limits *lim, char **yaml,
                          size_t *yaml_len, char *err, size_t err_len)
{
    return archive_read(data, len, lim, yaml, yaml_len, NULL, err, err_len);
}

int appstore_archive_templates(const void *data, size_t len,
                               const struct appstore_limits *lim,
                               struct appstore_files *templates, char *err,
                               size_t err_len)
{
    char *yaml;
    size_t yaml_len;
    *templates = (struct appstore_files){NULL, 0};
    if (archive_read(data, len, lim, &yaml, &yaml_len, templates, err,
                     err_len) < 0)
        return -1;
    free(yaml);
    return 0;
}
