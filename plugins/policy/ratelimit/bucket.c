/* Token bucket arithmetic: QPS tokens accrue each second up to BURST, one
 * request takes one. Time is the monotonic clock in microseconds, so a
 * wall-clock step never grants or withholds tokens. */
#include <math.h>

#include "ratelimit.h"

void rl_bucket_init(struct rl_bucket *b, int64_t burst, uint64_t now_us)
{
    b->tokens = (double)burst;
    b->last_us = now_us;
}

void rl_bucket_refill(struct rl_bucket *b, int64_t qps, int64_t burst,
                      uint64_t now_us)
{
    if (now_us <= b->last_us)
        return;
    b->tokens += (double)(now_us - b->last_us) * (double)qps / 1e6;
    if (b->tokens > (double)burst)
        b->tokens = (double)burst;
    b->last_us = now_us;
}

int rl_bucket_has(const struct rl_bucket *b)
{
    return b->tokens >= 1.0;
}

unsigned rl_bucket_wait_s(const struct rl_bucket *b, int64_t qps)
{
    double s = qps > 0 ? ceil((1.0 - b->tokens) / (double)qps) : 1.0;
    return s < 1.0 ? 1u : s > 3600.0 ? 3600u : (unsigned)s;
}

int rl_bucket_full(const struct rl_bucket *b, int64_t burst)
{
    return b->tokens >= (double)burst;
}
