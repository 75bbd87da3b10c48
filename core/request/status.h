/* Kubernetes Status objects for every error the gateway answers itself,
 * shaped like kube-apiserver's so that kubectl and client libraries print
 * and classify them as they would any API server's. */
#ifndef FG_STATUS_H
#define FG_STATUS_H

#include <stddef.h>

#include <fedgate/util.h> /* fg_status_reason, fg_status_build */

/* The HTTP reason phrase for a status line ("Not Found"); "" if unknown. */
const char *fg_http_reason_phrase(int code);

/* A malloc'd Status body, e.g.
 * {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
 *  "message":"...","reason":"NotFound","code":404}
 * followed by a newline, as kube-apiserver ends its JSON bodies. REASON
 * NULL means fg_status_reason(CODE); MESSAGE NULL means the reason phrase.
 * *LEN (if LEN is not NULL) gets the length. NULL when out of memory. */
char *fg_status_json(int code, const char *reason, const char *message,
                     size_t *len);

/* The same with "details":{"name":NAME,"kind":KIND}, as in
 * clusters "x" not found; NAME and KIND may each be NULL (left out). */
char *fg_status_json_details(int code, const char *reason, const char *message,
                             const char *name, const char *kind, size_t *len);

#endif
