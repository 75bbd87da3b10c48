/* Label and field selectors for lists (?labelSelector=, ?fieldSelector=):
 * parsed once per request into terms, then matched against each object.
 * Label terms: k=v, k==v, k!=v, k, !k, k in (a,b), k notin (a,b). Field
 * terms: path=v, path==v, path!=v over any dotted path of the object
 * (kube-apiserver accepts only some paths per kind; the mock is lenient). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

enum op { OP_EQ, OP_NE, OP_IN, OP_NOTIN, OP_EXISTS, OP_NOTEXISTS };

struct term {
    enum op op;
    char *key;
    char **values;
    size_t n_values;
};

struct mock_selector {
    int field;
    struct term *terms;
    size_t n;
};

void mock_selector_free(struct mock_selector *s)
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
    if (!*t->key || strpbrk(t->key, " !=(),"))
        return -1;
    return 0;
}

int mock_selector_parse(const char *text, int field, struct mock_selector **out)
{
    *out = NULL;
    struct mock_selector *s = calloc(1, sizeof(*s));
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
        mock_selector_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

static const char *label_of(const cJSON *obj, const char *key)
{
    const cJSON *labels = mock_json_path(obj, "metadata.labels");
    const cJSON *v = cJSON_IsObject(labels)
                         ? cJSON_GetObjectItemCaseSensitive(labels, key)
                         : NULL;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *field_of(const cJSON *obj, const char *path, char *buf,
                            size_t len)
{
    const cJSON *v = mock_json_path(obj, path);
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

/* A stored object as selectors read it: its doc's index, and the parsed
 * object only once a field path outside the index asks for it. */
struct subject {
    const cJSON *obj;
    const struct mock_doc *doc;
    cJSON *parsed;
};

static const char *doc_field(struct subject *o, const char *path, char *buf,
                             size_t len)
{
    if (strcmp(path, "metadata.name") == 0)
        return o->doc->name;
    if (strcmp(path, "metadata.namespace") == 0)
        return o->doc->ns;
    if (!o->parsed && !(o->parsed = mock_doc_parse(o->doc)))
        return NULL;
    return field_of(o->parsed, path, buf, len);
}

/* 1 when O matches S, 0 when not, -1 when out of memory. */
static int match(const struct mock_selector *s, struct subject *o)
{
    if (!s)
        return 1;
    for (size_t i = 0; i < s->n; i++) {
        const struct term *t = &s->terms[i];
        char buf[32];
        const char *v;
        if (o->obj)
            v = s->field ? field_of(o->obj, t->key, buf, sizeof(buf))
                         : label_of(o->obj, t->key);
        else if (!s->field)
            v = mock_doc_label(o->doc, t->key);
        else if (!(v = doc_field(o, t->key, buf, sizeof(buf))))
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

int mock_selector_match(const struct mock_selector *s, const cJSON *obj)
{
    struct subject o = {.obj = obj};
    return match(s, &o);
}

int mock_selector_match_doc(const struct mock_selector *s,
                            const struct mock_doc *d)
{
    struct subject o = {.doc = d};
    int rc = match(s, &o);
    cJSON_Delete(o.parsed);
    return rc;
}

int mock_selectors_from_query(const char *q, struct mock_selector *sel[2],
                              char *msg, size_t msg_len)
{
    static const char *const keys[2] = {"labelSelector", "fieldSelector"};
    sel[0] = sel[1] = NULL;
    for (int f = 0; f < 2; f++) {
        char text[1024];
        int r = fg_query_get(q, keys[f], text, sizeof(text));
        int rc = r < 0 ? -1 : r > 0 ? mock_selector_parse(text, f, &sel[f]) : 0;
        if (rc == 0)
            continue;
        mock_selector_free(sel[0]);
        sel[0] = NULL;
        if (rc == -2)
            return -1;
        snprintf(msg, msg_len, "unable to parse requirement: invalid %s",
                 keys[f]);
        return 1;
    }
    return 0;
}
