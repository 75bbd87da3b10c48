/* kube-apiserver's static token file, read as its Go encoding/csv reader
 * reads it (records of at least three columns: token, user name, uid, and
 * an optional fourth, the comma-separated groups; further columns are
 * ignored; RFC 4180 quoting with "" for a quote; CRLF or LF; empty lines
 * skipped), with three differences an operator should know: a line whose
 * first byte is '#' is a comment, control characters (a newline inside
 * quotes included) are refused since the names travel on in headers, and
 * an empty user name is refused since a request must run as someone.
 * Tokens are kept in a table indexed by their SHA-256, so that a lookup
 * costs the same whichever token is asked about; the final comparison is
 * CRYPTO_memcmp. Every identity gets system:authenticated, as
 * kube-apiserver adds it to whoever authenticates. */
#include "token_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define AUTHENTICATED "system:authenticated"
#define KEPT_COLUMNS 4

struct entry {
    unsigned char digest[32];
    char *token;
    size_t token_len;
    int line;
    char **groups; /* the record's groups, then system:authenticated
                    * unless among them */
    struct fg_identity id;
};

struct token_table {
    struct entry *entries;
    size_t n, cap;
    size_t *slots; /* entry index + 1; 0: empty */
    size_t mask;
    size_t live; /* tokens that a lookup finds (duplicates replaced) */
};

/* The CSV reader's state: where it is and the current record's fields,
 * NUL-separated in BUF. */
struct csv {
    const char *p, *end;
    const char *file;
    int line;
    char *buf;
    size_t len, cap;
    size_t field[KEPT_COLUMNS]; /* offsets into BUF */
    size_t n_fields;
    int record_line;
};

static void fail(const struct csv *c, int line, char *err, size_t err_len,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void fail(const struct csv *c, int line, char *err, size_t err_len,
                 const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    snprintf(err, err_len, "%s:%d: %s", c->file, line, what);
}

static int push(struct csv *c, char ch)
{
    if (c->len == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        char *b = realloc(c->buf, cap);
        if (!b)
            return -1;
        c->buf = b;
        c->cap = cap;
    }
    c->buf[c->len++] = ch;
    return 0;
}

static int at_crlf(const struct csv *c)
{
    return c->p + 1 < c->end && c->p[0] == '\r' && c->p[1] == '\n';
}

static int at_record_end(const struct csv *c)
{
    return c->p == c->end || *c->p == '\n' || at_crlf(c);
}

/* Skips empty lines and comments. */
static void skip_blank(struct csv *c)
{
    while (c->p < c->end) {
        if (*c->p == '\n' || at_crlf(c)) {
            c->p += *c->p == '\n' ? 1 : 2;
            c->line++;
        } else if (*c->p == '#') {
            const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
            c->p = nl ? nl : c->end;
        } else {
            return;
        }
    }
}

/* One quoted field, the opening quote consumed. */
static int quoted_field(struct csv *c, char *err, size_t err_len)
{
    int start = c->line;
    for (;;) {
        if (c->p == c->end) {
            fail(c, start, err, err_len, "a quoted field is not closed");
            return -1;
        }
        char ch = *c->p;
        if (ch == '"' && c->p + 1 < c->end && c->p[1] == '"') {
            c->p += 2;
        } else if (ch == '"') {
            c->p++;
            break;
        } else {
            if (ch == '\n')
                c->line++;
            c->p++;
        }
        if (push(c, ch) != 0)
            goto oom;
    }
    if (!at_record_end(c) && *c->p != ',') {
        fail(c, c->line, err, err_len,
             "extraneous or missing \" in quoted-field");
        return -1;
    }
    return 0;
oom:
    fail(c, c->line, err, err_len, "out of memory");
    return -1;
}

static int bare_field(struct csv *c, char *err, size_t err_len)
{
    while (!at_record_end(c) && *c->p != ',') {
        if (*c->p == '"') {
            fail(c, c->line, err, err_len, "bare \" in non-quoted-field");
            return -1;
        }
        if (push(c, *c->p++) != 0) {
            fail(c, c->line, err, err_len, "out of memory");
            return -1;
        }
    }
    return 0;
}

/* Reads the next record: 1, 0 at the end of the text, -1 with ERR. */
static int read_record(struct csv *c, char *err, size_t err_len)
{
    skip_blank(c);
    if (c->p == c->end)
        return 0;
    c->len = 0;
    c->n_fields = 0;
    c->record_line = c->line;
    for (;;) {
        size_t start = c->len;
        /* after a final ',' the text may end: an empty field */
        int r = c->p < c->end && *c->p == '"'
                    ? (c->p++, quoted_field(c, err, err_len))
                    : bare_field(c, err, err_len);
        if (r != 0)
            return -1;
        if (push(c, '\0') != 0) {
            fail(c, c->line, err, err_len, "out of memory");
            return -1;
        }
        for (size_t i = start; i + 1 < c->len; i++) {
            unsigned char b = (unsigned char)c->buf[i];
            if (b < 0x20 || b == 0x7f) {
                fail(c, c->record_line, err, err_len,
                     "column %zu holds a control character", c->n_fields + 1);
                return -1;
            }
        }
        if (c->n_fields < KEPT_COLUMNS)
            c->field[c->n_fields] = start;
        c->n_fields++;
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (c->p < c->end) {
            c->p += *c->p == '\n' ? 1 : 2;
            c->line++;
        }
        return 1;
    }
}

static void entry_free(struct entry *e)
{
    if (e->token)
        OPENSSL_cleanse(e->token, e->token_len);
    free(e->token);
    free((char *)e->id.user);
    free((char *)e->id.uid);
    for (size_t i = 0; i < e->id.n_groups; i++)
        free(e->groups[i]);
    free(e->groups);
}

void token_table_free(struct token_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        entry_free(&t->entries[i]);
    free(t->entries);
    free(t->slots);
    free(t);
}

static int digest(const char *token, size_t len, unsigned char out[32])
{
    unsigned int n = 0;
    return EVP_Digest(token, len, out, &n, EVP_sha256(), NULL) == 1 && n == 32
               ? 0
               : -1;
}

static int add_group(struct entry *e, const char *g, size_t len)
{
    for (size_t i = 0; i < e->id.n_groups; i++)
        if (strlen(e->groups[i]) == len && memcmp(e->groups[i], g, len) == 0)
            return 0;
    char **groups =
        realloc(e->groups, (e->id.n_groups + 1) * sizeof(*e->groups));
    if (!groups)
        return -1;
    e->groups = groups;
    e->id.groups = (const char *const *)groups;
    if (!(groups[e->id.n_groups] = strndup(g, len)))
        return -1;
    e->id.n_groups++;
    return 0;
}

/* The entry of the record in C. */
static int make_entry(const struct csv *c, struct entry *e)
{
    const char *token = c->buf + c->field[0];
    e->line = c->record_line;
    e->token_len = strlen(token);
    if (!(e->token = strdup(token)) ||
        !(e->id.user = strdup(c->buf + c->field[1])))
        return -1;
    if (*(c->buf + c->field[2]) && !(e->id.uid = strdup(c->buf + c->field[2])))
        return -1;
    if (c->n_fields > 3) {
        const char *g = c->buf + c->field[3];
        while (*g) {
            size_t n = strcspn(g, ",");
            if (n && add_group(e, g, n) != 0)
                return -1;
            g += n + (g[n] == ',');
        }
    }
    if (add_group(e, AUTHENTICATED, strlen(AUTHENTICATED)) != 0)
        return -1;
    return digest(e->token, e->token_len, e->digest);
}

static size_t slot_of(const struct token_table *t, const unsigned char *d)
{
    uint64_t h;
    memcpy(&h, d, sizeof(h));
    return (size_t)h & t->mask;
}

static int same_token(const struct entry *e, const unsigned char *d,
                      const char *token, size_t len)
{
    return CRYPTO_memcmp(e->digest, d, sizeof(e->digest)) == 0 &&
           e->token_len == len && CRYPTO_memcmp(e->token, token, len) == 0;
}

/* Indexes every entry; a token given again replaces the earlier one. */
static int index_entries(struct token_table *t, const char *file,
                         token_warn_fn warn, void *warn_arg)
{
    size_t n = 8;
    while (n < t->n * 2)
        n *= 2;
    if (!(t->slots = calloc(n, sizeof(*t->slots))))
        return -1;
    t->mask = n - 1;
    for (size_t i = 0; i < t->n; i++) {
        struct entry *e = &t->entries[i];
        size_t s = slot_of(t, e->digest);
        while (t->slots[s] && !same_token(&t->entries[t->slots[s] - 1],
                                          e->digest, e->token, e->token_len))
            s = (s + 1) & t->mask;
        if (t->slots[s] && warn) {
            char msg[512];
            snprintf(msg, sizeof(msg),
                     "%s:%d: the token of line %d is given again; this line "
                     "wins",
                     file, e->line, t->entries[t->slots[s] - 1].line);
            warn(warn_arg, msg);
        }
        t->live += !t->slots[s];
        t->slots[s] = i + 1;
    }
    return 0;
}

struct token_table *token_table_parse(const char *text, size_t len,
                                      const char *file, token_warn_fn warn,
                                      void *warn_arg, char *err, size_t err_len)
{
    struct token_table *t = calloc(1, sizeof(*t));
    struct csv c = {.p = text, .end = text + len, .file = file, .line = 1};
    int r = 0;
    if (!t) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    while ((r = read_record(&c, err, err_len)) == 1) {
        if (c.n_fields < 3) {
            fail(&c, c.record_line, err, err_len,
                 "must have at least 3 columns (token, user name, user "
                 "uid), found %zu",
                 c.n_fields);
            r = -1;
            break;
        }
        if (!c.buf[c.field[0]]) {
            if (warn) {
                char msg[512];
                snprintf(msg, sizeof(msg), "%s:%d: empty token, line skipped",
                         file, c.record_line);
                warn(warn_arg, msg);
            }
            continue;
        }
        if (!c.buf[c.field[1]]) {
            fail(&c, c.record_line, err, err_len, "the user name is empty");
            r = -1;
            break;
        }
        if (t->n == t->cap) {
            size_t cap = t->cap ? t->cap * 2 : 16;
            struct entry *e = realloc(t->entries, cap * sizeof(*e));
            if (!e) {
                fail(&c, c.record_line, err, err_len, "out of memory");
                r = -1;
                break;
            }
            t->entries = e;
            t->cap = cap;
        }
        struct entry *e = &t->entries[t->n++];
        memset(e, 0, sizeof(*e));
        if (make_entry(&c, e) != 0) {
            fail(&c, c.record_line, err, err_len, "out of memory");
            r = -1;
            break;
        }
    }
    if (c.buf)
        OPENSSL_cleanse(c.buf, c.cap);
    free(c.buf);
    if (r == 0 && index_entries(t, file, warn, warn_arg) != 0) {
        snprintf(err, err_len, "out of memory");
        r = -1;
    }
    if (r != 0) {
        token_table_free(t);
        return NULL;
    }
    return t;
}

struct token_table *token_table_load(const char *path, size_t max_bytes,
                                     token_warn_fn warn, void *warn_arg,
                                     int *shared, char *err, size_t err_len)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max_bytes) {
        snprintf(err, err_len,
                 "%s: must be a regular file of at most %zu bytes", path,
                 max_bytes);
        close(fd);
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
    close(fd);
    if (!text || got != size) {
        snprintf(err, err_len, "%s: %s", path,
                 text ? "could not be read whole" : "out of memory");
        free(text);
        return NULL;
    }
    struct token_table *t =
        token_table_parse(text, size, path, warn, warn_arg, err, err_len);
    OPENSSL_cleanse(text, size);
    free(text);
    *shared = t && t->live && (st.st_mode & 077);
    return t;
}

const struct fg_identity *token_table_lookup(const struct token_table *t,
                                             const char *token, size_t len)
{
    unsigned char d[32];
    if (digest(token, len, d) != 0)
        return NULL;
    for (size_t s = slot_of(t, d); t->slots[s]; s = (s + 1) & t->mask) {
        const struct entry *e = &t->entries[t->slots[s] - 1];
        if (same_token(e, d, token, len))
            return &e->id;
    }
    return NULL;
}

size_t token_table_size(const struct token_table *t)
{
    return t->live;
}
