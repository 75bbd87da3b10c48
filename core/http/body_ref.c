/* Response body bytes into a codec's output, by reference when the driver
 * handed them over; see body_ref.h. */
#include <stdlib.h>

#include <event2/buffer.h>

#include "http/body_ref.h"

/* libevent's cleanup takes one pointer: the driver's function and
 * argument travel together. */
struct body_ref {
    fg_buffer_free_fn free_fn;
    void *arg;
};

static void release(const void *data, size_t len, void *extra)
{
    struct body_ref *r = extra;
    r->free_fn(r->arg, data, len);
    free(r);
}

static int add_reference(struct evbuffer *out, const void *buf, size_t len,
                         fg_buffer_free_fn free_fn, void *arg)
{
    struct body_ref *r = malloc(sizeof(*r));
    if (!r)
        return -1;
    r->free_fn = free_fn;
    r->arg = arg;
    /* On failure libevent does not run the cleanup. */
    if (evbuffer_add_reference(out, buf, len, release, r) != 0) {
        free(r);
        return -1;
    }
    return 0;
}

int fg_body_add(struct evbuffer *out, const void *buf, size_t len,
                fg_buffer_free_fn free_fn, void *arg)
{
    /* A reference is a chunk of its own, and every chunk of a socket's
     * buffer leaves as a TLS record and a write(): small bodies are
     * copied behind what is already queued. */
    if (free_fn && len > FG_BODY_COPY_MAX &&
        add_reference(out, buf, len, free_fn, arg) == 0)
        return 0;
    int rc = evbuffer_add(out, buf, len);
    if (free_fn)
        free_fn(arg, buf, len);
    return rc;
}
