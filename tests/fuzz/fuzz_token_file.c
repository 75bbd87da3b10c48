/* libFuzzer target for the authn_token plugin's token file
 * (plugins/policy/authn_token/token_file.c): any bytes either parse into
 * a table whose every identity has a user and the group
 * system:authenticated (last, unless the record named it among its groups:
 * groups are kept once, as kube-apiserver's group adder does), or are
 * refused with a message naming the line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "token_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512] = "";
    struct token_table *t = token_table_parse((const char *)data, size, "f",
                                              NULL, NULL, err, sizeof(err));
    if (!t) {
        if (strncmp(err, "f:", 2) != 0 && strcmp(err, "out of memory") != 0)
            abort();
        return 0;
    }
    /* the first field of the input, as a token that may be in the table */
    size_t n = 0;
    while (n < size && data[n] != ',' && data[n] != '\n')
        n++;
    const struct fg_identity *id = token_table_lookup(t, (const char *)data, n);
    if (!id)
        goto out;
    int authenticated = 0;
    for (size_t i = 0; i < id->n_groups; i++)
        authenticated |= !strcmp(id->groups[i], "system:authenticated");
    if (!*id->user || !authenticated)
        abort();
out:
    token_table_free(t);
    return 0;
}
