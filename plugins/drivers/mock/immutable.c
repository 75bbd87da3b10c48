/* Fields an update may not change, as kube-apiserver's validation refuses
 * them (pkg/apis/apps, batch and core validation): a workload's selector,
 * a Job's selector and pod template, a StatefulSet's spec beyond the few
 * fields it lets change, a Secret's type, and the contents of a ConfigMap
 * or Secret marked immutable (which stays so). Every such error of one
 * write is reported at once, in one 422 Invalid, as kube-apiserver does.
 * (A Service's cluster IP is clusterip.c's; a Secret's stringData is
 * folded into its data before.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

#define MAX_ERRORS 8
#define ERROR_TEXT 768

struct errors {
    struct fg_status_cause c[MAX_ERRORS];
    char field[MAX_ERRORS][64];
    char text[MAX_ERRORS][ERROR_TEXT]; /* "FIELD: BODY" */
    size_t n;
};

static void add(struct errors *e, const char *field, const char *reason,
                const char *body)
{
    if (e->n == MAX_ERRORS)
        return;
    size_t i = e->n++;
    snprintf(e->field[i], sizeof(e->field[i]), "%s", field);
    snprintf(e->text[i], sizeof(e->text[i]), "%s: %s", field, body);
    e->c[i].reason = reason;
    e->c[i].field = e->field[i];
    e->c[i].message = e->text[i] + strlen(e->field[i]) + 2;
}

/* An empty object or array counts as none, as an omitted field does. */
static const cJSON *nonempty(const cJSON *v)
{
    return v && !cJSON_IsNull(v) &&
                   (!(cJSON_IsObject(v) || cJSON_IsArray(v)) || v->child)
               ? v
               : NULL;
}

static int same(const cJSON *a, const cJSON *b)
{
    a = nonempty(a);
    b = nonempty(b);
    return (!a && !b) || (a && b && cJSON_Compare(a, b, 1));
}

static const cJSON *at(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* Go's %q of a plain string, as field errors print values. */
static void go_quote(char *out, size_t cap, size_t *n, const char *s)
{
    if (*n + 1 < cap)
        out[(*n)++] = '"';
    for (; *s && *n + 3 < cap; s++) {
        if (*s == '"' || *s == '\\')
            out[(*n)++] = '\\';
        out[(*n)++] = *s;
    }
    if (*n + 1 < cap)
        out[(*n)++] = '"';
    out[*n] = '\0';
}

static void put(char *out, size_t cap, size_t *n, const char *s)
{
    int w = snprintf(out + *n, cap - *n, "%s", s);
    if (w > 0)
        *n += (size_t)w < cap - *n ? (size_t)w : cap - *n - 1;
}

/* A label selector as kube-apiserver's field error prints it: Go's %#v of
 * the v1.LabelSelector, map keys sorted. */
static void selector_text(const cJSON *sel, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    const cJSON *ml = nonempty(at(sel, "matchLabels"));
    put(out, cap, &n, "v1.LabelSelector{MatchLabels:");
    if (!ml) {
        put(out, cap, &n, "map[string]string(nil)");
    } else {
        put(out, cap, &n, "map[string]string{");
        const char *last = NULL;
        for (int first = 1;; first = 0) {
            const cJSON *next = NULL, *e;
            cJSON_ArrayForEach(e, ml)
            {
                if ((!last || strcmp(e->string, last) > 0) &&
                    (!next || strcmp(e->string, next->string) < 0))
                    next = e;
            }
            if (!next)
                break;
            if (!first)
                put(out, cap, &n, ", ");
            go_quote(out, cap, &n, next->string);
            put(out, cap, &n, ":");
            go_quote(out, cap, &n,
                     cJSON_IsString(next) ? next->valuestring : "");
            last = next->string;
        }
        put(out, cap, &n, "}");
    }
    put(out, cap, &n, ", MatchExpressions:");
    const cJSON *me = nonempty(at(sel, "matchExpressions"));
    if (!me) {
        put(out, cap, &n, "[]v1.LabelSelectorRequirement(nil)}");
        return;
    }
    put(out, cap, &n, "[]v1.LabelSelectorRequirement{");
    const cJSON *r;
    cJSON_ArrayForEach(r, me)
    {
        if (r != me->child)
            put(out, cap, &n, ", ");
        put(out, cap, &n, "v1.LabelSelectorRequirement{Key:");
        go_quote(out, cap, &n, mock_json_str(r, "key", ""));
        put(out, cap, &n, ", Operator:");
        go_quote(out, cap, &n, mock_json_str(r, "operator", ""));
        put(out, cap, &n, ", Values:");
        const cJSON *vs = nonempty(at(r, "values")), *v;
        put(out, cap, &n, vs ? "[]string{" : "[]string(nil)");
        cJSON_ArrayForEach(v, vs)
        {
            if (v != vs->child)
                put(out, cap, &n, ", ");
            go_quote(out, cap, &n, cJSON_IsString(v) ? v->valuestring : "");
        }
        put(out, cap, &n, vs ? "}}" : "}");
    }
    put(out, cap, &n, "}}");
}

static void immutable_selector(struct errors *e, const cJSON *spec,
                               const cJSON *ospec)
{
    const cJSON *sel = at(spec, "selector");
    if (!sel || same(sel, at(ospec, "selector")))
        return; /* an omitted selector is another error than this one */
    char v[512], body[ERROR_TEXT];
    selector_text(sel, v, sizeof(v));
    snprintf(body, sizeof(body), "Invalid value: %s: field is immutable", v);
    add(e, "spec.selector", "FieldValueInvalid", body);
}

/* A pod template is too large for Go's %#v to be of use in a message:
 * its JSON is shown instead, cut at the error's length. */
static int immutable_template(struct errors *e, const cJSON *spec,
                              const cJSON *ospec)
{
    const cJSON *t = at(spec, "template");
    if (!t || same(t, at(ospec, "template")))
        return 0;
    char *json = cJSON_PrintUnformatted(t);
    if (!json)
        return -1;
    char body[ERROR_TEXT];
    snprintf(body, sizeof(body), "Invalid value: %.600s: field is immutable",
             json);
    free(json);
    add(e, "spec.template", "FieldValueInvalid", body);
    return 0;
}

/* kube-apiserver's ValidateStatefulSetUpdate: the spec may change only in
 * these fields. A field the update omits keeps its value (kube-apiserver
 * would default it back). */
static void statefulset_spec(struct errors *e, const cJSON *spec,
                             const cJSON *ospec)
{
    static const char *const mutable[] = {
        "replicas",        "ordinals",
        "template",        "updateStrategy",
        "minReadySeconds", "persistentVolumeClaimRetentionPolicy"};
    const cJSON *f;
    cJSON_ArrayForEach(f, spec)
    {
        size_t i = 0;
        while (i < sizeof(mutable) / sizeof(mutable[0]) &&
               strcmp(f->string, mutable[i]) != 0)
            i++;
        if (i == sizeof(mutable) / sizeof(mutable[0]) &&
            !same(f, at(ospec, f->string))) {
            add(e, "spec", "FieldValueForbidden",
                "Forbidden: updates to statefulset spec for fields other "
                "than 'replicas', 'ordinals', 'template', 'updateStrategy', "
                "'persistentVolumeClaimRetentionPolicy' and "
                "'minReadySeconds' are forbidden");
            return;
        }
    }
}

static void immutable_contents(struct errors *e, const cJSON *obj,
                               const cJSON *old)
{
    static const char forbidden[] =
        "Forbidden: field is immutable when `immutable` is set";
    if (!cJSON_IsTrue(at(old, "immutable")))
        return;
    if (!cJSON_IsTrue(at(obj, "immutable")))
        add(e, "immutable", "FieldValueForbidden", forbidden);
    if (!same(at(obj, "data"), at(old, "data")))
        add(e, "data", "FieldValueForbidden", forbidden);
    if (!same(at(obj, "binaryData"), at(old, "binaryData")))
        add(e, "binaryData", "FieldValueForbidden", forbidden);
}

static void secret_type(struct errors *e, const cJSON *obj, const cJSON *old)
{
    const char *t = mock_json_str(obj, "type", "Opaque");
    if (strcmp(t, mock_json_str(old, "type", "Opaque")) == 0)
        return;
    char body[ERROR_TEXT], q[300];
    size_t n = 0;
    go_quote(q, sizeof(q), &n, t);
    snprintf(body, sizeof(body), "Invalid value: %s: field is immutable", q);
    add(e, "type", "FieldValueInvalid", body);
}

static int answer(struct mock_write *w, const struct errors *e)
{
    char kind[96], msg[MAX_ERRORS * ERROR_TEXT + 400];
    if (w->k->group[0])
        snprintf(kind, sizeof(kind), "%s.%s", w->k->kind, w->k->group);
    else
        snprintf(kind, sizeof(kind), "%s", w->k->kind);
    size_t n = (size_t)snprintf(msg, sizeof(msg), "%s \"%s\" is invalid: %s",
                                kind, w->name, e->n > 1 ? "[" : "");
    for (size_t i = 0; i < e->n && n < sizeof(msg); i++)
        n += (size_t)snprintf(msg + n, sizeof(msg) - n, "%s%s", i ? ", " : "",
                              e->text[i]);
    if (e->n > 1 && n < sizeof(msg))
        snprintf(msg + n, sizeof(msg) - n, "]");
    struct fg_status st = {
        .code = 422,
        .message = msg,
        .reason = "Invalid",
        .name = w->name,
        .group = w->k->group,
        .kind = w->k->kind,
        .causes = e->c,
        .n_causes = e->n,
    };
    return mock_w_text(w, 422, fg_status_build(&st, NULL)) == 0 ? 1 : -1;
}

int mock_w_immutable(struct mock_write *w, const cJSON *obj, const cJSON *old)
{
    struct errors *e = calloc(1, sizeof(*e));
    if (!e)
        return -1;
    const struct mock_kind *k = w->k;
    const cJSON *spec = at(obj, "spec"), *ospec = at(old, "spec");
    int rc = 0;
    if (strcmp(k->group, "apps") == 0) {
        if (strcmp(k->resource, "statefulsets") == 0)
            statefulset_spec(e, spec, ospec);
        else
            immutable_selector(e, spec, ospec);
    } else if (strcmp(k->group, "batch") == 0 &&
               strcmp(k->resource, "jobs") == 0) {
        immutable_selector(e, spec, ospec);
        rc = immutable_template(e, spec, ospec);
    } else if (!k->group[0] && strcmp(k->resource, "configmaps") == 0) {
        immutable_contents(e, obj, old);
    } else if (!k->group[0] && strcmp(k->resource, "secrets") == 0) {
        secret_type(e, obj, old);
        immutable_contents(e, obj, old);
    }
    if (rc == 0 && e->n)
        rc = answer(w, e);
    free(e);
    return rc;
}
