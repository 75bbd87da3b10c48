/* fedgatectl's token lines: see token_line.h. The line is written with
 * one write() on an O_APPEND descriptor under flock, so two fedgatectl
 * runs, or a gateway reading the file on SIGHUP, never see half a line. */
#include "token_line.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#define TOKEN_BYTES 32
#define MAX_LINE 8192

int fg_ctl_name_ok(const char *name, int is_group)
{
    if (!name || !*name)
        return 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f || (is_group && *p == ','))
            return 0;
    return 1;
}

static void hex(char *out, const unsigned char *in, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Appends S as a quoted CSV field ("" for a quote) to LINE at *LEN. */
static int field(char *line, size_t *len, const char *s, int first)
{
    size_t n = *len;
    if (!first && n < MAX_LINE)
        line[n++] = ',';
    if (n < MAX_LINE)
        line[n++] = '"';
    for (; *s && n + 2 < MAX_LINE; s++) {
        if (*s == '"')
            line[n++] = '"';
        line[n++] = *s;
    }
    if (*s || n + 1 >= MAX_LINE)
        return -1;
    line[n++] = '"';
    *len = n;
    return 0;
}

static int make_line(char *line, size_t *len, const char *token,
                     const char *user, const char *const *groups,
                     size_t n_groups)
{
    unsigned char raw[16];
    char uuid[37], h[33];
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return -1;
    raw[6] = (unsigned char)((raw[6] & 0x0f) | 0x40); /* version 4 */
    raw[8] = (unsigned char)((raw[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    hex(h, raw, sizeof(raw));
    snprintf(uuid, sizeof(uuid), "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12,
             h + 16, h + 20);
    char list[MAX_LINE] = "";
    size_t used = 0;
    for (size_t i = 0; i < n_groups; i++) {
        int n = snprintf(list + used, sizeof(list) - used, "%s%s", i ? "," : "",
                         groups[i]);
        if (n < 0 || (size_t)n >= sizeof(list) - used)
            return -1;
        used += (size_t)n;
    }
    *len = 0;
    if (field(line, len, token, 1) != 0 || field(line, len, user, 0) != 0 ||
        field(line, len, uuid, 0) != 0 || field(line, len, list, 0) != 0 ||
        *len + 1 >= MAX_LINE)
        return -1;
    line[(*len)++] = '\n';
    return 0;
}

/* Whether the file ends without a newline (so ours must start one). */
static int needs_newline(int fd, off_t size)
{
    char last = '\n';
    return size > 0 && pread(fd, &last, 1, size - 1) == 1 && last != '\n';
}

int fg_ctl_token_append(const char *path, const char *user,
                        const char *const *groups, size_t n_groups,
                        char token[65], struct fg_error *err)
{
    unsigned char raw[TOKEN_BYTES];
    char line[MAX_LINE + 1];
    size_t len = 0;
    line[0] = '\n';
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return fg_error_set(err, "no random bytes for a token");
    hex(token, raw, sizeof(raw));
    OPENSSL_cleanse(raw, sizeof(raw));
    int fd =
        open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    struct stat st;
    int rc = -1;
    if (fd < 0 || flock(fd, LOCK_EX) != 0 || fstat(fd, &st) != 0) {
        fg_error_set(err, "%s: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        fg_error_set(err, "%s: not a regular file", path);
    } else {
        int nl = needs_newline(fd, st.st_size);
        if (make_line(line + nl, &len, token, user, groups, n_groups) != 0)
            fg_error_set(err, "%s: the line for %s is too long", path, user);
        else if (write(fd, line, len + (size_t)nl) !=
                 (ssize_t)(len + (size_t)nl))
            fg_error_set(err, "%s: %s", path, strerror(errno));
        else
            rc = fsync(fd) == 0
                     ? 0
                     : fg_error_set(err, "%s: %s", path, strerror(errno));
        if (st.st_mode & 077)
            fprintf(stderr,
                    "fedgatectl: warning: %s can be read by others than its "
                    "owner (chmod 600)\n",
                    path);
    }
    if (fd >= 0)
        close(fd);
    OPENSSL_cleanse(line, sizeof(line));
    if (rc != 0)
        OPENSSL_cleanse(token, 65);
    return rc;
}
