/* Reading a small secret file (a bearer token) for a header (util.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fedgate/util.h>

char *fg_secret_read(const char *path, const char *what, char *err,
                     size_t err_len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_len, "cannot read %s \"%s\": %s", what, path,
                 strerror(errno));
        return NULL;
    }
    char *buf = malloc(FG_SECRET_MAX + 1);
    size_t n = buf ? fread(buf, 1, FG_SECRET_MAX + 1, f) : 0;
    int bad = !buf || ferror(f);
    fclose(f);
    if (bad || n > FG_SECRET_MAX) {
        snprintf(err, err_len, "cannot read %s \"%s\": %s", what, path,
                 buf ? (n > FG_SECRET_MAX ? "too large" : "read error")
                     : "out of memory");
        free(buf);
        return NULL;
    }
    size_t b = 0;
    while (b < n && isspace((unsigned char)buf[b]))
        b++;
    while (n > b && isspace((unsigned char)buf[n - 1]))
        n--;
    memmove(buf, buf + b, n - b);
    buf[n - b] = 0;
    if (n == b) {
        snprintf(err, err_len, "%s \"%s\" is empty", what, path);
        free(buf);
        return NULL;
    }
    /* The token goes into a header: it may not break the header block. */
    for (size_t i = 0; i < n - b; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c < 0x20 || c == 0x7f) {
            snprintf(err, err_len, "%s \"%s\" holds control characters", what,
                     path);
            free(buf);
            return NULL;
        }
    }
    return buf;
}
