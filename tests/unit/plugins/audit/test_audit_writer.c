/* Tests of the audit file writer (plugins/policy/audit/writer.c): every
 * event reaches the file once, in order, from several threads; size
 * rotation keeps N backups each under the limit; a reopen after the file
 * was moved loses nothing; a full disk (/dev/full) holds events and
 * reports it, a later reopen onto a writable file writes them all; a full
 * queue drops and counts; a file size limit is a full disk, not a
 * signal; instances share one writer per path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/fedgate-audit-writer-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *path_of(const char *name)
{
    static char p[4][128];
    static int i;
    i = (i + 1) % 4;
    snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
    return p[i];
}

static struct audit_writer_config config(const char *path)
{
    return (struct audit_writer_config){.path = path,
                                        .max_size = 1 << 20,
                                        .max_backups = 3,
                                        .queue_max = 1000,
                                        .retry_ms = 20};
}

static void submit(struct audit_writer *w, int n)
{
    char buf[64];
    int len = snprintf(buf, sizeof(buf), "{\"n\":%d}\n", n);
    assert_int_equal(audit_writer_submit(w, strdup(buf), (size_t)len), 0);
}

/* The numbers in the lines of FILE appended to SEEN (1 per number);
 * returns how many lines it had. */
static int read_lines(const char *file, unsigned char *seen, int max)
{
    FILE *f = fopen(file, "r");
    if (!f)
        return 0;
    char line[256];
    int lines = 0, n;
    while (fgets(line, sizeof(line), f)) {
        assert_int_equal(sscanf(line, "{\"n\":%d}\n", &n), 1);
        assert_true(n >= 0 && n < max);
        seen[n]++;
        lines++;
    }
    fclose(f);
    return lines;
}

static void assert_each_once(const unsigned char *seen, int n)
{
    for (int i = 0; i < n; i++)
        if (seen[i] != 1)
            fail_msg("event %d is in the files %d times", i, seen[i]);
}

struct producer {
    struct audit_writer *w;
    int from, n;
};

static void *produce(void *arg)
{
    struct producer *p = arg;
    for (int i = 0; i < p->n; i++)
        submit(p->w, p->from + i);
    return NULL;
}

static void test_every_event_once_from_threads(void **state)
{
    (void)state;
    char err[256];
    struct audit_writer_config cfg = config(path_of("a.log"));
    cfg.queue_max = 100000;
    struct audit_writer *w = audit_writer_acquire(&cfg, err, sizeof(err));
    assert_non_null(w);
    pthread_t t[4];
    struct producer p[4];
    for (int i = 0; i < 4; i++) {
        p[i] = (struct producer){w, i * 5000, 5000};
        pthread_create(&t[i], NULL, produce, &p[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(audit_writer_flush(w, 10000), 0);
    struct audit_writer_stats st;
    audit_writer_stats(w, &st);
    assert_int_equal(st.written, 20000);
    assert_int_equal(st.dropped, 0);
    assert_int_equal(st.queued, 0);
    audit_writer_release(w);
    unsigned char *seen = calloc(20000, 1);
    assert_int_equal(read_lines(cfg.path, seen, 20000), 20000);
    assert_each_once(seen, 20000);
    free(seen);
    struct stat sb;
    assert_int_equal(stat(cfg.path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
}

static void test_rotation_keeps_backups_under_the_limit(void **state)
{
    (void)state;
    char err[256];
    struct audit_writer_config cfg = config(path_of("r.log"));
    cfg.max_size = 1024;
    cfg.max_backups = 3;
    struct audit_writer *w = audit_writer_acquire(&cfg, err, sizeof(err));
    assert_non_null(w);
    /* ~11 bytes a line: 4 files of 1024 hold ~370 lines of the 600 */
    for (int i = 0; i < 600; i++)
        submit(w, i);
    assert_int_equal(audit_writer_flush(w, 10000), 0);
    struct audit_writer_stats st;
    audit_writer_stats(w, &st);
    assert_true(st.rotations >= 5);
    audit_writer_release(w);
    unsigned char seen[600] = {0};
    int total = 0;
    const char *files[] = {"r.log", "r.log.1", "r.log.2", "r.log.3"};
    int newest_first[4];
    for (int f = 0; f < 4; f++) {
        struct stat sb;
        assert_int_equal(stat(path_of(files[f]), &sb), 0);
        assert_true(sb.st_size <= 1024);
        newest_first[f] = read_lines(path_of(files[f]), seen, 600);
        total += newest_first[f];
    }
    struct stat sb;
    assert_int_equal(stat(path_of("r.log.4"), &sb), -1);
    /* What is kept is the newest events, each once, none torn. */
    for (int i = 600 - total; i < 600; i++)
        assert_int_equal(seen[i], 1);
    for (int i = 0; i < 600 - total; i++)
        assert_int_equal(seen[i], 0);
}

static void test_one_event_larger_than_the_limit(void **state)
{
    (void)state;
    char err[256];
    struct audit_writer_config cfg = config(path_of("big.log"));
    cfg.max_size = 1024;
    struct audit_writer *w = audit_writer_acquire(&cfg, err, sizeof(err));
    assert_non_null(w);
    submit(w, 1);
    char *big = malloc(4001);
    memset(big, 'x', 3999);
    big[3999] = '\n';
    assert_int_equal(audit_writer_submit(w, big, 4000), 0);
    submit(w, 2);
    assert_int_equal(audit_writer_flush(w, 10000), 0);
    audit_writer_release(w);
    struct stat sb;
    assert_int_equal(stat(path_of("big.log.1"), &sb), 0);
    assert_int_equal(sb.st_size, 4000); /* alone in its file */
    unsigned char seen[3] = {0};
    assert_int_equal(read_lines(path_of("big.log.2"), seen, 3), 1);
    assert_int_equal(read_lines(path_of("big.log"), seen, 3), 1);
    assert_int_equal(seen[1] + seen[2], 2);
}

static void test_reopen_after_move_loses_nothing(void **state)
{
    (void)state;
    char err[256];
    char path[128];
    snprintf(path, sizeof(path), "%s", path_of("m.log"));
    struct audit_writer_config cfg = config(path);
    struct audit_writer *w = audit_writer_acquire(&cfg, err, sizeof(err));
    assert_non_null(w);
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 200; i++)
            submit(w, round * 200 + i);
        char moved[32];
        snprintf(moved, sizeof(moved), "m.log.moved%d", round);
        /* moved while events are still queued */
        assert_int_equal(rename(cfg.path, path_of(moved)), 0);
        audit_writer_reopen(w);
        assert_int_equal(audit_writer_flush(w, 10000), 0);
    }
    audit_writer_release(w);
    unsigned char seen[1000] = {0};
    int total = read_lines(cfg.path, seen, 1000);
    for (int round = 0; round < 5; round++) {
        char moved[32];
        snprintf(moved, sizeof(moved), "m.log.moved%d", round);
        total += read_lines(path_of(moved), seen, 1000);
    }
    assert_int_equal(total, 1000);
    assert_each_once(seen, 1000);
}

static void test_full_disk_holds_then_writes(void **state)
{
    (void)state;
    char err[256], report[512];
    const char *path = path_of("full.log");
    assert_int_equal(symlink("/dev/full", path), 0);
    struct audit_writer_config cfg = config(path);
    cfg.queue_max = 50;
    struct audit_writer *w = audit_writer_acquire(&cfg, err, sizeof(err));
    assert_non_null(w);
    assert_int_equal(audit_writer_report(w, report, sizeof(report)), 0);
    for (int i = 0; i < 30; i++)
        submit(w, i);
    assert_int_equal(audit_writer_flush(w, 300), -1); /* held */
    struct audit_writer_stats st;
    audit_writer_stats(w, &st);
    assert_int_equal(st.written, 0);
    assert_int_equal(st.queued, 30);
    assert_true(st.failures >= 2); /* retried */
    assert_int_equal(audit_writer_report(w, report, sizeof(report)), 1);
    assert_non_null(strstr(report, "No space left on device"));
    assert_non_null(strstr(report, "30 events held"));
    assert_int_equal(audit_writer_report(w, report, sizeof(report)), 0);
    /* the queue fills: 20 more fit, then each one is dropped and counted */
    for (int i = 30; i < 50; i++)
        submit(w, i);
    for (int i = 0; i < 7; i++)
        assert_int_equal(audit_writer_submit(w, strdup("x\n"), 2), -1);
    audit_writer_stats(w, &st);
    assert_int_equal(st.dropped, 7);
    assert_int_equal(audit_writer_report(w, report, sizeof(report)), 1);
    assert_non_null(strstr(report, "7 events dropped"));
    /* space again: the operator points the path at a disk and reloads */
    assert_int_equal(unlink(path), 0);
    audit_writer_reopen(w);
    assert_int_equal(audit_writer_flush(w, 10000), 0);
    audit_writer_stats(w, &st);
    assert_int_equal(st.written, 50);
    assert_int_equal(audit_writer_report(w, report, sizeof(report)), 1);
    assert_non_null(strstr(report, "writing again (50 written, 7 dropped"));
    audit_writer_release(w);
    unsigned char seen[50] = {0};
    assert_int_equal(read_lines(path, seen, 50), 50);
    assert_each_once(seen, 50);
}

/* A file size limit (ulimit -f) is a full disk too: the writer thread
 * takes no SIGXFSZ, its write fails with EFBIG, is counted and retried,
 * and goes on once the limit is raised. */
static void test_file_size_limit(void **state)
{
    (void)state;
    char err[256], report[512];
    struct audit_writer_config cfg = config(path_of("fsize.log"));
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 100;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    struct audit_writer *w = audit_writer_acquire(&cfg, err, sizeof(err));
    assert_non_null(w);
    for (int i = 0; i < 20; i++)
        submit(w, i);
    assert_int_equal(audit_writer_flush(w, 300), -1);
    assert_int_equal(audit_writer_report(w, report, sizeof(report)), 1);
    assert_non_null(strstr(report, "File too large"));
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    assert_int_equal(audit_writer_flush(w, 10000), 0);
    audit_writer_release(w);
    unsigned char seen[20] = {0};
    /* the event cut at the limit is continued where it stopped: every
     * line whole, every event once */
    FILE *f = fopen(cfg.path, "r");
    char line[256];
    int torn = 0, n;
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "{\"n\":%d}\n", &n) == 1 && strchr(line, '\n') &&
            line[strlen(line) - 2] == '}')
            seen[n]++;
        else
            torn++;
    }
    fclose(f);
    assert_int_equal(torn, 0);
    assert_each_once(seen, 20);
}

static void test_shared_per_path(void **state)
{
    (void)state;
    char err[256];
    struct audit_writer_config cfg = config(path_of("s.log"));
    struct audit_writer *a = audit_writer_acquire(&cfg, err, sizeof(err));
    struct audit_writer *b = audit_writer_acquire(&cfg, err, sizeof(err));
    assert_non_null(a);
    assert_ptr_equal(a, b);
    cfg.max_backups = 9;
    assert_null(audit_writer_acquire(&cfg, err, sizeof(err)));
    assert_non_null(strstr(err, "another [plugin] section"));
    submit(a, 0);
    audit_writer_release(a);
    submit(b, 1); /* still running for b */
    audit_writer_release(b);
    unsigned char seen[2] = {0};
    assert_int_equal(read_lines(cfg.path, seen, 2), 2);
    /* a new writer once the last went: the file is appended to */
    cfg.max_backups = 9;
    struct audit_writer *c = audit_writer_acquire(&cfg, err, sizeof(err));
    assert_non_null(c);
    audit_writer_release(c);
    cfg.path = path_of("no/such/dir/x.log");
    assert_null(audit_writer_acquire(&cfg, err, sizeof(err)));
    assert_non_null(strstr(err, "No such file or directory"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_event_once_from_threads),
        cmocka_unit_test(test_rotation_keeps_backups_under_the_limit),
        cmocka_unit_test(test_one_event_larger_than_the_limit),
        cmocka_unit_test(test_reopen_after_move_loses_nothing),
        cmocka_unit_test(test_full_disk_holds_then_writes),
        cmocka_unit_test(test_file_size_limit),
        cmocka_unit_test(test_shared_per_path),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
