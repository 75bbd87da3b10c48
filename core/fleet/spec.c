/* Reading a written Cluster object (spec.h), field by field, with
 * kube-apiserver's wording for each refusal. */
#include "fleet/spec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#include "client/client.h"
#include "config/config.h"
#include "config/kubeconfig_read.h"
#include "config/labels.h"
#include "fleet/fleet.h"

void fg_spec_cause(struct fg_spec_causes *c, const char *reason,
                   const char *field, const char *fmt, ...)
{
    if (c->n == FG_SPEC_MAX_CAUSES)
        return;
    size_t i = c->n++;
    snprintf(c->field[i], sizeof(c->field[i]), "%s", field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->message[i], sizeof(c->message[i]), fmt, ap);
    va_end(ap);
    c->v[i] = (struct fg_status_cause){reason, c->message[i], c->field[i]};
}

static const cJSON *item(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

/* Whether V is what CURRENT shows at the same place (KEY of CUR). */
static int shown_as(const cJSON *cur, const cJSON *v)
{
    return cur && v && v->string && cJSON_Compare(item(cur, v->string), v, 1);
}

static void read_name(const cJSON *meta, struct fg_spec *out,
                      struct fg_spec_causes *c)
{
    const cJSON *n = item(meta, "name");
    if (!cJSON_IsString(n) || !n->valuestring[0]) {
        fg_spec_cause(c, "FieldValueRequired", "metadata.name",
                      "Required value: name is required");
        return;
    }
    size_t len = strlen(n->valuestring);
    if (!fg_is_dns1123_label(n->valuestring, len)) {
        fg_spec_cause(
            c, "FieldValueInvalid", "metadata.name",
            "Invalid value: \"%.80s\": a lowercase RFC 1123 label must "
            "consist of lower case alphanumeric characters or '-', and "
            "must start and end with an alphanumeric character (e.g. "
            "'my-name',  or '123-abc', regex used for validation is "
            "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
            n->valuestring);
        return;
    }
    snprintf(out->name, sizeof(out->name), "%s", n->valuestring);
}

static void read_labels(const cJSON *meta, struct fg_spec *out,
                        struct fg_spec_causes *c)
{
    const cJSON *labels = item(meta, "labels"), *l;
    if (labels && !cJSON_IsObject(labels) && !cJSON_IsNull(labels)) {
        fg_spec_cause(c, "FieldValueInvalid", "metadata.labels",
                      "Invalid value: must be a map of strings");
        return;
    }
    size_t at = 0;
    cJSON_ArrayForEach(l, labels)
    {
        char one[400], err[256], field[128];
        snprintf(field, sizeof(field), "metadata.labels[%.100s]", l->string);
        if (strcmp(l->string, FG_LABEL_HOST) == 0) {
            fg_spec_cause(c, "FieldValueForbidden", field,
                          "Forbidden: only the host's own cluster carries it");
            continue;
        }
        if (!cJSON_IsString(l)) {
            fg_spec_cause(c, "FieldValueInvalid", field,
                          "Invalid value: must be a string");
            continue;
        }
        /* a comma would end the pair in the ini value: refused by both */
        int n = snprintf(one, sizeof(one), "%s=%s", l->string, l->valuestring);
        if (n < 0 || (size_t)n >= sizeof(one) || strchr(one, ',') ||
            fg_labels_parse(one, NULL, NULL, err, sizeof(err)) != 0) {
            fg_spec_cause(c, "FieldValueInvalid", field,
                          "Invalid value: \"%.100s\": %s", l->valuestring,
                          n > 0 && (size_t)n < sizeof(one)
                              ? (strchr(one, ',') ? "no commas" : err)
                              : "too long");
            continue;
        }
        n = snprintf(out->labels + at, sizeof(out->labels) - at, "%s%s",
                     at ? ", " : "", one);
        if (n < 0 || (size_t)n >= sizeof(out->labels) - at) {
            fg_spec_cause(c, "FieldValueTooLong", "metadata.labels",
                          "Too long: may have at most %d bytes written as "
                          "k=v, k2=v2",
                          FG_SPEC_MAX_VALUE);
            return;
        }
        at += (size_t)n;
    }
}

/* The server of a kubeconfig, as one ini value: an https URL the client
 * reads, printable, no ini comment or quote characters. */
static int server_ok(const char *s)
{
    struct fg_client_url url;
    char err[128];
    size_t n = strlen(s);
    if (n > FG_SPEC_MAX_VALUE || strncmp(s, "https://", 8) != 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] >= 0x7f || strchr(";#\"'\\", s[i]))
            return 0;
    return fg_client_url_parse(s, &url, err, sizeof(err)) == 0;
}

static char *dup_mem(const char *p, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, p, n);
        d[n] = '\0';
    }
    return d;
}

/* The kubeconfig's target into OUT's join; 0, 1 refused, -1 memory. */
static int from_kubeconfig(const struct fg_kubeconfig_target *t,
                           struct fg_spec *out, struct fg_spec_causes *c)
{
    const char *field = "spec.connection.kubeconfig";
    if (t->ca_file || t->token_file || t->cert_file || t->key_file ||
        !t->ca_pem) {
        fg_spec_cause(
            c, "FieldValueInvalid", field,
            "Invalid value: the kubeconfig must carry its credentials "
            "inline (certificate-authority-data, token or "
            "client-certificate-data and client-key-data), never paths");
        return 1;
    }
    if (t->tls_server_name) {
        fg_spec_cause(c, "FieldValueInvalid", field,
                      "Invalid value: tls-server-name is not supported");
        return 1;
    }
    if (!server_ok(t->server)) {
        fg_spec_cause(
            c, "FieldValueInvalid", field,
            "Invalid value: server \"%.100s\" is not an https://HOST[:PORT] "
            "URL of at most %d printable bytes",
            t->server, FG_SPEC_MAX_VALUE);
        return 1;
    }
    if (!t->token && !(t->cert_pem && t->key_pem)) {
        fg_spec_cause(
            c, "FieldValueInvalid", field,
            "Invalid value: the kubeconfig's user has no token and no "
            "client certificate");
        return 1;
    }
    out->server = strdup(t->server);
    out->ca = dup_mem(t->ca_pem, t->ca_pem_len);
    out->token = t->token ? strdup(t->token) : NULL;
    out->cert = t->token ? NULL : dup_mem(t->cert_pem, t->cert_pem_len);
    out->key = t->token ? NULL : dup_mem(t->key_pem, t->key_pem_len);
    if (!out->server || !out->ca || (t->token && !out->token) ||
        (!t->token && (!out->cert || !out->key)))
        return -1;
    struct fg_join *j = &out->join;
    j->kind = t->token ? FG_JOIN_TOKEN : FG_JOIN_CERT;
    j->server = out->server;
    j->ca_pem = out->ca;
    j->ca_len = t->ca_pem_len;
    j->token = out->token;
    j->cert_pem = out->cert;
    j->cert_len = t->cert_pem_len;
    j->key_pem = out->key;
    j->key_len = t->key_pem_len;
    out->credentials = 1;
    return 0;
}

static int read_kubeconfig(const cJSON *k, struct fg_spec *out,
                           struct fg_spec_causes *c)
{
    const char *field = "spec.connection.kubeconfig";
    size_t len = cJSON_IsString(k) ? strlen(k->valuestring) : 0;
    if (!len || len > FG_KUBECONFIG_MAX_BYTES) {
        fg_spec_cause(c, "FieldValueInvalid", field,
                      "Invalid value: a base64 kubeconfig of at most %d bytes",
                      FG_KUBECONFIG_MAX_BYTES);
        return 1;
    }
    char *text = malloc(FG_BASE64_DECODED_MAX(len) + 1);
    if (!text)
        return -1;
    long n = fg_base64_decode(text, FG_BASE64_DECODED_MAX(len), k->valuestring,
                              len, 0);
    int rc = 1;
    if (n < 0) {
        fg_spec_cause(c, "FieldValueInvalid", field,
                      "Invalid value: illegal base64 data");
    } else {
        struct fg_kubeconfig_target t = {0};
        struct fg_error err = {{0}};
        if (fg_kubeconfig_read(text, (size_t)n, "kubeconfig", &t, &err) != 0)
            fg_spec_cause(c, "FieldValueInvalid", field, "Invalid value: %s",
                          err.msg);
        else
            rc = from_kubeconfig(&t, out, c);
        fg_kubeconfig_target_free(&t);
        OPENSSL_cleanse(text, (size_t)n);
    }
    free(text);
    return rc;
}

static int read_connection(const cJSON *conn, const cJSON *current, int agents,
                           struct fg_spec *out, struct fg_spec_causes *c)
{
    const cJSON *cur = item(item(current, "spec"), "connection");
    const cJSON *type = item(conn, "type"), *v;
    int proxy = cJSON_IsString(type) && strcmp(type->valuestring, "proxy") == 0;
    if (!cJSON_IsString(type) ||
        (!proxy && strcmp(type->valuestring, "direct") != 0)) {
        fg_spec_cause(c, type ? "FieldValueNotSupported" : "FieldValueRequired",
                      "spec.connection.type",
                      type ? "Unsupported value: \"%.40s\": supported values: "
                             "\"direct\", \"proxy\""
                           : "Required value%s",
                      cJSON_IsString(type) ? type->valuestring : "");
        return 0;
    }
    if (cur && !shown_as(cur, type)) {
        fg_spec_cause(c, "FieldValueInvalid", "spec.connection.type",
                      "Invalid value: \"%s\": field is immutable",
                      type->valuestring);
        return 0;
    }
    if (proxy && !agents)
        fg_spec_cause(
            c, "FieldValueInvalid", "spec.connection.type",
            "Invalid value: \"proxy\": the gateway has no [tunnel] listen "
            "for agents to dial");
    out->join.kind = proxy ? FG_JOIN_AGENT : FG_JOIN_TOKEN;
    cJSON_ArrayForEach(v, conn)
    {
        char field[128];
        snprintf(field, sizeof(field), "spec.connection.%.80s", v->string);
        if (strcmp(v->string, "type") == 0 ||
            (strcmp(v->string, "kubeconfig") == 0 && !proxy) ||
            shown_as(cur, v))
            continue;
        fg_spec_cause(
            c, "FieldValueForbidden", field,
            cur ? "Forbidden: set by the gateway (a new kubeconfig "
                  "changes the connection)"
                : "Forbidden: a new Cluster gives type and, for a direct "
                  "member, kubeconfig");
    }
    const cJSON *k = item(conn, "kubeconfig");
    if (!proxy && k && !shown_as(cur, k))
        return read_kubeconfig(k, out, c);
    if (!proxy && !cur)
        fg_spec_cause(c, "FieldValueRequired", "spec.connection.kubeconfig",
                      "Required value: a direct member's kubeconfig (base64)");
    return 0;
}

static void read_spec_rest(const cJSON *spec, const cJSON *current,
                           struct fg_spec *out, struct fg_spec_causes *c)
{
    const cJSON *cur = item(current, "spec"), *v;
    cJSON_ArrayForEach(v, spec)
    {
        char field[128];
        snprintf(field, sizeof(field), "spec.%.80s", v->string);
        if (strcmp(v->string, "connection") == 0)
            continue;
        if (strcmp(v->string, "provider") == 0) {
            if (!cJSON_IsString(v) ||
                !fg_label_value_ok(v->valuestring, strlen(v->valuestring)))
                fg_spec_cause(
                    c, "FieldValueInvalid", field,
                    "Invalid value: must be a label value (at most 63 of "
                    "[A-Za-z0-9._-], alphanumeric at both ends)");
            else
                snprintf(out->provider, sizeof(out->provider), "%s",
                         v->valuestring);
        } else if (strcmp(v->string, "enable") == 0) {
            if (!cJSON_IsTrue(v))
                fg_spec_cause(
                    c, "FieldValueNotSupported", field,
                    "Unsupported value: false: supported values: true (a "
                    "member that is not wanted is deleted)");
        } else if (strcmp(v->string, "joinFederation") == 0) {
            if (!cJSON_IsFalse(v))
                fg_spec_cause(
                    c, "FieldValueNotSupported", field,
                    "Unsupported value: true: supported values: false");
        } else if (!shown_as(cur, v)) {
            fg_spec_cause(c, "FieldValueNotFound", field,
                          "Unsupported value: unknown field");
        }
    }
}

int fg_spec_read(const cJSON *obj, const cJSON *current, int agents,
                 struct fg_spec *out, struct fg_spec_causes *causes)
{
    memset(out, 0, sizeof(*out));
    causes->n = 0;
    const cJSON *kind = item(obj, "kind"), *api = item(obj, "apiVersion");
    if (!cJSON_IsString(kind) || strcmp(kind->valuestring, "Cluster") != 0)
        fg_spec_cause(causes, "FieldValueInvalid", "kind",
                      "Invalid value: must be \"Cluster\"");
    if (!cJSON_IsString(api) ||
        strcmp(api->valuestring, FG_FLEET_GROUP "/" FG_FLEET_VERSION) != 0)
        fg_spec_cause(causes, "FieldValueInvalid", "apiVersion",
                      "Invalid value: must be \"" FG_FLEET_GROUP
                      "/" FG_FLEET_VERSION "\"");
    const cJSON *meta = item(obj, "metadata"), *spec = item(obj, "spec");
    read_name(meta, out, causes);
    read_labels(meta, out, causes);
    int rc = 0;
    if (!cJSON_IsObject(spec) || !cJSON_IsObject(item(spec, "connection"))) {
        fg_spec_cause(causes, "FieldValueRequired", "spec.connection",
                      "Required value");
    } else {
        rc = read_connection(item(spec, "connection"), current, agents, out,
                             causes);
        read_spec_rest(spec, current, out, causes);
    }
    out->join.name = out->name;
    out->join.labels = out->labels;
    out->join.provider = out->provider[0] ? out->provider : NULL;
    return rc < 0 ? -1 : causes->n ? 1 : 0;
}

void fg_spec_free(struct fg_spec *s)
{
    char *p[] = {s->server, s->ca, s->token, s->cert, s->key};
    for (size_t i = 0; i < 5; i++) {
        if (p[i])
            OPENSSL_cleanse(p[i], strlen(p[i]));
        free(p[i]);
    }
    memset(s, 0, sizeof(*s));
}
