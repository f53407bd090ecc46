/* prefetch.h — the packages of a run's later phases downloaded ahead, in
 * the background, while the earlier phases work.
 *
 * One child, at low priority (nice 19, idle I/O class, through argv:
 * "nice -n 19 ionice -c 3 apt-get --download-only install WORDS"), fills a
 * directory of its own inside apt's archive cache. apt checks each file's
 * hash against the signed index before it moves it there, and keeps what
 * it had half-downloaded in DIR/partial for the next attempt. Because the
 * directory is not apt's own archive directory, the child takes no lock
 * any install of the run needs (--download-only takes neither dpkg's lock
 * nor, here, the archive cache's), so the installs of the current phase
 * go on beside it. Before a later install, prefetch_link() hard-links the
 * finished .debs into apt's archive directory, where apt finds them and
 * downloads nothing again.
 *
 * Nothing here changes the system: .debs in apt's cache are apt's cache
 * (apt-get clean empties it), so nothing is journaled. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct prefetch;

/* The directory prefetch uses inside apt's archive directory archives. */
#define PREFETCH_SUBDIR "vps-provision-ahead"

/* The child's argv for the download of words into dir (a strv). */
char **prefetch_argv(const char *dir, char *const *words);

/* Creates dir (0755, and dir/partial) and starts the download of words in a
 * thread of its own. A word apt cannot find (a package of a repository a
 * later phase adds first) is left out and the download started again
 * without it. 0, or -errno (nothing started; *ret untouched). */
int prefetch_start(const char *dir, char *const *words, struct prefetch **ret);

/* What the download reports so far: percent of its bytes (apt's status
 * channel), whether the child has ended. */
void prefetch_state(struct prefetch *p, double *ret_percent, bool *ret_done);

/* Stops the child (SIGTERM; apt keeps what it had half-downloaded) and
 * waits for the thread. Does nothing to a download that already ended. */
void prefetch_stop(struct prefetch *p);

/* Waits for the thread; the child's last exit status (0 = every word
 * downloaded), 128+N when stopped or killed, -errno when it did not start.
 * ret_dropped (may be NULL): the words apt could not find, left out
 * (borrowed, valid until prefetch_free()); ret_error: apt's first "E:"
 * line of the last attempt, "" when none (borrowed). */
int prefetch_join(struct prefetch *p, char *const **ret_dropped, const char **ret_error);

/* Hard-links every finished .deb of dir into archives that archives does
 * not have yet: regular files of root's that no one else may write (apt
 * trusts a file of the right size in its archive directory without
 * checking its hash again; apt checked these before it moved them out of
 * partial/). Returns how many were linked, or -errno. */
int prefetch_link(const char *dir, const char *archives);

/* Removes dir: its .debs, partial/ and apt's lock file. Returns how many
 * .debs it removed (files also linked into apt's archive directory stay
 * there), or -errno; a missing dir is 0. */
int prefetch_remove(const char *dir, uint64_t *ret_bytes);

/* Stops the download when it still runs, waits for it and frees p. */
void prefetch_free(struct prefetch *p);
