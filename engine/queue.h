/* queue.h — a thread-safe event queue with a wake-up fd.
 *
 * DESIGN: producers append under a mutex and make an eventfd readable; the
 * consumer poll()s the fd and pops.
 * State events go to an unbounded FIFO and are never dropped. Log events go
 * to a ring of at most max_logs entries: when it is full the oldest pending
 * log line is freed and counted, and the next log event popped carries that
 * count in log.dropped_before. Order between the two kinds is kept by a
 * sequence number given on push. So a producer never blocks on a slow
 * consumer and memory stays bounded whatever a child prints.
 *
 * The queue takes ownership of every pushed event (also when push fails);
 * the consumer owns what it pops and frees it with event_free(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events.h"

struct queue;

/* max_logs: pending log lines kept before coalescing (0 = 1024; more than
 * 2^24 is -EINVAL). */
int queue_new(size_t max_logs, struct queue **ret);
/* Frees every pending event. NULL is fine. */
void queue_free(struct queue *q);

/* Never blocks (beyond the mutex). 0, or -EPIPE after queue_close(), or
 * -EINVAL for a NULL queue or event; the event is freed on every failure. */
int queue_push(struct queue *q, struct event *ev);
/* The next event in push order, or NULL when empty. The wake fd stays
 * readable while events remain. */
struct event *queue_pop(struct queue *q);
/* Waits up to timeout_ms (-1 = forever) for an event, then pops. NULL on
 * timeout, or when the queue is closed and empty. */
struct event *queue_wait_pop(struct queue *q, int timeout_ms);

/* Readable (POLLIN) while events are pending, and for good once the queue
 * is closed (a consumer in poll() wakes up, pops NULL: the end). Owned by
 * the queue: poll it, never read or close it. */
int queue_fd(struct queue *q);
/* After close, pushes fail with -EPIPE and a waiting consumer wakes up.
 * Events pending at close can still be popped. Closing twice is fine. */
void queue_close(struct queue *q);
/* True once queue_close() was called (pending events may remain). */
bool queue_is_closed(struct queue *q);

struct queue_stats {
        uint64_t pushed, popped, dropped_logs;
        size_t pending_state, pending_logs;
};
void queue_get_stats(struct queue *q, struct queue_stats *ret);
