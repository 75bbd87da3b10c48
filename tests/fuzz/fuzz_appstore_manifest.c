/* Fuzz target for the app store's plain-manifest splitter (a template
 * file cut into YAML documents, each one checked for what object it is):
 * documents whose names are safe in a member's path, or a one-line reason
 * naming the file; Helm's manifest text of them reads back the same. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    struct appstore_manifest m = {0}, back = {0};
    err[0] = 0;
    if (appstore_manifest_split(&m, "c/templates/f.yaml", (const char *)data,
                                size, err, sizeof err) < 0) {
        if (strncmp(err, "c/templates/f.yaml", 18) != 0 || strchr(err, '\n'))
            abort();
        appstore_manifest_free(&m);
        return 0;
    }
    for (size_t i = 0; i < m.n; i++)
        if (strpbrk(m.v[i].name, "/%?#\r\n ") ||
            (m.v[i].ns && strpbrk(m.v[i].ns, "/%?#\r\n .")) ||
            strpbrk(m.v[i].kind, "/%?#\r\n ") ||
            strpbrk(m.v[i].api_version, "%?#\r\n "))
            abort();
    size_t len;
    char *text = appstore_manifest_text(&m, &len);
    if (!text)
        abort();
    if (appstore_manifest_read(&back, text, len, err, sizeof err) < 0 ||
        back.n != m.n)
        abort();
    for (size_t i = 0; i < back.n; i++)
        if (!appstore_manifest_has(&m, &back.v[i]))
            abort();
    free(text);
    appstore_manifest_free(&m);
    appstore_manifest_free(&back);
    return 0;
}
