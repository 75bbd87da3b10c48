/* Client certificates as kube-apiserver's x509 authenticator reads them:
 * verified against the configured CA for TLS client use (purpose
 * sslclient, validity at the current time), the subject's common name is
 * the user and each organization, in order, a group. A certificate
 * without a common name names nobody. */
#include "x509_identity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#define AUTHENTICATED "system:authenticated"

X509_STORE *fg_x509_store_load(const char *path, char *err, size_t err_len)
{
    X509_STORE *store = X509_STORE_new();
    int ok = store && X509_STORE_load_file(store, path) == 1;
    if (ok) {
        STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(store);
        ok = objs && sk_X509_OBJECT_num(objs) > 0;
    }
    ERR_clear_error();
    if (!ok) {
        snprintf(err, err_len, "%s: holds no PEM certificate", path);
        X509_STORE_free(store);
        return NULL;
    }
    return store;
}

/* ENTRY's value as a malloc'd UTF-8 string, or NULL (also when it holds
 * a NUL, which would cut the name short). */
static char *entry_text(const X509_NAME_ENTRY *entry)
{
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
    char *s = NULL;
    if (n >= 0 && memchr(utf8, '\0', (size_t)n) == NULL)
        s = strndup((const char *)utf8, (size_t)n);
    OPENSSL_free(utf8);
    return s;
}

static int names(X509 *cert, struct fg_x509_user *out, char *err,
                 size_t err_len)
{
    const X509_NAME *subject = X509_get_subject_name(cert);
    int n = X509_NAME_entry_count(subject);
    out->groups = calloc((size_t)n + 1, sizeof(*out->groups));
    if (!out->groups) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        const X509_NAME_ENTRY *e = X509_NAME_get_entry(subject, i);
        int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
        if (nid != NID_commonName && nid != NID_organizationName)
            continue;
        char *text = entry_text(e);
        if (!text) {
            snprintf(err, err_len, "x509: a subject name is not text");
            return -1;
        }
        if (nid == NID_organizationName) {
            out->groups[out->n_groups++] = text;
        } else if (out->name) {
            free(text);
            snprintf(err, err_len, "x509: the subject has two common names");
            return -1;
        } else {
            out->name = text;
        }
    }
    if (!(out->groups[out->n_groups] = strdup(AUTHENTICATED))) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    out->n_groups++;
    return out->name && out->name[0] ? 1 : 0;
}

int fg_x509_identify(X509_STORE *store, const unsigned char *der, size_t len,
                     time_t now, struct fg_x509_user *out, char *err,
                     size_t err_len)
{
    memset(out, 0, sizeof(*out));
    const unsigned char *p = der;
    X509 *cert = len <= 65536 ? d2i_X509(NULL, &p, (long)len) : NULL;
    X509_STORE_CTX *ctx = cert ? X509_STORE_CTX_new() : NULL;
    int rc = -1;
    if (!cert || p != der + len) {
        snprintf(err, err_len, "x509: the client certificate is not DER");
    } else if (!ctx || X509_STORE_CTX_init(ctx, store, cert, NULL) != 1 ||
               X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT) != 1) {
        snprintf(err, err_len, "out of memory");
    } else {
        if (now)
            X509_STORE_CTX_set_time(ctx, 0, now);
        if (X509_verify_cert(ctx) != 1)
            snprintf(
                err, err_len, "x509: %s",
                X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
        else
            rc = names(cert, out, err, err_len);
    }
    X509_STORE_CTX_free(ctx);
    X509_free(cert);
    ERR_clear_error();
    if (rc != 1)
        fg_x509_user_free(out);
    return rc;
}

void fg_x509_user_free(struct fg_x509_user *u)
{
    free(u->name);
    for (size_t i = 0; u->groups && i < u->n_groups; i++)
        free(u->groups[i]);
    free(u->groups);
    memset(u, 0, sizeof(*u));
}
