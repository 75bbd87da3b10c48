/* The bodies of the reviews the gateway answers itself (review.c):
 * SelfSubjectAccessReview and SelfSubjectRulesReview
 * (authorization.k8s.io/v1), SelfSubjectReview (authentication.k8s.io v1
 * and v1beta1), in JSON or in Kubernetes protobuf (kubectl sends that).
 * Pure: outside input in, the attributes asked about out. */
#ifndef FG_REVIEW_BODY_H
#define FG_REVIEW_BODY_H

#include <stddef.h>

#include <fedgate/driver.h>

struct cJSON;

enum fg_review_kind {
    FG_REVIEW_NONE,
    FG_REVIEW_ACCESS, /* selfsubjectaccessreviews */
    FG_REVIEW_RULES,  /* selfsubjectrulesreviews */
    FG_REVIEW_SELF,   /* selfsubjectreviews */
};

/* Which review a request with INFO creates, or FG_REVIEW_NONE. */
enum fg_review_kind fg_review_kind_of(const struct fg_request_info *info);

struct fg_review {
    enum fg_review_kind kind;
    struct cJSON *object; /* the body as JSON, kind and apiVersion set */
    /* ACCESS: spec.resourceAttributes or spec.nonResourceAttributes as
     * the authorize phase sees a request's (strings in OBJECT). */
    struct fg_request_info attributes;
    const char *namespace_; /* RULES: spec.namespace */
};

/* Reads the body BODY (LEN bytes, sent as CONTENT_TYPE; NULL is JSON) of a
 * review of KIND in API_VERSION ("authorization.k8s.io/v1") into OUT; free
 * it with fg_review_free. Returns 0; -1 malformed or invalid (a 400), -2 a
 * media type or kind it does not read (a 415), -3 out of memory; ERR says
 * why. */
int fg_review_read(enum fg_review_kind kind, const char *api_version,
                   const char *content_type, const void *body, size_t len,
                   struct fg_review *out, char *err, size_t err_len);

void fg_review_free(struct fg_review *r);

#endif
