/* fedgatectl's reading of the gateway's answers (tools/fedgatectl/
 * answers.c): a rules review and a NamespaceList from any bytes. */
#include <stddef.h>
#include <stdint.h>

#include "answers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char **names;
    fg_ctl_review_reaches((const char *)data, size);
    int n = fg_ctl_namespace_names((const char *)data, size, &names);
    if (n >= 0)
        fg_ctl_names_free(names, n);
    return 0;
}
