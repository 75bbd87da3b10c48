/* Tests of review bodies (core/request/review_body.c): which requests are
 * reviews, and the attributes read from JSON and from protobuf bodies as
 * kubectl auth can-i sends them, and the bodies refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "request/review_body.h"

#define PB "application/vnd.kubernetes.protobuf"
#define SSAR_V1 "authorization.k8s.io/v1"

static void test_kind_of(void **state)
{
    (void)state;
    struct fg_request_info ri = {1,
                                 "create",
                                 "apis",
                                 "authorization.k8s.io",
                                 "v1",
                                 "",
                                 "selfsubjectaccessreviews",
                                 "",
                                 "",
                                 ""};
    assert_int_equal(fg_review_kind_of(&ri), FG_REVIEW_ACCESS);
    ri.resource = "selfsubjectrulesreviews";
    assert_int_equal(fg_review_kind_of(&ri), FG_REVIEW_RULES);
    ri.resource = "subjectaccessreviews"; /* not the caller's own: proxied */
    assert_int_equal(fg_review_kind_of(&ri), FG_REVIEW_NONE);
    ri.api_group = "authentication.k8s.io";
    ri.resource = "selfsubjectreviews";
    for (const char *const *v = (const char *const[]){"v1", "v1beta1", NULL};
         *v; v++) {
        ri.api_version = *v;
        assert_int_equal(fg_review_kind_of(&ri), FG_REVIEW_SELF);
    }
    ri.api_version = "v1alpha1";
    assert_int_equal(fg_review_kind_of(&ri), FG_REVIEW_NONE);
    ri.api_version = "v1";
    ri.verb = "list";
    assert_int_equal(fg_review_kind_of(&ri), FG_REVIEW_NONE);
    ri.verb = "create";
    ri.namespace_ = "ns";
    assert_int_equal(fg_review_kind_of(&ri), FG_REVIEW_NONE);
}

/* A protobuf writer for the bodies kubectl sends. */
struct pbw {
    unsigned char b[512];
    size_t n;
};

static void w_bytes(struct pbw *w, unsigned fn, const void *p, size_t n)
{
    assert_true(n < 128 && w->n + n + 2 <= sizeof(w->b));
    w->b[w->n++] = (unsigned char)(fn << 3 | 2);
    w->b[w->n++] = (unsigned char)n;
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

static void w_str(struct pbw *w, unsigned fn, const char *s)
{
    w_bytes(w, fn, s, strlen(s));
}

/* kubectl auth can-i update deployments.apps --subresource=scale -n ns1 */
static void can_i_body(struct pbw *out)
{
    struct pbw ra = {0}, spec = {0}, ssar = {0}, tm = {0}, unk = {0};
    w_str(&ra, 1, "ns1");
    w_str(&ra, 2, "update");
    w_str(&ra, 3, "apps");
    w_str(&ra, 5, "deployments");
    w_str(&ra, 6, "scale");
    w_bytes(&spec, 1, ra.b, ra.n);
    w_bytes(&ssar, 1, "", 0); /* metadata */
    w_bytes(&ssar, 2, spec.b, spec.n);
    w_str(&tm, 1, SSAR_V1);
    w_str(&tm, 2, "SelfSubjectAccessReview");
    w_bytes(&unk, 1, tm.b, tm.n);
    w_bytes(&unk, 2, ssar.b, ssar.n);
    memcpy(out->b, "k8s\0", 4);
    out->n = 4;
    memcpy(out->b + 4, unk.b, unk.n);
    out->n += unk.n;
}

static void test_protobuf_access(void **state)
{
    (void)state;
    struct pbw body;
    can_i_body(&body);
    struct fg_review r;
    char err[256];
    assert_int_equal(fg_review_read(FG_REVIEW_ACCESS, SSAR_V1, PB, body.b,
                                    body.n, &r, err, sizeof(err)),
                     0);
    const struct fg_request_info *a = &r.attributes;
    assert_true(a->is_resource);
    assert_string_equal(a->verb, "update");
    assert_string_equal(a->api_prefix, "apis");
    assert_string_equal(a->api_group, "apps");
    assert_string_equal(a->resource, "deployments");
    assert_string_equal(a->subresource, "scale");
    assert_string_equal(a->namespace_, "ns1");
    assert_string_equal(a->name, "");
    fg_review_free(&r);
    /* every shorter body is refused, never read past its end */
    for (size_t n = 0; n < body.n; n++) {
        int rc = fg_review_read(FG_REVIEW_ACCESS, SSAR_V1, PB, body.b, n, &r,
                                err, sizeof(err));
        assert_int_not_equal(rc, 0);
        assert_int_not_equal(rc, -3);
    }
    /* the envelope must name the review */
    assert_int_equal(fg_review_read(FG_REVIEW_RULES, SSAR_V1, PB, body.b,
                                    body.n, &r, err, sizeof(err)),
                     -2);
}

struct json_case {
    enum fg_review_kind kind;
    const char *body;
    int rc;
    const char *verb, *path, *namespace_;
};

static void test_json(void **state)
{
    (void)state;
    static const struct json_case cases[] = {
        {FG_REVIEW_ACCESS,
         "{\"spec\":{\"nonResourceAttributes\":{\"path\":\"/x\",\"verb\":"
         "\"get\"}}}",
         0, "get", "/x", ""},
        {FG_REVIEW_ACCESS,
         "{\"kind\":\"SelfSubjectAccessReview\",\"apiVersion\":"
         "\"authorization.k8s.io/v1\",\"spec\":{\"resourceAttributes\":{"
         "\"verb\":\"list\",\"resource\":\"pods\",\"namespace\":\"n\"}}}",
         0, "list", "", "n"},
        {FG_REVIEW_ACCESS, "{\"spec\":{\"resourceAttributes\":null}}", -1, NULL,
         NULL, NULL},
        {FG_REVIEW_ACCESS,
         "{\"spec\":{\"resourceAttributes\":{},"
         "\"nonResourceAttributes\":{}}}",
         -1, NULL, NULL, NULL},
        {FG_REVIEW_ACCESS, "{\"spec\":{\"resourceAttributes\":{\"verb\":1}}}",
         -1, NULL, NULL, NULL},
        {FG_REVIEW_ACCESS, "{\"spec\":[]}", -1, NULL, NULL, NULL},
        {FG_REVIEW_ACCESS, "{\"kind\":\"Pod\"}", -1, NULL, NULL, NULL},
        {FG_REVIEW_ACCESS, "[]", -1, NULL, NULL, NULL},
        {FG_REVIEW_ACCESS, "", -1, NULL, NULL, NULL},
        {FG_REVIEW_RULES, "{\"spec\":{\"namespace\":\"n\"}}", 0, NULL, NULL,
         "n"},
        {FG_REVIEW_RULES, "{\"spec\":{}}", -1, NULL, NULL, NULL},
        {FG_REVIEW_SELF, "{}", 0, NULL, NULL, NULL},
        {FG_REVIEW_SELF, "{\"apiVersion\":\"v1\"}", -1, NULL, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct json_case *c = &cases[i];
        const char *version =
            c->kind == FG_REVIEW_SELF ? "authentication.k8s.io/v1" : SSAR_V1;
        struct fg_review r;
        char err[256] = "";
        int rc = fg_review_read(c->kind, version, "application/json", c->body,
                                strlen(c->body), &r, err, sizeof(err));
        if (rc != c->rc)
            fail_msg("%s: %d, want %d (%s)", c->body, rc, c->rc, err);
        if (rc != 0)
            continue;
        if (c->verb) {
            assert_string_equal(r.attributes.verb, c->verb);
            assert_string_equal(r.attributes.path, c->path);
            assert_string_equal(r.attributes.namespace_, c->namespace_);
        } else if (c->namespace_) {
            assert_string_equal(r.namespace_, c->namespace_);
        }
        fg_review_free(&r);
    }
    struct fg_review r;
    char err[128];
    assert_int_equal(fg_review_read(FG_REVIEW_SELF, "authentication.k8s.io/v1",
                                    "application/yaml", "{}", 2, &r, err,
                                    sizeof(err)),
                     -2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind_of),
        cmocka_unit_test(test_protobuf_access),
        cmocka_unit_test(test_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
