/* Review bodies (review_body.h): the object as kube-apiserver would decode
 * it (JSON, or protobuf through the SDK's reader with the schema tables
 * below, field numbers from k8s.io/api's generated.proto), then the spec
 * validated as kube-apiserver validates it. */
#include "request/review_body.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <fedgate/util.h>

/* Deeper than any review; deep documents never reach cJSON's parser. */
#define REVIEW_MAX_DEPTH 16

static const struct fg_pb_field resource_attributes_f[] = {
    {1, "namespace", FG_PB_STRING, 0, NULL},
    {2, "verb", FG_PB_STRING, 0, NULL},
    {3, "group", FG_PB_STRING, 0, NULL},
    {4, "version", FG_PB_STRING, 0, NULL},
    {5, "resource", FG_PB_STRING, 0, NULL},
    {6, "subresource", FG_PB_STRING, 0, NULL},
    {7, "name", FG_PB_STRING, 0, NULL},
};
static const struct fg_pb_message resource_attributes = {resource_attributes_f,
                                                         7};

static const struct fg_pb_field non_resource_attributes_f[] = {
    {1, "path", FG_PB_STRING, 0, NULL},
    {2, "verb", FG_PB_STRING, 0, NULL},
};
static const struct fg_pb_message non_resource_attributes = {
    non_resource_attributes_f, 2};

/* SelfSubjectAccessReviewSpec: both are pointers in Go, so an empty one
 * on the wire is still "set". */
static const struct fg_pb_field access_spec_f[] = {
    {1, "resourceAttributes", FG_PB_MESSAGE, FG_PB_KEEP, &resource_attributes},
    {2, "nonResourceAttributes", FG_PB_MESSAGE, FG_PB_KEEP,
     &non_resource_attributes},
};
static const struct fg_pb_message access_spec = {access_spec_f, 2};

static const struct fg_pb_field rules_spec_f[] = {
    {1, "namespace", FG_PB_STRING, 0, NULL},
};
static const struct fg_pb_message rules_spec = {rules_spec_f, 1};

/* SelfSubjectAccessReview and SelfSubjectRulesReview: {2: spec}; the
 * metadata and status a client may send are not read. */
static const struct fg_pb_field access_f[] = {
    {2, "spec", FG_PB_MESSAGE, 0, &access_spec},
};
static const struct fg_pb_message access = {access_f, 1};
static const struct fg_pb_field rules_f[] = {
    {2, "spec", FG_PB_MESSAGE, 0, &rules_spec},
};
static const struct fg_pb_message rules = {rules_f, 1};
/* SelfSubjectReview carries nothing the server reads. */
static const struct fg_pb_message self = {NULL, 0};

static const struct {
    const char *kind;
    const struct fg_pb_message *message;
} kinds[] = {
    [FG_REVIEW_ACCESS] = {"SelfSubjectAccessReview", &access},
    [FG_REVIEW_RULES] = {"SelfSubjectRulesReview", &rules},
    [FG_REVIEW_SELF] = {"SelfSubjectReview", &self},
};

enum fg_review_kind fg_review_kind_of(const struct fg_request_info *ri)
{
    if (!ri->is_resource || strcmp(ri->verb, "create") != 0 ||
        *ri->namespace_ || *ri->subresource || *ri->name)
        return FG_REVIEW_NONE;
    if (strcmp(ri->api_group, "authorization.k8s.io") == 0 &&
        strcmp(ri->api_version, "v1") == 0) {
        if (strcmp(ri->resource, "selfsubjectaccessreviews") == 0)
            return FG_REVIEW_ACCESS;
        if (strcmp(ri->resource, "selfsubjectrulesreviews") == 0)
            return FG_REVIEW_RULES;
    }
    if (strcmp(ri->api_group, "authentication.k8s.io") == 0 &&
        (strcmp(ri->api_version, "v1") == 0 ||
         strcmp(ri->api_version, "v1beta1") == 0) &&
        strcmp(ri->resource, "selfsubjectreviews") == 0)
        return FG_REVIEW_SELF;
    return FG_REVIEW_NONE;
}

/* The media type of CONTENT_TYPE without parameters is TYPE. */
static int media_is(const char *content_type, const char *type)
{
    size_t n = strlen(type);
    if (strncasecmp(content_type, type, n) != 0)
        return 0;
    const char *rest = content_type + n;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    return *rest == '\0' || *rest == ';';
}

static int decode_json(const char *body, size_t len, cJSON **out, char *err,
                       size_t err_len)
{
    if (fg_json_depth(body, len, REVIEW_MAX_DEPTH) > REVIEW_MAX_DEPTH) {
        snprintf(err, err_len, "the body is nested deeper than %d levels",
                 REVIEW_MAX_DEPTH);
        return -1;
    }
    *out = cJSON_ParseWithLength(body, len);
    if (!cJSON_IsObject(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        snprintf(err, err_len, "the body is not a JSON object");
        return -1;
    }
    return 0;
}

/* KEY of OBJ as a string: "" when absent or null, NULL when not a string. */
static const char *string_at(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v))
        return "";
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* KEY of OBJ as an object: NULL when absent or null, BAD when not one. */
static const cJSON bad_object;
static const cJSON *object_at(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v))
        return NULL;
    return cJSON_IsObject(v) ? v : &bad_object;
}

/* The kind and apiVersion a body names must be the review's, when named
 * at all (kube-apiserver defaults them from the path). */
static int same_kind(cJSON *obj, const char *kind, const char *api_version,
                     char *err, size_t err_len)
{
    const char *k = string_at(obj, "kind"), *v = string_at(obj, "apiVersion");
    if (!k || !v || (*k && strcmp(k, kind) != 0) ||
        (*v && strcmp(v, api_version) != 0)) {
        snprintf(err, err_len, "the body is not a %s of %s", kind, api_version);
        return -1;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(obj, "kind");
    cJSON_DeleteItemFromObjectCaseSensitive(obj, "apiVersion");
    return cJSON_AddStringToObject(obj, "kind", kind) &&
                   cJSON_AddStringToObject(obj, "apiVersion", api_version)
               ? 0
               : -3;
}

static int access_attributes(struct fg_review *r, char *err, size_t err_len)
{
    const cJSON *spec = object_at(r->object, "spec");
    const cJSON *ra = spec && spec != &bad_object
                          ? object_at(spec, "resourceAttributes")
                          : NULL;
    const cJSON *nra = spec && spec != &bad_object
                           ? object_at(spec, "nonResourceAttributes")
                           : NULL;
    if (spec == &bad_object || ra == &bad_object || nra == &bad_object) {
        snprintf(err, err_len, "spec and its attributes must be objects");
        return -1;
    }
    if (!ra == !nra) {
        snprintf(err, err_len,
                 ra ? "spec.nonResourceAttributes: Invalid value: cannot be "
                      "specified in combination with resourceAttributes"
                    : "spec.resourceAttributes: Required value: one of "
                      "resourceAttributes or nonResourceAttributes must be "
                      "specified");
        return -1;
    }
    struct fg_request_info *a = &r->attributes;
    if (ra) {
        *a = (struct fg_request_info){
            .is_resource = 1,
            .verb = string_at(ra, "verb"),
            .api_group = string_at(ra, "group"),
            .api_version = string_at(ra, "version"),
            .namespace_ = string_at(ra, "namespace"),
            .resource = string_at(ra, "resource"),
            .subresource = string_at(ra, "subresource"),
            .name = string_at(ra, "name"),
            .path = "",
        };
        a->api_prefix = a->api_group && *a->api_group ? "apis" : "api";
    } else {
        *a = (struct fg_request_info){
            .verb = string_at(nra, "verb"),
            .api_prefix = "",
            .api_group = "",
            .api_version = "",
            .namespace_ = "",
            .resource = "",
            .subresource = "",
            .name = "",
            .path = string_at(nra, "path"),
        };
    }
    if (!a->verb || !a->api_group || !a->api_version || !a->namespace_ ||
        !a->resource || !a->subresource || !a->name || !a->path) {
        snprintf(err, err_len, "the attributes must be strings");
        return -1;
    }
    return 0;
}

static int rules_namespace(struct fg_review *r, char *err, size_t err_len)
{
    const cJSON *spec = object_at(r->object, "spec");
    r->namespace_ =
        spec && spec != &bad_object ? string_at(spec, "namespace") : NULL;
    if (!r->namespace_ || !*r->namespace_) {
        snprintf(err, err_len, "no namespace on request");
        return -1;
    }
    return 0;
}

int fg_review_read(enum fg_review_kind kind, const char *api_version,
                   const char *content_type, const void *body, size_t len,
                   struct fg_review *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof(*out));
    out->kind = kind;
    if (kind <= FG_REVIEW_NONE || kind > FG_REVIEW_SELF) {
        snprintf(err, err_len, "not a review");
        return -2;
    }
    int rc;
    if (!content_type || !*content_type ||
        media_is(content_type, "application/json")) {
        rc = decode_json(body, len, &out->object, err, err_len);
    } else if (media_is(content_type, "application/vnd.kubernetes.protobuf")) {
        const struct fg_pb_kind k = {api_version, kinds[kind].kind,
                                     kinds[kind].message};
        rc = fg_pb_decode(body, len, &k, 1, &out->object, err, err_len);
    } else {
        snprintf(err, err_len,
                 "the body's content type \"%.64s\" is not supported: send "
                 "application/json or application/vnd.kubernetes.protobuf",
                 content_type);
        return -2;
    }
    if (rc == 0)
        rc =
            same_kind(out->object, kinds[kind].kind, api_version, err, err_len);
    if (rc == 0 && kind == FG_REVIEW_ACCESS)
        rc = access_attributes(out, err, err_len);
    if (rc == 0 && kind == FG_REVIEW_RULES)
        rc = rules_namespace(out, err, err_len);
    if (rc == -3)
        snprintf(err, err_len, "out of memory");
    if (rc != 0)
        fg_review_free(out);
    return rc;
}

void fg_review_free(struct fg_review *r)
{
    cJSON_Delete(r->object);
    r->object = NULL;
}
