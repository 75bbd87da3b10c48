/* admin_token: the first authenticate plugin. A request whose one
 * Authorization header is `Bearer TOKEN` (or `Basic` with TOKEN as the
 * password, as Helm sends it), TOKEN being the gateway's admin
 * token (STATE_DIR/admin.token, which the core writes with
 * admin.kubeconfig, or the file of `token_file`), runs as fedgate:admin in
 * the groups system:masters and system:authenticated. Any other bearer
 * token or scheme is not this plugin's to judge (no opinion); two
 * Authorization headers are refused, since another plugin could otherwise
 * accept the one this one did not look at. SIGHUP re-reads the file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <fedgate/fedgate.h>

#define TOKEN_MIN 16
#define TOKEN_MAX 1024

struct admin_token {
    const struct fg_host *host;
    char path[4096];
    char token[TOKEN_MAX + 1];
    size_t len;
};

/* Reads PATH into T: one token of visible ASCII, an optional newline, in a
 * file only its owner can read. Returns 0, or -1 with ERR. */
static int read_token(struct admin_token *t, char *err, size_t err_len)
{
    char buf[TOKEN_MAX + 2];
    struct stat st;
    int fd = open(t->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, err_len, "%s: %s", t->path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    ssize_t n = S_ISREG(st.st_mode) && !(st.st_mode & 077)
                    ? read(fd, buf, sizeof(buf))
                    : -1;
    close(fd);
    if (n < 0) {
        snprintf(err, err_len,
                 "%s: must be a regular file only its owner can read "
                 "(mode 0600)",
                 t->path);
        return -1;
    }
    size_t len = (size_t)n;
    if (len > 0 && buf[len - 1] == '\n')
        len--;
    int ok = len >= TOKEN_MIN && len <= TOKEN_MAX;
    for (size_t i = 0; ok && i < len; i++)
        ok = buf[i] > ' ' && buf[i] < 0x7f;
    if (!ok) {
        OPENSSL_cleanse(buf, sizeof(buf));
        snprintf(err, err_len,
                 "%s: must hold one token of %d to %d visible ASCII "
                 "characters",
                 t->path, TOKEN_MIN, TOKEN_MAX);
        return -1;
    }
    OPENSSL_cleanse(t->token, sizeof(t->token));
    memcpy(t->token, buf, len);
    t->token[len] = '\0';
    t->len = len;
    OPENSSL_cleanse(buf, sizeof(buf));
    return 0;
}

static void *instance_new(const struct fg_host *host,
                          const struct fg_section *s, char *err, size_t err_len)
{
    struct admin_token *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    t->host = host;
    const char *file = s->get(s, "token_file");
    if (file)
        snprintf(t->path, sizeof(t->path), "%s", file);
    else
        snprintf(t->path, sizeof(t->path), "%s/admin.token", host->state_dir);
    if (read_token(t, err, err_len) != 0) {
        free(t);
        return NULL;
    }
    return t;
}

static void instance_free(void *instance)
{
    struct admin_token *t = instance;
    OPENSSL_cleanse(t->token, sizeof(t->token));
    free(t);
}

static void reload(void *instance)
{
    struct admin_token *t = instance;
    char err[512];
    if (read_token(t, err, sizeof(err)) != 0)
        t->host->log(t->host, FG_LOG_ERROR, "%s; the token read before stays",
                     err);
}

static const char *const admin_groups[] = {"system:masters",
                                           "system:authenticated"};
static const struct fg_identity admin_identity = {
    .user = "fedgate:admin", .groups = admin_groups, .n_groups = 2};

static enum fg_verdict authenticate(void *instance, struct fg_policy_call *c)
{
    struct admin_token *t = instance;
    const char *token;
    size_t len;
    char basic[FG_BASE64_DECODED_MAX(FG_SECRET_MAX)];
    int found = fg_request_token(c->req->headers, c->req->n_headers, basic,
                                 sizeof basic, &token, &len);
    if (found < 0) {
        c->set_denial(c, 401, "Unauthorized",
                      "more than one Authorization header");
        return FG_DENY;
    }
    if (!found || len != t->len || CRYPTO_memcmp(token, t->token, len) != 0)
        return FG_NO_OPINION;
    return c->set_identity(c, &admin_identity) == 0 ? FG_ALLOW : FG_DENY;
}

/* Never pending: nothing to drop. */
static void cancel(void *instance, struct fg_policy_call *c)
{
    (void)instance;
    (void)c;
}

static const struct fg_policy_ops ops = {
    .struct_size = sizeof(struct fg_policy_ops),
    .phases = FG_PHASE_AUTHENTICATE,
    .instance_new = instance_new,
    .instance_free = instance_free,
    .authenticate = authenticate,
    .cancel = cancel,
    .reload = reload,
};

static const struct fg_config_key keys[] = {
    {"token_file", FG_CONFIG_FILE, NULL, 0, 0, 0,
     "the token (default: admin.token in the state directory, written "
     "with admin.kubeconfig)"},
    {NULL, 0, NULL, 0, 0, 0, NULL},
};

static const struct fg_plugin_descriptor descriptor = {
    .abi_major = FG_ABI_MAJOR,
    .abi_minor = FG_ABI_MINOR,
    .struct_size = sizeof(struct fg_plugin_descriptor),
    .kind = FG_PLUGIN_POLICY,
    .name = "admin_token",
    .version = "1.0.0",
    .description = "authenticates the admin bearer token as fedgate:admin",
    .config_keys = keys,
    .ops = &ops,
    .signature = FG_BUILD_SIGNATURE,
};

FG_PLUGIN_DECLARE(descriptor)
