/* The tar archives of the mock's pretend containers (what `kubectl cp`
 * pipes through exec): a reader of POSIX ustar with pax and GNU long-name
 * extensions (Go's archive/tar writes these) that extracts regular files
 * and directories into a pod's tree, and a ustar writer for `tar cf -`
 * that names members as GNU tar does, without the leading "/". Every
 * length read from a header is checked against what is left of the
 * archive; other member types (links, devices) are skipped, as a tar
 * without the privilege to make them would. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

#define BLOCK 512
#define NAME_MAX_LEN 4096

/* An octal field; -1 when it is not one (base-256 sizes are refused). */
static long long octal(const uint8_t *p, size_t n)
{
    long long v = 0;
    size_t i = 0;
    while (i < n && p[i] == ' ')
        i++;
    if (i == n || p[i] < '0' || p[i] > '7')
        return -1;
    for (; i < n && p[i] >= '0' && p[i] <= '7'; i++) {
        if (v > (1LL << 40))
            return -1;
        v = v * 8 + (p[i] - '0');
    }
    for (; i < n; i++) {
        if (p[i] != ' ' && p[i] != '\0')
            return -1;
    }
    return v;
}

static int checksum_ok(const uint8_t *h)
{
    long long want = octal(h + 148, 8);
    long long sum = 0;
    for (int i = 0; i < BLOCK; i++)
        sum += (i >= 148 && i < 156) ? ' ' : h[i];
    return want == sum;
}

/* A NUL-padded field into OUT. */
static void field(char *out, const uint8_t *p, size_t n)
{
    size_t len = 0;
    while (len < n && p[len])
        len++;
    memcpy(out, p, len);
    out[len] = '\0';
}

/* The "path" record of a pax header's data, into NAME. */
static void pax_path(const uint8_t *d, size_t len, char *name, size_t cap)
{
    size_t at = 0;
    while (at < len) {
        size_t n = 0, i = at;
        while (i < len && d[i] >= '0' && d[i] <= '9' && n < len)
            n = n * 10 + (size_t)(d[i++] - '0');
        if (n == 0 || n > len - at || i >= len || d[i] != ' ')
            return;
        const uint8_t *rec = d + i + 1, *end = d + at + n - 1; /* at '\n' */
        if (end - rec > 5 && memcmp(rec, "path=", 5) == 0 &&
            (size_t)(end - rec - 5) < cap) {
            memcpy(name, rec + 5, (size_t)(end - rec - 5));
            name[end - rec - 5] = '\0';
        }
        at += n;
    }
}

int mock_tar_extract(struct mock_podfs *fs, const char *uid, const char *dir,
                     const uint8_t *data, size_t len, char *err, size_t err_len)
{
    char next_name[NAME_MAX_LEN] = "", name[NAME_MAX_LEN + 256];
    char path[NAME_MAX_LEN + 512];
    size_t at = 0;
    while (len - at >= BLOCK) {
        const uint8_t *h = data + at;
        int zero = 1;
        for (int i = 0; i < BLOCK && zero; i++)
            zero = h[i] == 0;
        if (zero)
            return 0; /* the end-of-archive blocks */
        long long size = octal(h + 124, 12);
        if (!checksum_ok(h) || size < 0) {
            snprintf(err, err_len,
                     "tar: This does not look like a tar "
                     "archive\ntar: Exiting with failure "
                     "status due to previous errors\n");
            return -1;
        }
        at += BLOCK;
        size_t padded = ((size_t)size + BLOCK - 1) / BLOCK * BLOCK;
        if ((unsigned long long)size > len - at || padded > len - at) {
            snprintf(err, err_len,
                     "tar: Unexpected EOF in archive\n"
                     "tar: Error is not recoverable: exiting "
                     "now\n");
            return -1;
        }
        const uint8_t *body = data + at;
        at += padded;
        int type = h[156];
        if (type == 'x' || type == 'L') {
            if (type == 'x')
                pax_path(body, (size_t)size, next_name, sizeof(next_name));
            else if ((size_t)size < sizeof(next_name))
                field(next_name, body, (size_t)size);
            continue;
        }
        if (next_name[0]) {
            snprintf(name, sizeof(name), "%s", next_name);
            next_name[0] = '\0';
        } else {
            char base[101], prefix[156];
            field(base, h, 100);
            field(prefix, h + 345, 155);
            if (memcmp(h + 257, "ustar", 5) == 0 && prefix[0])
                snprintf(name, sizeof(name), "%s/%s", prefix, base);
            else
                snprintf(name, sizeof(name), "%s", base);
        }
        if (type != '0' && type != '\0' && type != '7' && type != '5')
            continue; /* links, devices, fifos: not made */
        if (mock_path_join(dir, name, path, sizeof(path)) != 0) {
            snprintf(err, err_len,
                     "tar: %.200s: Cannot open: File name too "
                     "long\n",
                     name);
            return -1;
        }
        if (strcmp(path, "/") == 0)
            continue; /* "./" and the like: the root is there */
        unsigned mode = (unsigned)(octal(h + 100, 8) & 07777);
        int rc = mock_podfs_put(fs, uid, path, type == '5', mode,
                                type == '5' ? NULL : body,
                                type == '5' ? 0 : (size_t)size);
        if (rc == -2) {
            snprintf(err, err_len,
                     "tar: %.200s: Wrote only 0 of %lld "
                     "bytes: No space left on device\n",
                     name, size);
            return -1;
        }
        if (rc < 0) {
            snprintf(err, err_len, "tar: out of memory\n");
            return -1;
        }
    }
    if (at != len) {
        snprintf(err, err_len, "tar: Unexpected EOF in archive\n");
        return -1;
    }
    return 0;
}

/* ---- the writer ------------------------------------------------------- */

/* V as N-1 zero-padded octal digits and a NUL (V fits: sizes are at
 * most pod_files_max_bytes, modes 07777). */
static void put_octal(uint8_t *p, size_t n, unsigned long long v)
{
    p[n - 1] = '\0';
    for (size_t i = n - 1; i-- > 0; v >>= 3)
        p[i] = (uint8_t)('0' + (v & 7));
}

/* One member's header (and data) for F, named without the leading '/'. */
static int add_member(struct mock_buf *out, const struct mock_file *f)
{
    uint8_t h[BLOCK];
    memset(h, 0, sizeof(h));
    char name[NAME_MAX_LEN + 2];
    snprintf(name, sizeof(name), "%s%s", f->path + 1, f->is_dir ? "/" : "");
    size_t n = strlen(name);
    if (n <= 100) {
        memcpy(h, name, n);
    } else {
        /* ustar: PREFIX/NAME split at a slash */
        const char *cut = NULL;
        for (const char *s = name; *s; s++) {
            if (*s == '/' && (size_t)(s - name) <= 155 &&
                n - (size_t)(s - name) - 1 <= 100 && s[1])
                cut = s;
        }
        if (!cut)
            return -2;
        memcpy(h + 345, name, (size_t)(cut - name));
        memcpy(h, cut + 1, n - (size_t)(cut - name) - 1);
    }
    put_octal(h + 100, 8, f->mode ? f->mode : (f->is_dir ? 0755 : 0644));
    put_octal(h + 108, 8, 0);
    put_octal(h + 116, 8, 0);
    put_octal(h + 124, 12, f->len);
    put_octal(h + 136, 12, 0);
    h[156] = f->is_dir ? '5' : '0';
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memcpy(h + 265, "root", 4);
    memcpy(h + 297, "root", 4);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < BLOCK; i++)
        sum += h[i];
    put_octal(h + 148, 7, sum); /* six digits, NUL, the space kept */
    static const uint8_t pad[BLOCK];
    size_t rest = f->len % BLOCK ? BLOCK - f->len % BLOCK : 0;
    return mock_buf_add(out, (const char *)h, BLOCK) |
           (f->len ? mock_buf_add(out, f->data, f->len) : 0) |
           (rest ? mock_buf_add(out, (const char *)pad, rest) : 0);
}

static int add_cb(void *arg, const struct mock_file *f)
{
    return add_member(arg, f);
}

int mock_tar_create(struct mock_podfs *fs, const char *uid, const char *path,
                    struct mock_buf *out, char *err, size_t err_len)
{
    const struct mock_file *f = mock_podfs_get(fs, uid, path);
    size_t start = out->len; /* a failure leaves OUT as it was */
    int rc;
    if (f) {
        rc = add_member(out, f);
    } else if (mock_podfs_is_dir(fs, uid, path)) {
        struct mock_file d = {(char *)path, NULL, 0, 1, 0755};
        rc = strcmp(path, "/") ? add_member(out, &d) : 0;
        if (rc == 0)
            rc = mock_podfs_each(fs, uid, path, add_cb, out);
    } else {
        snprintf(err, err_len,
                 "tar: %.200s: Cannot stat: No such file or directory\n"
                 "tar: Exiting with failure status due to previous "
                 "errors\n",
                 path + 1);
        return -1;
    }
    static const uint8_t end[2 * BLOCK];
    if (rc == -2) {
        snprintf(err, err_len,
                 "tar: %.200s: file name is too long (max "
                 "256); not dumped\n",
                 path);
        out->len = start;
        return -1;
    }
    if (rc != 0 || mock_buf_add(out, (const char *)end, sizeof(end)) != 0) {
        snprintf(err, err_len, "tar: out of memory\n");
        out->len = start;
        return -1;
    }
    return 0;
}
