/* Reading what a request asks for beyond its path: query parameters
 * (percent-decoded, as kube-apiserver reads them) and the Accept header's
 * meta.k8s.io Table media types that kubectl sends for `get`. */
#include <string.h>

#include "mock.h"

int mock_parse_bool(const char *s)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < 6; i++) {
        if (strcmp(s, yes[i]) == 0)
            return 1;
        if (strcmp(s, no[i]) == 0)
            return 0;
    }
    return -1;
}

enum mock_table_version mock_accept_table(const char *accept, size_t len)
{
    static const char *const versions[] = {"v1", "v1beta1", NULL};
    return (enum mock_table_version)fg_accept_find(accept, len, "Table",
                                                   "meta.k8s.io", versions);
}
