/* metadata.managedFields, kept as kube-apiserver keeps it: one entry per
 * (manager, operation, subresource) with the set of fields that manager
 * owns (fieldset.c). An Update (create, PUT, PATCH) gives its manager the
 * fields whose values it changed and takes them from everyone else; an
 * Apply (server-side apply) merges the applied configuration into the
 * live object along the schema, refuses with the conflicting fields and
 * their managers when it would change a field someone else owns (unless
 * forced, which takes the fields over), and removes the fields its
 * manager applied before and applies no more when no one else owns
 * them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

/* ---- entries ---------------------------------------------------------- */

static int same_entry(const cJSON *e, const char *manager, const char *op,
                      const char *sub)
{
    return strcmp(mock_json_str(e, "manager", ""), manager) == 0 &&
           strcmp(mock_json_str(e, "operation", ""), op) == 0 &&
           strcmp(mock_json_str(e, "subresource", ""), sub ? sub : "") == 0;
}

/* The entry of (MANAGER, OP, SUB) in ENTRIES, added when absent; its
 * time and apiVersion set. NULL on memory failure. */
static cJSON *entry_of(cJSON *entries, const char *manager, const char *op,
                       const char *sub, const char *api_version,
                       const char *now)
{
    cJSON *e;
    cJSON_ArrayForEach(e, entries)
    {
        if (same_entry(e, manager, op, sub))
            break;
    }
    if (!e) {
        e = cJSON_CreateObject();
        if (!e || !cJSON_AddItemToArray(entries, e)) {
            cJSON_Delete(e);
            return NULL;
        }
        int ok = cJSON_AddStringToObject(e, "manager", manager) &&
                 cJSON_AddStringToObject(e, "operation", op) &&
                 cJSON_AddStringToObject(e, "apiVersion", api_version) &&
                 cJSON_AddStringToObject(e, "time", now) &&
                 cJSON_AddStringToObject(e, "fieldsType", "FieldsV1") &&
                 cJSON_AddObjectToObject(e, "fieldsV1");
        if (ok && sub && sub[0])
            ok = cJSON_AddStringToObject(e, "subresource", sub) != NULL;
        return ok ? e : NULL;
    }
    if (mock_w_set_str(e, "apiVersion", api_version) != 0 ||
        mock_w_set_str(e, "time", now) != 0)
        return NULL;
    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(e, "fieldsV1")) &&
        fg_json_set(e, "fieldsV1", cJSON_CreateObject()) != 0)
        return NULL;
    return e;
}

static cJSON *set_of(const cJSON *e)
{
    return cJSON_GetObjectItemCaseSensitive(e, "fieldsV1");
}

/* Drops the entries that own nothing, then stores ENTRIES (owned) as
 * OBJ's managedFields, or none when empty. */
static int store_entries(cJSON *obj, cJSON *entries)
{
    cJSON *e = entries ? entries->child : NULL;
    while (e) {
        cJSON *next = e->next;
        const cJSON *set = set_of(e);
        if (!set || !set->child)
            cJSON_Delete(cJSON_DetachItemViaPointer(entries, e));
        e = next;
    }
    cJSON *meta = mock_w_child_obj(obj, "metadata");
    if (!entries || !meta) {
        cJSON_Delete(entries);
        return -1;
    }
    if (!entries->child) {
        cJSON_Delete(entries);
        mock_w_del(meta, "managedFields");
        return 0;
    }
    return fg_json_set(meta, "managedFields", entries);
}

/* A copy of OBJ's entries (an empty array when it has none). */
static cJSON *entries_of(const cJSON *obj)
{
    const cJSON *mf = fg_json_path(obj, "metadata.managedFields");
    return cJSON_IsArray(mf) ? cJSON_Duplicate(mf, 1) : cJSON_CreateArray();
}

static const char *api_version_of(const struct mock_kind *k, char *buf,
                                  size_t len)
{
    return mock_kind_api_version(k, buf, len);
}

/* ---- update ----------------------------------------------------------- */

int mock_managed_update(const struct mock_kind *k, const char *manager,
                        const char *sub, const char *now, const cJSON *old,
                        cJSON *obj)
{
    /* An empty list from the client resets the entries, as kube's
     * documented way to drop them; otherwise the stored ones stand. */
    const cJSON *given = fg_json_path(obj, "metadata.managedFields");
    int reset = cJSON_IsArray(given) && !given->child;
    cJSON *entries = old && !reset ? entries_of(old) : cJSON_CreateArray();
    cJSON *changed = mock_fs_changed(k, sub, old, obj);
    cJSON *before = old ? mock_fs_of(k, sub, old) : cJSON_CreateObject();
    cJSON *after = mock_fs_of(k, sub, obj);
    int rc = -1;
    if (!entries || !changed || !before || !after)
        goto out;
    /* Fields the update removed are no one's any more. */
    mock_fs_subtract(before, after);
    cJSON *e;
    cJSON_ArrayForEach(e, entries)
    {
        mock_fs_subtract(set_of(e), before);
        if (!same_entry(e, manager, "Update", sub))
            mock_fs_subtract(set_of(e), changed);
    }
    if (changed->child) {
        char gv[64];
        e = entry_of(entries, manager, "Update", sub,
                     api_version_of(k, gv, sizeof(gv)), now);
        if (!e || mock_fs_union(set_of(e), changed) != 0)
            goto out;
    }
    rc = store_entries(obj, entries);
    entries = NULL;
out:
    cJSON_Delete(entries);
    cJSON_Delete(changed);
    cJSON_Delete(before);
    cJSON_Delete(after);
    return rc;
}

/* ---- apply: merging along the schema ----------------------------------- */

static int merge_obj(const struct mock_type *t, cJSON *dst, const cJSON *src);

static cJSON *find_keyed(const struct mock_type *t, cJSON *list, const char *k)
{
    cJSON *e;
    cJSON_ArrayForEach(e, list)
    {
        char *ek = mock_fs_item_key(t, e);
        int same = ek && strcmp(ek, k) == 0;
        free(ek);
        if (same)
            return e;
    }
    return NULL;
}

/* SRC's items merged into DST by key; 1 when an item has no key (the
 * list is then replaced whole), -1 on memory failure. */
static int merge_keyed(const struct mock_type *t, cJSON *dst, const cJSON *src)
{
    struct mock_type et;
    if (mock_schema_elem(t, &et) != 0)
        return 1;
    const cJSON *e;
    cJSON_ArrayForEach(e, src)
    {
        char *k = mock_fs_item_key(t, e);
        free(k);
        if (!k || !cJSON_IsObject(e))
            return 1;
    }
    cJSON_ArrayForEach(e, src)
    {
        char *k = mock_fs_item_key(t, e);
        cJSON *de = k ? find_keyed(t, dst, k) : NULL;
        free(k);
        if (de && cJSON_IsObject(de)) {
            if (merge_obj(&et, de, e) != 0)
                return -1;
        } else if (!cJSON_AddItemToArray(dst, cJSON_Duplicate(e, 1))) {
            return -1;
        }
    }
    return 0;
}

static int merge_obj(const struct mock_type *t, cJSON *dst, const cJSON *src)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, src)
    {
        struct mock_type mt;
        if (mock_schema_member(t, m->string, &mt) != 0)
            mock_schema_type("o", 1, &mt);
        cJSON *d = cJSON_GetObjectItemCaseSensitive(dst, m->string);
        int granular =
            mt.c == MOCK_T_STRUCT || mt.c == MOCK_T_MAP || mt.c == MOCK_T_ANY;
        if (d && granular && cJSON_IsObject(d) && cJSON_IsObject(m)) {
            if (merge_obj(&mt, d, m) != 0)
                return -1;
            continue;
        }
        if (d && mt.c == MOCK_T_LIST_MAP && cJSON_IsArray(d) &&
            cJSON_IsArray(m)) {
            int r = merge_keyed(&mt, d, m);
            if (r < 0)
                return -1;
            if (r == 0)
                continue;
        }
        if (d && mt.c == MOCK_T_SET && cJSON_IsArray(d) && cJSON_IsArray(m)) {
            const cJSON *v;
            cJSON_ArrayForEach(v, m)
            {
                const cJSON *x;
                int have = 0;
                cJSON_ArrayForEach(x, d) have |= cJSON_Compare(x, v, 1);
                if (!have && !cJSON_AddItemToArray(d, cJSON_Duplicate(v, 1)))
                    return -1;
            }
            continue;
        }
        if (fg_json_set(dst, m->string, cJSON_Duplicate(m, 1)) != 0)
            return -1;
    }
    return 0;
}

/* ---- apply: conflicts -------------------------------------------------- */

/* How kube's conflict messages name the manager of entry E. */
static void manager_text(const cJSON *e, char *buf, size_t len)
{
    const char *sub = mock_json_str(e, "subresource", "");
    int n = snprintf(buf, len, "\"%.128s\"", mock_json_str(e, "manager", ""));
    if (sub[0] && n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " with subresource \"%.32s\"",
                      sub);
    if (strcmp(mock_json_str(e, "operation", ""), "Update") == 0 && n > 0 &&
        (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, " using %.64s",
                 mock_json_str(e, "apiVersion", ""));
}

/* The 409 text and causes for the conflicts in FOUND: an array of
 * [entry text, [paths]]. */
static int conflict_report(const cJSON *found, struct mock_apply *r)
{
    size_t total = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, found)
    {
        total += (size_t)cJSON_GetArraySize(cJSON_GetArrayItem(c, 1));
    }
    struct mock_buf b = {0};
    char head[96];
    int bad = 0;
    r->causes = cJSON_CreateArray();
    if (!r->causes)
        return -1;
    if (total == 1) {
        c = found->child;
        snprintf(head, sizeof(head), "Apply failed with 1 conflict: ");
        bad |= mock_buf_adds(&b, head);
        bad |= mock_buf_adds(&b, "conflict with ");
        bad |= mock_buf_adds(&b, cJSON_GetArrayItem(c, 0)->valuestring);
        bad |= mock_buf_adds(&b, ": ");
        bad |= mock_buf_adds(
            &b, cJSON_GetArrayItem(cJSON_GetArrayItem(c, 1), 0)->valuestring);
    } else {
        snprintf(head, sizeof(head),
                 "Apply failed with %zu conflicts: ", total);
        bad |= mock_buf_adds(&b, head);
        cJSON_ArrayForEach(c, found)
        {
            if (c != found->child)
                bad |= mock_buf_adds(&b, "\n");
            bad |= mock_buf_adds(&b, "conflicts with ");
            bad |= mock_buf_adds(&b, cJSON_GetArrayItem(c, 0)->valuestring);
            bad |= mock_buf_adds(&b, ":");
            const cJSON *p;
            cJSON_ArrayForEach(p, cJSON_GetArrayItem(c, 1))
            {
                bad |= mock_buf_adds(&b, "\n- ");
                bad |= mock_buf_adds(&b, p->valuestring);
            }
        }
    }
    cJSON_ArrayForEach(c, found)
    {
        const cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetArrayItem(c, 1))
        {
            cJSON *cause = cJSON_CreateObject();
            char msg[400];
            snprintf(msg, sizeof(msg), "conflict with %s",
                     cJSON_GetArrayItem(c, 0)->valuestring);
            bad |= !cause || !cJSON_AddItemToArray(r->causes, cause) ||
                   !cJSON_AddStringToObject(cause, "reason",
                                            "FieldManagerConflict") ||
                   !cJSON_AddStringToObject(cause, "message", msg) ||
                   !cJSON_AddStringToObject(cause, "field", p->valuestring);
        }
    }
    if (bad) {
        mock_buf_free(&b);
        return -1;
    }
    r->message = b.p;
    return 0;
}

/* ---- apply ------------------------------------------------------------ */

void mock_apply_free(struct mock_apply *r)
{
    cJSON_Delete(r->merged);
    cJSON_Delete(r->causes);
    free(r->message);
    memset(r, 0, sizeof(*r));
}

int mock_managed_apply(const struct mock_kind *k, const char *manager,
                       int force, const char *now, const cJSON *live,
                       const cJSON *applied, struct mock_apply *r)
{
    memset(r, 0, sizeof(*r));
    struct mock_type root;
    if (mock_schema_root(k, &root) != 0)
        return -1;
    cJSON *cfg = cJSON_Duplicate(applied, 1);
    if (cfg && mock_kind_has_status(k))
        mock_w_del(cfg, "status"); /* the status subresource's alone */
    cJSON *mine = cfg ? mock_fs_of(k, NULL, cfg) : NULL;
    cJSON *entries = live ? entries_of(live) : cJSON_CreateArray();
    cJSON *merged = live ? cJSON_Duplicate(live, 1) : NULL;
    cJSON *changed = NULL, *found = cJSON_CreateArray(), *gone = NULL;
    int rc = -1;
    if (!cfg || !mine || !entries || !found || (live && !merged))
        goto out;
    if (!live) {
        merged = cfg;
        cfg = NULL;
    } else {
        if (merge_obj(&root, merged, cfg) != 0)
            goto out;
        changed = mock_fs_changed(k, NULL, live, merged);
        cJSON *ours = changed ? mock_fs_intersect(changed, mine) : NULL;
        cJSON_Delete(changed);
        changed = ours;
        if (!changed)
            goto out;
        cJSON *e;
        cJSON_ArrayForEach(e, entries)
        {
            if (same_entry(e, manager, "Apply", NULL))
                continue;
            cJSON *both = mock_fs_intersect(changed, set_of(e));
            cJSON *list = both ? mock_fs_paths(both) : NULL;
            int has = list && list->child;
            if (has && force)
                mock_fs_subtract(set_of(e), both);
            cJSON_Delete(both);
            if (!list)
                goto out;
            if (!has) {
                cJSON_Delete(list);
                continue;
            }
            char who[300];
            manager_text(e, who, sizeof(who));
            cJSON *pair = cJSON_CreateArray();
            if (!pair || !cJSON_AddItemToArray(found, pair) ||
                !cJSON_AddItemToArray(pair, cJSON_CreateString(who)) ||
                !cJSON_AddItemToArray(pair, list)) {
                cJSON_Delete(list);
                goto out;
            }
        }
        if (found->child && !force) {
            rc = conflict_report(found, r) == 0 ? 1 : -1;
            goto out;
        }
        /* What this manager applied before and applies no more goes,
         * unless someone else owns it too. */
        cJSON_ArrayForEach(e, entries)
        {
            if (same_entry(e, manager, "Apply", NULL))
                gone = cJSON_Duplicate(set_of(e), 1);
        }
        if (gone) {
            mock_fs_subtract(gone, mine);
            cJSON_ArrayForEach(e, entries)
            {
                if (!same_entry(e, manager, "Apply", NULL))
                    mock_fs_subtract(gone, set_of(e));
            }
            mock_fs_remove(merged, gone);
        }
    }
    /* The same configuration applied again changes nothing, not even the
     * entry's time: no write. */
    cJSON *e;
    int same = 0;
    cJSON_ArrayForEach(e, entries)
    {
        if (same_entry(e, manager, "Apply", NULL))
            same = cJSON_Compare(set_of(e), mine, 1);
    }
    char gv[64];
    if (!same) {
        e = entry_of(entries, manager, "Apply", NULL,
                     api_version_of(k, gv, sizeof(gv)), now);
        if (!e || fg_json_set(e, "fieldsV1", mine) != 0) {
            mine = NULL;
            goto out;
        }
        mine = NULL;
    }
    rc = store_entries(merged, entries);
    entries = NULL;
    if (rc == 0) {
        r->merged = merged;
        merged = NULL;
    }
out:
    cJSON_Delete(cfg);
    cJSON_Delete(mine);
    cJSON_Delete(entries);
    cJSON_Delete(merged);
    cJSON_Delete(changed);
    cJSON_Delete(found);
    cJSON_Delete(gone);
    return rc;
}
