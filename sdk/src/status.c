/* Kubernetes Status bodies (util.h), shaped like kube-apiserver's so that
 * kubectl and client libraries print and classify them as they would any
 * API server's: one builder for the core's own answers and the plugins'.
 *
 * The reasons follow k8s.io/apimachinery's StatusReason constants and the
 * codes its errors package pairs them with. Where kube-apiserver has no
 * reason of its own (414, 431), it answers a bad request. */
#include <fedgate/util.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *fg_status_reason(int code)
{
    switch (code) {
    case 400:
    case 414:
    case 431:
        return "BadRequest";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "NotFound";
    case 405:
        return "MethodNotAllowed";
    case 406:
        return "NotAcceptable";
    case 408:
    case 504:
        return "Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Expired";
    case 413:
        return "RequestEntityTooLarge";
    case 415:
        return "UnsupportedMediaType";
    case 422:
        return "Invalid";
    case 429:
        return "TooManyRequests";
    case 503:
        return "ServiceUnavailable";
    default:
        /* apimachinery reports any other server error as InternalError
         * (501, 502 included) and leaves other client errors without a
         * reason. */
        return code >= 500 && code <= 599 ? "InternalError" : NULL;
    }
}

/* ,"KEY":"VALUE" (FIRST: without the comma); nothing when VALUE is empty.
 * Returns 1 when it wrote the member. */
static int member(struct fg_buf *b, int first, const char *key, const char *v)
{
    if (!v || !*v)
        return 0;
    fg_buf_puts(b, first ? "\"" : ",\"");
    fg_buf_puts(b, key);
    fg_buf_puts(b, "\":");
    size_t n = strlen(v), need = fg_json_quote(NULL, 0, v, n);
    if (fg_buf_reserve(b, need) == 0)
        b->len += fg_json_quote(b->buf + b->len, need + 1, v, n);
    return 1;
}

static void details(struct fg_buf *b, const struct fg_status *st)
{
    int any = (st->name && *st->name) || (st->group && *st->group) ||
              (st->kind && *st->kind) || (st->uid && *st->uid) || st->n_causes;
    if (!any && !st->always_details)
        return;
    fg_buf_puts(b, ",\"details\":{");
    int n = member(b, 1, "name", st->name);
    n += member(b, !n, "group", st->group);
    n += member(b, !n, "kind", st->kind);
    n += member(b, !n, "uid", st->uid);
    if (st->n_causes) {
        fg_buf_puts(b, n ? ",\"causes\":[" : "\"causes\":[");
        for (size_t i = 0; i < st->n_causes; i++) {
            const struct fg_status_cause *c = &st->causes[i];
            fg_buf_puts(b, i ? ",{" : "{");
            int m = member(b, 1, "reason", c->reason);
            m += member(b, !m, "message", c->message);
            member(b, !m, "field", c->field);
            fg_buf_puts(b, "}");
        }
        fg_buf_puts(b, "]");
    }
    fg_buf_puts(b, "}");
}

char *fg_status_build(const struct fg_status *st, size_t *len)
{
    struct fg_buf b = {0};
    fg_buf_puts(&b,
                "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{}");
    member(&b, 0, "status", st->status ? st->status : "Failure");
    member(&b, 0, "message", st->message);
    member(&b, 0, "reason",
           st->reason ? st->reason : fg_status_reason(st->code));
    details(&b, st);
    if (st->code) {
        char code[24];
        snprintf(code, sizeof(code), ",\"code\":%d", st->code);
        fg_buf_puts(&b, code);
    }
    fg_buf_puts(&b, st->newline ? "}\n" : "}");
    if (b.oom) {
        free(b.buf);
        return NULL;
    }
    if (len)
        *len = b.len;
    return b.buf;
}
