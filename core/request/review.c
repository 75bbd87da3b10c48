/* Serving the reviews (review.h): the body gathered, read by
 * review_body.c, the question put through the policy chain, and the answer
 * written as kube-apiserver writes it: 201 with the object sent, its
 * status filled in, in JSON (every client's Accept lists it). */
#include "request/review.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>

#include "daemon/gateway.h"
#include "daemon/generation.h"
#include "request/exchange_internal.h"
#include "request/policy_chain.h"

struct fg_review_run {
    enum fg_review_kind kind;
    char api_version[64]; /* "authorization.k8s.io/v1" */
    const char *content_type;
    struct evbuffer *body;
    struct fg_review review;
};

/* Sends OBJ (the review with its status) and frees it. */
static void reply(struct fg_exchange *ex, cJSON *obj)
{
    cJSON *meta = cJSON_CreateObject();
    cJSON_DeleteItemFromObjectCaseSensitive(obj, "metadata");
    if (meta && !cJSON_AddNullToObject(meta, "creationTimestamp")) {
        cJSON_Delete(meta);
        meta = NULL;
    }
    char *json = meta && cJSON_AddItemToObject(obj, "metadata", meta)
                     ? cJSON_PrintUnformatted(obj)
                     : NULL;
    if (!json) {
        if (meta && !cJSON_GetObjectItemCaseSensitive(obj, "metadata"))
            cJSON_Delete(meta);
        fg_exchange_fail(ex, 503, NULL, "the gateway is out of memory");
        return;
    }
    fg_exchange_reply(ex, 201, "application/json", json, strlen(json));
    free(json);
}

/* OBJ's "status", new and empty; NULL when out of memory. */
static cJSON *new_status(cJSON *obj)
{
    cJSON_DeleteItemFromObjectCaseSensitive(obj, "status");
    return cJSON_AddObjectToObject(obj, "status");
}

static void access_answered(struct fg_exchange *ex, enum fg_verdict v,
                            const char *reason)
{
    struct fg_review_run *rv = ex->review;
    cJSON *obj = rv->review.object;
    cJSON *st = new_status(obj);
    if (!st || !cJSON_AddBoolToObject(st, "allowed", v == FG_ALLOW) ||
        (v == FG_DENY && !cJSON_AddTrueToObject(st, "denied")) ||
        (reason && !cJSON_AddStringToObject(st, "reason", reason))) {
        fg_exchange_fail(ex, 503, NULL, "the gateway is out of memory");
        return;
    }
    reply(ex, obj);
}

/* Adds the N strings of V as KEY of O (left out when empty and
 * OMITEMPTY, as the API types' tags say). Returns 0, -1 out of memory. */
static int strings(cJSON *o, const char *key, const char *const *v, size_t n,
                   int omitempty)
{
    if (!n && omitempty)
        return 0;
    cJSON *arr = cJSON_AddArrayToObject(o, key);
    for (size_t i = 0; arr && i < n; i++) {
        cJSON *s = cJSON_CreateString(v[i] ? v[i] : "");
        if (!s || !cJSON_AddItemToArray(arr, s)) {
            cJSON_Delete(s);
            return -1;
        }
    }
    return arr ? 0 : -1;
}

struct rules_out {
    cJSON *resource, *non_resource;
    int failed;
};

static void emit_rule(void *arg, const struct fg_policy_rule *r)
{
    struct rules_out *out = arg;
    int urls = r->n_non_resource_urls > 0;
    cJSON *o = cJSON_CreateObject();
    if (!o ||
        !cJSON_AddItemToArray(urls ? out->non_resource : out->resource, o)) {
        cJSON_Delete(o);
        out->failed = 1;
        return;
    }
    if (strings(o, "verbs", r->verbs, r->n_verbs, 0) != 0 ||
        (urls ? strings(o, "nonResourceURLs", r->non_resource_urls,
                        r->n_non_resource_urls, 1)
              : strings(o, "apiGroups", r->api_groups, r->n_api_groups, 1) ||
                    strings(o, "resources", r->resources, r->n_resources, 1) ||
                    strings(o, "resourceNames", r->resource_names,
                            r->n_resource_names, 1)) != 0)
        out->failed = 1;
}

static void serve_rules(struct fg_exchange *ex, struct fg_review_run *rv)
{
    cJSON *st = new_status(rv->review.object);
    struct rules_out out = {
        st ? cJSON_AddArrayToObject(st, "resourceRules") : NULL,
        st ? cJSON_AddArrayToObject(st, "nonResourceRules") : NULL, 0};
    char error[512];
    if (out.resource && out.non_resource) {
        int incomplete = fg_policy_rules(ex, rv->review.namespace_, emit_rule,
                                         &out, error, sizeof(error));
        if (!cJSON_AddBoolToObject(st, "incomplete", incomplete) ||
            (error[0] &&
             !cJSON_AddStringToObject(st, "evaluationError", error)))
            out.failed = 1;
    }
    if (!out.resource || !out.non_resource || out.failed) {
        fg_exchange_fail(ex, 503, NULL, "the gateway is out of memory");
        return;
    }
    reply(ex, rv->review.object);
}

/* status.userInfo: the identity the request runs as. */
static void serve_self(struct fg_exchange *ex, struct fg_review_run *rv)
{
    const struct fg_identity *id = ex->identity;
    cJSON *st = new_status(rv->review.object);
    cJSON *ui = st ? cJSON_AddObjectToObject(st, "userInfo") : NULL;
    int failed =
        !ui || !cJSON_AddStringToObject(ui, "username", id->user) ||
        (id->uid && *id->uid && !cJSON_AddStringToObject(ui, "uid", id->uid)) ||
        strings(ui, "groups", id->groups, id->n_groups, 1) != 0;
    cJSON *extra =
        !failed && id->n_extra ? cJSON_AddObjectToObject(ui, "extra") : NULL;
    failed |= id->n_extra && !extra;
    for (size_t i = 0; !failed && i < id->n_extra; i++)
        failed = strings(extra, id->extra[i].key, id->extra[i].values,
                         id->extra[i].n_values, 0) != 0;
    if (failed) {
        fg_exchange_fail(ex, 503, NULL, "the gateway is out of memory");
        return;
    }
    reply(ex, rv->review.object);
}

static void serve(struct fg_exchange *ex)
{
    struct fg_review_run *rv = ex->review;
    size_t len = rv->body ? evbuffer_get_length(rv->body) : 0;
    const void *body =
        len ? (const void *)evbuffer_pullup(rv->body, -1) : (const void *)"";
    char err[256];
    int rc = fg_review_read(rv->kind, rv->api_version, rv->content_type, body,
                            len, &rv->review, err, sizeof(err));
    if (rc != 0) {
        static const int codes[] = {400, 415, 503};
        fg_exchange_fail(ex, codes[-rc - 1], NULL, "%s", err);
        return;
    }
    if (rv->kind == FG_REVIEW_ACCESS)
        fg_policy_ask(ex, NULL, &rv->review.attributes, access_answered);
    else if (rv->kind == FG_REVIEW_RULES)
        serve_rules(ex, rv);
    else
        serve_self(ex, rv);
}

void fg_review_start(struct fg_exchange *ex, enum fg_review_kind kind,
                     const struct fg_request_in *req)
{
    struct fg_review_run *rv = fg_arena_alloc(ex->arena, sizeof(*rv));
    if (!rv) {
        fg_exchange_fail(ex, 503, NULL, "the gateway is out of memory");
        return;
    }
    memset(rv, 0, sizeof(*rv));
    rv->kind = kind;
    snprintf(rv->api_version, sizeof(rv->api_version), "%s/%s",
             ex->info->api_group, ex->info->api_version);
    for (size_t i = 0; i < req->n_headers && !rv->content_type; i++) {
        const struct fg_header *h = &req->headers[i];
        if (h->name_len == 12 && strncasecmp(h->name, "content-type", 12) == 0)
            rv->content_type =
                fg_arena_strndup(ex->arena, h->value, h->value_len);
    }
    ex->review = rv;
    ex->body_limit = ex->gen->cfg->limits.max_review_body_bytes;
    if (req->content_length > ex->body_limit) {
        fg_exchange_fail(ex, 413, NULL,
                         "the request body is larger than %lld bytes",
                         (long long)ex->body_limit);
        return;
    }
    if (!req->has_body) {
        ex->body_ended = 1;
        serve(ex);
    }
}

void fg_review_body(struct fg_exchange *ex, const void *buf, size_t len)
{
    struct fg_review_run *rv = ex->review;
    size_t have = rv->body ? evbuffer_get_length(rv->body) : 0;
    if ((int64_t)(have + len) > ex->body_limit) {
        fg_exchange_fail(ex, 413, NULL,
                         "the request body is larger than %lld bytes",
                         (long long)ex->body_limit);
        return;
    }
    if ((!rv->body && !(rv->body = evbuffer_new())) ||
        evbuffer_add(rv->body, buf, len) != 0)
        fg_exchange_fail(ex, 503, NULL, "the gateway is out of memory");
}

void fg_review_body_end(struct fg_exchange *ex)
{
    serve(ex);
}

void fg_review_finish(struct fg_exchange *ex)
{
    struct fg_review_run *rv = ex->review;
    if (!rv)
        return;
    if (rv->body)
        evbuffer_free(rv->body);
    fg_review_free(&rv->review);
    ex->review = NULL;
}
