/* Internal interface between the files of the mock member driver: the kind
 * registry, the object store, the seed loader, the response builders and the
 * streaming producer. Not part of the SDK; only the mock's own files (and its
 * unit tests) include it. */
#ifndef FEDGATE_MOCK_H
#define FEDGATE_MOCK_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <zlib.h>

#include <fedgate/fedgate.h>

/* ---- kinds.c: the resource kinds the mock serves ---------------------- */

struct mock_kind {
    const char *group;    /* "" for the core group */
    const char *version;  /* "v1" */
    const char *resource; /* plural, as in URLs: "pods" */
    const char *singular; /* "pod" */
    const char *kind;     /* "Pod" */
    const char *list_kind;
    int namespaced;
    const char *short_names[3]; /* NULL-terminated */
    const char *categories[2];  /* NULL-terminated */
};

/* Number of kinds; kind indexes run 0 .. MOCK_N_KINDS - 1. */
#define MOCK_N_KINDS 17

const struct mock_kind *mock_kind_at(size_t i);
/* The kind with this group, version and resource (plural), or NULL. */
const struct mock_kind *mock_kind_by_resource(const char *group,
                                              const char *version,
                                              const char *resource);
/* The kind named by an object's apiVersion ("v1", "apps/v1") and kind. */
const struct mock_kind *mock_kind_by_kind(const char *api_version,
                                          const char *kind);
size_t mock_kind_index(const struct mock_kind *k);
/* "v1" or "apps/v1" into BUF. */
const char *mock_kind_api_version(const struct mock_kind *k, char *buf,
                                  size_t len);
/* "pods" or "deployments.apps": how kube-apiserver names a resource in
 * error messages. */
const char *mock_kind_qualified(const struct mock_kind *k, char *buf,
                                size_t len);
/* Verbs every kind supports, NULL-terminated. */
extern const char *const mock_verbs[];
/* The verbs of kind K as discovery lists them (namespaces have no
 * deletecollection), NULL-terminated. */
const char *const *mock_kind_verbs(const struct mock_kind *k);
/* Whether K has a /status subresource, a /scale subresource
 * (autoscaling/v1 Scale), and a metadata.generation that spec changes
 * bump. */
int mock_kind_has_status(const struct mock_kind *k);
int mock_kind_has_scale(const struct mock_kind *k);
int mock_kind_has_generation(const struct mock_kind *k);

/* A group as kube-apiserver's OpenAPI names it. */
struct mock_group {
    const char *group; /* "" for the core group */
    const char *pkg;   /* "io.k8s.api.apps.v1" */
    const char *op;    /* operationId infix: "AppsV1" */
    const char *tag;   /* "apps_v1" */
};
/* K's group entry (every kind's group has one). */
const struct mock_group *mock_kind_group(const struct mock_kind *k);

/* ---- jsonutil.c: small helpers over cJSON and time -------------------- */

/* String at PATH or DEF. */
const char *mock_json_str(const cJSON *obj, const char *path, const char *def);
/* Integer at PATH or DEF. */
int64_t mock_json_int(const cJSON *obj, const char *path, int64_t def);
/* RFC 3339 "2024-01-02T03:04:05Z" (fraction and offset accepted) into
 * milliseconds since the epoch; -1 when malformed. */
int64_t mock_time_parse(const char *s);
/* MS since the epoch as "2024-01-02T03:04:05Z" into BUF (>= 21 bytes). */
void mock_time_format(int64_t ms, char *buf, size_t len);

/* ---- doc.c: an object as stored, serialized ------------------------- */

/* An object's JSON bytes with what lists, selectors and watches read of it
 * without parsing. Immutable once made; the store, the watch log and the
 * answers in flight share it by reference. */
struct mock_doc {
    uint32_t refs;
    uint32_t len;       /* bytes of json, the NUL not counted */
    uint32_t rv_off;    /* metadata.resourceVersion's digits in json */
    uint16_t rv_len;    /* (and how many) */
    uint16_t cells_len; /* its Table cells (table.c), 0: not kept */
    int64_t created_ms; /* metadata.creationTimestamp, -1 without */
    const char *ns;     /* "" for cluster-scoped objects */
    const char *name;
    const char *labels; /* "key\0value\0" pairs, then "\0" */
    char json[];        /* NUL-terminated; cells, ns, name, labels follow */
};

/* The doc of OBJ, of kind K, stored at (NS, NAME): OBJ printed once, and
 * its Table cells prepared. OBJ must have a string
 * metadata.resourceVersion of digits. NULL on memory failure. */
struct mock_doc *mock_doc_new(const struct mock_kind *k, const cJSON *obj,
                              const char *ns, const char *name);
/* D's prepared Table cells (cells_len bytes, no NUL). */
const char *mock_doc_cells(const struct mock_doc *d);
/* The value of D's top-level member KEY as *V and *LEN, without parsing:
 * 0, or -1 when D has none. */
int mock_doc_member(const struct mock_doc *d, const char *key, const char **v,
                    size_t *len);
struct mock_doc *mock_doc_ref(struct mock_doc *d);
void mock_doc_unref(struct mock_doc *d);
/* D as a cJSON tree (the caller's), or NULL on memory failure. */
cJSON *mock_doc_parse(const struct mock_doc *d);
/* Appends D's JSON to OUT, with resourceVersion RV instead of its own
 * unless RV is 0. 0 or -1. */
struct mock_buf;
int mock_doc_append(struct mock_buf *out, const struct mock_doc *d,
                    uint64_t rv);
/* D's JSON with resourceVersion RV: a new doc, or NULL on memory failure. */
struct mock_doc *mock_doc_with_rv(const struct mock_doc *d, uint64_t rv);
/* The string at the dotted PATH of D (no escapes in it) into BUF without
 * parsing D: 0, or -1 when there is none or it does not fit LEN. */
int mock_doc_string(const struct mock_doc *d, const char *path, char *buf,
                    size_t len);
#define MOCK_UID_MAX 256
/* D's metadata.uid in BUF (LEN bytes), read from its JSON (deletes need
 * it, lists do not: it is not kept in the index); "" without one. */
const char *mock_doc_uid(const struct mock_doc *d, char *buf, size_t len);
/* The value of D's label KEY, or NULL. */
const char *mock_doc_label(const struct mock_doc *d, const char *key);

/* ---- store.c: objects per kind, ordered by namespace/name ------------- */

struct mock_obj {
    const char *ns;       /* "" for cluster-scoped objects; doc->ns */
    const char *name;     /* doc->name */
    uint64_t rv;          /* resourceVersion of the last write */
    struct mock_doc *doc; /* the object as stored, one reference */
};

struct mock_bucket {
    struct mock_obj **v; /* sorted by (ns, name) */
    size_t n, cap;
};

struct mock_store {
    struct mock_bucket buckets[MOCK_N_KINDS];
    uint64_t rv; /* global resourceVersion counter: the last one given */
};

struct mock_store *mock_store_new(void);
void mock_store_free(struct mock_store *s);
/* Inserts or replaces the object JSON of kind K at (NS, NAME), taking
 * ownership of JSON (freed on success and failure: the store keeps it
 * serialized). The object gets the next resourceVersion, written into its
 * metadata. When OLD is not NULL it receives the replaced version (a
 * reference the caller drops, NULL for a new object), so that a write can
 * tell watchers what the object was. Returns 0 or -1 (memory). */
int mock_store_put(struct mock_store *s, const struct mock_kind *k,
                   const char *ns, const char *name, cJSON *json,
                   struct mock_doc **old);
/* The same with resourceVersion RV instead of the next one: for a
 * persisted store. The store's counter moves up to RV. */
int mock_store_put_kept(struct mock_store *s, const struct mock_kind *k,
                        const char *ns, const char *name, cJSON *json,
                        uint64_t rv);
struct mock_obj *mock_store_get(const struct mock_store *s,
                                const struct mock_kind *k, const char *ns,
                                const char *name);
/* O's object as a cJSON tree (the caller's), or NULL on memory failure. */
cJSON *mock_obj_json(const struct mock_obj *o);
/* Index of the first object of kind K whose key is > (NS, NAME), or >= when
 * INCLUSIVE: where a list resumes after the last key it sent. */
size_t mock_store_seek(const struct mock_store *s, const struct mock_kind *k,
                       const char *ns, const char *name, int inclusive);
const struct mock_bucket *mock_store_bucket(const struct mock_store *s,
                                            const struct mock_kind *k);
/* Replaces *NS and *NAME with copies of O's key: where a list or watch
 * resumes. Returns 0, or -1 (memory) leaving them as they were. */
int mock_store_key_copy(char **ns, char **name, const struct mock_obj *o);
/* Removes the object of kind K at (NS, NAME) and returns it (a reference,
 * the caller's) stamped with the deletion's resourceVersion, which is the
 * store's new s->rv. NULL when there is no such object, or on memory
 * failure (then the object stays). */
struct mock_doc *mock_store_remove(struct mock_store *s,
                                   const struct mock_kind *k, const char *ns,
                                   const char *name);

/* ---- seed.c: the seed file loader ------------------------------------- */

#define MOCK_SEED_MAX_DEPTH 64
#define MOCK_SEED_MAX_BYTES (512u << 20)

/* Loads a seed document into a new store. NAME is used in error messages
 * (the file path). NOW_MS stamps objects without creationTimestamp.
 * Returns NULL with a one-line reason in ERR. */
struct mock_store *mock_seed_load_mem(const char *data, size_t len,
                                      const char *name, int64_t now_ms,
                                      char *err, size_t err_len);
/* The same for a persisted store: objects keep the resourceVersion they
 * have (the counter continues after the highest). */
struct mock_store *mock_seed_load_kept(const char *data, size_t len,
                                       const char *name, int64_t now_ms,
                                       char *err, size_t err_len);
struct mock_store *mock_seed_load_file(const char *path, int64_t now_ms,
                                       char *err, size_t err_len);

/* ---- query.c: query string and Accept header -------------------------- */

/* Go's strconv.ParseBool: 1 true, 0 false, -1 neither. */
int mock_parse_bool(const char *s);

enum mock_table_version {
    MOCK_TABLE_NONE = 0,
    MOCK_TABLE_V1 = 1,
    MOCK_TABLE_V1BETA1 = 2,
};
/* Which meta.k8s.io Table version, if any, the LEN bytes of an Accept
 * header's value ask for. */
enum mock_table_version mock_accept_table(const char *accept, size_t len);

/* ---- status.c: Kubernetes Status documents ---------------------------- */

/* A Status body (malloc'd) for a failure. NAME and K may be NULL; when
 * given they fill "details" the way kube-apiserver does. */
char *mock_status_json(int code, const char *reason, const char *message,
                       const char *name, const struct mock_kind *k);
/* The Status for an object that does not exist. */
char *mock_status_not_found(const struct mock_kind *k, const char *name);

/* ---- discovery.c: /version, /api, /apis ... --------------------------- */

/* Which aggregated discovery version the LEN bytes of an Accept value ask
 * for first: 1 v2, 2 v2beta1, 0 none. */
int mock_accept_aggregated(const char *accept, size_t len);
/* Body (malloc'd) for a discovery PATH, or NULL when PATH is not one, of
 * content type *CT; for /api and /apis the aggregated document when
 * AGGREGATED (mock_accept_aggregated) says so. *FOUND is set to 1 when
 * PATH is a discovery path. */
char *mock_discovery(const char *path, const char *git_version, int aggregated,
                     const char **ct, int *found);

/* ---- table.c: meta.k8s.io Table output -------------------------------- */

enum mock_include {
    MOCK_INCLUDE_NONE = 0,
    MOCK_INCLUDE_METADATA = 1,
    MOCK_INCLUDE_OBJECT = 2,
};

struct mock_buf;
/* Appends the "columnDefinitions" array for kind K to OUT. 0 or -1. */
int mock_table_columns_append(struct mock_buf *out, const struct mock_kind *k);
/* Appends the row cells of OBJ (kind K) to OUT, prepared once when the
 * object is stored: JSON text of the cells but for marks where the clock
 * or the doc's index fills in at mock_table_row_append. 0 or -1. */
int mock_table_cells(const struct mock_kind *k, const cJSON *obj,
                     struct mock_buf *out);
/* Appends the Table row of doc D (kind K) at NOW_MS to OUT: its prepared
 * cells filled in, and as much of D as INC asks for. 0 or -1. */
int mock_table_row_append(struct mock_buf *out, const struct mock_kind *k,
                          const struct mock_doc *d, int64_t now_ms,
                          enum mock_include inc, enum mock_table_version tv);

/* ---- select.c: the selectors of a request (fg_selector_*, util.h) ----- */

/* fg_selector_match for a stored doc: labels, namespace and name from its
 * index; other field paths parse it. 0, 1, or -1 on memory failure. */
int mock_selector_match_doc(const struct fg_selector *s,
                            const struct mock_doc *d);
/* Parses the labelSelector and fieldSelector of query Q into SEL[0] and
 * SEL[1]. Returns 0; 1 with a message in MSG for a syntax error; -1 on
 * memory failure (SEL is left empty on any failure). */
int mock_selectors_from_query(const char *q, struct fg_selector *sel[2],
                              char *msg, size_t msg_len);

/* ---- json_stream.c: lists and Tables produced chunk by chunk ---------- */

struct mock_list;

/* A continue token: the list resumes after (NS, NAME), reading as of RV. */
struct mock_continue {
    uint64_t rv;
    char ns[256];
    char name[256];
};

struct mock_list_opts {
    const struct mock_kind *kind;
    const char *ns;   /* NULL or "" : every namespace */
    const char *name; /* non-NULL: just this object (a Table of one) */
    enum mock_table_version table;
    enum mock_include include;
    int64_t now_ms;
    /* Owned by the list from mock_list_new on (freed even on failure). */
    struct fg_selector *labels, *fields;
    /* Paging (mock_list_query): at most LIMIT items (0: all), starting
     * after START when HAS_START, reported as of RV when RV is not 0. */
    int64_t limit;
    int has_start;
    struct mock_continue start;
    uint64_t rv;
};

/* A growable byte buffer. */
struct mock_buf {
    char *p;
    size_t len, cap;
};
int mock_buf_add(struct mock_buf *b, const char *s, size_t n);
int mock_buf_adds(struct mock_buf *b, const char *s);
void mock_buf_free(struct mock_buf *b);

/* A list document in production. It reads the store afresh at each fill and
 * remembers only the last key it sent, so writes between fills cannot leave
 * it pointing at freed objects. */
struct mock_list *mock_list_new(const struct mock_store *s,
                                const struct mock_list_opts *o);
void mock_list_free(struct mock_list *l);
/* Appends the next bytes of the document to OUT until it holds at least
 * WANT bytes or the document ends. Returns 1 while more remains, 0 when
 * the document is complete, -1 on memory failure. */
int mock_list_fill(struct mock_list *l, struct mock_buf *out, size_t want);

/* ---- watch.c: change events ------------------------------------------ */

enum mock_event {
    MOCK_EVENT_ADDED = 0,
    MOCK_EVENT_MODIFIED = 1,
    MOCK_EVENT_DELETED = 2,
};

struct mock_instance;
struct mock_watch_hub;

/* Records a change of kind K after the store made it: OBJ is the object as
 * stored (for DELETED: as it was, with the deletion's resourceVersion), RV
 * its resourceVersion. OLD_OBJ is, for MODIFIED, the stored version the
 * change replaced (see mock_store_put's OLD): it is how a selector watch
 * knows that the object left or entered it. NULL for ADDED and DELETED
 * (ignored there); a MODIFIED without it reads as a change within the
 * selector. The log takes references: the caller keeps its own. Every
 * write path calls this exactly once per object changed; watchers of the
 * instance receive the event on the loop. */
void mock_watch_record(struct mock_instance *in, const struct mock_kind *k,
                       enum mock_event ev, struct mock_doc *old_obj,
                       struct mock_doc *obj, uint64_t rv);

/* A long-lived answer body (a watch, a followed log): plugin.c asks it for
 * bytes while the client has room, and it calls wake() when it has bytes
 * again after answering MOCK_FILL_WAIT. */
enum mock_fill {
    MOCK_FILL_DONE = 0, /* the body is complete after what was appended */
    MOCK_FILL_MORE = 1, /* more is ready now: call fill again */
    MOCK_FILL_WAIT = 2, /* nothing more until wake() */
    MOCK_FILL_REF = 3,  /* nothing appended; send p->ref, then fill again */
};

/* Bytes a producer shares rather than copies (one watch event for every
 * watcher): the caller hands them to data_ref, which calls FREE_FN. */
struct mock_ref {
    const void *buf;
    size_t len;
    fg_buffer_free_fn free_fn;
    void *arg;
};

struct mock_producer {
    /* Appends about WANT bytes to OUT at most (one event may exceed it).
     * Returns a mock_fill value, or -1 on memory failure. MOCK_FILL_REF
     * only when OUT is empty. */
    int (*fill)(struct mock_producer *p, struct mock_buf *out, size_t want);
    struct mock_ref ref; /* set by fill with MOCK_FILL_REF */
    /* Stops all work (timers, registrations) and frees P. */
    void (*free)(struct mock_producer *p);
    /* Set by plugin.c before the first fill. Never called from inside fill
     * or free; after free, never again. */
    void (*wake)(void *arg);
    void *wake_arg;
};

/* The watch event log of an instance, holding the last HISTORY events,
 * each with a reference to its object and, for MODIFIED, to the version
 * before: nothing per stored object. Returns NULL on memory failure. */
struct mock_watch_hub *mock_watch_hub_new(struct mock_instance *in,
                                          size_t history);
/* How many object references H holds: at most two per ring event,
 * whatever the size of the store. */
size_t mock_watch_hub_copies(const struct mock_watch_hub *h);
/* Frees the log; watchers still open end at their next fill. */
void mock_watch_hub_free(struct mock_watch_hub *h);
/* The resourceVersion up to which history is gone: a watch or continue
 * token from before it is too old (410). 0 without a hub. */
uint64_t mock_watch_compacted_rv(const struct mock_instance *in);

struct mock_answer;
/* Answers a watch of kind K (in NS, or of the object NAME) with the query's
 * resourceVersion, timeoutSeconds, allowWatchBookmarks and
 * sendInitialEvents. Takes LABELS and FIELDS (freed even on failure).
 * Returns 0 or -1 (memory). */
int mock_watch_serve(struct mock_instance *in, const struct mock_kind *k,
                     const char *ns, const char *name, const char *query,
                     enum mock_table_version tv, enum mock_include inc,
                     struct fg_selector *labels, struct fg_selector *fields,
                     struct mock_answer *a);

/* ---- json_stream.c: list paging --------------------------------------- */

/* Decodes TOKEN (base64url of {"v":"meta.k8s.io/v1","rv":N,"start":...}).
 * Returns 0, or -1 when it is not a token this member issued. */
int mock_continue_decode(const char *token, struct mock_continue *c);
/* The token for C (malloc'd), or NULL on memory failure. */
char *mock_continue_encode(const struct mock_continue *c);
/* Reads limit, continue, resourceVersion and resourceVersionMatch from
 * QUERY into O. Returns 0, 1 when it answered A with a Status instead,
 * -1 on memory failure. */
int mock_list_query(struct mock_instance *in, const char *query,
                    struct mock_list_opts *o, struct mock_answer *a);

/* ---- logs.c: pods/NAME/log -------------------------------------------- */

/* Answers GET .../namespaces/NS/pods/NAME/log?QUERY. Returns 0 or -1. */
int mock_logs_serve(struct mock_instance *in, const char *ns, const char *name,
                    const char *query, struct mock_answer *a);

/* ---- schema.c: the kinds' schemas (notation described there) ----------- */

struct mock_schema_def {
    const char *name; /* short: "PodSpec"; its package comes from PKG */
    const char *pkg;
    const char *desc;
    const char *fields;
};

size_t mock_schema_n_defs(void);
const struct mock_schema_def *mock_schema_def_at(size_t i);
/* "io.k8s.api.core.v1" or "io.k8s.api.apps.v1": the package of K. */
const char *mock_schema_kind_pkg(const struct mock_kind *k);
/* Kind K's fields besides apiVersion, kind and metadata; its description
 * into *DESC. */
const char *mock_schema_kind_fields(const struct mock_kind *k,
                                    const char **desc);
/* The package of the definition or kind called NAME (N bytes), or NULL. */
const char *mock_schema_pkg(const char *name, size_t n);

enum mock_type_class {
    MOCK_T_SCALAR = 1, /* t[0] says which: s i l b n t q x */
    MOCK_T_ANY,        /* o: an object of anything, fields granular */
    MOCK_T_MAP,        /* {T} */
    MOCK_T_LIST,       /* [T]: atomic */
    MOCK_T_LIST_MAP,   /* [T]@key: items merged by KEY */
    MOCK_T_SET,        /* [T]*: scalars merged as a set */
    MOCK_T_STRUCT,     /* a definition or a kind */
};

/* A type of the schema: pointers into the static schema text. */
struct mock_type {
    enum mock_type_class c;
    const char *t; /* the notation */
    size_t n;
    const char *elem; /* MAP and lists: the element type */
    size_t elem_n;
    const char *key; /* LIST_MAP: the merge key */
    size_t key_n;
    const char *fields; /* STRUCT: its fields */
    int root;           /* STRUCT: a kind (apiVersion, kind, metadata too) */
};

/* The type written T (N bytes) into OUT: 0, or -1 when not a type. */
int mock_schema_type(const char *t, size_t n, struct mock_type *out);
/* The type of kind K's objects. */
int mock_schema_root(const struct mock_kind *k, struct mock_type *out);
/* The type of member NAME of a STRUCT, MAP or ANY value of type T: 0, or
 * -1 when T has no such field (an unknown field). */
int mock_schema_member(const struct mock_type *t, const char *name,
                       struct mock_type *out);
/* The element type of a list T: 0 or -1. */
int mock_schema_elem(const struct mock_type *t, struct mock_type *out);

/* ---- fieldset.c: FieldsV1 field sets ----------------------------------- */

/* The fields of kind K's object OBJ that differ from OLD (NULL: all of
 * them) as a FieldsV1 tree, within what a write to SUB ("status", NULL)
 * may touch; server-set metadata is no one's. NULL on memory failure. */
cJSON *mock_fs_changed(const struct mock_kind *k, const char *sub,
                       const cJSON *old, const cJSON *obj);
cJSON *mock_fs_of(const struct mock_kind *k, const char *sub, const cJSON *obj);
/* "k:{"KEY":VALUE}" for ITEM of a list of type T keyed by KEY (malloc'd),
 * or NULL when ITEM has no scalar KEY (or on memory failure). */
char *mock_fs_item_key(const struct mock_type *t, const cJSON *item);
/* DST gains SRC's fields: 0 or -1 (memory). */
int mock_fs_union(cJSON *dst, const cJSON *src);
/* DST loses SRC's fields. */
void mock_fs_subtract(cJSON *dst, const cJSON *src);
/* The fields in both (NULL on memory failure). */
cJSON *mock_fs_intersect(const cJSON *a, const cJSON *b);
/* Removes SET's fields (and the list items it owns) from OBJ. */
void mock_fs_remove(cJSON *obj, const cJSON *set);
/* SET's fields as kube names them (".spec.replicas",
 * ".spec.containers[name=\"web\"].image"): an array of strings, or NULL. */
cJSON *mock_fs_paths(const cJSON *set);

/* ---- managed.c: metadata.managedFields ---------------------------------- */

/* Records in OBJ's managedFields the Update by MANAGER through SUB (NULL:
 * the object itself) at NOW (RFC 3339) that made OBJ of OLD (NULL: a
 * create). 0 or -1 (memory). */
int mock_managed_update(const struct mock_kind *k, const char *manager,
                        const char *sub, const char *now, const cJSON *old,
                        cJSON *obj);

/* What an apply came to. */
struct mock_apply {
    cJSON *merged; /* the object to store, managedFields set */
    char *message; /* conflicts: the 409's message */
    cJSON *causes; /* conflicts: the Status causes */
};
/* Server-side apply of APPLIED (kind, apiVersion, metadata.name checked)
 * by MANAGER onto LIVE (NULL: it creates). Returns 0 with R->merged, 1
 * with the conflicts in R (not FORCE), -1 on memory failure. */
int mock_managed_apply(const struct mock_kind *k, const char *manager,
                       int force, const char *now, const cJSON *live,
                       const cJSON *applied, struct mock_apply *r);
void mock_apply_free(struct mock_apply *r);

/* ---- fields.c: field validation ----------------------------------------- */

/* Checks OBJ of kind K against its schema, dropping unknown fields.
 * Returns 0 with their paths ("spec.containers[0].bogus") in *UNKNOWN (an
 * array, the caller's); -1 when a value has the wrong type (ERR: the
 * decoder's message); -2 on memory failure. */
int mock_fields_check(const struct mock_kind *k, cJSON *obj, cJSON **unknown,
                      char *err, size_t err_len);

/* ---- openapi.c: /openapi/v2 and /openapi/v3 ---------------------------- */

/* Answers PATH when it is an OpenAPI document: sets *FOUND and fills A.
 * PREFIX is what clients must put before server-relative URLs
 * ("/clusters/NAME"). Returns 0 or -1 (memory). */
int mock_openapi_serve(const char *path, const char *prefix, int *found,
                       struct mock_answer *a);

/* ---- validate.c: names and labels that clients write ------------------ */

enum mock_name_rule {
    MOCK_NAME_SUBDOMAIN = 0, /* RFC 1123 subdomain: most kinds */
    MOCK_NAME_LABEL = 1,     /* RFC 1123 label: namespaces */
    MOCK_NAME_DNS1035 = 2,   /* RFC 1035 label: services */
};
enum mock_name_rule mock_name_rule_of(const struct mock_kind *k);
/* 0 when NAME follows RULE, else -1 with apimachinery's reason in MSG. */
int mock_name_check(enum mock_name_rule rule, const char *name, char *msg,
                    size_t len);
/* 0 when the keys (and for "labels" the values) of META's FIELD map are
 * valid, else -1 with a field error ("metadata.labels: Invalid value..."). */
int mock_labels_check(const cJSON *meta, const char *field, char *msg,
                      size_t len);

/* ---- patch.c, smpatch.c: PATCH bodies ---------------------------------- */

/* Deepest nesting a written object may have. */
#define MOCK_WRITE_MAX_DEPTH 64
/* kube-apiserver's cap on the operations of one JSON patch. */
#define MOCK_PATCH_MAX_OPS 10000
/* Cap on the JSON nodes that copy operations of one JSON patch create. */
#define MOCK_PATCH_MAX_COPY_NODES 200000

/* Nesting depth of V (a scalar is 0, {} is 1), or LIMIT + 1 when deeper
 * than LIMIT; never recurses deeper than LIMIT + 1. */
int mock_tree_depth(const cJSON *v, int limit);
/* RFC 6902: applies OPS to *DOC. Returns 0; -1 when OPS is malformed
 * (400); -2 when an operation fails or a limit is hit (422), with a
 * reason in ERR; -3 on memory failure. *DOC stays a valid tree. */
int mock_json_patch(cJSON **doc, const cJSON *ops, char *err, size_t len);
/* Strategic merge patch of *DOC with PATCH. Returns 0; -1 when the patch
 * cannot be applied (reason in ERR); -2 on memory failure. */
int mock_strategic_patch(cJSON **doc, const cJSON *patch, char *err,
                         size_t len);

/* ---- protobuf.c: application/vnd.kubernetes.protobuf bodies ------------ */

/* Decodes a "k8s\0" + runtime.Unknown body into the object's JSON (with
 * kind and apiVersion). Returns 0; -1 malformed (400); -2 a kind or
 * encoding the mock cannot decode (415); -3 memory. ERR says why. */
int mock_protobuf_decode(const void *data, size_t len, cJSON **out, char *err,
                         size_t err_len);

/* ---- persist.c: persist = PATH ----------------------------------------- */

struct mock_persist;
/* Loads a persisted store, keeping its resourceVersions. */
struct mock_store *mock_persist_load(const char *path, int64_t now_ms,
                                     char *err, size_t err_len);
/* Writes S to PATH atomically. Returns 0 or -1 with ERR. */
int mock_persist_save(const struct mock_store *s, const char *path, char *err,
                      size_t err_len);
struct mock_persist *mock_persist_new(struct mock_instance *in,
                                      const char *path);
/* The store changed: save it soon (once per burst). */
void mock_persist_touch(struct mock_instance *in);
/* Saves what is pending and frees P. */
void mock_persist_free(struct mock_persist *p);

/* ---- write*.c: create, update, patch, delete ---------------------------- */

/* A request body as the mock received it. */
struct mock_body {
    const char *content_type; /* NULL when absent; not NUL-terminated */
    size_t content_type_len;
    const char *data;
    size_t len;
};

/* Answers a write (POST, PUT, PATCH, DELETE) to kind K in NS ("" when
 * cluster-scoped or all namespaces), on the object NAME (NULL: the
 * collection) or its subresource SUB ("status", "scale"; NULL: the object
 * itself), and a GET of SUB; HEAD is the request's (method, query,
 * user agent). Returns 0 or -1 (memory). */
int mock_write(struct mock_instance *in, const struct fg_request_head *head,
               const struct mock_kind *k, const char *ns, const char *name,
               const char *sub, const struct mock_body *body,
               struct mock_answer *a);

/* One write being answered, shared by the write*.c files. The functions
 * below that answer return 0 once A holds the answer, -1 on memory
 * failure; those that may answer instead of going on return 0 to go on,
 * 1 when they answered, -1 on memory failure. */
struct mock_write {
    struct mock_instance *in;
    const char *method;
    const struct mock_kind *k;
    const char *ns, *name, *sub, *query;
    const struct mock_body *body;
    struct mock_answer *a;
    int dry_run;
    /* Who writes, for managedFields: ?fieldManager= or, without one, the
     * user agent up to its first '/', as kube-apiserver defaults it. */
    char manager[129];
    int manager_given;
    int managed_set; /* apply.c set managedFields already */
    /* ?fieldValidation=: what an unknown field costs. */
    enum { MOCK_FV_IGNORE, MOCK_FV_WARN, MOCK_FV_STRICT } validation;
};

/* write.c: answers. BODY is taken over (NULL: out of memory). */
int mock_w_text(struct mock_write *w, int code, char *body);
int mock_w_doc(struct mock_write *w, int code, const cJSON *doc);
/* The stored DOC as the answer (its bytes, no print). */
int mock_w_stored(struct mock_write *w, int code, const struct mock_doc *doc);
/* A failure Status; NAME (may be NULL) with w->k fills its details. */
int mock_w_status(struct mock_write *w, int code, const char *reason,
                  const char *msg, const char *name);
int mock_w_bad_request(struct mock_write *w, const char *msg);
/* 422 Invalid with one field error: "Kind "name" is invalid: DETAIL". */
int mock_w_invalid(struct mock_write *w, const char *name, const char *field,
                   const char *cause_reason, const char *detail);
int mock_w_not_found(struct mock_write *w, const struct mock_kind *k,
                     const char *name);
int mock_w_method_not_allowed(struct mock_write *w);
int mock_w_unsupported_media(struct mock_write *w, const char *msg);
/* write.c: metadata helpers. OBJ[KEY] as an object, created when absent
 * (NULL on memory failure). */
cJSON *mock_w_child_obj(cJSON *obj, const char *key);
int mock_w_set_str(cJSON *obj, const char *key, const char *v);
void mock_w_del(cJSON *obj, const char *key);
const char *mock_w_rv_of(const cJSON *obj);
/* The member's clock as an RFC 3339 timestamp. */
void mock_w_now(struct mock_write *w, char *buf, size_t len);
/* After a change: tell watchers (OLD: the replaced version, for
 * MODIFIED), then have the store saved. */
void mock_w_changed(struct mock_write *w, const struct mock_kind *k,
                    enum mock_event ev, struct mock_doc *old,
                    struct mock_doc *obj, uint64_t rv);

/* write_body.c: the body's media type, lower-cased, without parameters. */
void mock_w_media_type(const struct mock_write *w, char *buf, size_t len);
/* The body as JSON into *OUT (0), or answered (1), or -1. */
int mock_w_parse_json(struct mock_write *w, cJSON **out);
/* An object body for create or update: JSON or Kubernetes protobuf. */
int mock_w_read_object(struct mock_write *w, cJSON **out);
/* apiserver's decoder checks on OBJ (kind, apiVersion, metadata types);
 * fills kind and apiVersion, first. 0 or answered (1) or -1. */
int mock_w_check_shape(struct mock_write *w, cJSON *obj);
/* Field validation of OBJ (fields.c) under w->validation: 0, or answered
 * 400 (1), or -1. */
int mock_w_check_fields(struct mock_write *w, cJSON *obj);
/* Label and annotation keys, label values: 0 or answered 422 (1) or -1. */
int mock_w_check_labels(struct mock_write *w, const cJSON *obj,
                        const char *name);

/* The write paths (w->dry_run already read from the query). */
int mock_w_create(struct mock_write *w);           /* write_create.c */
int mock_w_put(struct mock_write *w, int scale);   /* write_update.c */
int mock_w_patch(struct mock_write *w, int scale); /* write_update.c */
int mock_w_delete(struct mock_write *w);           /* write_delete.c */
int mock_w_apply(struct mock_write *w);            /* apply.c */
/* apply.c: ?force= on a patch that is no apply: 0, or answered 422 (1),
 * or -1. */
int mock_w_check_force(struct mock_write *w);
/* Creates OBJ (owned), or updates the stored object w->name with it. */
int mock_w_create_obj(struct mock_write *w, cJSON *obj);
int mock_w_update_obj(struct mock_write *w, cJSON *obj);
/* lifecycle.c: a delete of OBJ that leaves it marked (finalizers, a pod's
 * grace): 0 to remove it now, answered (1), or -1. */
int mock_w_delete_deferred(struct mock_write *w, const cJSON *obj);
/* After an update: the object marked for deletion whose last finalizer
 * went is removed. */
void mock_finalized(struct mock_instance *in, const struct mock_kind *k,
                    const char *ns, const char *name);
struct mock_lifecycle;
void mock_lifecycle_free(struct mock_lifecycle *l);
/* clusterip.c: a Service's cluster IP on create (OLD NULL) or update: 0,
 * or answered 422 (1), or -1. */
int mock_w_cluster_ip(struct mock_write *w, cJSON *obj, const cJSON *old);
/* write_create.c: a Secret's stringData folded into its data. 0 or -1. */
int mock_w_fold_string_data(cJSON *obj);
/* immutable.c: the fields of OLD that the update to OBJ may not change:
 * 0, or answered 422 (1), or -1. */
int mock_w_immutable(struct mock_write *w, const cJSON *obj, const cJSON *old);
/* Records the write of OBJ over OLD (NULL: created) in its managedFields,
 * unless an apply did. 0 or -1. */
int mock_w_managed(struct mock_write *w, const cJSON *old, cJSON *obj);
/* apply.c: an apply body (YAML or JSON) into *OUT. Returns 0; -1 when it
 * is not one (ERR says why); -2 on memory failure. */
int mock_apply_parse(const char *data, size_t len, cJSON **out, char *err,
                     size_t err_len);
int mock_w_delete_collection(struct mock_write *w);
/* write_update.c: the autoscaling/v1 Scale of workload OBJ, or NULL. */
cJSON *mock_w_scale_of(const cJSON *obj);

/* ---- serve.c / plugin.c: the driver ----------------------------------- */

/* SPDY/3.1 limits (spdy.c) */
struct mock_spdy_limits {
    size_t max_frame;        /* a frame's payload */
    size_t max_header_block; /* a header block, inflated */
};

struct mock_instance {
    const struct fg_host *host;
    struct mock_store *store;
    struct mock_watch_hub *watch; /* watch.c: event log and watchers */
    char git_version[64];
    /* Where the client of the request being served reached this member:
     * "/clusters/NAME" through a gateway's prefix, "" unprefixed. */
    char url_prefix[192];
    int64_t max_body;
    struct mock_persist *persist; /* persist.c: NULL without persist = */
    /* exec: how long a pretend process takes to start (0: at once) */
    uint64_t exec_start_ms;
    /* SPDY/3.1 sessions (exec, port-forward): frame and header limits,
     * streams a client may have open */
    struct mock_spdy_limits spdy;
    size_t spdy_max_streams;
    struct mock_podfs *podfs; /* the pods' files (exec's tar, cat) */
    size_t stdin_max;         /* stdin a command may gather (tar x) */
    /* lifecycle.c: removals due later; NULL until the first */
    struct mock_lifecycle *lifecycle;
    uint64_t pod_termination_ms; /* longest a deleted pod stays */
};

extern const struct fg_driver_ops mock_driver_ops;

/* What serve.c decided to answer with. */
struct mock_answer {
    int status;
    const char *content_type;
    char *body; /* a complete body, or NULL */
    size_t body_len;
    struct mock_list *list;         /* a streamed body, or NULL */
    struct mock_producer *producer; /* a long-lived body, or NULL */
    char *warning; /* a Warning header's value (malloc'd), or NULL */
};

/* Fills A with a complete BODY (taken over; NULL means out of memory,
 * returned as -1) of content type CT. */
int mock_answer_body(struct mock_answer *a, int status, char *body,
                     const char *ct);

/* Decides the answer to the complete request HEAD (read in place) with
 * its BODY (NULL: none), which writes need. Returns 0 or -1 (memory). */
int mock_serve(struct mock_instance *in, const struct fg_request_head *head,
               const struct mock_body *body, int body_too_large,
               struct mock_answer *a);

/* ---- route.c: what a resource request addresses ------------------------ */

/* Pointers into the request info: valid until stream_close. */
struct mock_route {
    const char *group, *version, *resource;
    const char *ns;   /* "" when cluster-scoped or all namespaces */
    const char *name; /* NULL when the path names no object */
    const char *sub;  /* NULL when the path names no subresource */
    int watch;        /* the legacy /watch/ segment */
};

/* Fills R from the request info RI. Returns 0, or -1 when RI is no
 * resource request or its path has a shape kube-apiserver serves none for
 * (a 404). */
int mock_route_of(const struct fg_request_info *ri, struct mock_route *r);

/* ---- websocket.c: RFC 6455, the server's side ------------------------- */

#define MOCK_WS_OP_CONT 0x0
#define MOCK_WS_OP_TEXT 0x1
#define MOCK_WS_OP_BINARY 0x2
#define MOCK_WS_OP_CLOSE 0x8
#define MOCK_WS_OP_PING 0x9
#define MOCK_WS_OP_PONG 0xA

/* Sec-WebSocket-Accept for the client's Sec-WebSocket-Key into OUT (28
 * characters and a NUL). -1 when KEY is not a base64 16-byte nonce (or
 * out of memory). */
int mock_ws_accept(const char *key, size_t len, char out[29]);
/* Appends one unmasked, unfragmented server frame to OUT. 0 or -1. */
int mock_ws_frame(struct mock_buf *out, int opcode, const void *payload,
                  size_t len);
int mock_ws_close_frame(struct mock_buf *out, unsigned code,
                        const char *reason);

/* A whole data message (OPCODE text or binary, fragments joined) or a
 * control frame (close, ping, pong). Non-zero stops the parser. */
typedef int (*mock_ws_message_cb)(void *arg, int opcode, const uint8_t *data,
                                  size_t len);

struct mock_ws_parser {
    size_t max_message;
    mock_ws_message_cb on_message;
    void *arg;
    uint8_t hdr[14];
    size_t hdr_len, hdr_need;
    int fin, opcode;
    uint8_t mask[4];
    uint64_t payload_len, payload_got;
    uint8_t ctl[125];    /* the control frame being read */
    int msg_opcode;      /* the data message being read, 0: none */
    struct mock_buf msg; /* its payload so far, unmasked */
    int failed;
    unsigned close_code; /* failed: the close code to answer with */
    const char *error;   /* failed: why, for people */
};

void mock_ws_parser_init(struct mock_ws_parser *p, size_t max_message,
                         mock_ws_message_cb cb, void *arg);
void mock_ws_parser_free(struct mock_ws_parser *p);
/* Parses LEN bytes of client frames. Returns 0 when all were consumed, 1
 * when the callback stopped (the rest unread), -1 when the client broke
 * the protocol (see close_code and error; every later call fails too).
 * *USED (may be NULL) receives the count consumed. */
int mock_ws_parse(struct mock_ws_parser *p, const uint8_t *data, size_t len,
                  size_t *used);

/* ---- spdy.c: SPDY/3.1 frames and header blocks ------------------------ */

#define MOCK_SPDY_DATA 0 /* not a control type: a data frame */
#define MOCK_SPDY_SYN_STREAM 1
#define MOCK_SPDY_SYN_REPLY 2
#define MOCK_SPDY_RST_STREAM 3
#define MOCK_SPDY_SETTINGS 4
#define MOCK_SPDY_PING 6
#define MOCK_SPDY_GOAWAY 7
#define MOCK_SPDY_HEADERS 8
#define MOCK_SPDY_WINDOW_UPDATE 9
#define MOCK_SPDY_FIN 0x01
/* RST_STREAM and GOAWAY status codes */
#define MOCK_SPDY_PROTOCOL_ERROR 1
#define MOCK_SPDY_INVALID_STREAM 2
#define MOCK_SPDY_REFUSED_STREAM 3
#define MOCK_SPDY_INTERNAL_ERROR 6
#define MOCK_SPDY_STREAM_IN_USE 8
#define MOCK_SPDY_FRAME_TOO_LARGE 11

struct mock_spdy_header {
    const char *name;
    size_t name_len;
    const char *value; /* several values are NUL-separated */
    size_t value_len;
};

/* One frame as read: TYPE is MOCK_SPDY_DATA or a control type. */
struct mock_spdy_frame {
    int type;
    uint8_t flags;
    uint32_t stream_id; /* GOAWAY: the last good stream */
    /* SYN_STREAM: associated-to; RST_STREAM, GOAWAY: status; PING: id;
     * WINDOW_UPDATE: delta */
    uint32_t value;
    const uint8_t *data; /* DATA */
    size_t len;
    const struct mock_spdy_header *headers; /* SYN_*, HEADERS */
    size_t n_headers;
};

/* A frame was read; non-zero stops the reader. */
typedef int (*mock_spdy_frame_cb)(void *arg, const struct mock_spdy_frame *f);

struct mock_spdy {
    struct mock_spdy_limits lim;
    mock_spdy_frame_cb on_frame;
    void *arg;
    struct mock_buf in; /* bytes of the frame being read */
    z_stream zin, zout; /* the connection's header compression */
    int zin_ready, zout_ready;
    char *block; /* the last header block, inflated */
    size_t block_len;
    struct mock_spdy_header *hv; /* its pairs, pointing into block */
    size_t n_hv;
    /* set: frames are only buffered, read at the next parse once clear
     * (the transport is paused meanwhile, which bounds them) */
    int held;
    int failed;
    uint32_t goaway_status; /* failed: the GOAWAY status to send */
    const char *error;      /* failed: why, for people */
};

int mock_spdy_init(struct mock_spdy *s, const struct mock_spdy_limits *lim,
                   mock_spdy_frame_cb cb, void *arg);
void mock_spdy_free(struct mock_spdy *s);
/* Reads LEN bytes of client frames (the bytes a stop or hold left first).
 * 0, 1 (the callback stopped: unread frames stay buffered) or -1 (see
 * goaway_status and error; later calls fail too). */
int mock_spdy_parse(struct mock_spdy *s, const uint8_t *data, size_t len);
/* Inflates one compressed header block into s->hv (n_hv pairs). 0 or -1. */
int mock_spdy_headers_in(struct mock_spdy *s, const uint8_t *z, size_t zlen);
/* Appends the compressed block of the N headers H to OUT. 0 or -1. */
int mock_spdy_headers_out(struct mock_spdy *s, struct mock_buf *out,
                          const struct mock_spdy_header *h, size_t n);
/* The last block's header NAME (case-insensitive), or NULL. */
const struct mock_spdy_header *mock_spdy_header(const struct mock_spdy *s,
                                                const char *name);
/* Frame writers: each appends one frame to OUT; 0 or -1. */
int mock_spdy_syn_reply(struct mock_spdy *s, struct mock_buf *out, uint32_t id,
                        int fin, const struct mock_spdy_header *h, size_t n);
int mock_spdy_data(struct mock_buf *out, uint32_t id, int fin, const void *data,
                   size_t len);
int mock_spdy_rst(struct mock_buf *out, uint32_t id, uint32_t status);
int mock_spdy_ping(struct mock_buf *out, uint32_t id);
int mock_spdy_goaway(struct mock_buf *out, uint32_t last_good, uint32_t status);

/* ---- upgrade.c: exec's and port-forward's handshakes ----------------- */

enum { MOCK_UP_NONE, MOCK_UP_WEBSOCKET, MOCK_UP_SPDY };

struct mock_upgrade {
    const struct fg_stream_callbacks *cb;
    void *ctx;
    int kind; /* MOCK_UP_*: what the client asked to switch to */
    /* header values, several fields joined with commas */
    struct mock_buf key, version, protocols, streams;
    int has_key, has_version, has_protocols, has_streams;
    int answered; /* a refusal or the 101 went out */
};

/* Reads HEAD's upgrade headers. 0, or -1 when out of memory. */
int mock_upgrade_init(struct mock_upgrade *u,
                      const struct fg_request_head *head,
                      const struct fg_stream_callbacks *cb, void *ctx);
void mock_upgrade_free(struct mock_upgrade *u);
/* Answers with the Status JSON (taken; NULL: out of memory), ends. */
void mock_upgrade_answer(struct mock_upgrade *u, int code, char *json);
void mock_upgrade_status(struct mock_upgrade *u, int code, const char *reason,
                         const char *message);
/* The index in KNOWN (NULL-terminated) of the first name of the
 * comma-separated LIST that KNOWN holds, or -1. */
int mock_upgrade_pick(const char *list, const char *const *known);
/* The WebSocket handshake with a subprotocol of KNOWN (FALLBACK's index
 * when the client offers none; -1: one is required). Returns the index
 * switched to, or -1 after refusing (a 400) or when the client is gone. */
int mock_upgrade_websocket(struct mock_upgrade *u, const char *const *known,
                           int fallback);
/* The SPDY/3.1 handshake with an X-Stream-Protocol-Version of KNOWN.
 * Returns the index switched to, or -1 after refusing (a 403, as
 * kube-apiserver's) or when the client is gone. */
int mock_upgrade_spdy(struct mock_upgrade *u, const char *const *known);

/* ---- podfs.c: the pretend containers' files, per pod ------------------ */

struct mock_file {
    char *path; /* absolute, normalised */
    void *data;
    size_t len;
    int is_dir;
    unsigned mode;
};

struct mock_podfs;

/* Every pod's tree; a pod holds at most MAX_BYTES of file data. */
struct mock_podfs *mock_podfs_new(size_t max_bytes);
void mock_podfs_free(struct mock_podfs *fs);
/* DIR joined with NAME ("" or NULL: none) into OUT as an absolute
 * normalised path. 0, or -1 when it does not fit LEN. */
int mock_path_join(const char *dir, const char *name, char *out, size_t len);
/* The file or made directory at PATH in pod UID's tree, or NULL. */
const struct mock_file *mock_podfs_get(struct mock_podfs *fs, const char *uid,
                                       const char *path);
int mock_podfs_is_dir(struct mock_podfs *fs, const char *uid, const char *path);
/* Creates or replaces PATH. 0, -1 out of memory, -2 past the pod's bytes. */
int mock_podfs_put(struct mock_podfs *fs, const char *uid, const char *path,
                   int is_dir, unsigned mode, const void *data, size_t len);
/* CB for every entry under DIR (not DIR itself); stops at its non-zero. */
int mock_podfs_each(struct mock_podfs *fs, const char *uid, const char *dir,
                    int (*cb)(void *arg, const struct mock_file *f), void *arg);

/* ---- tar.c: `tar xf -` and `tar cf -` over a pod's files --------------- */

/* Extracts the archive DATA into DIR. 0, or -1 with tar's message. */
int mock_tar_extract(struct mock_podfs *fs, const char *uid, const char *dir,
                     const uint8_t *data, size_t len, char *err,
                     size_t err_len);
/* Appends the archive of PATH (a file, or a directory with what it
 * holds) to OUT. 0, or -1 with tar's message. */
int mock_tar_create(struct mock_podfs *fs, const char *uid, const char *path,
                    struct mock_buf *out, char *err, size_t err_len);

/* ---- exec.c: pods/exec (and a refused pods/attach) over WebSocket ---- */

struct mock_exec;

/* 1 when the request info RI names a pod's exec or attach subresource:
 * exec.c answers. */
int mock_exec_match(const struct fg_request_info *ri);
/* The stream_* operations for such a request (see driver.h). */
struct mock_exec *mock_exec_open(struct mock_instance *in,
                                 const struct fg_request_head *head,
                                 const struct fg_stream_callbacks *cb,
                                 void *ctx);
int mock_exec_write(struct mock_exec *x, const void *buf, size_t len);
void mock_exec_end(struct mock_exec *x);
void mock_exec_resume(struct mock_exec *x);
void mock_exec_close(struct mock_exec *x);

/* ---- portforward.c: pods/portforward over WebSocket and SPDY --------- */

struct mock_pf;

/* 1 when RI names a pod's portforward subresource: portforward.c answers. */
int mock_pf_match(const struct fg_request_info *ri);
/* The stream_* operations for such a request (see driver.h). */
struct mock_pf *mock_pf_open(struct mock_instance *in,
                             const struct fg_request_head *head,
                             const struct fg_stream_callbacks *cb, void *ctx);
int mock_pf_write(struct mock_pf *p, const void *buf, size_t len);
void mock_pf_end(struct mock_pf *p);
void mock_pf_resume(struct mock_pf *p);
void mock_pf_close(struct mock_pf *p);

#endif
