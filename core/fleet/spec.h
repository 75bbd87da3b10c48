/* A Cluster object written to the host's API, read into the member a join
 * writes (join.h): validated as kube-apiserver validates an object, each
 * problem a field cause of a 422 Invalid. Credentials come in
 * spec.connection.kubeconfig (base64, as KubeSphere's Cluster carries
 * them) with everything inline: a kubeconfig naming files on the
 * gateway's disk is refused, so no caller reads the host's files. */
#ifndef FG_FLEET_SPEC_H
#define FG_FLEET_SPEC_H

#include <stddef.h>

#include <fedgate/util.h>

#include "fleet/join.h"

struct cJSON;

#define FG_SPEC_MAX_CAUSES 8
/* The longest labels or server value: one ini line stays under the
 * reader's limit (ini_reader.c). */
#define FG_SPEC_MAX_VALUE 180

struct fg_spec_causes {
    struct fg_status_cause v[FG_SPEC_MAX_CAUSES];
    char field[FG_SPEC_MAX_CAUSES][128];
    char message[FG_SPEC_MAX_CAUSES][320];
    size_t n;
};

/* Adds a cause to C (REASON "FieldValueInvalid", FIELD "metadata.name",
 * the message as kube-apiserver words it); beyond the room, dropped. */
__attribute__((format(printf, 4, 5))) void
fg_spec_cause(struct fg_spec_causes *c, const char *reason, const char *field,
              const char *fmt, ...);

/* The member an object asks for. JOIN's strings point into the object or
 * into what the spec owns (freed by fg_spec_free). */
struct fg_spec {
    struct fg_join join;
    int credentials; /* a kubeconfig was given */
    char name[64], provider[64], labels[FG_SPEC_MAX_VALUE + 1];
    char *server, *ca, *token, *cert, *key; /* from the kubeconfig */
};

/* Reads OBJ (a Cluster) into OUT. CURRENT is the Cluster as the host shows
 * it now (an update) or NULL (a create); what it shows may come back
 * unchanged (kubectl sends what it read), anything else unknown is
 * refused. AGENTS: the gateway has a [tunnel] listener (type proxy).
 * Returns 0; 1 when invalid (CAUSES filled); -1 out of memory. */
int fg_spec_read(const struct cJSON *obj, const struct cJSON *current,
                 int agents, struct fg_spec *out,
                 struct fg_spec_causes *causes);

/* Wipes and frees the credentials OUT holds. */
void fg_spec_free(struct fg_spec *s);

#endif
