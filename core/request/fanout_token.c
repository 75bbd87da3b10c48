/* Continue tokens of cross-cluster lists (see fanout_token.h). */
#include "request/fanout_token.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <fedgate/util.h>

#include "config/config.h"

/* {"v":1,...} is two levels deep at most: one to spare. */
#define TOKEN_MAX_DEPTH 3

static int visible_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
            return 0;
    return 1;
}

static int member_token_ok(const char *t)
{
    return strlen(t) <= FG_FANOUT_MEMBER_TOKEN_MAX && visible_ascii(t);
}

char *fg_fanout_token_encode(const char *cluster, const char *member_token,
                             struct fg_error *err)
{
    if (!fg_is_dns1123_label(cluster, strlen(cluster)) ||
        !member_token_ok(member_token)) {
        fg_error_set(err,
                     "the member cluster \"%.63s\" answered a continue "
                     "token the gateway cannot carry",
                     cluster);
        return NULL;
    }
    cJSON *o = cJSON_CreateObject();
    char *json = NULL, *out = NULL;
    if (o && cJSON_AddNumberToObject(o, "v", 1) &&
        cJSON_AddStringToObject(o, "cluster", cluster) &&
        cJSON_AddStringToObject(o, "continue", member_token))
        json = cJSON_PrintUnformatted(o);
    if (json)
        out = fg_base64_encode_alloc(json, strlen(json),
                                     FG_BASE64_URL | FG_BASE64_NOPAD);
    cJSON_Delete(o);
    free(json);
    if (!out)
        fg_error_set(err, "out of memory");
    return out;
}

static int bad(struct fg_error *err, const char *why)
{
    return fg_error_set(err, "invalid continue token: %s", why);
}

int fg_fanout_token_decode(const char *token, size_t len,
                           struct fg_fanout_cursor *out, struct fg_error *err)
{
    memset(out, 0, sizeof(*out));
    if (len == 0 || len > FG_FANOUT_TOKEN_MAX)
        return bad(err, "empty or too long");
    char *json = malloc(FG_BASE64_DECODED_MAX(len) + 1);
    if (!json)
        return fg_error_set(err, "out of memory");
    long n = fg_base64_decode(json, FG_BASE64_DECODED_MAX(len), token, len,
                              FG_BASE64_URL | FG_BASE64_NOPAD);
    if (n < 0) {
        free(json);
        return bad(err, "not base64url");
    }
    json[n] = '\0';
    if ((size_t)n != strlen(json) ||
        fg_json_depth(json, (size_t)n, TOKEN_MAX_DEPTH) > TOKEN_MAX_DEPTH) {
        free(json);
        return bad(err, "not a token of this gateway");
    }
    cJSON *o = cJSON_ParseWithOpts(json, NULL, 1); /* nothing after it */
    free(json);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "v");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "cluster");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "continue");
    int ok = cJSON_IsObject(o) && cJSON_GetArraySize(o) == 3 &&
             cJSON_IsNumber(v) && v->valuedouble == 1 && cJSON_IsString(c) &&
             fg_is_dns1123_label(c->valuestring, strlen(c->valuestring)) &&
             cJSON_IsString(t) && member_token_ok(t->valuestring);
    if (ok) {
        strcpy(out->cluster, c->valuestring);
        out->token = strdup(t->valuestring);
    }
    cJSON_Delete(o);
    if (!ok)
        return bad(err, "not a token of this gateway");
    if (!out->token)
        return fg_error_set(err, "out of memory");
    return 0;
}

void fg_fanout_cursor_free(struct fg_fanout_cursor *c)
{
    free(c->token);
    c->token = NULL;
}
