/* fg_error and fg_diag: see error.h. */
#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fg_error_set(struct fg_error *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return -1;
}

void fg_diag_add(struct fg_diag *d, const char *file, int line, const char *fmt,
                 ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        char **lines = realloc(d->lines, cap * sizeof(*lines));
        if (!lines)
            return;
        d->lines = lines;
        d->cap = cap;
    }
    char *out;
    int len = file ? snprintf(NULL, 0, "%s:%d: %s", file, line, msg)
                   : (int)strlen(msg);
    out = malloc((size_t)len + 1);
    if (!out)
        return;
    if (file)
        snprintf(out, (size_t)len + 1, "%s:%d: %s", file, line, msg);
    else
        memcpy(out, msg, (size_t)len + 1);
    d->lines[d->n++] = out;
}

void fg_diag_free(struct fg_diag *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->lines[i]);
    free(d->lines);
    d->lines = NULL;
    d->n = d->cap = 0;
}
