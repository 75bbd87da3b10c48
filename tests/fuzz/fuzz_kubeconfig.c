/* libFuzzer target for the kubeconfig reader (core/config/
 * kubeconfig_read.c) that fedgate-agent runs on --kubeconfig. What it
 * accepts holds what the reader promises (an https server, a CA, a
 * credential, a token a header can carry, a certificate with its key);
 * what it refuses says why, naming the file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/kubeconfig_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fg_kubeconfig_target t;
    struct fg_error err = {""};
    if (fg_kubeconfig_read((const char *)data, size, "fuzz/kubeconfig", &t,
                           &err) != 0) {
        if (strncmp(err.msg, "fuzz/kubeconfig", 15) != 0)
            abort();
        return 0;
    }
    if (!t.server || strncmp(t.server, "https://", 8) != 0 || !t.server[8])
        abort();
    if (!t.ca_file && !t.ca_pem)
        abort();
    if (!(t.cert_file || t.cert_pem) != !(t.key_file || t.key_pem))
        abort();
    if (!t.token && !t.token_file && !t.cert_file && !t.cert_pem)
        abort();
    for (const char *p = t.token; p && *p; p++)
        if (*p < '!' || *p > '~')
            abort();
    if (t.token_file && strncmp(t.token_file, "fuzz/", 5) != 0 &&
        t.token_file[0] != '/')
        abort();
    fg_kubeconfig_target_free(&t);
    return 0;
}
