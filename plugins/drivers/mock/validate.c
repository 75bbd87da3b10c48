/* Validation of what clients write: object names (RFC 1123 subdomains and
 * labels, RFC 1035 labels) and label maps, with the field errors worded the
 * way apimachinery's validation words them, because kubectl prints them
 * verbatim after "is invalid:". */
#include <stdio.h>
#include <string.h>

#include "mock.h"

#define SUBDOMAIN_MSG                                                          \
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "  \
    "characters, '-' or '.', and must start and end with an alphanumeric "     \
    "character (e.g. 'example.com', regex used for validation is "             \
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
#define LABEL_1123_MSG                                                         \
    "a lowercase RFC 1123 label must consist of lower case alphanumeric "      \
    "characters or '-', and must start and end with an alphanumeric "          \
    "character (e.g. 'my-name',  or '123-abc', regex used for validation is "  \
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
#define LABEL_1035_MSG                                                         \
    "a DNS-1035 label must consist of lower case alphanumeric characters or "  \
    "'-', start with an alphabetic character, and end with an alphanumeric "   \
    "character (e.g. 'my-name',  or 'abc-123', regex used for validation is "  \
    "'[a-z]([-a-z0-9]*[a-z0-9])?')"
#define LABEL_VALUE_MSG                                                        \
    "a valid label must be an empty string or consist of alphanumeric "        \
    "characters, '-', '_' or '.', and must start and end with an "             \
    "alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "    \
    "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?"             \
    "[A-Za-z0-9])?')"
#define QUALIFIED_NAME_MSG                                                     \
    "name part must consist of alphanumeric characters, '-', '_' or '.', "     \
    "and must start and end with an alphanumeric character (e.g. 'MyName',  "  \
    "or 'my.name',  or '123-abc', regex used for validation is "               \
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"

static int lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int alnum(char c)
{
    return lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static int is_label_1123(const char *s, size_t n)
{
    if (n == 0 || n > 63 || !lower_alnum(s[0]) || !lower_alnum(s[n - 1]))
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!lower_alnum(s[i]) && s[i] != '-')
            return 0;
    }
    return 1;
}

static int is_subdomain(const char *s, size_t n)
{
    if (n == 0 || n > 253)
        return 0;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            /* Each dot-separated part is a label, without the 63 limit. */
            size_t len = i - start;
            if (len == 0 || !lower_alnum(s[start]) || !lower_alnum(s[i - 1]))
                return 0;
            for (size_t j = start; j < i; j++) {
                if (!lower_alnum(s[j]) && s[j] != '-')
                    return 0;
            }
            start = i + 1;
        }
    }
    return 1;
}

enum mock_name_rule mock_name_rule_of(const struct mock_kind *k)
{
    if (strcmp(k->resource, "namespaces") == 0)
        return MOCK_NAME_LABEL;
    if (strcmp(k->resource, "services") == 0)
        return MOCK_NAME_DNS1035;
    return MOCK_NAME_SUBDOMAIN;
}

int mock_name_check(enum mock_name_rule rule, const char *name, char *msg,
                    size_t len)
{
    size_t n = strlen(name);
    switch (rule) {
    case MOCK_NAME_LABEL:
        if (n > 63) {
            snprintf(msg, len, "must be no more than 63 characters");
            return -1;
        }
        if (!is_label_1123(name, n)) {
            snprintf(msg, len, "%s", LABEL_1123_MSG);
            return -1;
        }
        return 0;
    case MOCK_NAME_DNS1035:
        if (n > 63) {
            snprintf(msg, len, "must be no more than 63 characters");
            return -1;
        }
        if (!is_label_1123(name, n) || !(name[0] >= 'a' && name[0] <= 'z')) {
            snprintf(msg, len, "%s", LABEL_1035_MSG);
            return -1;
        }
        return 0;
    case MOCK_NAME_SUBDOMAIN:
    default:
        if (n > 253) {
            snprintf(msg, len, "must be no more than 253 characters");
            return -1;
        }
        if (!is_subdomain(name, n)) {
            snprintf(msg, len, "%s", SUBDOMAIN_MSG);
            return -1;
        }
        return 0;
    }
}

static int label_value_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0)
        return 1;
    if (n > 63 || !alnum(s[0]) || !alnum(s[n - 1]))
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return 0;
    }
    return 1;
}

/* A qualified name "prefix/name" as label and annotation keys are. */
static int key_check(const char *key, char *msg, size_t len)
{
    const char *slash = strchr(key, '/');
    const char *name = slash ? slash + 1 : key;
    if (slash) {
        size_t plen = (size_t)(slash - key);
        if (plen == 0 || strchr(name, '/')) {
            snprintf(msg, len,
                     "a qualified name must consist of alphanumeric "
                     "characters, '-', '_' or '.', and must start and end "
                     "with an alphanumeric character with an optional DNS "
                     "subdomain prefix and '/'");
            return -1;
        }
        if (!is_subdomain(key, plen)) {
            snprintf(msg, len, "prefix part %s", SUBDOMAIN_MSG);
            return -1;
        }
    }
    size_t n = strlen(name);
    if (n == 0) {
        snprintf(msg, len, "name part must be non-empty");
        return -1;
    }
    if (n > 63) {
        snprintf(msg, len, "name part must be no more than 63 characters");
        return -1;
    }
    if (!label_value_ok(name)) {
        snprintf(msg, len, "%s", QUALIFIED_NAME_MSG);
        return -1;
    }
    return 0;
}

int mock_labels_check(const cJSON *meta, const char *field, char *msg,
                      size_t len)
{
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(meta, field);
    const cJSON *e;
    char why[640];
    cJSON_ArrayForEach(e, labels)
    {
        if (key_check(e->string, why, sizeof(why)) != 0) {
            snprintf(msg, len, "metadata.%s: Invalid value: \"%.200s\": %s",
                     field, e->string, why);
            return -1;
        }
        if (strcmp(field, "labels") == 0 && cJSON_IsString(e) &&
            !label_value_ok(e->valuestring)) {
            if (strlen(e->valuestring) > 63)
                snprintf(why, sizeof(why),
                         "must be no more than 63 characters");
            else
                snprintf(why, sizeof(why), "%s", LABEL_VALUE_MSG);
            snprintf(msg, len, "metadata.%s: Invalid value: \"%.200s\": %s",
                     field, e->valuestring, why);
            return -1;
        }
    }
    return 0;
}
