/* Joining a member (join.h): the check of a direct member's /version and
 * the files a join writes and a removal takes. */
#include "fleet/join.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "base/fsutil.h"
#include "client/ask.h"
#include "config/config.h"

int fg_join_members_dir(const struct fg_config *cfg, char *out)
{
    return fg_path_format(out, "%s/members", cfg->dir);
}

int fg_join_owns(const char *members, const struct fg_config_section *s)
{
    char ini[PATH_MAX];
    if (fg_path_format(ini, "%s/%s.ini", members, s->name) != 0)
        return 0;
    char *real = realpath(s->file, NULL), *want = realpath(ini, NULL);
    int owns = real && want && strcmp(real, want) == 0;
    free(real);
    free(want);
    return owns;
}

/* The answer A to /version: 0 with its gitVersion, or -1 with ERR. */
static int read_version(const struct fg_join *j, const struct fg_ask_answer *a,
                        char *version, size_t len, struct fg_error *err)
{
    cJSON *doc = cJSON_ParseWithLength(a->body, a->len);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, "gitVersion");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(doc, "message");
    int rc = 0;
    if (a->status != 200 || !cJSON_IsString(v))
        rc = fg_error_set(err, "the member at %s answered /version with %d%s%s",
                          j->server, a->status, cJSON_IsString(msg) ? ": " : "",
                          cJSON_IsString(msg) ? msg->valuestring : "");
    else
        snprintf(version, len, "%s", v->valuestring);
    cJSON_Delete(doc);
    return rc;
}

int fg_join_check(const struct fg_join *j, int timeout_ms, char *version,
                  size_t len, struct fg_error *err)
{
    char ca[32], cert[32], key[32];
    int cert_kind = j->kind == FG_JOIN_CERT;
    int fds[3] = {
        fg_memory_file(j->ca_pem, j->ca_len, ca),
        cert_kind ? fg_memory_file(j->cert_pem, j->cert_len, cert) : -2,
        cert_kind ? fg_memory_file(j->key_pem, j->key_len, key) : -2,
    };
    int rc = -1;
    if (fds[0] == -1 || fds[1] == -1 || fds[2] == -1) {
        fg_error_set(err, "cannot hold the credentials in memory files");
    } else {
        struct fg_ask_server s = {.server = j->server,
                                  .ca_file = ca,
                                  .token = cert_kind ? NULL : j->token,
                                  .timeout_ms = timeout_ms,
                                  .cert_file = cert_kind ? cert : NULL,
                                  .key_file = cert_kind ? key : NULL};
        struct fg_ask_answer a;
        struct fg_error why = {{0}};
        if (fg_ask(&s, "GET", "/version", NULL, 0, NULL, &a, &why) != 0) {
            fg_error_set(err, "the member at %s: %s", j->server, why.msg);
        } else {
            rc = read_version(j, &a, version, len, err);
            fg_ask_answer_free(&a);
        }
    }
    for (int i = 0; i < 3; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    return rc;
}

/* A new agent token at PATH (0600): 256 random bits as hex, what the
 * agent driver's token_file holds. */
static int new_token(const char *path, struct fg_error *err)
{
    unsigned char raw[32];
    char hex[66];
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return fg_error_set(err, "no random bytes for a token");
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    hex[64] = '\n';
    int rc = fg_write_file_atomic(path, hex, 65, 0600, err);
    OPENSSL_cleanse(raw, sizeof(raw));
    OPENSSL_cleanse(hex, sizeof(hex));
    return rc;
}

void fg_join_remove(const char *members, const char *name)
{
    char path[PATH_MAX], file[PATH_MAX];
    if (fg_path_format(path, "%s/%s.ini", members, name) == 0)
        unlink(path);
    DIR *d = fg_path_format(path, "%s/%s", members, name) == 0 ? opendir(path)
                                                               : NULL;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (fg_path_format(file, "%s/%s", path, e->d_name) == 0)
            unlink(file);
    }
    if (d) {
        closedir(d);
        rmdir(path);
    }
}

/* The ini text of J with its files at CA, SECRET and KEY; NULL out of
 * memory. */
static char *ini_text(const struct fg_join *j, const char *ca,
                      const char *secret, const char *key, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    if (!f)
        return NULL;
    fprintf(f,
            "; written by %s; removing the member removes it\n"
            "[member \"%s\"]\n",
            j->writer, j->name);
    if (j->kind == FG_JOIN_AGENT)
        fprintf(f, "driver = agent\ntoken_file = %s\n", secret);
    else if (j->kind == FG_JOIN_TOKEN)
        fprintf(f,
                "driver = direct\nserver = %s\nca_file = %s\n"
                "token_file = %s\n",
                j->server, ca, secret);
    else
        fprintf(f,
                "driver = direct\nserver = %s\nca_file = %s\n"
                "client_cert_file = %s\nclient_key_file = %s\n",
                j->server, ca, secret, key);
    if (j->labels && j->labels[0])
        fprintf(f, "labels = %s\n", j->labels);
    if (j->provider)
        fprintf(f, "provider = %s\n", j->provider);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

static int write_files(const struct fg_join *j, const char *dir, const char *ca,
                       const char *secret, const char *key,
                       struct fg_error *err)
{
    if (j->keep_files)
        return 0;
    /* new credentials of a member replace its files one by one */
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return fg_error_set(err, "cannot make %s: %s", dir, strerror(errno));
    if (j->kind == FG_JOIN_AGENT)
        return new_token(secret, err);
    if (fg_write_file_atomic(ca, j->ca_pem, j->ca_len, 0600, err) != 0)
        return -1;
    if (j->kind == FG_JOIN_TOKEN)
        return fg_write_file_atomic(secret, j->token, strlen(j->token), 0600,
                                    err);
    return fg_write_file_atomic(secret, j->cert_pem, j->cert_len, 0600, err) ||
                   fg_write_file_atomic(key, j->key_pem, j->key_len, 0600, err)
               ? -1
               : 0;
}

int fg_join_write(const char *members, const struct fg_join *j,
                  struct fg_error *err)
{
    char dir[PATH_MAX], ca[PATH_MAX], secret[PATH_MAX], key[PATH_MAX],
        ini[PATH_MAX];
    if (fg_path_format(dir, "%s/%s", members, j->name) != 0 ||
        fg_path_format(ca, "%s/ca.crt", dir) != 0 ||
        fg_path_format(secret, "%s/%s", dir,
                       j->kind == FG_JOIN_AGENT   ? "agent.token"
                       : j->kind == FG_JOIN_TOKEN ? "token"
                                                  : "client.crt") != 0 ||
        fg_path_format(key, "%s/client.key", dir) != 0 ||
        fg_path_format(ini, "%s/%s.ini", members, j->name) != 0)
        return fg_error_set(err, "%s: the path is too long", members);
    if (mkdir(members, 0755) != 0 && errno != EEXIST)
        return fg_error_set(err, "cannot make %s: %s", members,
                            strerror(errno));
    size_t len = 0;
    char *text = ini_text(j, ca, secret, key, &len);
    int rc = text ? write_files(j, dir, ca, secret, key, err) : -1;
    if (!text)
        fg_error_set(err, "out of memory");
    if (rc == 0)
        rc = fg_write_file_atomic(ini, text, len, 0600, err);
    free(text);
    if (rc != 0 && !j->keep_files)
        fg_join_remove(members, j->name);
    return rc;
}
