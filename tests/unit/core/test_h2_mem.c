/* Tests of nghttp2's per-session allocator (core/http/h2_mem.c): blocks
 * keep their bytes across every move between malloc and a mapping, a
 * mapping is zeroed and resident only where written, release gives back
 * the pages of what the session mapped while it was made and nothing
 * else, and a real session goes on writing frames after a release. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "http/h2_mem.h"

#define BIG (16 * 1024 + 10) /* nghttp2's frame buffer */

static void *mem_alloc(struct fg_h2_mem *m, size_t n)
{
    return m->mem.malloc(n, m->mem.mem_user_data);
}

static void mem_release(struct fg_h2_mem *m, void *p)
{
    m->mem.free(p, m->mem.mem_user_data);
}

/* Pages of [P, P+LEN) resident. */
static size_t resident(const void *p, size_t len)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t n = (len + (size_t)page - 1) / (size_t)page;
    unsigned char vec[16];
    assert_true(n <= sizeof(vec));
    assert_int_equal(mincore((void *)p, len, vec), 0);
    size_t in = 0;
    for (size_t i = 0; i < n; i++)
        in += vec[i] & 1;
    return in;
}

static void test_blocks_keep_their_bytes(void **state)
{
    (void)state;
    struct fg_h2_mem m;
    fg_h2_mem_init(&m);
    fg_h2_mem_made(&m);
    void *u = m.mem.mem_user_data;
    unsigned char *p = mem_alloc(&m, 100);
    assert_non_null(p);
    for (int i = 0; i < 100; i++)
        p[i] = (unsigned char)i;
    /* small to mapped, mapped to mapped, mapped to small */
    size_t sizes[] = {BIG, 3 * BIG, 50};
    for (size_t s = 0; s < 3; s++) {
        p = m.mem.realloc(p, sizes[s], u);
        assert_non_null(p);
        for (int i = 0; i < 50; i++)
            assert_int_equal(p[i], i);
    }
    assert_null(m.maps);
    mem_release(&m, p);

    unsigned char *z = m.mem.calloc(2, BIG, u);
    assert_non_null(z);
    assert_non_null(m.maps);
    assert_int_equal(resident(z, 2 * BIG), 0);
    for (size_t i = 0; i < 2 * BIG; i += 997)
        assert_int_equal(z[i], 0);
    mem_release(&m, z);
    assert_null(m.maps);
    assert_null(m.mem.calloc(SIZE_MAX / 2, 4, u));
    mem_release(&m, NULL);
}

static void test_release_only_the_reserved(void **state)
{
    (void)state;
    struct fg_h2_mem m;
    fg_h2_mem_init(&m);
    unsigned char *frames = mem_alloc(&m, BIG);
    fg_h2_mem_made(&m);
    unsigned char *later = mem_alloc(&m, BIG);
    assert_non_null(frames);
    assert_non_null(later);
    memset(frames, 0xab, 100);
    memset(later, 0xcd, 100);
    assert_int_equal(resident(frames, BIG), 1);
    fg_h2_mem_release(&m);
    assert_int_equal(resident(frames, BIG), 0);
    assert_int_equal(frames[0], 0); /* dead bytes: a zeroed page */
    assert_int_equal(resident(later, BIG), 1);
    assert_int_equal(later[99], 0xcd);
    mem_release(&m, later);
    mem_release(&m, frames);
    assert_null(m.maps);
}

/* Sends what SESSION has queued (one frame per call): the first frame's
 * type. */
static int first_frame_type(nghttp2_session *session)
{
    const uint8_t *data;
    ssize_t n = nghttp2_session_mem_send(session, &data);
    assert_true(n >= 9);
    int type = data[3];
    while ((n = nghttp2_session_mem_send(session, &data)) > 0)
        ;
    assert_int_equal(n, 0);
    return type;
}

static void test_session_after_release(void **state)
{
    (void)state;
    struct fg_h2_mem m;
    nghttp2_session_callbacks *cbs;
    nghttp2_session *session;
    assert_int_equal(nghttp2_session_callbacks_new(&cbs), 0);
    fg_h2_mem_init(&m);
    assert_int_equal(
        nghttp2_session_server_new3(&session, cbs, NULL, NULL, &m.mem), 0);
    fg_h2_mem_made(&m);
    assert_non_null(m.maps); /* the frame buffer */
    assert_int_equal(nghttp2_submit_settings(session, 0, NULL, 0), 0);
    assert_int_equal(first_frame_type(session), NGHTTP2_SETTINGS);
    assert_int_equal(nghttp2_session_want_write(session), 0);
    fg_h2_mem_release(&m);
    uint8_t opaque[8] = "fedgate";
    assert_int_equal(nghttp2_submit_ping(session, 0, opaque), 0);
    const uint8_t *data;
    ssize_t n = nghttp2_session_mem_send(session, &data);
    assert_int_equal(n, 17);
    assert_int_equal(data[3], NGHTTP2_PING);
    assert_memory_equal(data + 9, opaque, 8);
    nghttp2_session_del(session);
    nghttp2_session_callbacks_del(cbs);
    assert_null(m.maps);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocks_keep_their_bytes),
        cmocka_unit_test(test_release_only_the_reserved),
        cmocka_unit_test(test_session_after_release),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
