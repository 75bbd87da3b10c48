/* libFuzzer target for the continue tokens of cross-cluster lists
 * (core/request/fanout_token.c), which clients send back. A token either
 * is refused with a message or names a DNS-1123 member and a visible-ASCII
 * member token of bounded length, and encoding those again gives a token
 * that decodes to the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "request/fanout_token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fg_fanout_cursor c, again;
    struct fg_error err = {{0}};
    if (fg_fanout_token_decode((const char *)data, size, &c, &err) != 0) {
        if (!err.msg[0] || c.token)
            abort();
        return 0;
    }
    if (!fg_is_dns1123_label(c.cluster, strlen(c.cluster)) || !c.token ||
        strlen(c.token) > FG_FANOUT_MEMBER_TOKEN_MAX)
        abort();
    for (const char *p = c.token; *p; p++)
        if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
            abort();
    char *token = fg_fanout_token_encode(&c, &err);
    if (!token || fg_fanout_token_decode(token, strlen(token), &again, &err) ||
        strcmp(again.cluster, c.cluster) != 0 ||
        strcmp(again.token, c.token) != 0 || strcmp(again.kind, c.kind) != 0 ||
        strcmp(again.api_version, c.api_version) != 0)
        abort();
    free(token);
    fg_fanout_cursor_free(&again);
    fg_fanout_cursor_free(&c);
    return 0;
}
