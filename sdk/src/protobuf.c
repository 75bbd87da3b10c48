/* Kubernetes protobuf bodies (fedgate/util.h): the "k8s\0" envelope
 * around runtime.Unknown {1: TypeMeta {1: apiVersion, 2: kind}, 2: raw,
 * 3: contentEncoding, 4: contentType}, and raw read into the JSON object
 * it stands for by the caller's schema tables (fg_pb_message), since
 * kubectl's typed commands send protobuf and never retry with JSON.
 *
 * Go's protobuf marshaller writes every non-pointer field, zero or not,
 * while encoding/json leaves zero values out (omitempty). So zero scalars
 * and empty nested messages are dropped, except for fields that are
 * pointers in Go (FG_PB_KEEP), whose presence on the wire means "set".
 *
 * The reader trusts nothing: every length is checked against what is
 * left, nesting is capped, the number of JSON nodes is capped, strings
 * must be UTF-8 without NUL. Anything wrong is "malformed" (400). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "fedgate/util.h"

#define PB_MAX_DEPTH 32
#define PB_MAX_NODES 200000

struct pb {
    char *err;
    size_t err_len;
    size_t nodes;
};

struct rd {
    const uint8_t *p, *end;
};

static int bad(struct pb *b, const char *why)
{
    snprintf(b->err, b->err_len, "malformed protobuf body: %s", why);
    return -1;
}

static int varint(struct rd *r, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (r->p >= r->end)
            return -1;
        uint8_t c = *r->p++;
        if (shift == 63 && c > 1)
            return -1;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* A length-delimited field's bytes into SUB. */
static int delimited(struct rd *r, struct rd *sub)
{
    uint64_t n;
    if (varint(r, &n) != 0 || n > (uint64_t)(r->end - r->p))
        return -1;
    sub->p = r->p;
    sub->end = r->p + n;
    r->p += n;
    return 0;
}

static int skip(struct rd *r, unsigned wt)
{
    uint64_t v;
    struct rd sub;
    switch (wt) {
    case 0:
        return varint(r, &v);
    case 1:
        if (r->end - r->p < 8)
            return -1;
        r->p += 8;
        return 0;
    case 2:
        return delimited(r, &sub);
    case 5:
        if (r->end - r->p < 4)
            return -1;
        r->p += 4;
        return 0;
    default:
        return -1; /* groups are not used by Kubernetes */
    }
}

static int utf8_ok(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t len;
        uint32_t cp;
        if (c == 0)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            len = 2;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (n - i < len)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += len;
    }
    return 1;
}

static cJSON *string_of(struct pb *b, const struct rd *s)
{
    size_t n = (size_t)(s->end - s->p);
    if (!utf8_ok(s->p, n)) {
        bad(b, "a string is not UTF-8");
        return NULL;
    }
    char *t = malloc(n + 1);
    if (!t)
        return NULL;
    memcpy(t, s->p, n);
    t[n] = '\0';
    cJSON *v = cJSON_CreateString(t);
    free(t);
    return v;
}

static cJSON *base64_of(const struct rd *s)
{
    char *t = fg_base64_encode_alloc(s->p, (size_t)(s->end - s->p), 0);
    cJSON *v = t ? cJSON_CreateString(t) : NULL;
    free(t);
    return v;
}

/* Stores V (owned) as KEY of OUT; a later occurrence replaces an earlier
 * one, as protobuf's "last one wins" says. Returns 0, -1 (memory). */
static int put(struct pb *b, cJSON *out, const char *key, cJSON *v)
{
    if (!v)
        return -1;
    if (++b->nodes > PB_MAX_NODES) {
        cJSON_Delete(v);
        bad(b, "too many fields");
        return -1;
    }
    /* cJSON_HasObjectItem ignores case; keys here must match exactly. */
    if (cJSON_GetObjectItemCaseSensitive(out, key)
            ? cJSON_ReplaceItemInObjectCaseSensitive(out, key, v)
            : cJSON_AddItemToObject(out, key, v))
        return 0;
    cJSON_Delete(v);
    return -1;
}

/* Reads one map entry {1: key, 2: value} of type T into the object at
 * OUT[JSON]. */
static int map_entry(struct pb *b, cJSON *out, const char *json,
                     enum fg_pb_type t, struct rd *e)
{
    cJSON *key = NULL, *val = NULL;
    int rc = -1;
    while (e->p < e->end) {
        uint64_t tag;
        struct rd s;
        if (varint(e, &tag) != 0) {
            bad(b, "truncated map entry");
            goto out;
        }
        unsigned fn = (unsigned)(tag >> 3), wt = (unsigned)(tag & 7);
        if ((fn == 1 || fn == 2) && wt == 2) {
            if (delimited(e, &s) != 0) {
                bad(b, "truncated map entry");
                goto out;
            }
            cJSON *v;
            if (fn == 1)
                v = string_of(b, &s);
            else if (t == FG_PB_MAP_BYTES)
                v = base64_of(&s);
            else if (t == FG_PB_MAP_STRING)
                v = string_of(b, &s);
            else {
                /* Quantity {1: string} */
                v = NULL;
                struct rd q = s;
                while (q.p < q.end) {
                    uint64_t qt;
                    struct rd qs;
                    if (varint(&q, &qt) != 0) {
                        bad(b, "truncated quantity");
                        cJSON_Delete(v);
                        goto out;
                    }
                    if (qt == ((1 << 3) | 2)) {
                        if (delimited(&q, &qs) != 0) {
                            bad(b, "truncated quantity");
                            cJSON_Delete(v);
                            goto out;
                        }
                        cJSON_Delete(v);
                        v = string_of(b, &qs);
                        if (!v)
                            goto out;
                    } else if (skip(&q, (unsigned)(qt & 7)) != 0) {
                        bad(b, "truncated quantity");
                        cJSON_Delete(v);
                        goto out;
                    }
                }
                if (!v)
                    v = cJSON_CreateString("0");
            }
            if (!v)
                goto out;
            cJSON **slot = fn == 1 ? &key : &val;
            cJSON_Delete(*slot);
            *slot = v;
        } else if (skip(e, wt) != 0) {
            bad(b, "truncated map entry");
            goto out;
        }
    }
    if (!val)
        val = t == FG_PB_MAP_QUANTITY ? cJSON_CreateString("0")
                                      : cJSON_CreateString("");
    cJSON *obj = cJSON_GetObjectItemCaseSensitive(out, json);
    if (!obj) {
        obj = cJSON_CreateObject();
        if (put(b, out, json, obj) != 0)
            goto out;
    }
    rc = put(b, obj, key ? key->valuestring : "", val);
    val = NULL;
out:
    cJSON_Delete(key);
    cJSON_Delete(val);
    return rc;
}

static int read_msg(struct pb *b, const struct fg_pb_message *m, struct rd *r,
                    cJSON *out, int depth);

/* meta/v1 Time {1: seconds, 2: nanos}: RFC 3339, or nothing when zero. */
static int read_time(struct pb *b, cJSON *out, const char *json, struct rd *s)
{
    uint64_t secs = 0, nanos = 0;
    while (s->p < s->end) {
        uint64_t tag, v;
        if (varint(s, &tag) != 0)
            return bad(b, "truncated time");
        if ((tag & 7) == 0 && ((tag >> 3) == 1 || (tag >> 3) == 2)) {
            if (varint(s, &v) != 0)
                return bad(b, "truncated time");
            if ((tag >> 3) == 1)
                secs = v;
            else
                nanos = v;
        } else if (skip(s, (unsigned)(tag & 7)) != 0) {
            return bad(b, "truncated time");
        }
    }
    if (secs == 0 && nanos == 0)
        return 0;
    if (secs > 253402300799ULL) /* year 9999 */
        return bad(b, "time out of range");
    char buf[40];
    time_t t = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm) ||
        strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return bad(b, "time out of range");
    return put(b, out, json, cJSON_CreateString(buf));
}

/* IntOrString {1: type, 2: intVal, 3: strVal}. */
static int read_ios(struct pb *b, cJSON *out, const char *json, struct rd *s)
{
    uint64_t type = 0, ival = 0;
    cJSON *str = NULL;
    while (s->p < s->end) {
        uint64_t tag;
        struct rd t;
        if (varint(s, &tag) != 0)
            goto truncated;
        unsigned fn = (unsigned)(tag >> 3), wt = (unsigned)(tag & 7);
        if ((fn == 1 || fn == 2) && wt == 0) {
            if (varint(s, fn == 1 ? &type : &ival) != 0)
                goto truncated;
        } else if (fn == 3 && wt == 2) {
            if (delimited(s, &t) != 0)
                goto truncated;
            cJSON_Delete(str);
            str = string_of(b, &t);
            if (!str)
                return -1;
        } else if (skip(s, wt) != 0) {
            goto truncated;
        }
    }
    if (type == 1) {
        if (!str)
            str = cJSON_CreateString("");
        return put(b, out, json, str);
    }
    cJSON_Delete(str);
    return put(b, out, json, cJSON_CreateNumber((double)(int32_t)ival));
truncated:
    cJSON_Delete(str);
    return bad(b, "truncated int-or-string");
}

static int scalar_field(struct pb *b, const struct fg_pb_field *f, cJSON *out,
                        uint64_t v)
{
    int keep = f->flags & FG_PB_KEEP;
    if (f->type == FG_PB_BOOL) {
        if (v > 1)
            return bad(b, "a bool is neither 0 nor 1");
        if (!v && !keep) {
            cJSON_Delete(cJSON_DetachItemFromObjectCaseSensitive(out, f->json));
            return 0;
        }
        return put(b, out, f->json, cJSON_CreateBool(v != 0));
    }
    double d = f->type == FG_PB_INT32 ? (double)(int32_t)(uint32_t)v
                                      : (double)(int64_t)v;
    if (d == 0 && !keep) {
        cJSON_Delete(cJSON_DetachItemFromObjectCaseSensitive(out, f->json));
        return 0;
    }
    return put(b, out, f->json, cJSON_CreateNumber(d));
}

static int message_field(struct pb *b, const struct fg_pb_field *f, cJSON *out,
                         struct rd *s, int depth)
{
    if (f->flags & FG_PB_INLINE)
        return read_msg(b, f->message, s, out, depth + 1);
    if (f->flags & FG_PB_REPEATED) {
        cJSON *arr = cJSON_GetObjectItemCaseSensitive(out, f->json);
        if (!cJSON_IsArray(arr)) {
            arr = cJSON_CreateArray();
            if (put(b, out, f->json, arr) != 0)
                return -1;
        }
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            return -1;
        }
        if (++b->nodes > PB_MAX_NODES)
            return bad(b, "too many fields");
        return read_msg(b, f->message, s, o, depth + 1);
    }
    /* A message seen twice is merged, as protobuf merges them. */
    cJSON *o = cJSON_GetObjectItemCaseSensitive(out, f->json);
    if (cJSON_IsObject(o))
        return read_msg(b, f->message, s, o, depth + 1);
    o = cJSON_CreateObject();
    if (!o)
        return -1;
    int rc = read_msg(b, f->message, s, o, depth + 1);
    if (rc != 0 || (!o->child && !(f->flags & FG_PB_KEEP))) {
        cJSON_Delete(o);
        return rc;
    }
    return put(b, out, f->json, o);
}

static int read_msg(struct pb *b, const struct fg_pb_message *m, struct rd *r,
                    cJSON *out, int depth)
{
    if (depth > PB_MAX_DEPTH)
        return bad(b, "nested too deeply");
    while (r->p < r->end) {
        uint64_t tag;
        if (varint(r, &tag) != 0)
            return bad(b, "truncated field tag");
        unsigned wt = (unsigned)(tag & 7);
        uint64_t fn = tag >> 3;
        if (fn == 0)
            return bad(b, "field number 0");
        const struct fg_pb_field *f = NULL;
        for (size_t i = 0; i < m->n_fields && !f; i++) {
            if (m->fields[i].number == fn)
                f = &m->fields[i];
        }
        if (!f) {
            if (skip(r, wt) != 0)
                return bad(b, "truncated unknown field");
            continue;
        }
        int scalar = f->type == FG_PB_INT32 || f->type == FG_PB_INT64 ||
                     f->type == FG_PB_BOOL;
        if (wt != (scalar ? 0u : 2u))
            return bad(b, "a field has the wrong wire type");
        if (scalar) {
            uint64_t v;
            if (varint(r, &v) != 0)
                return bad(b, "truncated varint");
            if (scalar_field(b, f, out, v) != 0)
                return -1;
            continue;
        }
        struct rd s;
        if (delimited(r, &s) != 0)
            return bad(b, "a length runs past the end");
        int rc = 0;
        switch (f->type) {
        case FG_PB_STRING:
            if (s.p == s.end && !(f->flags & FG_PB_KEEP)) {
                cJSON_Delete(
                    cJSON_DetachItemFromObjectCaseSensitive(out, f->json));
                break;
            }
            rc = put(b, out, f->json, string_of(b, &s));
            break;
        case FG_PB_BYTES:
            rc = put(b, out, f->json, base64_of(&s));
            break;
        case FG_PB_STRINGS: {
            cJSON *arr = cJSON_GetObjectItemCaseSensitive(out, f->json);
            if (!cJSON_IsArray(arr)) {
                arr = cJSON_CreateArray();
                if (put(b, out, f->json, arr) != 0)
                    return -1;
            }
            cJSON *v = string_of(b, &s);
            if (!v || !cJSON_AddItemToArray(arr, v)) {
                cJSON_Delete(v);
                return -1;
            }
            rc = ++b->nodes > PB_MAX_NODES ? bad(b, "too many fields") : 0;
            break;
        }
        case FG_PB_MAP_STRING:
        case FG_PB_MAP_BYTES:
        case FG_PB_MAP_QUANTITY:
            rc = map_entry(b, out, f->json, f->type, &s);
            break;
        case FG_PB_TIME:
            rc = read_time(b, out, f->json, &s);
            break;
        case FG_PB_INT_OR_STRING:
            rc = read_ios(b, out, f->json, &s);
            break;
        case FG_PB_QUANTITY: {
            cJSON *q = cJSON_CreateObject();
            if (!q)
                return -1;
            static const struct fg_pb_field qf[] = {
                {1, "v", FG_PB_STRING, 0, NULL}};
            static const struct fg_pb_message qm = {qf, 1};
            rc = read_msg(b, &qm, &s, q, depth + 1);
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(q, "v");
            if (rc == 0)
                rc = put(b, out, f->json,
                         cJSON_CreateString(cJSON_IsString(v) ? v->valuestring
                                                              : "0"));
            cJSON_Delete(q);
            break;
        }
        case FG_PB_MESSAGE:
            rc = message_field(b, f, out, &s, depth);
            break;
        default:
            rc = bad(b, "unexpected field type");
        }
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* ---- the envelope ----------------------------------------------------- */

static int read_string_field(struct pb *b, struct rd *s, char *buf, size_t len)
{
    size_t n = (size_t)(s->end - s->p);
    if (n >= len || !utf8_ok(s->p, n))
        return bad(b, "a type name is too long or not UTF-8");
    memcpy(buf, s->p, n);
    buf[n] = '\0';
    return 0;
}

int fg_pb_decode(const void *data, size_t len, const struct fg_pb_kind *kinds,
                 size_t n_kinds, cJSON **out, char *err, size_t err_len)
{
    struct pb b = {err, err_len, 0};
    *out = NULL;
    if (err_len)
        err[0] = '\0';
    if (len < 4 || memcmp(data, "k8s\0", 4) != 0) {
        bad(&b, "missing the k8s protobuf envelope prefix");
        return -1;
    }
    struct rd r = {(const uint8_t *)data + 4, (const uint8_t *)data + len};
    char api[128] = "", kind[128] = "", enc[64] = "";
    struct rd raw = {NULL, NULL};
    while (r.p < r.end) {
        uint64_t tag;
        struct rd s;
        if (varint(&r, &tag) != 0)
            return bad(&b, "truncated envelope");
        unsigned fn = (unsigned)(tag >> 3), wt = (unsigned)(tag & 7);
        if (fn >= 1 && fn <= 4 && wt != 2)
            return bad(&b, "an envelope field has the wrong wire type");
        if (fn == 0)
            return bad(&b, "field number 0");
        if (fn < 1 || fn > 4) {
            if (skip(&r, wt) != 0)
                return bad(&b, "truncated envelope");
            continue;
        }
        if (delimited(&r, &s) != 0)
            return bad(&b, "a length runs past the end");
        if (fn == 1) {
            while (s.p < s.end) {
                uint64_t t;
                struct rd v;
                if (varint(&s, &t) != 0)
                    return bad(&b, "truncated type meta");
                if ((t & 7) == 2 && ((t >> 3) == 1 || (t >> 3) == 2)) {
                    if (delimited(&s, &v) != 0)
                        return bad(&b, "truncated type meta");
                    if (read_string_field(&b, &v, (t >> 3) == 1 ? api : kind,
                                          sizeof(api)) != 0)
                        return -1;
                } else if (skip(&s, (unsigned)(t & 7)) != 0) {
                    return bad(&b, "truncated type meta");
                }
            }
        } else if (fn == 2) {
            raw = s;
        } else if (fn == 3) {
            if (read_string_field(&b, &s, enc, sizeof(enc)) != 0)
                return -1;
        }
    }
    if (enc[0]) {
        snprintf(err, err_len,
                 "protobuf content encoding \"%s\" is not supported", enc);
        return -2;
    }
    const struct fg_pb_message *m = NULL;
    for (size_t i = 0; i < n_kinds && !m; i++) {
        if (strcmp(kinds[i].api_version, api) == 0 &&
            strcmp(kinds[i].kind, kind) == 0)
            m = kinds[i].message;
    }
    if (!m) {
        snprintf(err, err_len,
                 "protobuf bodies of kind %.64s (%.64s) are not supported "
                 "here: send application/json",
                 kind[0] ? kind : "(none)", api[0] ? api : "no apiVersion");
        return -2;
    }
    cJSON *obj = cJSON_CreateObject();
    if (!obj || !cJSON_AddStringToObject(obj, "kind", kind) ||
        !cJSON_AddStringToObject(obj, "apiVersion", api)) {
        cJSON_Delete(obj);
        snprintf(err, err_len, "out of memory");
        return -3;
    }
    if (raw.p && read_msg(&b, m, &raw, obj, 0) != 0) {
        cJSON_Delete(obj);
        if (strncmp(err, "malformed", 9) != 0) {
            snprintf(err, err_len, "out of memory");
            return -3;
        }
        return -1;
    }
    *out = obj;
    return 0;
}
