/* Helm provenance files (.tgz.prov): a PGP clear-signed message whose text
 * is the chart's Chart.yaml, a "..." line, then a YAML document whose
 * `files` map names the archive and its "sha256:HEX". The signature is the
 * client's to verify (helm --verify, with its keyring); the repository
 * only checks that a provenance file is for the chart it is stored with:
 * the same name, version and archive digest. Lines the signer dash-escaped
 * ("- ", RFC 4880 7.1) are unescaped first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <fedgate/yaml.h>

#include "appstore.h"

static const char begin[] = "-----BEGIN PGP SIGNED MESSAGE-----\n";
static const char sig[] = "\n-----BEGIN PGP SIGNATURE-----";

/* The digest the files document FILES (N bytes) gives NAME-VERSION.tgz. */
static int file_digest(const char *files, size_t n, const char *file,
                       char digest[65], char *err, size_t err_len)
{
    struct fg_yaml_node **docs = NULL;
    char perr[256];
    long nd = fg_yaml_parse(files, n, "provenance", 8, 10000, &docs, perr,
                            sizeof perr);
    const struct fg_yaml_node *f =
        nd == 1 && docs[0]->type == FG_YAML_MAP
            ? fg_yaml_get(fg_yaml_get(docs[0], "files"), file)
            : NULL;
    int rc = -1;
    if (f && f->type == FG_YAML_SCALAR && strlen(f->text) == 71 &&
        strncmp(f->text, "sha256:", 7) == 0) {
        memcpy(digest, f->text + 7, 65);
        rc = 0;
    } else {
        snprintf(err, err_len,
                 "the provenance file gives no sha256 digest for %s", file);
    }
    if (nd > 0)
        fg_yaml_free_docs(docs, (size_t)nd);
    return rc;
}

cJSON *appstore_prov_read(const void *data, size_t len, char digest[65],
                          char *err, size_t err_len)
{
    const char *s = data, *end = s + len;
    const char *body =
        len > sizeof begin - 1 && memcmp(s, begin, sizeof begin - 1) == 0
            ? memmem(s, len, "\n\n", 2)
            : NULL;
    const char *stop =
        body ? memmem(body, (size_t)(end - body), sig, sizeof sig - 1) : NULL;
    char *text = stop ? malloc((size_t)(stop - body) + 1) : NULL;
    if (!text) {
        snprintf(err, err_len,
                 "not a Helm provenance file (a PGP signed message)");
        return NULL;
    }
    size_t o = 0;
    for (const char *q = body + 2; q <= stop;) {
        const char *eol = memchr(q, '\n', (size_t)(stop + 1 - q));
        size_t ll = (size_t)(eol - q) + 1;
        if (ll >= 2 && q[0] == '-' && q[1] == ' ') {
            q += 2;
            ll -= 2;
        }
        memcpy(text + o, q, ll);
        o += ll;
        q += ll;
    }
    text[o] = 0;
    char *dots = strstr(text, "\n...\n");
    cJSON *md = NULL;
    if (!dots)
        snprintf(err, err_len,
                 "not a Helm provenance file (Chart.yaml, then \"...\")");
    else
        md = appstore_chart_metadata(text, (size_t)(dots + 1 - text), err,
                                     err_len);
    if (md) {
        char file[600];
        snprintf(file, sizeof file, "%s-%s.tgz",
                 cJSON_GetObjectItemCaseSensitive(md, "name")->valuestring,
                 cJSON_GetObjectItemCaseSensitive(md, "version")->valuestring);
        if (file_digest(dots + 5, strlen(dots + 5), file, digest, err,
                        err_len) < 0) {
            cJSON_Delete(md);
            md = NULL;
        }
    }
    free(text);
    return md;
}

int appstore_prov_check(const void *data, size_t len, const cJSON *chart,
                        const char *chart_digest, char *err, size_t err_len)
{
    char digest[65];
    cJSON *md = appstore_prov_read(data, len, digest, err, err_len);
    if (!md)
        return -1;
    const char *name =
        cJSON_GetObjectItemCaseSensitive(md, "name")->valuestring;
    const char *version =
        cJSON_GetObjectItemCaseSensitive(md, "version")->valuestring;
    const char *cname =
        cJSON_GetObjectItemCaseSensitive(chart, "name")->valuestring;
    const char *cversion =
        cJSON_GetObjectItemCaseSensitive(chart, "version")->valuestring;
    int rc = 0;
    if (strcmp(name, cname) != 0 || strcmp(version, cversion) != 0) {
        snprintf(err, err_len,
                 "the provenance file is for %.100s %.100s, not %.100s %.100s",
                 name, version, cname, cversion);
        rc = -1;
    } else if (strcmp(digest, chart_digest) != 0) {
        snprintf(err, err_len,
                 "the provenance file's sha256 for %.100s-%.100s.tgz is not "
                 "the chart's",
                 name, version);
        rc = -1;
    }
    cJSON_Delete(md);
    return rc;
}
