/* queue.c — see queue.h.
 *
 * DESIGN: two rings behind one mutex. State events go to a ring of
 * pointers that doubles when full (never drops). Log events go to a ring
 * of max_logs pointers; pushing onto a full one evicts the oldest log
 * event (freed by the producer after it has let go of the mutex) and adds
 * one to dropped_pending, which the next popped log event carries as
 * log.dropped_before. Eviction always takes the oldest pending log line,
 * so every dropped line is older than every pending one and the count
 * belongs just before the next line the consumer sees. Every push gets
 * the next sequence number; pop takes whichever ring head is older.
 *
 * The eventfd's counter is non-zero exactly while events are pending (or
 * once the queue is closed): push writes 1 when the counter is zero, pop
 * reads it back to zero when it takes the last event. Both happen under
 * the mutex, so the fd's readability never disagrees with the rings for
 * longer than one critical section. After queue_close() the fd stays
 * readable for good, so a consumer sleeping in poll() wakes up, pops
 * NULL, and sees the end. */
#include "queue.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util.h"

#define DEFAULT_MAX_LOGS 1024
#define MAX_MAX_LOGS ((size_t)1 << 24)

/* A ring of event pointers: v[(head + i) % cap] for i < n. */
struct ring {
        struct event **v;
        size_t cap, head, n;
};

struct queue {
        pthread_mutex_t lock;
        int fd;
        bool signalled;        /* the eventfd counter is non-zero */
        bool closed;
        uint64_t next_seq;
        struct ring state;     /* grows */
        struct ring logs;      /* fixed at max_logs */
        uint64_t dropped_pending;
        uint64_t pushed, popped, dropped_logs;
};

static struct event *ring_peek(const struct ring *r)
{
        return r->n ? r->v[r->head] : NULL;
}

static struct event *ring_take(struct ring *r)
{
        struct event *ev = r->v[r->head];

        r->v[r->head] = NULL;
        r->head = (r->head + 1) % r->cap;
        r->n--;
        return ev;
}

/* Appends to a ring that has room. */
static void ring_put(struct ring *r, struct event *ev)
{
        r->v[(r->head + r->n) % r->cap] = ev;
        r->n++;
}

/* Doubles a full ring, keeping the order. */
static void ring_grow(struct ring *r)
{
        size_t cap = r->cap ? r->cap * 2 : 64;
        struct event **v = xcalloc(cap, sizeof(*v));

        for (size_t i = 0; i < r->n; i++)
                v[i] = r->v[(r->head + i) % r->cap];
        free(r->v);
        r->v = v;
        r->cap = cap;
        r->head = 0;
}

/* Makes the eventfd readable (want) or not. Caller holds the lock. */
static void set_signal(struct queue *q, bool want)
{
        uint64_t v = 1;

        if (want == q->signalled)
                return;
        if (want) {
                /* cannot fail short of a counter at 2^64-2 */
                while (write(q->fd, &v, sizeof(v)) < 0 && errno == EINTR)
                        ;
        } else {
                while (read(q->fd, &v, sizeof(v)) < 0 && errno == EINTR)
                        ;
        }
        q->signalled = want;
}

int queue_new(size_t max_logs, struct queue **ret)
{
        struct queue *q;

        if (max_logs == 0)
                max_logs = DEFAULT_MAX_LOGS;
        if (max_logs > MAX_MAX_LOGS)
                return -EINVAL;
        q = xcalloc(1, sizeof(*q));
        q->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (q->fd < 0) {
                int r = -errno;
                free(q);
                return r;
        }
        pthread_mutex_init(&q->lock, NULL);
        q->logs.cap = max_logs;
        q->logs.v = xcalloc(max_logs, sizeof(*q->logs.v));
        *ret = q;
        return 0;
}

void queue_free(struct queue *q)
{
        if (!q)
                return;
        while (q->state.n)
                event_free(ring_take(&q->state));
        while (q->logs.n)
                event_free(ring_take(&q->logs));
        free(q->state.v);
        free(q->logs.v);
        close(q->fd);
        pthread_mutex_destroy(&q->lock);
        free(q);
}

/* Appends one event; returns the log line it evicted (to be freed by the
 * caller outside the lock), or NULL. Caller holds the lock. */
static struct event *push_locked(struct queue *q, struct event *ev)
{
        struct event *evicted = NULL;

        ev->seq = q->next_seq++;
        q->pushed++;
        if (event_is_droppable(ev)) {
                if (q->logs.n == q->logs.cap) {
                        uint32_t lines;

                        evicted = ring_take(&q->logs);
                        lines = evicted->log.lines ? evicted->log.lines : 1;
                        q->dropped_pending += lines;
                        q->dropped_logs += lines;
                }
                ring_put(&q->logs, ev);
        } else {
                if (q->state.n == q->state.cap)
                        ring_grow(&q->state);
                ring_put(&q->state, ev);
        }
        return evicted;
}

int queue_push(struct queue *q, struct event *ev)
{
        struct event *evicted;

        if (!q || !ev) {
                event_free(ev);
                return -EINVAL;
        }
        pthread_mutex_lock(&q->lock);
        if (q->closed) {
                pthread_mutex_unlock(&q->lock);
                event_free(ev);
                return -EPIPE;
        }
        evicted = push_locked(q, ev);
        set_signal(q, true);
        pthread_mutex_unlock(&q->lock);

        event_free(evicted);
        return 0;
}

struct event *queue_pop(struct queue *q)
{
        struct event *s, *l, *ev = NULL;

        if (!q)
                return NULL;
        pthread_mutex_lock(&q->lock);
        s = ring_peek(&q->state);
        l = ring_peek(&q->logs);
        if (s && (!l || s->seq < l->seq))
                ev = ring_take(&q->state);
        else if (l) {
                ev = ring_take(&q->logs);
                ev->log.dropped_before = q->dropped_pending;
                q->dropped_pending = 0;
        }
        if (ev)
                q->popped++;
        set_signal(q, q->state.n + q->logs.n > 0 || q->closed);
        pthread_mutex_unlock(&q->lock);
        return ev;
}

struct event *queue_wait_pop(struct queue *q, int timeout_ms)
{
        int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : 0;

        if (!q)
                return NULL;
        for (;;) {
                struct pollfd p = { .fd = q->fd, .events = POLLIN };
                struct event *ev = queue_pop(q);
                int wait = -1;

                if (ev)
                        return ev;
                /* closed: one more pop, since the last event may have come
                 * between the pop above and the close (nothing comes after) */
                if (queue_is_closed(q))
                        return queue_pop(q);
                if (timeout_ms >= 0) {
                        int64_t left = deadline - now_ms();
                        if (left <= 0)
                                return NULL;
                        wait = (int)left;
                }
                if (poll(&p, 1, wait) < 0 && errno != EINTR)
                        return NULL;
        }
}

int queue_fd(struct queue *q)
{
        return q ? q->fd : -EBADF;
}

void queue_close(struct queue *q)
{
        if (!q)
                return;
        pthread_mutex_lock(&q->lock);
        q->closed = true;
        set_signal(q, true);
        pthread_mutex_unlock(&q->lock);
}

bool queue_is_closed(struct queue *q)
{
        bool closed;

        if (!q)
                return true;
        pthread_mutex_lock(&q->lock);
        closed = q->closed;
        pthread_mutex_unlock(&q->lock);
        return closed;
}

void queue_get_stats(struct queue *q, struct queue_stats *ret)
{
        pthread_mutex_lock(&q->lock);
        *ret = (struct queue_stats){
                .pushed = q->pushed,
                .popped = q->popped,
                .dropped_logs = q->dropped_logs,
                .pending_state = q->state.n,
                .pending_logs = q->logs.n,
        };
        pthread_mutex_unlock(&q->lock);
}
