/* Placement (placement.h). A clusterSelector becomes a label selector
 * text for the SDK's parser, so it matches exactly as ?labelSelector=
 * does; keys and values are checked first, so that no value can add a
 * term of its own. */
#include "placement.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <fedgate/util.h>

#define MAX_SELECTOR 4096

/* A label key or value as Kubernetes allows them (prefix/name, 63-char
 * segments; the length limits are the API server's to enforce). */
static int label_text_ok(const char *s, int key)
{
    size_t n = strlen(s);
    if (key && n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
              (key && c == '/')))
            return 0;
    }
    return n <= 316;
}

/* Appends the term A B C D (a comma before it but the first) to BUF. */
static int append(char *buf, size_t *at, const char *a, const char *b,
                  const char *c, const char *d)
{
    int n = snprintf(buf + *at, MAX_SELECTOR - *at, "%s%s%s%s%s",
                     *at ? "," : "", a, b, c, d);
    if (n < 0 || (size_t)n >= MAX_SELECTOR - *at)
        return -1;
    *at += (size_t)n;
    return 0;
}

/* SEL as label selector text into BUF (MAX_SELECTOR). 0, or -1 with ERR. */
static int selector_text(const cJSON *sel, char *buf, char *err, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    const cJSON *l;
    cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(sel, "matchLabels"))
    {
        if (!cJSON_IsString(l) || !label_text_ok(l->string, 1) ||
            !label_text_ok(l->valuestring, 0) ||
            append(buf, &at, l->string, "=", l->valuestring, "") < 0) {
            snprintf(err, len, "clusterSelector.matchLabels: invalid label");
            return -1;
        }
    }
    const cJSON *e;
    cJSON_ArrayForEach(
        e, cJSON_GetObjectItemCaseSensitive(sel, "matchExpressions"))
    {
        const cJSON *key = cJSON_GetObjectItemCaseSensitive(e, "key");
        const cJSON *op = cJSON_GetObjectItemCaseSensitive(e, "operator");
        const cJSON *values = cJSON_GetObjectItemCaseSensitive(e, "values");
        const char *o = cJSON_IsString(op) ? op->valuestring : "";
        if (!cJSON_IsString(key) || !label_text_ok(key->valuestring, 1)) {
            snprintf(err, len, "clusterSelector.matchExpressions: invalid key");
            return -1;
        }
        int set = strcmp(o, "In") == 0 || strcmp(o, "NotIn") == 0;
        if (!set && strcmp(o, "Exists") != 0 && strcmp(o, "DoesNotExist")) {
            snprintf(err, len,
                     "clusterSelector.matchExpressions: operator \"%.40s\" is "
                     "not In, NotIn, Exists or DoesNotExist",
                     o);
            return -1;
        }
        char list[MAX_SELECTOR] = "";
        size_t ln = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, values)
        {
            if (!cJSON_IsString(v) || !label_text_ok(v->valuestring, 0) ||
                !*v->valuestring) {
                snprintf(err, len,
                         "clusterSelector.matchExpressions: invalid value");
                return -1;
            }
            int n = snprintf(list + ln, sizeof(list) - ln, "%s%s",
                             ln ? "," : "", v->valuestring);
            if (n < 0 || (size_t)n >= sizeof(list) - ln) {
                snprintf(err, len, "clusterSelector: too long");
                return -1;
            }
            ln += (size_t)n;
        }
        if (set && !ln) {
            snprintf(err, len,
                     "clusterSelector.matchExpressions: %s needs values", o);
            return -1;
        }
        const char *k = key->valuestring;
        int rc = strcmp(o, "In") == 0 ? append(buf, &at, k, " in (", list, ")")
                 : strcmp(o, "NotIn") == 0
                     ? append(buf, &at, k, " notin (", list, ")")
                 : strcmp(o, "Exists") == 0 ? append(buf, &at, k, "", "", "")
                                            : append(buf, &at, "!", k, "", "");
        if (rc < 0) {
            snprintf(err, len, "clusterSelector: too long");
            return -1;
        }
    }
    return 0;
}

int fed_placement(const cJSON *fed, const cJSON *members,
                  int (*add)(void *arg, const char *name), void *arg, char *err,
                  size_t err_len)
{
    const cJSON *p = fg_json_path(fed, "spec.placement");
    const cJSON *clusters = cJSON_GetObjectItemCaseSensitive(p, "clusters");
    const cJSON *sel = cJSON_GetObjectItemCaseSensitive(p, "clusterSelector");
    const cJSON *c;
    int rc;
    if (cJSON_IsArray(clusters) || !cJSON_IsObject(sel)) {
        cJSON_ArrayForEach(c, clusters)
        {
            const cJSON *n = cJSON_GetObjectItemCaseSensitive(c, "name");
            if (cJSON_IsString(n) && (rc = add(arg, n->valuestring)) < 0)
                return rc;
        }
        return 0;
    }
    char text[MAX_SELECTOR];
    struct fg_selector *s = NULL;
    if (selector_text(sel, text, err, err_len) < 0)
        return -1;
    if (fg_selector_parse(text, 0, &s) != 0) {
        snprintf(err, err_len, "clusterSelector: cannot be read");
        return -1;
    }
    rc = 0;
    cJSON_ArrayForEach(c, members)
    {
        cJSON *subject = cJSON_CreateObject();
        cJSON *meta = cJSON_AddObjectToObject(subject, "metadata");
        cJSON_AddItemToObject(
            meta, "labels",
            cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(c, "labels"), 1));
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(c, "name");
        int match = fg_selector_match(s, subject);
        cJSON_Delete(subject);
        if (match && cJSON_IsString(n) && (rc = add(arg, n->valuestring)) < 0)
            break;
    }
    fg_selector_free(s);
    return rc < 0 ? rc : 0;
}
