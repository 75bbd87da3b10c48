/* The tests' tar and gzip writer (tgz.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "tgz.h"

void tgz_put(struct tgz *t, const void *p, size_t n)
{
    if (t->len + n > t->cap) {
        t->cap = (t->len + n) * 2 + 4096;
        t->tar = realloc(t->tar, t->cap);
    }
    memcpy(t->tar + t->len, p, n);
    t->len += n;
}

void tgz_entry(struct tgz *t, char type, const char *name, const void *data,
               size_t n)
{
    unsigned char h[512] = {0};
    size_t nl = strlen(name);
    if (nl <= 100) {
        memcpy(h, name, nl);
    } else {
        const char *cut = name + nl - 100;
        while (*cut && *cut != '/')
            cut++;
        memcpy(h + 345, name, (size_t)(cut - name));
        memcpy(h, cut + 1, strlen(cut + 1));
    }
    snprintf((char *)h + 100, 8, "%07o", 0644);
    snprintf((char *)h + 108, 8, "%07o", 0);
    snprintf((char *)h + 116, 8, "%07o", 0);
    snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)n);
    snprintf((char *)h + 136, 12, "%011o", 0);
    h[156] = (unsigned char)type;
    memcpy(h + 257,
           "ustar\0"
           "00",
           8);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    tgz_put(t, h, 512);
    tgz_put(t, data, n);
    static const unsigned char zero[512];
    tgz_put(t, zero, (512 - n % 512) % 512);
}

void tgz_file(struct tgz *t, const char *name, const char *text)
{
    tgz_entry(t, '0', name, text, strlen(text));
}

void tgz_pax(struct tgz *t, const char *records)
{
    tgz_entry(t, 'x', "PaxHeaders/x", records, strlen(records));
}

void tgz_end(struct tgz *t)
{
    static const unsigned char zero[1024];
    tgz_put(t, zero, sizeof zero);
}

unsigned char *tgz_gzip(struct tgz *t, size_t *len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    size_t cap = deflateBound(&z, t->len);
    unsigned char *out = malloc(cap);
    z.next_in = t->tar;
    z.avail_in = (uInt)t->len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    deflate(&z, Z_FINISH);
    *len = cap - z.avail_out;
    deflateEnd(&z);
    free(t->tar);
    memset(t, 0, sizeof *t);
    return out;
}

unsigned char *tgz_chart(const char *name, const char *chart_yaml, size_t *len)
{
    char path[256], yaml[512];
    struct tgz t = {0};
    if (!chart_yaml) {
        snprintf(yaml, sizeof yaml,
                 "apiVersion: v2\nname: %s\nversion: 0.1.0\n", name);
        chart_yaml = yaml;
    }
    snprintf(path, sizeof path, "%s/Chart.yaml", name);
    tgz_file(&t, path, chart_yaml);
    snprintf(path, sizeof path, "%s/values.yaml", name);
    tgz_file(&t, path, "replicas: 1\n");
    snprintf(path, sizeof path, "%s/templates/cm.yaml", name);
    tgz_file(&t, path, "kind: ConfigMap\n");
    tgz_end(&t);
    return tgz_gzip(&t, len);
}
