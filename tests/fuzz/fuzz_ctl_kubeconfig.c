/* libFuzzer target for fedgatectl's kubeconfig reader (tools/fedgatectl/
 * kubeconfig_read.c): any text either reads, with a server that is an
 * https:// root and a CA and a credential, or is refused with a reason. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kubeconfig_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fg_ctl_kubeconfig kc;
    char err[512];
    err[0] = '\0';
    if (fg_ctl_kubeconfig_read((const char *)data, size, "/k/config", NULL, &kc,
                               err, sizeof(err)) != 0) {
        if (!err[0])
            abort();
        return 0;
    }
    if (!kc.server || strncmp(kc.server, "https://", 8) != 0 ||
        strchr(kc.server + 8, '/') || (!kc.ca_pem && !kc.ca_file) ||
        (!kc.token && !kc.cert_pem && !kc.cert_file) || !kc.context)
        abort();
    fg_ctl_kubeconfig_free(&kc);
    return 0;
}
