/* Reading a kubeconfig's current context: see kubeconfig_read.h. */
#include "config/kubeconfig_read.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fedgate/util.h>
#include <fedgate/yaml.h>
#include <openssl/crypto.h>

/* Names a place in the file as kubectl's own messages do:
 * users[NAME].user.KEY. */
#define WHERE_MAX 320

struct reader {
    const char *file;
    struct fg_error *err;
};

static int fail(struct reader *r, const struct fg_yaml_node *at,
                const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct reader *r, const struct fg_yaml_node *at,
                const char *where, const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (at)
        return fg_error_set(r->err, "%s:%d: %s: %s", r->file, at->line, where,
                            why);
    return fg_error_set(r->err, "%s: %s: %s", r->file, where, why);
}

/* The text of scalar KEY in map M into *OUT (NULL when absent, null or
 * ""). -1 when it is not a scalar. */
static int scalar(struct reader *r, const struct fg_yaml_node *m,
                  const char *where, const char *key, const char **out)
{
    const struct fg_yaml_node *v = fg_yaml_get(m, key);
    *out = NULL;
    if (fg_yaml_is_null(v))
        return 0;
    if (v->type != FG_YAML_SCALAR)
        return fail(r, v, where, "%s is not a string", key);
    if (v->text[0])
        *out = v->text;
    return 0;
}

/* The map ENTRY ("cluster", "user", "context") of the item named NAME in
 * the list KEY of ROOT; REF is where NAME was named. NULL with ERR. */
static const struct fg_yaml_node *
named(struct reader *r, const struct fg_yaml_node *root, const char *key,
      const char *entry, const char *name, const struct fg_yaml_node *ref,
      const char *ref_key)
{
    const struct fg_yaml_node *list = fg_yaml_get(root, key);
    if (!fg_yaml_is_null(list) && list->type != FG_YAML_SEQ) {
        fail(r, list, key, "is not a list");
        return NULL;
    }
    for (size_t i = 0; list && list->type == FG_YAML_SEQ && i < list->n; i++) {
        const struct fg_yaml_node *item = list->items[i];
        const struct fg_yaml_node *n = fg_yaml_get(item, "name");
        if (item->type != FG_YAML_MAP || !n || n->type != FG_YAML_SCALAR) {
            fail(r, item, key, "an item without a name");
            return NULL;
        }
        if (strcmp(n->text, name) != 0)
            continue;
        const struct fg_yaml_node *e = fg_yaml_get(item, entry);
        if (!e || e->type != FG_YAML_MAP) {
            char where[WHERE_MAX];
            snprintf(where, sizeof(where), "%s[%s].%s", key, name, entry);
            fail(r, e ? e : item, where, "is %s", e ? "not a map" : "missing");
            return NULL;
        }
        return e;
    }
    fail(r, ref, ref_key, "no %s is named \"%s\"", key, name);
    return NULL;
}

/* PATH as written in the kubeconfig, relative to the kubeconfig's own
 * directory when it is not absolute. */
static int path_of(struct reader *r, const char *path, char **out)
{
    const char *slash = strrchr(r->file, '/');
    size_t dir = path[0] == '/' || !slash ? 0 : (size_t)(slash - r->file) + 1;
    size_t n = strlen(path);
    if (!(*out = malloc(dir + n + 1)))
        return fg_error_set(r->err, "out of memory");
    memcpy(*out, r->file, dir);
    memcpy(*out + dir, path, n + 1);
    return 0;
}

/* Base64 TEXT (a *-data field) decoded into *OUT, NUL-terminated. */
static int data_of(struct reader *r, const struct fg_yaml_node *m,
                   const char *where, const char *key, const char *text,
                   char **out, size_t *len)
{
    size_t n = strlen(text);
    char *buf = malloc(FG_BASE64_DECODED_MAX(n) + 1);
    if (!buf)
        return fg_error_set(r->err, "out of memory");
    long got = fg_base64_decode(buf, FG_BASE64_DECODED_MAX(n), text, n, 0);
    if (got <= 0) {
        free(buf);
        return fail(r, fg_yaml_get(m, key), where, "%s is not base64", key);
    }
    buf[got] = '\0';
    *out = buf;
    *len = (size_t)got;
    return 0;
}

/* A file field and its -data twin (the data wins, as in client-go). */
static int file_or_data(struct reader *r, const struct fg_yaml_node *m,
                        const char *where, const char *key, char **file,
                        char **data, size_t *data_len)
{
    char data_key[64];
    snprintf(data_key, sizeof(data_key), "%s-data", key);
    const char *path, *text;
    if (scalar(r, m, where, key, &path) != 0 ||
        scalar(r, m, where, data_key, &text) != 0)
        return -1;
    if (text)
        return data_of(r, m, where, data_key, text, data, data_len);
    return path ? path_of(r, path, file) : 0;
}

static int refuse(struct reader *r, const struct fg_yaml_node *m,
                  const char *where, const char *const *keys, const char *why)
{
    for (const char *const *k = keys; *k; k++)
        if (!fg_yaml_is_null(fg_yaml_get(m, *k)))
            return fail(r, fg_yaml_get(m, *k), where, "%s %s", *k, why);
    return 0;
}

static int read_cluster(struct reader *r, const struct fg_yaml_node *c,
                        const char *name, struct fg_kubeconfig_target *out)
{
    char where[WHERE_MAX];
    snprintf(where, sizeof(where), "clusters[%s].cluster", name);
    static const char *const unsupported[] = {"proxy-url", NULL};
    const char *server, *sni, *insecure;
    if (scalar(r, c, where, "server", &server) != 0 ||
        scalar(r, c, where, "tls-server-name", &sni) != 0 ||
        scalar(r, c, where, "insecure-skip-tls-verify", &insecure) != 0 ||
        refuse(r, c, where, unsupported, "is not supported") != 0)
        return -1;
    if (insecure && strcmp(insecure, "false") != 0)
        return fail(r, fg_yaml_get(c, "insecure-skip-tls-verify"), where,
                    "insecure-skip-tls-verify is refused: give "
                    "certificate-authority");
    if (!server)
        return fail(r, c, where, "server is missing");
    if (strncmp(server, "https://", 8) != 0 || !server[8])
        return fail(r, fg_yaml_get(c, "server"), where,
                    "server \"%.100s\" is not an https:// URL", server);
    if (!(out->server = strdup(server)) ||
        (sni && !(out->tls_server_name = strdup(sni))))
        return fg_error_set(r->err, "out of memory");
    if (file_or_data(r, c, where, "certificate-authority", &out->ca_file,
                     &out->ca_pem, &out->ca_pem_len) != 0)
        return -1;
    if (!out->ca_file && !out->ca_pem)
        return fail(r, c, where, "certificate-authority(-data) is missing");
    return 0;
}

/* A bearer token goes into a header: visible ASCII only. */
static int token_ok(const char *t)
{
    size_t n = strlen(t);
    if (n > FG_SECRET_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (t[i] < '!' || t[i] > '~')
            return 0;
    return 1;
}

static int read_user(struct reader *r, const struct fg_yaml_node *u,
                     const char *name, struct fg_kubeconfig_target *out)
{
    char where[WHERE_MAX];
    snprintf(where, sizeof(where), "users[%s].user", name);
    static const char *const plugins[] = {"exec", "auth-provider", NULL};
    static const char *const basic[] = {"username", "password", NULL};
    static const char *const as[] = {"as", "as-uid", "as-groups",
                                     "as-user-extra", NULL};
    const char *token, *token_file;
    if (refuse(r, u, where, plugins,
               "is not supported: give token, tokenFile or "
               "client-certificate and client-key") != 0 ||
        refuse(r, u, where, basic, "(basic authentication) is refused") != 0 ||
        refuse(r, u, where, as,
               "is refused: the agent impersonates only the host's "
               "users") != 0 ||
        scalar(r, u, where, "token", &token) != 0 ||
        scalar(r, u, where, "tokenFile", &token_file) != 0)
        return -1;
    if (token && !token_ok(token))
        return fail(r, fg_yaml_get(u, "token"), where,
                    "token holds characters a header cannot carry or is "
                    "longer than %d bytes",
                    FG_SECRET_MAX);
    if (token) {
        if (!(out->token = strdup(token)))
            return fg_error_set(r->err, "out of memory");
    } else if (token_file && path_of(r, token_file, &out->token_file) != 0) {
        return -1;
    }
    if (file_or_data(r, u, where, "client-certificate", &out->cert_file,
                     &out->cert_pem, &out->cert_pem_len) != 0 ||
        file_or_data(r, u, where, "client-key", &out->key_file, &out->key_pem,
                     &out->key_pem_len) != 0)
        return -1;
    int has_cert = out->cert_file || out->cert_pem;
    int has_key = out->key_file || out->key_pem;
    if (has_cert != has_key)
        return fail(r, u, where, "%s without %s",
                    has_cert ? "client-certificate" : "client-key",
                    has_cert ? "client-key" : "client-certificate");
    if (!has_cert && !out->token && !out->token_file)
        return fail(r, u, where,
                    "has no token, tokenFile or client-certificate and "
                    "client-key");
    return 0;
}

static int read_root(struct reader *r, const struct fg_yaml_node *root,
                     struct fg_kubeconfig_target *out)
{
    if (root->type != FG_YAML_MAP)
        return fail(r, root, "kubeconfig", "is not a map");
    const char *current, *cluster, *user;
    if (scalar(r, root, "kubeconfig", "current-context", &current) != 0)
        return -1;
    if (!current)
        return fail(r, NULL, "current-context", "is not set");
    const struct fg_yaml_node *ctx =
        named(r, root, "contexts", "context", current,
              fg_yaml_get(root, "current-context"), "current-context");
    if (!ctx)
        return -1;
    char where[WHERE_MAX];
    snprintf(where, sizeof(where), "contexts[%s].context", current);
    if (scalar(r, ctx, where, "cluster", &cluster) != 0 ||
        scalar(r, ctx, where, "user", &user) != 0)
        return -1;
    if (!cluster || !user)
        return fail(r, ctx, where, "%s is missing",
                    cluster ? "user" : "cluster");
    char cluster_ref[WHERE_MAX + 8], user_ref[WHERE_MAX + 8];
    snprintf(cluster_ref, sizeof(cluster_ref), "%s.cluster", where);
    snprintf(user_ref, sizeof(user_ref), "%s.user", where);
    const struct fg_yaml_node *c =
        named(r, root, "clusters", "cluster", cluster,
              fg_yaml_get(ctx, "cluster"), cluster_ref);
    if (!c || read_cluster(r, c, cluster, out) != 0)
        return -1;
    const struct fg_yaml_node *u = named(r, root, "users", "user", user,
                                         fg_yaml_get(ctx, "user"), user_ref);
    return u ? read_user(r, u, user, out) : -1;
}

int fg_kubeconfig_read(const char *text, size_t len, const char *file,
                       struct fg_kubeconfig_target *out, struct fg_error *err)
{
    *out = (struct fg_kubeconfig_target){0};
    struct reader r = {file, err};
    if (len > FG_KUBECONFIG_MAX_BYTES)
        return fg_error_set(err, "%s: larger than %d bytes", file,
                            FG_KUBECONFIG_MAX_BYTES);
    struct fg_yaml_node **docs = NULL;
    char why[512];
    long n = fg_yaml_parse(text, len, file, FG_KUBECONFIG_MAX_DEPTH,
                           FG_KUBECONFIG_MAX_NODES, &docs, why, sizeof(why));
    if (n < 0)
        return fg_error_set(err, "%s", why);
    int rc = n == 1 ? read_root(&r, docs[0], out)
                    : fail(&r, n > 1 ? docs[1] : NULL, "kubeconfig",
                           "holds %ld documents, not one", n);
    fg_yaml_free_docs(docs, (size_t)n);
    if (rc != 0)
        fg_kubeconfig_target_free(out);
    return rc;
}

static void wipe(char *s, size_t len)
{
    if (s)
        OPENSSL_cleanse(s, len);
    free(s);
}

void fg_kubeconfig_target_free(struct fg_kubeconfig_target *t)
{
    free(t->server);
    free(t->tls_server_name);
    free(t->ca_file);
    free(t->ca_pem);
    wipe(t->token, t->token ? strlen(t->token) : 0);
    free(t->token_file);
    free(t->cert_file);
    free(t->key_file);
    free(t->cert_pem);
    wipe(t->key_pem, t->key_pem_len);
    *t = (struct fg_kubeconfig_target){0};
}
