/* authn_x509's check of a client certificate and the identity it names,
 * apart from the plugin so that tests reach it. */
#ifndef FG_AUTHN_X509_IDENTITY_H
#define FG_AUTHN_X509_IDENTITY_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

/* The user a certificate names, malloc'd. */
struct fg_x509_user {
    char *name;
    char **groups; /* the O values, then system:authenticated */
    size_t n_groups;
};

/* Reads the CA certificates (PEM) of PATH into a new store. Returns NULL
 * with a reason in ERR. */
X509_STORE *fg_x509_store_load(const char *path, char *err, size_t err_len);

/* Verifies DER (LEN bytes) against STORE for TLS client use at NOW
 * (0: the current time). Returns 1 with *OUT set, 0 when the certificate
 * names no user (empty CN: not ours to judge), or -1 with a reason in
 * ERR. */
int fg_x509_identify(X509_STORE *store, const unsigned char *der, size_t len,
                     time_t now, struct fg_x509_user *out, char *err,
                     size_t err_len);

void fg_x509_user_free(struct fg_x509_user *u);

#endif
