/* fg_mkdir_p, atomic file writes and bounded reads: see fsutil.h. */
#include "base/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

char *fg_path_join(const char *dir, const char *name)
{
    size_t dl = strlen(dir), nl = strlen(name);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    /* The root directory already ends with its separator. */
    size_t sep = dl > 0 && dir[dl - 1] == '/' ? 0 : 1;
    char *p = malloc(dl + sep + nl + 1);
    if (!p)
        return NULL;
    memcpy(p, dir, dl);
    if (sep)
        p[dl] = '/';
    memcpy(p + dl + sep, name, nl + 1);
    return p;
}

int fg_mkdir_p(const char *path, mode_t mode, struct fg_error *err)
{
    if (!path || !*path)
        return fg_error_set(err, "empty directory path");
    char *buf = strdup(path);
    if (!buf)
        return fg_error_set(err, "%s: out of memory", path);
    size_t n = strlen(buf);
    while (n > 1 && buf[n - 1] == '/')
        buf[--n] = '\0';

    /* Walk the prefixes left to right; each one either exists as a
     * directory or is created now. */
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(buf, mode) != 0) {
            int e = errno;
            struct stat st;
            if (e != EEXIST || stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
                fg_error_set(err, "cannot create directory %s: %s", buf,
                             strerror(e == EEXIST ? ENOTDIR : e));
                free(buf);
                return -1;
            }
        }
        *p = saved;
        if (saved == '\0')
            break;
    }
    free(buf);
    return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* The directory entry of a renamed file is durable only once its directory
 * is synced too. */
static void sync_parent_dir(const char *path)
{
    char *dir = strdup(path);
    if (!dir)
        return;
    char *slash = strrchr(dir, '/');
    const char *d = ".";
    if (slash == dir)
        d = "/";
    else if (slash) {
        *slash = '\0';
        d = dir;
    }
    int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

/* Writes a complete, synced temporary file next to PATH; returns its
 * malloc'd name or NULL. */
static char *write_temp(const char *path, const void *data, size_t len,
                        mode_t mode, struct fg_error *err)
{
    size_t pl = strlen(path);
    char *tmp = malloc(pl + sizeof(".tmp.XXXXXX"));
    if (!tmp) {
        fg_error_set(err, "%s: out of memory", path);
        return NULL;
    }
    memcpy(tmp, path, pl);
    memcpy(tmp + pl, ".tmp.XXXXXX", sizeof(".tmp.XXXXXX"));
    /* mkostemp creates the file 0600 with O_EXCL, so a secret is never
     * readable by others, not even before the fchmod. */
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        fg_error_set(err, "cannot create %s: %s", tmp, strerror(errno));
        free(tmp);
        return NULL;
    }
    if (fchmod(fd, mode) != 0 || write_all(fd, data, len) != 0 ||
        fsync(fd) != 0) {
        fg_error_set(err, "cannot write %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        free(tmp);
        return NULL;
    }
    if (close(fd) != 0) {
        fg_error_set(err, "cannot write %s: %s", tmp, strerror(errno));
        unlink(tmp);
        free(tmp);
        return NULL;
    }
    return tmp;
}

int fg_write_file_atomic(const char *path, const void *data, size_t len,
                         mode_t mode, struct fg_error *err)
{
    char *tmp = write_temp(path, data, len, mode, err);
    if (!tmp)
        return -1;
    if (rename(tmp, path) != 0) {
        fg_error_set(err, "cannot rename %s to %s: %s", tmp, path,
                     strerror(errno));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    sync_parent_dir(path);
    return 0;
}

int fg_create_file_atomic(const char *path, const void *data, size_t len,
                          mode_t mode, struct fg_error *err)
{
    char *tmp = write_temp(path, data, len, mode, err);
    if (!tmp)
        return -1;
    /* link() fails with EEXIST instead of replacing, which rename() would
     * do: the first creator wins and everyone else reads its content. */
    int rc = 0;
    if (link(tmp, path) != 0) {
        if (errno == EEXIST)
            rc = 1;
        else
            rc = fg_error_set(err, "cannot create %s: %s", path,
                              strerror(errno));
    }
    unlink(tmp);
    free(tmp);
    if (rc == 0)
        sync_parent_dir(path);
    return rc;
}

int fg_read_file(const char *path, size_t max_len, char **out, size_t *len,
                 mode_t *mode, struct fg_error *err)
{
    *out = NULL;
    if (len)
        *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        fg_error_set(err, "cannot open %s: %s", path, strerror(e));
        errno = e;
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        fg_error_set(err, "cannot stat %s: %s", path, strerror(e));
        close(fd);
        errno = e;
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        fg_error_set(err, "%s is not a regular file", path);
        close(fd);
        errno = EINVAL;
        return -1;
    }
    if ((uintmax_t)st.st_size > max_len) {
        fg_error_set(err, "%s is larger than %zu bytes", path, max_len);
        close(fd);
        errno = EFBIG;
        return -1;
    }
    /* One spare byte beyond the size shows whether the file grew; the
     * buffer never grows past MAX_LEN + 2. */
    size_t cap = (size_t)st.st_size + 2, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fg_error_set(err, "%s: out of memory", path);
        close(fd);
        errno = ENOMEM;
        return -1;
    }
    for (;;) {
        if (n + 1 == cap) {
            if (n > max_len)
                break;
            size_t want = cap * 2 > max_len + 2 ? max_len + 2 : cap * 2;
            char *bigger = realloc(buf, want);
            if (!bigger) {
                fg_error_set(err, "%s: out of memory", path);
                free(buf);
                close(fd);
                errno = ENOMEM;
                return -1;
            }
            buf = bigger;
            cap = want;
        }
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            fg_error_set(err, "cannot read %s: %s", path, strerror(e));
            free(buf);
            close(fd);
            errno = e;
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (n > max_len) {
        fg_error_set(err, "%s is larger than %zu bytes", path, max_len);
        free(buf);
        errno = EFBIG;
        return -1;
    }
    buf[n] = '\0';
    *out = buf;
    if (len)
        *len = n;
    if (mode)
        *mode = st.st_mode & 07777;
    return 0;
}

int fg_memory_file(const void *data, size_t len, char path[32])
{
    int fd = memfd_create("fedgate-pem", MFD_CLOEXEC);
    if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    snprintf(path, 32, "/proc/self/fd/%d", fd);
    return fd;
}

int fg_path_format(char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, PATH_MAX, fmt, ap);
    va_end(ap);
    return n >= 0 && n < PATH_MAX ? 0 : -1;
}
