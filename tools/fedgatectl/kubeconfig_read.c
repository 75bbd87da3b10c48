/* The kubeconfig reader (kubeconfig_read.h), on the SDK's YAML trees:
 * bounded depth and size, every value checked for its shape. */
#include "kubeconfig_read.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fedgate/util.h>
#include <fedgate/yaml.h>
#include <openssl/crypto.h>

#include "config/kubeconfig.h"

static const char *scalar(const struct fg_yaml_node *m, const char *key)
{
    const struct fg_yaml_node *n = fg_yaml_get(m, key);
    return n && n->type == FG_YAML_SCALAR && !fg_yaml_is_null(n) ? n->text
                                                                 : NULL;
}

/* The map under KEY of the entry named NAME in the list LIST_KEY. */
static const struct fg_yaml_node *entry(const struct fg_yaml_node *root,
                                        const char *list_key, const char *key,
                                        const char *name)
{
    const struct fg_yaml_node *list = fg_yaml_get(root, list_key);
    for (size_t i = 0; list && list->type == FG_YAML_SEQ && i < list->n; i++) {
        const char *n = scalar(list->items[i], "name");
        const struct fg_yaml_node *v = fg_yaml_get(list->items[i], key);
        if (n && strcmp(n, name) == 0 && v && v->type == FG_YAML_MAP)
            return v;
    }
    return NULL;
}

static int decode(const char *b64, char **out)
{
    size_t len = strlen(b64);
    char *buf = malloc(len + 1);
    long n = buf ? fg_base64_decode(buf, len + 1, b64, len, 0) : -1;
    if (n < 0) {
        free(buf);
        return -1;
    }
    buf[n] = '\0';
    *out = buf;
    return 0;
}

/* PATH as kubectl reads it: relative to the kubeconfig's directory. */
static char *path_from(const char *file, const char *path)
{
    if (path[0] == '/')
        return strdup(path);
    char *copy = strdup(file);
    char *full = NULL;
    if (copy) {
        const char *dir = dirname(copy);
        size_t n = strlen(dir) + strlen(path) + 2;
        if ((full = malloc(n)))
            snprintf(full, n, "%s/%s", dir, path);
    }
    free(copy);
    return full;
}

/* DATA_KEY (base64) into *PEM or FILE_KEY into *PATH. -1: bad base64. */
static int material(const struct fg_yaml_node *m, const char *file,
                    const char *data_key, const char *file_key, char **pem,
                    char **path)
{
    const char *data = scalar(m, data_key), *name = scalar(m, file_key);
    if (data)
        return decode(data, pem);
    if (name && !(*path = path_from(file, name)))
        return -1;
    return 0;
}

/* SERVER without its path: https://HOST[:PORT]. */
static char *root_of(const char *server)
{
    if (strncmp(server, "https://", 8) != 0)
        return NULL;
    size_t n = 8 + strcspn(server + 8, "/?#");
    return n > 8 ? strndup(server, n) : NULL;
}

static int fail(char *err, size_t err_len, const char *file, const char *why,
                const char *what)
{
    snprintf(err, err_len, "%s: %s%s%s%s", file, why, what ? " \"" : "",
             what ? what : "", what ? "\"" : "");
    return -1;
}

int fg_ctl_kubeconfig_read(const char *text, size_t len, const char *file,
                           const char *context, struct fg_ctl_kubeconfig *out,
                           char *err, size_t err_len)
{
    struct fg_yaml_node **docs = NULL;
    memset(out, 0, sizeof(*out));
    long n = fg_yaml_parse(text, len, file, 32, 100000, &docs, err, err_len);
    if (n < 0)
        return -1;
    int rc = -1;
    const struct fg_yaml_node *root = n == 1 ? docs[0] : NULL;
    if (!root || root->type != FG_YAML_MAP) {
        fail(err, err_len, file, "not one kubeconfig document", NULL);
        goto done;
    }
    const char *name = context;
    if (!name && entry(root, "contexts", "context", FG_FLEET_CONTEXT))
        name = FG_FLEET_CONTEXT;
    if (!name)
        name = scalar(root, "current-context");
    const struct fg_yaml_node *ctx =
        name ? entry(root, "contexts", "context", name) : NULL;
    if (!ctx) {
        fail(err, err_len, file, name ? "no context" : "no current-context",
             name);
        goto done;
    }
    const char *cluster_name = scalar(ctx, "cluster");
    const char *user_name = scalar(ctx, "user");
    const struct fg_yaml_node *cluster =
        cluster_name ? entry(root, "clusters", "cluster", cluster_name) : NULL;
    const struct fg_yaml_node *user =
        user_name ? entry(root, "users", "user", user_name) : NULL;
    const char *server = scalar(cluster, "server");
    if (!cluster || !server) {
        fail(err, err_len, file, "no cluster with a server for context", name);
        goto done;
    }
    if (!(out->server = root_of(server))) {
        fail(err, err_len, file, "the server is not an https:// URL", server);
        goto done;
    }
    const char *token = scalar(user, "token");
    if (!(out->context = strdup(name)) ||
        (token && !(out->token = strdup(token))) ||
        material(cluster, file, "certificate-authority-data",
                 "certificate-authority", &out->ca_pem, &out->ca_file) != 0 ||
        material(user, file, "client-certificate-data", "client-certificate",
                 &out->cert_pem, &out->cert_file) != 0 ||
        material(user, file, "client-key-data", "client-key", &out->key_pem,
                 &out->key_file) != 0) {
        fail(err, err_len, file,
             "a *-data value is not base64, or out of memory, in context",
             name);
        goto done;
    }
    if (!out->token && !(out->cert_pem || out->cert_file)) {
        fail(err, err_len, file,
             "the user has neither a token nor a client certificate in "
             "context",
             name);
        goto done;
    }
    if (!out->ca_pem && !out->ca_file) {
        fail(err, err_len, file,
             "the cluster names no certificate "
             "authority in context",
             name);
        goto done;
    }
    rc = 0;
done:
    fg_yaml_free_docs(docs, n > 0 ? (size_t)n : 0);
    if (rc != 0)
        fg_ctl_kubeconfig_free(out);
    return rc;
}

static void wipe(char **s)
{
    if (*s)
        OPENSSL_cleanse(*s, strlen(*s));
    free(*s);
    *s = NULL;
}

void fg_ctl_kubeconfig_free(struct fg_ctl_kubeconfig *out)
{
    wipe(&out->token);
    wipe(&out->key_pem);
    free(out->context);
    free(out->server);
    free(out->ca_pem);
    free(out->ca_file);
    free(out->cert_pem);
    free(out->cert_file);
    free(out->key_file);
    memset(out, 0, sizeof(*out));
}
