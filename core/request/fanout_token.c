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

/* A kind or an apiVersion: 1 to 63 of [A-Za-z0-9./-]. */
static int type_word_ok(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n < 64 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789./-") == n;
}

char *fg_fanout_token_encode(const struct fg_fanout_cursor *c,
                             struct fg_error *err)
{
    if (!fg_is_dns1123_label(c->cluster, strlen(c->cluster)) ||
        !member_token_ok(c->token) || !type_word_ok(c->kind) ||
        !type_word_ok(c->api_version)) {
        fg_error_set(err,
                     "the member cluster \"%.63s\" answered a list the "
                     "gateway cannot page (its continue token, kind or "
                     "apiVersion)",
                     c->cluster);
        return NULL;
    }
    cJSON *o = cJSON_CreateObject();
    char *json = NULL, *out = NULL;
    if (o && cJSON_AddNumberToObject(o, "v", 1) &&
        cJSON_AddStringToObject(o, "cluster", c->cluster) &&
        cJSON_AddStringToObject(o, "continue", c->token) &&
        cJSON_AddStringToObject(o, "kind", c->kind) &&
        cJSON_AddStringToObject(o, "apiVersion", c->api_version))
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
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "kind");
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "apiVersion");
    int ok = cJSON_IsObject(o) && cJSON_GetArraySize(o) == 5 &&
             cJSON_IsNumber(v) && v->valuedouble == 1 && cJSON_IsString(c) &&
             fg_is_dns1123_label(c->valuestring, strlen(c->valuestring)) &&
             cJSON_IsString(t) && member_token_ok(t->valuestring) &&
             cJSON_IsString(k) && type_word_ok(k->valuestring) &&
             cJSON_IsString(a) && type_word_ok(a->valuestring);
    if (ok) {
        strcpy(out->cluster, c->valuestring);
        strcpy(out->kind, k->valuestring);
        strcpy(out->api_version, a->valuestring);
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
