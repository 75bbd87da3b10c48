/* One audit.k8s.io/v1 Event as a JSON line, with the fields in the order
 * kube-apiserver's JSON log backend writes them, so that tools reading
 * kube-apiserver's audit log read this one too. Every string from the
 * request is quoted by fg_json_quote (control characters escaped, invalid
 * UTF-8 replaced): one event is always exactly one line. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fedgate/util.h>

#include "audit.h"

static void str_n(struct fg_buf *o, const char *s, size_t n)
{
    char small[256];
    size_t need = fg_json_quote(small, sizeof(small), s, n);
    if (need < sizeof(small)) {
        fg_buf_put(o, small, need);
        return;
    }
    char *big = malloc(need + 1);
    if (!big) {
        o->oom = 1;
        return;
    }
    fg_json_quote(big, need + 1, s, n);
    fg_buf_put(o, big, need);
    free(big);
}

static void str(struct fg_buf *o, const char *s)
{
    str_n(o, s, strlen(s));
}

/* ,"KEY":"VALUE" when VALUE is not empty (Go's omitempty). */
static void opt(struct fg_buf *o, const char *key, const char *value)
{
    if (!value || !*value)
        return;
    fg_buf_puts(o, ",\"");
    fg_buf_puts(o, key);
    fg_buf_puts(o, "\":");
    str(o, value);
}

static void strings(struct fg_buf *o, const char *const *v, size_t n)
{
    fg_buf_puts(o, "[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            fg_buf_puts(o, ",");
        str(o, v[i] ? v[i] : "");
    }
    fg_buf_puts(o, "]");
}

/* authentication.k8s.io/v1 UserInfo. */
static void user_info(struct fg_buf *o, const struct fg_identity *id)
{
    fg_buf_puts(o, "{\"username\":");
    str(o, id ? id->user : "");
    if (!id) {
        fg_buf_puts(o, "}");
        return;
    }
    opt(o, "uid", id->uid);
    if (id->n_groups) {
        fg_buf_puts(o, ",\"groups\":");
        strings(o, id->groups, id->n_groups);
    }
    if (id->n_extra) {
        fg_buf_puts(o, ",\"extra\":{");
        for (size_t i = 0; i < id->n_extra; i++) {
            if (i)
                fg_buf_puts(o, ",");
            str(o, id->extra[i].key);
            fg_buf_puts(o, ":");
            strings(o, id->extra[i].values, id->extra[i].n_values);
        }
        fg_buf_puts(o, "}");
    }
    fg_buf_puts(o, "}");
}

static const struct fg_header *header(const struct fg_policy_request *req,
                                      const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++)
        if (fg_header_name_folds_to(req->headers[i].name,
                                    req->headers[i].name_len, name, 0))
            return &req->headers[i];
    return NULL;
}

/* Whether S (N bytes) is an IPv4 or IPv6 address; its text into IP. */
static int ip_text(const char *s, size_t n, char *ip, size_t cap)
{
    unsigned char bin[16];
    if (n == 0 || n >= cap)
        return 0;
    memcpy(ip, s, n);
    ip[n] = '\0';
    return inet_pton(AF_INET, ip, bin) == 1 ||
           inet_pton(AF_INET6, ip, bin) == 1;
}

#define MAX_SOURCE_IPS 16

/* kube-apiserver's sourceIPs: the X-Forwarded-For addresses, X-Real-Ip,
 * then the connection's address unless it repeats the last one. All but
 * the last can be set by the client, as kube-apiserver says of its own. */
static void source_ips(struct fg_buf *o, const struct fg_policy_request *req)
{
    char ips[MAX_SOURCE_IPS][48];
    size_t n = 0;
    const struct fg_header *xff = header(req, "x-forwarded-for");
    for (size_t at = 0; xff && at < xff->value_len && n < MAX_SOURCE_IPS - 2;) {
        const char *v = xff->value + at;
        const char *comma = memchr(v, ',', xff->value_len - at);
        size_t len = comma ? (size_t)(comma - v) : xff->value_len - at;
        at += len + 1;
        while (len && (*v == ' ' || *v == '\t'))
            v++, len--;
        while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
            len--;
        if (ip_text(v, len, ips[n], sizeof(ips[n])))
            n++;
    }
    const struct fg_header *real = header(req, "x-real-ip");
    if (real && ip_text(real->value, real->value_len, ips[n], sizeof(ips[n]))) {
        int seen = 0;
        for (size_t i = 0; i < n && !seen; i++)
            seen = strcmp(ips[i], ips[n]) == 0;
        if (!seen)
            n++;
    }
    /* The peer is "IP:PORT" or "[IPv6]:PORT". */
    const char *peer = req->peer ? req->peer : "";
    const char *colon = strrchr(peer, ':');
    size_t plen = colon ? (size_t)(colon - peer) : strlen(peer);
    if (plen >= 2 && peer[0] == '[' && peer[plen - 1] == ']')
        peer++, plen -= 2;
    if (ip_text(peer, plen, ips[n], sizeof(ips[n])) &&
        (n == 0 || strcmp(ips[n - 1], ips[n]) != 0))
        n++;
    if (!n)
        return;
    fg_buf_puts(o, ",\"sourceIPs\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            fg_buf_puts(o, ",");
        str(o, ips[i]);
    }
    fg_buf_puts(o, "]");
}

/* DIGITS decimal digits of V, zero-padded, at OUT. */
static void digits(char *out, unsigned v, int n)
{
    while (n-- > 0) {
        out[n] = (char)('0' + v % 10);
        v /= 10;
    }
}

void audit_time_format(uint64_t us, char *out, size_t len)
{
    /* Every event formats two times, mostly of the second before: the
     * date and time of day are kept per thread, the microseconds
     * written by hand (gmtime_r takes glibc's time zone lock). */
    static _Thread_local time_t cached_secs = -1;
    static _Thread_local char cached[32];
    static _Thread_local int cached_ok;
    time_t secs = (time_t)(us / 1000000u);
    if (secs != cached_secs) {
        struct tm tm;
        gmtime_r(&secs, &tm);
        int n =
            snprintf(cached, sizeof(cached), "%04d-%02d-%02dT%02d:%02d:%02d",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
        cached_ok = n == 19; /* a year past 9999: no half a time */
        cached_secs = secs;
    }
    if (!cached_ok || len < 28) {
        *out = '\0';
        return;
    }
    memcpy(out, cached, 19);
    out[19] = '.';
    digits(out + 20, (unsigned)(us % 1000000u), 6);
    out[26] = 'Z';
    out[27] = '\0';
}

static void timestamp(struct fg_buf *o, const char *key, uint64_t us)
{
    char t[40];
    audit_time_format(us, t, sizeof(t));
    fg_buf_puts(o, ",\"");
    fg_buf_puts(o, key);
    fg_buf_puts(o, "\":\"");
    fg_buf_puts(o, t);
    fg_buf_puts(o, "\"");
}

char *audit_event_json(const struct audit_event *e, size_t *len)
{
    const struct fg_policy_request *req = e->req;
    const struct fg_request_info *info = req->info;
    struct fg_buf o = {0};
    /* an event is about 700 bytes: one allocation, not three */
    fg_buf_reserve(&o, 1024);
    fg_buf_puts(&o, "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\","
                    "\"level\":\"");
    fg_buf_puts(&o, audit_level_name(e->level));
    fg_buf_puts(&o, "\",\"auditID\":");
    str(&o, req->request_id ? req->request_id : "");
    fg_buf_puts(&o, ",\"stage\":\"");
    fg_buf_puts(&o, e->stage == AUDIT_STAGE_STARTED ? "ResponseStarted"
                                                    : "ResponseComplete");
    fg_buf_puts(&o, "\",\"requestURI\":");
    if (req->query) {
        size_t plen = strlen(req->path), qlen = strlen(req->query);
        char *uri = malloc(plen + qlen + 2);
        if (uri) {
            memcpy(uri, req->path, plen);
            uri[plen] = '?';
            memcpy(uri + plen + 1, req->query, qlen + 1);
            str(&o, uri);
        }
        o.oom |= !uri;
        free(uri);
    } else {
        str(&o, req->path);
    }
    fg_buf_puts(&o, ",\"verb\":");
    str(&o, info && *info->verb ? info->verb : "");
    /* kube's user is who authenticated; impersonatedUser who it ran as. */
    fg_buf_puts(&o, ",\"user\":");
    user_info(&o, req->impersonator ? req->impersonator : req->identity);
    if (req->impersonator) {
        fg_buf_puts(&o, ",\"impersonatedUser\":");
        user_info(&o, req->identity);
    }
    source_ips(&o, req);
    const struct fg_header *ua = header(req, "user-agent");
    if (ua && ua->value_len) {
        fg_buf_puts(&o, ",\"userAgent\":");
        str_n(&o, ua->value, ua->value_len);
    }
    if (info && info->is_resource) {
        /* objectRef's fields all omitempty: begin with the one always
         * there, the resource (a resource request always names one). */
        fg_buf_puts(&o, ",\"objectRef\":{\"resource\":");
        str(&o, info->resource);
        opt(&o, "namespace", info->namespace_);
        opt(&o, "name", info->name);
        opt(&o, "apiGroup", info->api_group);
        opt(&o, "apiVersion", info->api_version);
        opt(&o, "subresource", info->subresource);
        fg_buf_puts(&o, "}");
    }
    fg_buf_puts(&o, ",\"responseStatus\":{\"metadata\":{},\"code\":");
    char code[4];
    if (e->status >= 100 && e->status <= 999) {
        digits(code, (unsigned)e->status, 3);
        fg_buf_put(&o, code, 3);
    } else { /* none that HTTP sends */
        char odd[16];
        snprintf(odd, sizeof(odd), "%d", e->status);
        fg_buf_puts(&o, odd);
    }
    fg_buf_puts(&o, "}");
    timestamp(&o, "requestReceivedTimestamp", e->received_us);
    timestamp(&o, "stageTimestamp", e->stage_us);
    if (req->member || e->denied_by) {
        fg_buf_puts(&o, ",\"annotations\":{");
        if (req->member) {
            fg_buf_puts(&o, "\"fedgate.io/cluster\":");
            str(&o, req->member);
        }
        if (e->denied_by) {
            fg_buf_puts(&o, req->member ? ",\"fedgate.io/denied-by\":"
                                        : "\"fedgate.io/denied-by\":");
            str(&o, e->denied_by);
        }
        fg_buf_puts(&o, "}");
    }
    fg_buf_puts(&o, "}\n");
    if (o.oom) {
        free(o.buf);
        return NULL;
    }
    *len = o.len;
    return o.buf;
}
