/* test_queue.c — order across state and log events, coalescing of log
 * lines with dropped_before, the wake fd, waiting with timeouts, close,
 * ownership (valgrind shows nothing leaks), batches of lines counted
 * whole, several producers, and a flood of a million log lines against a slow consumer: state events all
 * arrive in order, every log line is delivered or counted, memory stays
 * bounded and the producer never waits for the consumer. */
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "queue.h"
#include "secret.h"
#include "util.h"

/* A log event whose text is "line N". */
static struct event *log_ev(long n)
{
        struct event *ev = event_new(EV_LOG);
        ev->log.text = xasprintf("line %ld", n);
        return ev;
}

/* A state event carrying n (as progress.phase_index). */
static struct event *state_ev(int n)
{
        struct event *ev = event_new(EV_PROGRESS);
        ev->progress.phase_index = n;
        ev->progress.detail = xasprintf("state %d", n);
        return ev;
}

static long log_n(const struct event *ev)
{
        long n = -1;
        assert_int_equal(ev->type, EV_LOG);
        assert_true(startswith(ev->log.text, "line "));
        assert_int_equal(parse_long(ev->log.text + 5, 0, 100000000, &n), 0);
        return n;
}

static bool readable(struct queue *q)
{
        struct pollfd p = { .fd = queue_fd(q), .events = POLLIN };
        int r = poll(&p, 1, 0);
        assert_true(r >= 0);
        return r == 1 && (p.revents & POLLIN);
}

static void push_ok(struct queue *q, struct event *ev)
{
        assert_int_equal(queue_push(q, ev), 0);
}

static void test_order_across_kinds(void **state)
{
        struct queue *q = NULL;
        struct event *ev;
        uint64_t last_seq = 0;
        /* 's' = state event, 'l' = log line, in push order */
        static const char plan[] = "sllsslslllss";
        int n_state = 0, n_log = 0;
        (void)state;

        assert_int_equal(queue_new(16, &q), 0);
        for (const char *p = plan; *p; p++)
                push_ok(q, *p == 's' ? state_ev(n_state++) : log_ev(n_log++));

        n_state = n_log = 0;
        for (size_t i = 0; plan[i]; i++) {
                ev = queue_pop(q);
                assert_non_null(ev);
                if (i > 0)
                        assert_true(ev->seq > last_seq);
                last_seq = ev->seq;
                if (plan[i] == 's') {
                        assert_int_equal(ev->type, EV_PROGRESS);
                        assert_int_equal(ev->progress.phase_index, n_state++);
                } else {
                        assert_int_equal(log_n(ev), n_log++);
                        assert_true(ev->log.dropped_before == 0);
                }
                event_free(ev);
        }
        assert_null(queue_pop(q));

        struct queue_stats st;
        queue_get_stats(q, &st);
        assert_true(st.pushed == strlen(plan) && st.popped == strlen(plan));
        assert_true(st.dropped_logs == 0 && st.pending_state == 0 && st.pending_logs == 0);
        queue_free(q);
}

static void test_coalescing(void **state)
{
        struct queue *q = NULL;
        struct queue_stats st;
        struct event *ev;
        (void)state;

        assert_int_equal(queue_new(3, &q), 0);
        for (long i = 0; i < 10; i++) {
                push_ok(q, log_ev(i));
                if (i == 4)
                        push_ok(q, state_ev(100));   /* between line 4 and line 5 */
        }
        queue_get_stats(q, &st);
        assert_true(st.pushed == 11);
        assert_int_equal(st.pending_logs, 3);   /* lines 7, 8, 9 */
        assert_int_equal(st.pending_state, 1);
        assert_true(st.dropped_logs == 7);

        ev = queue_pop(q);   /* the state event is older than line 7 */
        assert_int_equal(ev->type, EV_PROGRESS);
        assert_int_equal(ev->progress.phase_index, 100);
        event_free(ev);
        ev = queue_pop(q);
        assert_int_equal(log_n(ev), 7);
        assert_true(ev->log.dropped_before == 7);   /* lines 0..6 */
        event_free(ev);
        ev = queue_pop(q);
        assert_int_equal(log_n(ev), 8);
        assert_true(ev->log.dropped_before == 0);
        event_free(ev);

        /* line 9 pending; five more evict 9, 10 and 11 */
        for (long i = 10; i < 15; i++)
                push_ok(q, log_ev(i));
        ev = queue_pop(q);
        assert_int_equal(log_n(ev), 12);
        assert_true(ev->log.dropped_before == 3);
        event_free(ev);
        ev = queue_pop(q);
        assert_int_equal(log_n(ev), 13);
        assert_true(ev->log.dropped_before == 0);
        event_free(ev);

        queue_get_stats(q, &st);
        assert_true(st.pushed == 16 && st.popped == 5 && st.dropped_logs == 10);
        assert_int_equal(st.pending_logs, 1);
        queue_free(q);   /* frees line 14 */
}

/* An evicted batch of output lines counts as its lines. */
static void test_batch_lines_counted(void **state)
{
        struct queue *q = NULL;
        struct queue_stats st;
        struct event *ev;
        (void)state;

        assert_int_equal(queue_new(2, &q), 0);
        ev = log_ev(0);
        ev->log.lines = 40;
        push_ok(q, ev);
        push_ok(q, log_ev(1));
        push_ok(q, log_ev(2));   /* evicts the batch of 40 */
        queue_get_stats(q, &st);
        assert_true(st.dropped_logs == 40);
        ev = queue_pop(q);
        assert_int_equal(log_n(ev), 1);
        assert_true(ev->log.dropped_before == 40);
        event_free(ev);
        queue_free(q);
}

static void test_state_never_dropped(void **state)
{
        struct queue *q = NULL;
        struct queue_stats st;
        int n = test_under_valgrind() ? 5000 : 100000;
        (void)state;

        assert_int_equal(queue_new(2, &q), 0);
        for (int i = 0; i < n; i++) {
                push_ok(q, state_ev(i));
                push_ok(q, log_ev(i));
        }
        queue_get_stats(q, &st);
        assert_int_equal(st.pending_state, (size_t)n);
        assert_int_equal(st.pending_logs, 2);
        /* every state event, in order; the two surviving lines in their
         * places: line n-2 was pushed between state n-2 and state n-1 */
        for (int i = 0; i < n; i++) {
                struct event *ev = queue_pop(q);
                assert_int_equal(ev->type, EV_PROGRESS);
                assert_int_equal(ev->progress.phase_index, i);
                event_free(ev);
                if (i == n - 2) {
                        ev = queue_pop(q);
                        assert_int_equal(log_n(ev), n - 2);
                        assert_true(ev->log.dropped_before == (uint64_t)n - 2);
                        event_free(ev);
                }
        }
        queue_get_stats(q, &st);
        assert_int_equal(st.pending_state, 0);
        assert_int_equal(st.pending_logs, 1);
        assert_true(st.dropped_logs == (uint64_t)n - 2);
        queue_free(q);   /* one line still pending */
}

static void test_default_max_logs(void **state)
{
        struct queue *q = NULL;
        struct queue_stats st;
        (void)state;

        assert_int_equal(queue_new(0, &q), 0);
        for (long i = 0; i < 3000; i++)
                push_ok(q, log_ev(i));
        queue_get_stats(q, &st);
        assert_int_equal(st.pending_logs, 1024);
        assert_true(st.dropped_logs == 3000 - 1024);
        struct event *ev = queue_pop(q);
        assert_int_equal(log_n(ev), 3000 - 1024);
        assert_true(ev->log.dropped_before == 3000 - 1024);
        event_free(ev);
        queue_free(q);

        q = (struct queue *)0x1;
        assert_int_equal(queue_new((size_t)1 << 30, &q), -EINVAL);
        assert_ptr_equal(q, (struct queue *)0x1);   /* untouched */
}

static void test_wake_fd(void **state)
{
        struct queue *q = NULL;
        int fd, fds = test_count_fds();
        (void)state;

        assert_int_equal(queue_new(2, &q), 0);
        fd = queue_fd(q);
        assert_true(fd >= 0);
        assert_int_equal(test_count_fds(), fds + 1);
        assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);

        assert_false(readable(q));
        push_ok(q, state_ev(1));
        assert_true(readable(q));
        push_ok(q, log_ev(1));
        assert_true(readable(q));
        event_free(queue_pop(q));
        assert_true(readable(q));     /* one left */
        event_free(queue_pop(q));
        assert_false(readable(q));    /* drained with the last one */
        assert_null(queue_pop(q));
        assert_false(readable(q));    /* an empty pop does not change it */

        /* evictions keep it readable; emptying clears it */
        for (long i = 0; i < 10; i++)
                push_ok(q, log_ev(i));
        assert_true(readable(q));
        event_free(queue_pop(q));
        assert_true(readable(q));
        event_free(queue_pop(q));
        assert_false(readable(q));

        /* again, to show the cycle repeats */
        push_ok(q, state_ev(2));
        assert_true(readable(q));
        event_free(queue_wait_pop(q, 0));
        assert_false(readable(q));

        queue_free(q);
        assert_int_equal(test_count_fds(), fds);   /* the eventfd is closed */
        queue_free(NULL);
}

static void test_wait_pop_timeout(void **state)
{
        struct queue *q = NULL;
        int64_t t0, dt;
        struct event *ev;
        (void)state;

        assert_int_equal(queue_new(4, &q), 0);
        t0 = now_ms();
        assert_null(queue_wait_pop(q, 0));
        assert_true(now_ms() - t0 < 100);

        t0 = now_ms();
        assert_null(queue_wait_pop(q, 80));
        dt = now_ms() - t0;
        assert_true(dt >= 79);
        assert_true(dt < 2000);

        push_ok(q, state_ev(7));   /* pending: no wait at all, even with -1 */
        t0 = now_ms();
        ev = queue_wait_pop(q, -1);
        assert_non_null(ev);
        assert_int_equal(ev->progress.phase_index, 7);
        assert_true(now_ms() - t0 < 100);
        event_free(ev);
        queue_free(q);
}

struct delayed {
        struct queue *q;
        unsigned delay_ms;
        bool close;   /* close instead of pushing */
};

static void *delayed_main(void *arg)
{
        struct delayed *d = arg;
        sleep_ms(d->delay_ms);
        if (d->close)
                queue_close(d->q);
        else
                (void)queue_push(d->q, state_ev(42));
        return NULL;
}

static void test_wait_pop_wakes_on_push(void **state)
{
        struct queue *q = NULL;
        struct delayed d;
        pthread_t th;
        int64_t t0, dt;
        struct event *ev;
        (void)state;

        assert_int_equal(queue_new(4, &q), 0);
        d = (struct delayed){ .q = q, .delay_ms = 50 };
        t0 = now_ms();
        assert_int_equal(pthread_create(&th, NULL, delayed_main, &d), 0);
        ev = queue_wait_pop(q, 10000);
        dt = now_ms() - t0;
        assert_int_equal(pthread_join(th, NULL), 0);
        assert_non_null(ev);
        assert_int_equal(ev->progress.phase_index, 42);
        assert_true(dt >= 40 && dt < 5000);
        event_free(ev);
        queue_free(q);
}

struct waiter {
        struct queue *q;
        struct event *got;
        int64_t waited_ms;
};

static void *waiter_main(void *arg)
{
        struct waiter *w = arg;
        int64_t t0 = now_ms();
        w->got = queue_wait_pop(w->q, -1);
        w->waited_ms = now_ms() - t0;
        return NULL;
}

static void test_close(void **state)
{
        struct queue *q = NULL;
        struct waiter w[2];
        pthread_t th[2];
        struct event *ev;
        (void)state;

        /* waiters blocked forever wake up on close and get NULL */
        assert_int_equal(queue_new(4, &q), 0);
        assert_false(queue_is_closed(q));
        for (int i = 0; i < 2; i++) {
                w[i] = (struct waiter){ .q = q };
                assert_int_equal(pthread_create(&th[i], NULL, waiter_main, &w[i]), 0);
        }
        sleep_ms(50);
        /* still blocked (an empty queue, no timeout): only the close can
         * end their wait. Checked on the threads, not on a time, which a
         * loaded machine under valgrind stretches */
        for (int i = 0; i < 2; i++)
                assert_int_equal(pthread_tryjoin_np(th[i], NULL), EBUSY);
        queue_close(q);
        assert_true(queue_is_closed(q));
        for (int i = 0; i < 2; i++) {
                assert_int_equal(pthread_join(th[i], NULL), 0);
                assert_null(w[i].got);
        }
        assert_true(readable(q));   /* for good, so pollers see the end */
        assert_int_equal(queue_push(q, state_ev(1)), -EPIPE);   /* freed */
        assert_int_equal(queue_push(q, log_ev(1)), -EPIPE);     /* freed */
        assert_null(queue_wait_pop(q, -1));                     /* no wait */
        queue_close(q);   /* twice is fine */
        queue_free(q);

        /* events pending at close can still be popped, then the end */
        assert_int_equal(queue_new(4, &q), 0);
        push_ok(q, state_ev(1));
        push_ok(q, log_ev(2));
        queue_close(q);
        ev = queue_wait_pop(q, -1);
        assert_int_equal(ev->progress.phase_index, 1);
        event_free(ev);
        ev = queue_pop(q);
        assert_int_equal(log_n(ev), 2);
        event_free(ev);
        assert_true(readable(q));
        assert_null(queue_wait_pop(q, 1000));
        struct queue_stats st;
        queue_get_stats(q, &st);
        assert_true(st.pushed == 2 && st.popped == 2);
        queue_free(q);

        /* a close from another thread wakes a waiter with a timeout too */
        assert_int_equal(queue_new(4, &q), 0);
        struct delayed d = { .q = q, .delay_ms = 30, .close = true };
        pthread_t dt;
        int64_t t0 = now_ms();
        assert_int_equal(pthread_create(&dt, NULL, delayed_main, &d), 0);
        assert_null(queue_wait_pop(q, 10000));
        assert_true(now_ms() - t0 < 5000);
        assert_int_equal(pthread_join(dt, NULL), 0);
        queue_free(q);
}

static void test_ownership(void **state)
{
        struct queue *q = NULL;
        struct event *cred;
        struct secret *pw = NULL;
        (void)state;

        assert_int_equal(queue_push(NULL, log_ev(1)), -EINVAL);   /* freed */
        assert_null(queue_pop(NULL));
        assert_null(queue_wait_pop(NULL, 0));

        assert_int_equal(queue_new(8, &q), 0);
        assert_int_equal(queue_push(q, NULL), -EINVAL);
        /* pending events of every kind are freed with the queue */
        for (int i = 0; i < 20; i++) {
                push_ok(q, state_ev(i));
                push_ok(q, log_ev(i));
        }
        cred = event_new(EV_CREDENTIALS);
        cred->credentials.username = xstrdup("dev");
        assert_int_equal(secret_generate_password(16, &pw), 0);
        cred->credentials.password = pw;
        push_ok(q, cred);
        queue_free(q);
}

/* Several producers: each one's events arrive in its own order, none is
 * lost, sequence numbers strictly increase. */
#define N_PRODUCERS 4

struct producer {
        struct queue *q;
        int id, n;
        int failures;
};

static void *producer_main(void *arg)
{
        struct producer *p = arg;
        for (int i = 0; i < p->n; i++) {
                struct event *ev = event_new(EV_ACTION_END);
                ev->action_end.phase_index = p->id;
                ev->action_end.duration_ms = i;
                if (queue_push(p->q, ev) < 0)
                        p->failures++;
                if (i % 3 == 0 && queue_push(p->q, log_ev(i)) < 0)
                        p->failures++;
        }
        return NULL;
}

static void test_many_producers(void **state)
{
        struct queue *q = NULL;
        struct producer p[N_PRODUCERS];
        pthread_t th[N_PRODUCERS];
        int n = test_under_valgrind() ? 2000 : 50000;
        int64_t next[N_PRODUCERS] = { 0 };
        int got = 0;
        uint64_t last_seq = 0;
        bool first = true;
        (void)state;

        assert_int_equal(queue_new(64, &q), 0);
        for (int i = 0; i < N_PRODUCERS; i++) {
                p[i] = (struct producer){ .q = q, .id = i, .n = n };
                assert_int_equal(pthread_create(&th[i], NULL, producer_main, &p[i]), 0);
        }
        while (got < N_PRODUCERS * n) {
                struct event *ev = queue_wait_pop(q, 10000);
                assert_non_null(ev);
                assert_true(first || ev->seq > last_seq);
                first = false;
                last_seq = ev->seq;
                if (ev->type == EV_ACTION_END) {
                        int id = ev->action_end.phase_index;
                        assert_true(id >= 0 && id < N_PRODUCERS);
                        assert_true(ev->action_end.duration_ms == next[id]);
                        next[id]++;
                        got++;
                }
                event_free(ev);
        }
        for (int i = 0; i < N_PRODUCERS; i++) {
                assert_int_equal(pthread_join(th[i], NULL), 0);
                assert_int_equal(p[i].failures, 0);
                assert_true(next[i] == n);
        }
        queue_free(q);
}

/* The last event and the close, from another thread, while the consumer
 * waits: queue_wait_pop() must hand over the event before it says "closed"
 * (the engine pushes its session end and closes its queue at once; a
 * consumer between its empty pop and its look at the close lost the
 * session end: unit/engine's lock_held_gives_6 failed so in a cold run). */
static void *push_then_close_main(void *arg)
{
        struct queue *q = arg;

        if (queue_push(q, state_ev(7)) == 0)
                queue_close(q);
        return NULL;
}

static void test_wait_pop_last_before_close(void **state)
{
        int rounds = test_under_valgrind() ? 300 : 60000;
        (void)state;

        for (int r = 0; r < rounds; r++) {
                struct queue *q = NULL;
                struct event *ev;
                pthread_t th;

                assert_int_equal(queue_new(4, &q), 0);
                assert_int_equal(pthread_create(&th, NULL, push_then_close_main, q), 0);
                ev = queue_wait_pop(q, 10000);
                if (!ev)
                        fail_msg("round %d: the event pushed before the close was lost", r);
                event_free(ev);
                assert_null(queue_wait_pop(q, 10000));   /* closed and empty: at once */
                assert_int_equal(pthread_join(th, NULL), 0);
                queue_free(q);
        }
}

/* The flood: one producer pushes n events, every EVERY-th a state event
 * and the rest log lines, then a session_end; the consumer pops slowly. */
#define EVERY 1000
#define MAX_LOGS 256
#define POPS_PER_SLEEP 4

struct flood {
        struct queue *q;
        long n;
        atomic_long consumer_pops;
        long pops_when_done;
        int64_t producer_ms;
        size_t max_pending_logs;   /* as the producer saw it */
        int failures;
};

static void *flood_main(void *arg)
{
        struct flood *f = arg;
        int64_t t0 = now_ms();

        for (long i = 0; i < f->n; i++) {
                struct event *ev = i % EVERY == 0 ? state_ev((int)(i / EVERY)) : log_ev(i);
                if (queue_push(f->q, ev) < 0)
                        f->failures++;
                if (i % 997 == 0) {
                        struct queue_stats st;
                        queue_get_stats(f->q, &st);
                        if (st.pending_logs > f->max_pending_logs)
                                f->max_pending_logs = st.pending_logs;
                }
        }
        f->producer_ms = now_ms() - t0;
        f->pops_when_done = atomic_load(&f->consumer_pops);
        if (queue_push(f->q, event_new(EV_SESSION_END)) < 0)
                f->failures++;
        return NULL;
}

/* Multiples of EVERY in [0, x] (the indices of state events). */
static long states_upto(long x)
{
        return x < 0 ? 0 : x / EVERY + 1;
}

static void test_flood_slow_consumer(void **state)
{
        struct flood f = { .n = test_under_valgrind() ? 50000 : 1000000 };
        struct queue_stats st;
        pthread_t th;
        long pops = 0, next_state = 0, last_log = -1, delivered = 0, last_index;
        uint64_t sum_dropped = 0;
        long sleeps = 0;
        size_t max_pending = 0;
        (void)state;

        assert_int_equal(queue_new(MAX_LOGS, &f.q), 0);
        atomic_init(&f.consumer_pops, 0);
        assert_int_equal(pthread_create(&th, NULL, flood_main, &f), 0);

        for (;;) {
                struct event *ev = queue_wait_pop(f.q, 30000);
                assert_non_null(ev);
                pops++;
                atomic_store(&f.consumer_pops, pops);
                if (ev->type == EV_SESSION_END) {
                        event_free(ev);
                        break;
                }
                if (ev->type == EV_PROGRESS) {
                        /* every state event, exactly once, in order */
                        assert_int_equal(ev->progress.phase_index, next_state);
                        next_state++;
                } else {
                        long i = log_n(ev);
                        /* the lines between the last one seen and this one
                         * are exactly the ones counted as dropped */
                        long between = (i - last_log - 1) - (states_upto(i - 1) - states_upto(last_log));
                        assert_true(i > last_log);
                        assert_true(i % EVERY != 0);
                        assert_true(ev->log.dropped_before == (uint64_t)between);
                        sum_dropped += ev->log.dropped_before;
                        delivered++;
                        last_log = i;
                }
                event_free(ev);
                if (pops % 16 == 0) {
                        queue_get_stats(f.q, &st);
                        if (st.pending_logs > max_pending)
                                max_pending = st.pending_logs;
                }
                if (pops % POPS_PER_SLEEP == 0) {
                        sleep_ms(1);
                        sleeps++;
                }
        }
        assert_int_equal(pthread_join(th, NULL), 0);
        assert_int_equal(f.failures, 0);

        long n_state = states_upto(f.n - 1), n_logs = f.n - n_state;
        queue_get_stats(f.q, &st);
        print_message("flood: %ld events in %lld ms; consumer had popped %ld then, %ld in all "
                      "(%ld ms asleep); %ld lines delivered, %llu dropped\n",
                      f.n, (long long)f.producer_ms, f.pops_when_done, pops, sleeps, delivered,
                      (unsigned long long)sum_dropped);

        assert_int_equal(next_state, n_state);
        last_index = (f.n - 1) % EVERY ? f.n - 1 : f.n - 2;
        assert_int_equal(last_log, last_index);   /* the newest line is never dropped */
        assert_true((uint64_t)delivered + sum_dropped + st.pending_logs == (uint64_t)n_logs);
        assert_true(st.dropped_logs == sum_dropped);
        assert_true(st.pending_logs == 0 && st.pending_state == 0);
        assert_true(st.pushed == (uint64_t)f.n + 1 && st.popped == (uint64_t)pops);
        assert_true(max_pending <= MAX_LOGS);
        assert_true(f.max_pending_logs <= MAX_LOGS);
        assert_true(sum_dropped > 0);   /* the consumer really was too slow */

        /* The producer never waited for the consumer: it finished while the
         * consumer had popped only a small part of the events (a blocking
         * queue would have made it wait for all but MAX_LOGS of them), and
         * in less time than the consumer would have slept to pop them all
         * (the least a blocking queue would have cost it; on a loaded
         * machine under valgrind the producer alone took 8.9 s of the 12.5 s
         * bound, so no tighter margin). */
        assert_true(f.pops_when_done < f.n / 2);
        assert_true(f.producer_ms < f.n / POPS_PER_SLEEP);
        queue_free(f.q);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_order_across_kinds),
                cmocka_unit_test(test_coalescing),
                cmocka_unit_test(test_batch_lines_counted),
                cmocka_unit_test(test_state_never_dropped),
                cmocka_unit_test(test_default_max_logs),
                cmocka_unit_test(test_wake_fd),
                cmocka_unit_test(test_wait_pop_timeout),
                cmocka_unit_test(test_wait_pop_wakes_on_push),
                cmocka_unit_test(test_close),
                cmocka_unit_test(test_wait_pop_last_before_close),
                cmocka_unit_test(test_ownership),
                cmocka_unit_test(test_many_producers),
                cmocka_unit_test(test_flood_slow_consumer),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
