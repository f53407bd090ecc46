/* prefetch.c — the later phases' packages downloaded ahead (prefetch.h). */
#include "prefetch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apt.h"
#include "run.h"
#include "util.h"

/* apt's status channel in the child, as ops.c uses it */
#define PREFETCH_STATUS_FD 3
/* attempts: the first, and one more per word apt could not find */
#define PREFETCH_ATTEMPTS 8

struct prefetch {
        pthread_t thread;
        bool joined;
        int stop[2];               /* a byte in stop[1] ends the child */
        char dir[PATH_MAX];
        char **words;

        pthread_mutex_t lock;      /* guards the fields below */
        double percent;
        bool done;
        int status;
        char **dropped;
        char error[256];
};

char **prefetch_argv(const char *dir, char *const *words)
{
        char **v = NULL;

        strv_push(&v, "nice");
        strv_push(&v, "-n");
        strv_push(&v, "19");
        strv_push(&v, "ionice");
        strv_push(&v, "-c");
        strv_push(&v, "3");
        strv_push(&v, "apt-get");
        strv_push(&v, "-q");
        strv_push(&v, "-y");
        strv_push(&v, "--download-only");
        strv_push(&v, "-o");
        strv_pushf(&v, "Dir::Cache::Archives=%s/", dir);
        strv_push(&v, "-o");
        strv_pushf(&v, "APT::Status-Fd=%d", PREFETCH_STATUS_FD);
        strv_push(&v, "install");
        for (size_t i = 0; words && words[i]; i++)
                strv_push(&v, words[i]);
        return v;
}

struct attempt {
        struct prefetch *p;
        char missing[128];
        char error[256];
};

static void on_line(void *userdata, enum run_stream stream, const char *line, size_t len,
                    bool truncated)
{
        struct attempt *a = userdata;
        struct apt_status st;
        char text[512];

        (void)truncated;
        if (stream == RUN_STATUS) {
                if (apt_status_parse(line, len, &st) == 0 && st.kind == APT_ST_DOWNLOAD) {
                        pthread_mutex_lock(&a->p->lock);
                        a->p->percent = st.percent;
                        pthread_mutex_unlock(&a->p->lock);
                }
                return;
        }
        snprintf(text, sizeof(text), "%.*s", (int)(len < sizeof(text) ? len : sizeof(text) - 1),
                 line);
        if (!startswith(text, "E: "))
                return;
        if (!a->missing[0] && apt_missing_package(text, a->missing, sizeof(a->missing)))
                return;
        if (!a->error[0])
                snprintf(a->error, sizeof(a->error), "%s", text + 3);
}

/* words without the one named w */
static void drop_word(char ***words, const char *w)
{
        size_t k = 0;
        char **v = *words;

        for (size_t i = 0; v && v[i]; i++) {
                if (strcmp(v[i], w) == 0)
                        free(v[i]);
                else
                        v[k++] = v[i];
        }
        if (v)
                v[k] = NULL;
}

static void *prefetch_main(void *userdata)
{
        struct prefetch *p = userdata;
        int status = -EINVAL;

        for (int n = 0; n < PREFETCH_ATTEMPTS && strv_length(p->words) > 0; n++) {
                _cleanup_strv_ char **argv = prefetch_argv(p->dir, p->words);
                struct attempt a = { .p = p };
                struct run_opts o;
                struct run_result res;

                run_opts_init(&o);
                o.argv = (const char *const *)argv;
                o.status_fd = PREFETCH_STATUS_FD;
                o.on_line = on_line;
                o.userdata = &a;
                o.cancel_fd = p->stop[0];
                o.timeout_ms = 90u * 60u * 1000u;
                status = run_command(&o, &res);
                pthread_mutex_lock(&p->lock);
                snprintf(p->error, sizeof(p->error), "%s", a.error);
                pthread_mutex_unlock(&p->lock);
                if (status == 0 || res.cancelled || !a.missing[0] ||
                    !strv_contains(p->words, a.missing))
                        break;
                pthread_mutex_lock(&p->lock);
                strv_push(&p->dropped, a.missing);
                pthread_mutex_unlock(&p->lock);
                drop_word(&p->words, a.missing);
        }
        pthread_mutex_lock(&p->lock);
        p->status = status;
        p->done = true;
        pthread_mutex_unlock(&p->lock);
        return NULL;
}

int prefetch_start(const char *dir, char *const *words, struct prefetch **ret)
{
        char partial[PATH_MAX];
        struct prefetch *p;
        int r;

        if (snprintf(partial, sizeof(partial), "%s/partial", dir) >= (int)sizeof(partial))
                return -ENAMETOOLONG;
        /* apt's download sandbox (user _apt) must reach the directory;
         * apt makes partial/ its own */
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        if (mkdir(partial, 0700) < 0 && errno != EEXIST)
                return -errno;
        p = xcalloc(1, sizeof(*p));
        snprintf(p->dir, sizeof(p->dir), "%s", dir);
        p->words = strv_copy(words);
        pthread_mutex_init(&p->lock, NULL);
        if (pipe2(p->stop, O_CLOEXEC) < 0) {
                r = -errno;
                goto fail;
        }
        r = -pthread_create(&p->thread, NULL, prefetch_main, p);
        if (r < 0) {
                close(p->stop[0]);
                close(p->stop[1]);
                goto fail;
        }
        *ret = p;
        return 0;
fail:
        pthread_mutex_destroy(&p->lock);
        strv_free(p->words);
        free(p);
        return r;
}

void prefetch_state(struct prefetch *p, double *ret_percent, bool *ret_done)
{
        pthread_mutex_lock(&p->lock);
        if (ret_percent)
                *ret_percent = p->percent;
        if (ret_done)
                *ret_done = p->done;
        pthread_mutex_unlock(&p->lock);
}

void prefetch_stop(struct prefetch *p)
{
        bool done;

        prefetch_state(p, NULL, &done);
        if (!done && write(p->stop[1], "x", 1) < 0) {
                /* the pipe is ours and empty: cannot fail but for a bug */
        }
        prefetch_join(p, NULL, NULL);
}

int prefetch_join(struct prefetch *p, char *const **ret_dropped, const char **ret_error)
{
        if (!p->joined) {
                pthread_join(p->thread, NULL);
                p->joined = true;
        }
        if (ret_dropped)
                *ret_dropped = p->dropped;
        if (ret_error)
                *ret_error = p->error;
        return p->status;
}

static bool is_deb(const char *name)
{
        size_t n = strlen(name);
        return n > 4 && name[0] != '.' && strcmp(name + n - 4, ".deb") == 0;
}

int prefetch_link(const char *dir, const char *archives)
{
        DIR *d = opendir(dir);
        struct dirent *de;
        int n = 0;

        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                _cleanup_free_ char *from = NULL, *to = NULL;
                struct stat st;

                if (!is_deb(de->d_name))
                        continue;
                from = xasprintf("%s/%s", dir, de->d_name);
                to = xasprintf("%s/%s", archives, de->d_name);
                /* apt takes a file of the right size in its archive
                 * directory without checking its hash again: only what apt
                 * itself put there (root's, written by no one else) goes */
                if (lstat(from, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
                    (st.st_mode & 022))
                        continue;
                if (link(from, to) == 0)
                        n++;
                else if (errno != EEXIST) {
                        int r = -errno;
                        closedir(d);
                        return r;
                }
        }
        closedir(d);
        return n;
}

/* Removes the regular files of dir; counts the .debs among them. */
static int remove_files(const char *dir, uint64_t *bytes)
{
        DIR *d = opendir(dir);
        struct dirent *de;
        int n = 0;

        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while ((de = readdir(d))) {
                struct stat st;

                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    S_ISDIR(st.st_mode))
                        continue;
                if (unlinkat(dirfd(d), de->d_name, 0) < 0)
                        continue;
                if (is_deb(de->d_name)) {
                        n++;
                        if (bytes)
                                *bytes += (uint64_t)st.st_size;
                }
        }
        closedir(d);
        return n;
}

int prefetch_remove(const char *dir, uint64_t *ret_bytes)
{
        _cleanup_free_ char *partial = xasprintf("%s/partial", dir);
        uint64_t bytes = 0;
        int n;

        (void)remove_files(partial, NULL);
        if (rmdir(partial) < 0 && errno != ENOENT)
                return -errno;
        n = remove_files(dir, &bytes);
        if (n < 0)
                return n;
        if (rmdir(dir) < 0 && errno != ENOENT)
                return -errno;
        if (ret_bytes)
                *ret_bytes = bytes;
        return n;
}

void prefetch_free(struct prefetch *p)
{
        if (!p)
                return;
        prefetch_stop(p);
        close(p->stop[0]);
        close(p->stop[1]);
        pthread_mutex_destroy(&p->lock);
        strv_free(p->words);
        strv_free(p->dropped);
        free(p);
}
