/* When the client certificate a direct member is reached with expires:
 * read at start and on each reload, shown in the member's health so the
 * host's Cluster object warns a week before (KubeConfigCertExpiresIn-
 * SevenDays, as KubeSphere warns of a kubeconfig's certificate). */
#include <stdio.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "direct.h"

int64_t direct_cert_not_after(const char *path)
{
    FILE *f = path ? fopen(path, "re") : NULL;
    if (!f)
        return 0;
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    struct tm tm;
    int64_t at = 0;
    if (x && ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
        at = (int64_t)timegm(&tm);
    X509_free(x);
    return at;
}
