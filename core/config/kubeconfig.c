/* The admin token and kubeconfig: see kubeconfig.h. */
#include "config/kubeconfig.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <fedgate/util.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "config/config.h"
#include "base/fsutil.h"

#define TOKEN_HEX 64
#define MAX_CA_BYTES (1024 * 1024)
#define ADMIN_USER "fedgate-admin"

static bool is_token(const char *s, size_t len)
{
    if (len != TOKEN_HEX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* Reads an existing token file; 1 if there is none, 0 or -1 otherwise. */
static int read_token(const char *path, char out[65], struct fg_error *err)
{
    char *buf;
    size_t len;
    mode_t mode;
    /* A little room beyond the token, so that a longer file is reported as
     * malformed rather than too large. */
    if (fg_read_file(path, TOKEN_HEX + 64, &buf, &len, &mode, err) != 0)
        return errno == ENOENT ? 1 : -1;
    int rc = 0;
    size_t n = len;
    if (n > 0 && buf[n - 1] == '\n')
        n--;
    if (mode & 077)
        rc = fg_error_set(err,
                          "%s is accessible to group or others (mode %04o); "
                          "it must be 0600",
                          path, (unsigned)mode);
    else if (!is_token(buf, n))
        rc = fg_error_set(err,
                          "%s does not hold a token of 64 lower-case hex "
                          "digits",
                          path);
    else
        memcpy(out, buf, TOKEN_HEX + 1);
    out[TOKEN_HEX] = '\0';
    OPENSSL_cleanse(buf, len);
    free(buf);
    return rc;
}

int fg_admin_token_ensure(const char *state_dir, char out[65],
                          struct fg_error *err)
{
    static const char hex[] = "0123456789abcdef";
    memset(out, 0, 65);
    if (fg_mkdir_p(state_dir, 0700, err) != 0)
        return -1;
    char *path = fg_path_join(state_dir, "admin.token");
    if (!path)
        return fg_error_set(err, "out of memory");

    int rc = read_token(path, out, err);
    if (rc <= 0) {
        free(path);
        return rc;
    }

    unsigned char raw[TOKEN_HEX / 2];
    char line[TOKEN_HEX + 1];
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        ERR_clear_error();
        fg_error_set(err, "cannot create %s: no random bytes", path);
        free(path);
        return -1;
    }
    for (size_t i = 0; i < sizeof(raw); i++) {
        line[2 * i] = hex[raw[i] >> 4];
        line[2 * i + 1] = hex[raw[i] & 15];
    }
    line[TOKEN_HEX] = '\n';
    rc = fg_create_file_atomic(path, line, sizeof(line), 0600, err);
    if (rc == 0) {
        memcpy(out, line, TOKEN_HEX);
        out[TOKEN_HEX] = '\0';
    } else if (rc == 1) {
        /* Another process created it first: use its token. */
        rc = read_token(path, out, err);
        if (rc == 1)
            rc = fg_error_set(err, "%s vanished while being created", path);
    }
    OPENSSL_cleanse(raw, sizeof(raw));
    OPENSSL_cleanse(line, sizeof(line));
    free(path);
    return rc;
}

/* Base64 of the file at PATH, malloc'd, without line breaks. */
static char *base64_file(const char *path, struct fg_error *err)
{
    char *pem;
    size_t len;
    if (fg_read_file(path, MAX_CA_BYTES, &pem, &len, NULL, err) != 0)
        return NULL;
    if (len == 0) {
        free(pem);
        fg_error_set(err, "%s is empty", path);
        return NULL;
    }
    char *b64 = fg_base64_encode_alloc(pem, len, 0);
    free(pem);
    if (!b64)
        fg_error_set(err, "out of memory");
    return b64;
}

static cJSON *named(cJSON *list, const char *name, const char *field)
{
    cJSON *item = cJSON_CreateObject();
    if (!item || !cJSON_AddItemToArray(list, item) ||
        !cJSON_AddStringToObject(item, "name", name))
        return NULL;
    return cJSON_AddObjectToObject(item, field);
}

/* USER's credential into the kubeconfig user entry ENTRY. */
static bool add_credential(cJSON *entry, const struct fg_kubeconfig_user *user)
{
    if (user->token)
        return cJSON_AddStringToObject(entry, "token", user->token) != NULL;
    char *cert = fg_base64_encode_alloc(user->client_cert_pem,
                                        strlen(user->client_cert_pem), 0);
    char *key = fg_base64_encode_alloc(user->client_key_pem,
                                       strlen(user->client_key_pem), 0);
    bool ok = cert && key &&
              cJSON_AddStringToObject(entry, "client-certificate-data", cert) &&
              cJSON_AddStringToObject(entry, "client-key-data", key);
    free(cert);
    if (key) {
        OPENSSL_cleanse(key, strlen(key));
        free(key);
    }
    return ok;
}

char *fg_kubeconfig_text(const char *where, const char *server_base,
                         const char *ca_pem_file,
                         const struct fg_kubeconfig_user *user,
                         const char *const *members, size_t n_members,
                         const char *current, struct fg_error *err)
{
    if (!server_base || strncmp(server_base, "https://", 8) != 0 ||
        !server_base[8]) {
        fg_error_set(err, "%s: server \"%s\" is not an https:// URL", where,
                     server_base ? server_base : "");
        return NULL;
    }
    if (!user->name || !*user->name ||
        (user->token ? !*user->token
                     : !user->client_cert_pem || !user->client_key_pem)) {
        fg_error_set(err, "%s: empty token or certificate", where);
        return NULL;
    }
    bool current_found = current == NULL;
    for (size_t i = 0; i < n_members; i++) {
        if (!members[i] ||
            !fg_is_dns1123_label(members[i], strlen(members[i]))) {
            fg_error_set(err, "%s: invalid member name \"%s\"", where,
                         members[i] ? members[i] : "");
            return NULL;
        }
        const char *ns = user->namespaces ? user->namespaces[i] : NULL;
        if (ns && !fg_is_dns1123_label(ns, strlen(ns))) {
            fg_error_set(err, "%s: invalid namespace \"%s\"", where, ns);
            return NULL;
        }
        if (current && strcmp(current, members[i]) == 0)
            current_found = true;
    }
    if (!current_found) {
        fg_error_set(err, "%s: current context \"%s\" is no member", where,
                     current);
        return NULL;
    }
    if (!current && n_members > 0)
        current = members[0];

    char *ca_data = base64_file(ca_pem_file, err);
    if (!ca_data)
        return NULL;
    /* A trailing slash would make ".../clusters/NAME" contain "//". */
    size_t base_len = strlen(server_base);
    while (base_len > 8 && server_base[base_len - 1] == '/')
        base_len--;

    cJSON *root = cJSON_CreateObject();
    cJSON *clusters = NULL, *contexts = NULL, *users = NULL, *entry;
    bool ok = root && cJSON_AddStringToObject(root, "apiVersion", "v1") &&
              cJSON_AddStringToObject(root, "kind", "Config") &&
              cJSON_AddObjectToObject(root, "preferences") &&
              (clusters = cJSON_AddArrayToObject(root, "clusters")) &&
              (users = cJSON_AddArrayToObject(root, "users")) &&
              (contexts = cJSON_AddArrayToObject(root, "contexts")) &&
              cJSON_AddStringToObject(root, "current-context",
                                      current ? current : "") &&
              (entry = named(users, user->name, "user")) &&
              add_credential(entry, user);
    for (size_t i = 0; ok && i < n_members; i++) {
        size_t n = base_len + strlen("/clusters/") + strlen(members[i]) + 1;
        char *server = malloc(n);
        cJSON *cluster = NULL, *context = NULL;
        if (server)
            snprintf(server, n, "%.*s/clusters/%s", (int)base_len, server_base,
                     members[i]);
        ok = server && (cluster = named(clusters, members[i], "cluster")) &&
             cJSON_AddStringToObject(cluster, "server", server) &&
             cJSON_AddStringToObject(cluster, "certificate-authority-data",
                                     ca_data) &&
             (context = named(contexts, members[i], "context")) &&
             cJSON_AddStringToObject(context, "cluster", members[i]) &&
             cJSON_AddStringToObject(context, "user", user->name) &&
             (!user->namespaces || !user->namespaces[i] ||
              cJSON_AddStringToObject(context, "namespace",
                                      user->namespaces[i]));
        free(server);
    }
    if (ok && user->all_context) {
        size_t n = base_len + sizeof("/clusters/*");
        char *server = malloc(n);
        cJSON *cluster = NULL, *context = NULL;
        if (server)
            snprintf(server, n, "%.*s/clusters/*", (int)base_len, server_base);
        ok = server &&
             (cluster = named(clusters, FG_KUBECONFIG_ALL, "cluster")) &&
             cJSON_AddStringToObject(cluster, "server", server) &&
             cJSON_AddStringToObject(cluster, "certificate-authority-data",
                                     ca_data) &&
             (context = named(contexts, FG_KUBECONFIG_ALL, "context")) &&
             cJSON_AddStringToObject(context, "cluster", FG_KUBECONFIG_ALL) &&
             cJSON_AddStringToObject(context, "user", user->name);
        free(server);
    }
    if (ok && user->fleet) {
        cJSON *cluster = named(clusters, FG_FLEET_CONTEXT, "cluster");
        cJSON *context = named(contexts, FG_FLEET_CONTEXT, "context");
        char *server = strndup(server_base, base_len);
        ok = cluster && context && server &&
             cJSON_AddStringToObject(cluster, "server", server) &&
             cJSON_AddStringToObject(cluster, "certificate-authority-data",
                                     ca_data) &&
             cJSON_AddStringToObject(context, "cluster", FG_FLEET_CONTEXT) &&
             cJSON_AddStringToObject(context, "user", user->name);
        free(server);
    }
    char *json = ok ? cJSON_Print(root) : NULL;
    free(ca_data);
    cJSON_Delete(root);
    if (!json) {
        fg_error_set(err, "%s: out of memory", where);
        return NULL;
    }

    /* A copy with the trailing newline text tools expect, and spaces for
     * cJSON's tabs (YAML forbids tab indentation; inside strings cJSON
     * escapes tabs, so every raw tab is formatting). The credential is
     * wiped from cJSON's buffer. */
    size_t len = strlen(json);
    char *text = malloc(len + 2);
    if (text) {
        for (size_t i = 0; i < len; i++)
            text[i] = json[i] == '\t' ? ' ' : json[i];
        text[len] = '\n';
        text[len + 1] = '\0';
    }
    OPENSSL_cleanse(json, len);
    cJSON_free(json);
    if (!text)
        fg_error_set(err, "%s: out of memory", where);
    return text;
}

int fg_kubeconfig_write(const char *path, const char *server_base,
                        const char *ca_pem_file, const char *token,
                        const char *const *members, size_t n_members,
                        const char *current, int fleet, struct fg_error *err)
{
    if (!token || !*token)
        return fg_error_set(err, "%s: empty token", path);
    const struct fg_kubeconfig_user admin = {.name = ADMIN_USER,
                                             .token = token,
                                             .all_context = n_members > 1,
                                             .fleet = fleet};
    char *text = fg_kubeconfig_text(path, server_base, ca_pem_file, &admin,
                                    members, n_members, current, err);
    if (!text)
        return -1;
    size_t len = strlen(text);
    int rc = fg_write_file_atomic(path, text, len, 0600, err);
    OPENSSL_cleanse(text, len);
    free(text);
    return rc;
}
