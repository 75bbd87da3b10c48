/* Label and field selectors for lists (util.h): parsed once per request
 * into terms, then matched against each object. Field terms read any
 * dotted path of the object (kube-apiserver accepts only some paths per
 * kind; callers that serve one kind check the paths themselves). Used by
 * the mock and by the host's own API (clusters). */
#include <fedgate/util.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* what ends a word of a label selector */
#define SPECIAL " \t!=()<>,"

enum op { OP_EQ, OP_NE, OP_IN, OP_NOTIN, OP_EXISTS, OP_NOTEXISTS };

struct term {
    enum op op;
    char *key;
    char **values;
    size_t n_values;
};

struct fg_selector {
    int field;
    struct term *terms;
    size_t n;
};

void fg_selector_free(struct fg_selector *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->terms[i].key);
        for (size_t j = 0; j < s->terms[i].n_values; j++)
            free(s->terms[i].values[j]);
        free(s->terms[i].values);
    }
    free(s->terms);
    free(s);
}

static char *trimmed(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    return strndup(p, (size_t)(e - p));
}

static int add_value(struct term *t, const char *p, const char *e)
{
    char **v = realloc(t->values, (t->n_values + 1) * sizeof(*v));
    if (!v)
        return -1;
    t->values = v;
    v[t->n_values] = trimmed(p, e);
    return v[t->n_values++] ? 0 : -1;
}

/* Parses the term [P, E) into T. Returns 0, -1 (syntax) or -2 (memory). */
static int parse_term(const char *p, const char *e, int field, struct term *t)
{
    memset(t, 0, sizeof(*t));
    while (p < e && *p == ' ')
        p++;
    if (p == e)
        return -1;
    const char *paren = memchr(p, '(', (size_t)(e - p));
    if (!field && paren) {
        const char *sp = memchr(p, ' ', (size_t)(paren - p));
        if (!sp || e[-1] != ')')
            return -1;
        char *word = trimmed(sp, paren);
        if (!word)
            return -2;
        int in = strcmp(word, "in") == 0, notin = strcmp(word, "notin") == 0;
        free(word);
        if (!in && !notin)
            return -1;
        t->op = in ? OP_IN : OP_NOTIN;
        if (!(t->key = trimmed(p, sp)))
            return -2;
        const char *v = paren + 1, *end = e - 1;
        while (v <= end) {
            const char *c = memchr(v, ',', (size_t)(end - v));
            if (add_value(t, v, c ? c : end) != 0)
                return -2;
            v = c ? c + 1 : end + 1;
        }
        return *t->key ? 0 : -1;
    }
    const char *ne = strstr(p, "!=");
    const char *eq = memchr(p, '=', (size_t)(e - p));
    if (ne && ne < e) {
        t->op = OP_NE;
        t->key = trimmed(p, ne);
        if (!t->key || add_value(t, ne + 2, e) != 0)
            return -2;
    } else if (eq) {
        t->op = OP_EQ;
        const char *v = eq + 1 < e && eq[1] == '=' ? eq + 2 : eq + 1;
        t->key = trimmed(p, eq);
        if (!t->key || add_value(t, v, e) != 0)
            return -2;
    } else if (field) {
        return -1;
    } else if (*p == '!') {
        t->op = OP_NOTEXISTS;
        if (!(t->key = trimmed(p + 1, e)))
            return -2;
    } else {
        t->op = OP_EXISTS;
        if (!(t->key = trimmed(p, e)))
            return -2;
    }
    if (!*t->key || strpbrk(t->key, SPECIAL))
        return -1;
    /* one word each, as kube's lexer reads a selector: "a===b" and
     * "a in (b c)" are refused, not read as a value "=b" or "b c" */
    for (size_t i = 0; i < t->n_values; i++)
        if (strpbrk(t->values[i], field ? "" : SPECIAL))
            return -1;
    return 0;
}

int fg_selector_parse(const char *text, int field, struct fg_selector **out)
{
    *out = NULL;
    struct fg_selector *s = calloc(1, sizeof(*s));
    if (!s)
        return -2;
    s->field = field;
    const char *p = text;
    int rc = 0;
    while (*p && rc == 0) {
        /* Terms end at a comma outside parentheses. */
        const char *e = p;
        int depth = 0;
        while (*e && (depth || *e != ',')) {
            depth += *e == '(' ? 1 : *e == ')' ? -1 : 0;
            e++;
        }
        struct term *v = realloc(s->terms, (s->n + 1) * sizeof(*v));
        if (!v) {
            rc = -2;
            break;
        }
        s->terms = v;
        rc = parse_term(p, e, field, &s->terms[s->n]);
        s->n++;
        p = *e ? e + 1 : e;
        if (*e && !*p)
            rc = -1;
    }
    if (rc != 0) {
        fg_selector_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

static const char *label_of(void *ctx, const char *key)
{
    const cJSON *labels = fg_json_path(ctx, "metadata.labels");
    const cJSON *v = cJSON_IsObject(labels)
                         ? cJSON_GetObjectItemCaseSensitive(labels, key)
                         : NULL;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *fg_json_text(const cJSON *v, char *buf, size_t len)
{
    if (cJSON_IsString(v))
        return v->valuestring;
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v) ? "true" : "false";
    if (cJSON_IsNumber(v)) {
        snprintf(buf, len, "%lld", (long long)v->valuedouble);
        return buf;
    }
    return "";
}

static const char *field_of(void *ctx, const char *path, char *buf, size_t len)
{
    return fg_json_text(fg_json_path(ctx, path), buf, len);
}

int fg_selector_match_subject(const struct fg_selector *s,
                              const struct fg_selector_subject *o)
{
    if (!s)
        return 1;
    for (size_t i = 0; i < s->n; i++) {
        const struct term *t = &s->terms[i];
        char buf[32];
        const char *v;
        if (!s->field)
            v = o->label(o->ctx, t->key);
        else if (!(v = o->field(o->ctx, t->key, buf, sizeof(buf))))
            return -1;
        int in = 0;
        for (size_t j = 0; v && j < t->n_values; j++)
            in |= strcmp(v, t->values[j]) == 0;
        switch (t->op) {
        case OP_EQ:
        case OP_IN:
            if (!in)
                return 0;
            break;
        case OP_NE:
        case OP_NOTIN:
            if (in)
                return 0;
            break;
        case OP_EXISTS:
            if (!v)
                return 0;
            break;
        case OP_NOTEXISTS:
            if (v)
                return 0;
            break;
        }
    }
    return 1;
}

int fg_selector_match(const struct fg_selector *s, const cJSON *obj)
{
    const struct fg_selector_subject o = {label_of, field_of, (void *)obj};
    return fg_selector_match_subject(s, &o);
}
