/* struct fg_buf (fedgate/util.h): text that grows by doubling and records
 * one failed growth instead of failing every caller's append. */
#include <stdlib.h>
#include <string.h>

#include <fedgate/util.h>

int fg_buf_reserve(struct fg_buf *b, size_t n)
{
    if (b->oom)
        return -1;
    if (b->len + n + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
        cap *= 2;
    char *grown = realloc(b->buf, cap);
    if (!grown) {
        b->oom = 1;
        return -1;
    }
    b->buf = grown;
    b->cap = cap;
    return 0;
}

void fg_buf_put(struct fg_buf *b, const void *s, size_t n)
{
    if (fg_buf_reserve(b, n) != 0)
        return;
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = '\0';
}

void fg_buf_puts(struct fg_buf *b, const char *s)
{
    fg_buf_put(b, s, strlen(s));
}
