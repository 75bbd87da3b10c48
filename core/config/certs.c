/* The self-generated CA and serving certificate: see certs.h.
 *
 * Keys are EC P-256. Subject alternative names are built as ASN.1 values,
 * never through OpenSSL's "DNS:a,IP:b" config syntax, so a configured name
 * cannot smuggle in extra entries. */
#include "config/certs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "base/fsutil.h"

#define CA_DAYS (10 * 365)
#define SERVER_DAYS 365
#define RENEW_DAYS 30
#define DAY (24L * 3600)
#define MAX_PEM_BYTES (1024 * 1024)
/* Backdating notBefore tolerates clients whose clocks run a little slow. */
#define BACKDATE_SECONDS (5 * 60)

/* One subject alternative name of the serving certificate. */
struct san {
    int type; /* GEN_DNS or GEN_IPADD */
    unsigned char ip[16];
    size_t ip_len;
    char dns[254];
};

struct san_list {
    struct san *v;
    size_t n;
};

/* Reports the latest OpenSSL error for WHAT on PATH and clears the queue. */
static int ssl_fail(struct fg_error *err, const char *what, const char *path)
{
    unsigned long e = ERR_peek_last_error();
    char buf[256] = "unknown error";
    if (e)
        ERR_error_string_n(e, buf, sizeof(buf));
    ERR_clear_error();
    return fg_error_set(err, "%s %s: %s", what, path, buf);
}

static bool file_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* A key file never prompts for a passphrase: ours are not encrypted. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

static X509 *read_cert(const char *path, struct fg_error *err)
{
    char *pem;
    size_t len;
    if (fg_read_file(path, MAX_PEM_BYTES, &pem, &len, NULL, err) != 0)
        return NULL;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    free(pem);
    if (!x)
        ssl_fail(err, "cannot parse certificate", path);
    return x;
}

/* Reads a private key, refusing one that others could have read unless
 * ALLOW_OPEN is set. *OPEN (if not NULL) tells whether that was the case. */
static EVP_PKEY *read_key(const char *path, bool allow_open, bool *open,
                          struct fg_error *err)
{
    char *pem;
    size_t len;
    mode_t mode;
    if (fg_read_file(path, MAX_PEM_BYTES, &pem, &len, &mode, err) != 0)
        return NULL;
    if (open)
        *open = (mode & 077) != 0;
    if ((mode & 077) && !allow_open) {
        OPENSSL_cleanse(pem, len);
        free(pem);
        fg_error_set(err,
                     "%s is accessible to group or others (mode %04o); "
                     "it must be 0600",
                     path, (unsigned)mode);
        return NULL;
    }
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *key =
        bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
    BIO_free(bio);
    OPENSSL_cleanse(pem, len);
    free(pem);
    if (!key)
        ssl_fail(err, "cannot parse private key", path);
    return key;
}

static int write_cert(const char *path, X509 *x, struct fg_error *err)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio || !PEM_write_bio_X509(bio, x)) {
        BIO_free(bio);
        return ssl_fail(err, "cannot encode certificate", path);
    }
    char *data;
    long len = BIO_get_mem_data(bio, &data);
    int rc = fg_write_file_atomic(path, data, (size_t)len, 0644, err);
    BIO_free(bio);
    return rc;
}

static int write_key(const char *path, EVP_PKEY *key, struct fg_error *err)
{
    /* Secure-heap memory is wiped when freed. */
    BIO *bio = BIO_new(BIO_s_secmem());
    if (!bio ||
        !PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)) {
        BIO_free(bio);
        return ssl_fail(err, "cannot encode private key", path);
    }
    char *data;
    long len = BIO_get_mem_data(bio, &data);
    int rc = fg_write_file_atomic(path, data, (size_t)len, 0600, err);
    BIO_free(bio);
    return rc;
}

/* A random positive 128-bit serial, as the CA/Browser rules ask for at
 * least 64 bits of entropy. */
static int set_random_serial(X509 *x)
{
    unsigned char buf[16];
    if (RAND_bytes(buf, sizeof(buf)) != 1)
        return 0;
    buf[0] &= 0x7f;
    buf[0] |= 0x01; /* never zero, never shorter than it claims */
    BIGNUM *bn = BN_bin2bn(buf, sizeof(buf), NULL);
    ASN1_INTEGER *serial = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
    int ok = serial && X509_set_serialNumber(x, serial);
    ASN1_INTEGER_free(serial);
    BN_free(bn);
    return ok;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    int ok = ext && X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

/* A version 3 certificate for KEY named CN, valid from NOW (backdated)
 * for SECONDS, or until NOT_AFTER_MAX if that comes first. */
static X509 *new_cert(EVP_PKEY *key, const char *cn, time_t now, long seconds,
                      const ASN1_TIME *not_after_max)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    time_t from = now - BACKDATE_SECONDS;
    bool ok =
        x && name && X509_set_version(x, X509_VERSION_3) &&
        set_random_serial(x) &&
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   (const unsigned char *)cn, -1, -1, 0) &&
        X509_set_subject_name(x, name) &&
        X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &from) &&
        X509_time_adj_ex(X509_getm_notAfter(x), 0, seconds, &now) &&
        X509_set_pubkey(x, key);
    if (ok && not_after_max &&
        ASN1_TIME_compare(X509_get0_notAfter(x), not_after_max) > 0)
        ok = X509_set1_notAfter(x, not_after_max);
    X509_NAME_free(name);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static int make_ca(time_t now, X509 **ca_out, EVP_PKEY **key_out)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x =
        key ? new_cert(key, "fedgate-ca", now, CA_DAYS * DAY, NULL) : NULL;
    X509V3_CTX ctx;
    bool ok = x != NULL;
    if (ok) {
        X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
        ok = X509_set_issuer_name(x, X509_get_subject_name(x)) &&
             add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE") &&
             add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") &&
             /* The key identifier first: the authority one of a
              * self-signed certificate copies it. */
             add_ext(x, &ctx, NID_subject_key_identifier, "hash") &&
             add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") &&
             X509_sign(x, key, EVP_sha256()) > 0;
    }
    if (!ok) {
        X509_free(x);
        EVP_PKEY_free(key);
        return -1;
    }
    *ca_out = x;
    *key_out = key;
    return 0;
}

static GENERAL_NAMES *san_names(const struct san_list *sans)
{
    GENERAL_NAMES *names = sk_GENERAL_NAME_new_null();
    if (!names)
        return NULL;
    for (size_t i = 0; i < sans->n; i++) {
        const struct san *s = &sans->v[i];
        GENERAL_NAME *gn = GENERAL_NAME_new();
        ASN1_STRING *str =
            s->type == GEN_DNS ? ASN1_IA5STRING_new() : ASN1_OCTET_STRING_new();
        bool ok = gn && str;
        if (ok && s->type == GEN_DNS)
            ok = ASN1_STRING_set(str, s->dns, (int)strlen(s->dns));
        else if (ok)
            ok = ASN1_OCTET_STRING_set(str, s->ip, (int)s->ip_len);
        if (ok) {
            GENERAL_NAME_set0_value(gn, s->type, str);
            str = NULL;
            ok = sk_GENERAL_NAME_push(names, gn) > 0;
        }
        if (!ok) {
            ASN1_STRING_free(str);
            GENERAL_NAME_free(gn);
            GENERAL_NAMES_free(names);
            return NULL;
        }
    }
    return names;
}

/* The issuer and the extensions of an end-entity certificate of CA for
 * the extended key usage EKU ("serverAuth", "clientAuth"). */
static bool set_leaf(X509 *x, X509 *ca, const char *eku)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, ca, x, NULL, NULL, 0);
    return X509_set_issuer_name(x, X509_get_subject_name(ca)) &&
           add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") &&
           add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature") &&
           add_ext(x, &ctx, NID_ext_key_usage, eku) &&
           add_ext(x, &ctx, NID_subject_key_identifier, "hash") &&
           add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always");
}

static X509 *make_server(X509 *ca, EVP_PKEY *ca_key, EVP_PKEY *key,
                         const struct san_list *sans, time_t now)
{
    X509 *x = new_cert(key, "fedgate", now, SERVER_DAYS * DAY,
                       X509_get0_notAfter(ca));
    GENERAL_NAMES *names = san_names(sans);
    bool ok = x && names && set_leaf(x, ca, "serverAuth") &&
              X509_add1_ext_i2d(x, NID_subject_alt_name, names, 0,
                                X509V3_ADD_DEFAULT) == 1 &&
              X509_sign(x, ca_key, EVP_sha256()) > 0;
    GENERAL_NAMES_free(names);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static bool valid_dns_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
              c == '*'))
            return false;
    }
    return true;
}

/* Adds NAME as an IP SAN if it parses as an address, else as a DNS SAN;
 * duplicates are skipped. Returns -1 for a name that is neither. */
int fg_certs_name_ok(const char *name)
{
    unsigned char ip[16];
    return inet_pton(AF_INET, name, ip) == 1 ||
           inet_pton(AF_INET6, name, ip) == 1 || valid_dns_name(name);
}

static int san_add(struct san_list *l, const char *name)
{
    struct san s;
    memset(&s, 0, sizeof(s));
    if (inet_pton(AF_INET, name, s.ip) == 1) {
        s.type = GEN_IPADD;
        s.ip_len = 4;
    } else if (inet_pton(AF_INET6, name, s.ip) == 1) {
        s.type = GEN_IPADD;
        s.ip_len = 16;
    } else if (valid_dns_name(name)) {
        s.type = GEN_DNS;
        memcpy(s.dns, name, strlen(name) + 1);
    } else {
        return -1;
    }
    for (size_t i = 0; i < l->n; i++) {
        const struct san *o = &l->v[i];
        if (o->type == s.type &&
            (s.type == GEN_DNS
                 ? strcasecmp(o->dns, s.dns) == 0
                 : o->ip_len == s.ip_len && !memcmp(o->ip, s.ip, s.ip_len)))
            return 0;
    }
    l->v[l->n++] = s;
    return 0;
}

/* Whether certificate X names every SAN of L. */
static bool has_all_sans(X509 *x, const struct san_list *l)
{
    GENERAL_NAMES *names =
        X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    if (!names)
        return false;
    bool all = true;
    for (size_t i = 0; all && i < l->n; i++) {
        const struct san *s = &l->v[i];
        bool found = false;
        for (int k = 0; !found && k < sk_GENERAL_NAME_num(names); k++) {
            const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, k);
            if (gn->type != s->type)
                continue;
            if (s->type == GEN_DNS) {
                const ASN1_IA5STRING *d = gn->d.dNSName;
                size_t n = strlen(s->dns);
                found = (size_t)ASN1_STRING_length(d) == n &&
                        strncasecmp((const char *)ASN1_STRING_get0_data(d),
                                    s->dns, n) == 0;
            } else {
                const ASN1_OCTET_STRING *ip = gn->d.iPAddress;
                found =
                    (size_t)ASN1_STRING_length(ip) == s->ip_len &&
                    memcmp(ASN1_STRING_get0_data(ip), s->ip, s->ip_len) == 0;
            }
        }
        all = found;
    }
    GENERAL_NAMES_free(names);
    return all;
}

/* Whether X, issued by CA, is still fit to serve from NOW on: it chains to
 * CA for TLS server use throughout the next RENEW_DAYS and names every SAN
 * wanted. */
static bool server_cert_fit(X509 *x, X509 *ca, const struct san_list *sans,
                            time_t now)
{
    time_t later = now + (time_t)RENEW_DAYS * 24 * 3600;
    if (X509_cmp_time(X509_get0_notBefore(x), &now) != -1)
        return false;
    if (!has_all_sans(x, sans))
        return false;

    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *vctx = X509_STORE_CTX_new();
    bool ok = store && vctx && X509_STORE_add_cert(store, ca) &&
              X509_STORE_CTX_init(vctx, store, x, NULL) &&
              X509_STORE_CTX_set_purpose(vctx, X509_PURPOSE_SSL_SERVER);
    if (ok) {
        /* Checking at NOW + RENEW_DAYS covers both certificates' expiry;
         * notBefore was checked against NOW above. */
        X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(vctx), later);
        ok = X509_verify_cert(vctx) == 1;
    }
    X509_STORE_CTX_free(vctx);
    X509_STORE_free(store);
    ERR_clear_error();
    return ok;
}

/* Loads (or, when there is none or it is about to expire, creates) the CA.
 * *KEY stays NULL if ca.key is missing: an existing serving certificate can
 * still be checked against the CA certificate alone. */
static int ensure_ca(const char *crt_path, const char *key_path, time_t now,
                     X509 **ca, EVP_PKEY **key, int *created,
                     struct fg_error *err)
{
    bool have_crt = file_exists(crt_path), have_key = file_exists(key_path);
    *ca = NULL;
    *key = NULL;
    *created = 0;
    if (have_crt) {
        if (!(*ca = read_cert(crt_path, err)))
            return -1;
        if (have_key) {
            if (!(*key = read_key(key_path, false, NULL, err)))
                return -1;
            if (X509_check_private_key(*ca, *key) != 1) {
                ERR_clear_error();
                return fg_error_set(err, "%s does not match %s", key_path,
                                    crt_path);
            }
        }
        time_t later = now + (time_t)RENEW_DAYS * 24 * 3600;
        if (X509_cmp_time(X509_get0_notAfter(*ca), &later) == 1)
            return 0;
        /* An expiring CA is replaced as a whole; the caller is told so
         * that kubeconfigs pinning the old one get rewritten. */
        X509_free(*ca);
        EVP_PKEY_free(*key);
        *ca = NULL;
        *key = NULL;
    } else if (have_key) {
        return fg_error_set(err,
                            "%s exists without %s; remove it to create a "
                            "new CA",
                            key_path, crt_path);
    }

    if (make_ca(now, ca, key) != 0)
        return ssl_fail(err, "cannot create CA certificate", crt_path);
    /* The key goes first: a certificate on disk always has its key. */
    if (write_key(key_path, *key, err) != 0 ||
        write_cert(crt_path, *ca, err) != 0)
        return -1;
    *created = 1;
    return 0;
}

void fg_cert_files_free(struct fg_cert_files *f)
{
    if (!f)
        return;
    free(f->ca_cert);
    free(f->server_cert);
    free(f->server_key);
    memset(f, 0, sizeof(*f));
}

int fg_certs_ensure_at(const char *state_dir, const char *const *extra_sans,
                       size_t n_extra, time_t now, struct fg_cert_files *out,
                       struct fg_error *err)
{
    memset(out, 0, sizeof(*out));
    if (fg_mkdir_p(state_dir, 0700, err) != 0)
        return -1;

    struct san_list sans = {calloc(n_extra + 4, sizeof(struct san)), 0};
    char *ca_key_path = fg_path_join(state_dir, "ca.key");
    out->ca_cert = fg_path_join(state_dir, "ca.crt");
    out->server_cert = fg_path_join(state_dir, "server.crt");
    out->server_key = fg_path_join(state_dir, "server.key");
    X509 *ca = NULL, *server = NULL;
    EVP_PKEY *ca_key = NULL, *server_key = NULL;
    int rc = -1;

    if (!sans.v || !ca_key_path || !out->ca_cert || !out->server_cert ||
        !out->server_key) {
        fg_error_set(err, "out of memory");
        goto done;
    }
    san_add(&sans, "localhost");
    san_add(&sans, "127.0.0.1");
    san_add(&sans, "::1");
    char host[256];
    /* The host name is a convenience: one that is no DNS name is left
     * out rather than failing the start. */
    if (gethostname(host, sizeof(host)) == 0) {
        host[sizeof(host) - 1] = '\0';
        san_add(&sans, host);
    }
    for (size_t i = 0; i < n_extra; i++) {
        if (!extra_sans[i] || san_add(&sans, extra_sans[i]) != 0) {
            fg_error_set(err,
                         "invalid subject alternative name \"%s\": neither "
                         "an IP address nor a DNS name",
                         extra_sans[i] ? extra_sans[i] : "(null)");
            goto done;
        }
    }

    if (ensure_ca(out->ca_cert, ca_key_path, now, &ca, &ca_key,
                  &out->ca_created, err) != 0)
        goto done;

    if (!out->ca_created && file_exists(out->server_cert) &&
        file_exists(out->server_key)) {
        struct fg_error ignored;
        bool open = false;
        server = read_cert(out->server_cert, &ignored);
        /* A serving key that others could read is replaced, not used. */
        server_key = read_key(out->server_key, true, &open, &ignored);
        if (server && server_key && !open &&
            X509_check_private_key(server, server_key) == 1 &&
            server_cert_fit(server, ca, &sans, now)) {
            rc = 0;
            goto done;
        }
        ERR_clear_error();
        X509_free(server);
        EVP_PKEY_free(server_key);
        server = NULL;
        server_key = NULL;
    }

    if (!ca_key) {
        fg_error_set(err,
                     "%s is missing, so the serving certificate cannot be "
                     "re-issued; remove %s to create a new CA",
                     ca_key_path, out->ca_cert);
        goto done;
    }
    server_key = EVP_EC_gen("P-256");
    if (!server_key) {
        ssl_fail(err, "cannot create key", out->server_key);
        goto done;
    }
    server = make_server(ca, ca_key, server_key, &sans, now);
    if (!server) {
        ssl_fail(err, "cannot create certificate", out->server_cert);
        goto done;
    }
    if (write_key(out->server_key, server_key, err) != 0 ||
        write_cert(out->server_cert, server, err) != 0)
        goto done;
    out->server_issued = 1;
    rc = 0;

done:
    X509_free(server);
    EVP_PKEY_free(server_key);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    free(ca_key_path);
    free(sans.v);
    if (rc != 0) {
        int created = out->ca_created;
        fg_cert_files_free(out);
        out->ca_created = created;
    }
    return rc;
}

int fg_certs_ensure(const char *state_dir, const char *const *extra_sans,
                    size_t n_extra, struct fg_cert_files *out,
                    struct fg_error *err)
{
    return fg_certs_ensure_at(state_dir, extra_sans, n_extra, time(NULL), out,
                              err);
}

/* PEM of X (or of KEY when X is NULL), malloc'd; NULL when out of memory.
 * A key's text is built in secure-heap memory, wiped when freed. */
static char *pem_text(X509 *x, EVP_PKEY *key)
{
    BIO *bio = BIO_new(x ? BIO_s_mem() : BIO_s_secmem());
    int ok = bio && (x ? PEM_write_bio_X509(bio, x)
                       : PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL,
                                                  NULL));
    char *data = NULL, *out = NULL;
    long len = ok ? BIO_get_mem_data(bio, &data) : 0;
    if (len > 0 && (out = malloc((size_t)len + 1))) {
        memcpy(out, data, (size_t)len);
        out[len] = '\0';
    }
    BIO_free(bio);
    return out;
}

int fg_certs_issue_client(const char *state_dir, const char *user,
                          const char *const *groups, size_t n_groups,
                          long ttl_seconds, time_t now, char **cert_pem,
                          char **key_pem, struct fg_error *err)
{
    *cert_pem = *key_pem = NULL;
    if (!user || !*user || ttl_seconds <= 0)
        return fg_error_set(err, "a client certificate needs a user and a "
                                 "positive lifetime");
    char *crt_path = fg_path_join(state_dir, "ca.crt");
    char *key_path = fg_path_join(state_dir, "ca.key");
    X509 *ca = crt_path ? read_cert(crt_path, err) : NULL;
    EVP_PKEY *ca_key =
        ca && key_path ? read_key(key_path, false, NULL, err) : NULL;
    EVP_PKEY *key = NULL;
    X509 *x = NULL;
    int rc = -1;
    if (!crt_path || !key_path) {
        fg_error_set(err, "out of memory");
    } else if (ca_key && X509_check_private_key(ca, ca_key) != 1) {
        fg_error_set(err, "%s does not match %s", key_path, crt_path);
    } else if (ca_key) {
        key = EVP_EC_gen("P-256");
        x = key ? new_cert(key, user, now, ttl_seconds, X509_get0_notAfter(ca))
                : NULL;
        /* X's subject is its own copy: the O entries go there. */
        X509_NAME *subject = x ? X509_get_subject_name(x) : NULL;
        bool ok = subject != NULL;
        for (size_t i = 0; ok && i < n_groups; i++)
            ok = X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_UTF8,
                                            (const unsigned char *)groups[i],
                                            -1, -1, 0);
        ok = ok && set_leaf(x, ca, "clientAuth") &&
             X509_sign(x, ca_key, EVP_sha256()) > 0 &&
             (*cert_pem = pem_text(x, NULL)) &&
             (*key_pem = pem_text(NULL, key));
        if (ok)
            rc = 0;
        else
            ssl_fail(err, "cannot issue a client certificate with", crt_path);
    }
    if (rc != 0) {
        free(*cert_pem);
        *cert_pem = NULL;
    }
    X509_free(x);
    EVP_PKEY_free(key);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    free(crt_path);
    free(key_path);
    return rc;
}
