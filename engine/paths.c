/* paths.c — see paths.h. */
#include "paths.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

#define DEFAULT_STATE_DIR "/var/lib/vps-provision"
#define DEFAULT_LOG_DIR "/var/log/vps-provision"
#define DEFAULT_LOCK "/run/vps-provision/lock"
#define DEFAULT_RUN_DIR "/run/vps-provision"

/* Room kept after a directory for the names built under it
 * ("/checkpoints/desktop.json", "/journal-20261122-101500.jsonl"). */
#define NAME_ROOM 128

/* Takes the value of an environment override into buf when it is set and
 * sane: absolute, no ".." component, no control characters, short enough.
 * A trailing slash is dropped. is_file: the value names a file, not a
 * directory. An empty variable counts as unset. */
static int take_override(const char *var, const char *example, bool is_file, char *buf,
                         size_t size, char *err, size_t errlen)
{
        const char *v = getenv(var);
        const char *why = NULL;
        size_t n;

        if (!v || !*v)
                return 0;
        n = strlen(v);
        if (v[0] != '/')
                why = "is not an absolute path";
        else if (n >= PATH_MAX - NAME_ROOM)
                why = "is too long";
        if (!why)
                for (const char *p = v; *p; p++)
                        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
                                why = "contains a control character";
                                break;
                        }
        if (!why)
                for (const char *p = v; *p;) {
                        size_t len = strcspn(p, "/");
                        if (len == 2 && p[0] == '.' && p[1] == '.') {
                                why = "contains a \"..\" component";
                                break;
                        }
                        p += len;
                        p += strspn(p, "/");
                }
        if (!why && is_file && (v[n - 1] == '/' || strspn(v, "/") == n))
                why = "names a directory, not a file";
        if (why) {
                if (err && errlen)
                        snprintf(err, errlen,
                                 "%s=\"%s\" %s: set it to an absolute path such as %s, or "
                                 "unset it to use that default",
                                 var, n > 200 ? "…" : v, why, example);
                return -EINVAL;
        }
        while (n > 1 && v[n - 1] == '/')
                n--;
        if (n >= size)
                return -EINVAL; /* not reached: n < PATH_MAX - NAME_ROOM */
        memcpy(buf, v, n);
        buf[n] = '\0';
        return 0;
}

/* dir + "/" + name into buf; "" when it does not fit. */
static void join(char *buf, size_t size, const char *dir, const char *name)
{
        int n = snprintf(buf, size, "%s/%s", dir, name);
        if (n < 0 || (size_t)n >= size)
                buf[0] = '\0';
}

int paths_init(struct paths *p, char *err, size_t errlen)
{
        struct paths t;
        int r;

        if (err && errlen)
                err[0] = '\0';
        strscpy(t.state_dir, sizeof(t.state_dir), DEFAULT_STATE_DIR);
        strscpy(t.log_dir, sizeof(t.log_dir), DEFAULT_LOG_DIR);
        strscpy(t.lock_path, sizeof(t.lock_path), DEFAULT_LOCK);
        strscpy(t.data_dir, sizeof(t.data_dir), VPSP_DATADIR);

        r = take_override("VPS_PROVISION_STATE_DIR", DEFAULT_STATE_DIR, false, t.state_dir,
                          sizeof(t.state_dir), err, errlen);
        if (r == 0)
                r = take_override("VPS_PROVISION_LOG_DIR", DEFAULT_LOG_DIR, false, t.log_dir,
                                  sizeof(t.log_dir), err, errlen);
        if (r == 0)
                r = take_override("VPS_PROVISION_LOCK", DEFAULT_LOCK, true, t.lock_path,
                                  sizeof(t.lock_path), err, errlen);
        if (r == 0)
                r = take_override("VPS_PROVISION_DATA_DIR", VPSP_DATADIR, false, t.data_dir,
                                  sizeof(t.data_dir), err, errlen);
        /* the attach sockets: next to a moved lock, so that a test (or a
         * second installation) that moves the lock has sockets of its own */
        strscpy(t.run_dir, sizeof(t.run_dir), DEFAULT_RUN_DIR);
        if (r == 0 && getenv("VPS_PROVISION_LOCK") && *getenv("VPS_PROVISION_LOCK")) {
                char *slash = strrchr(t.lock_path, '/');
                if (slash && slash != t.lock_path) {
                        memcpy(t.run_dir, t.lock_path, (size_t)(slash - t.lock_path));
                        t.run_dir[slash - t.lock_path] = '\0';
                }
        }
        if (r == 0)
                r = take_override("VPS_PROVISION_RUN_DIR", DEFAULT_RUN_DIR, false, t.run_dir,
                                  sizeof(t.run_dir), err, errlen);
        if (r < 0)
                return r;

        join(t.sessions_dir, sizeof(t.sessions_dir), t.state_dir, "sessions");
        join(t.checkpoints_dir, sizeof(t.checkpoints_dir), t.state_dir, "checkpoints");
        join(t.backups_dir, sizeof(t.backups_dir), t.state_dir, "backups");
        *p = t;
        return 0;
}

void paths_journal(const struct paths *p, const char *session_id, char *buf, size_t size)
{
        int n = snprintf(buf, size, "%s/journal-%s.jsonl", p->state_dir, session_id);
        if (n < 0 || (size_t)n >= size)
                buf[0] = '\0';
}

void paths_log(const struct paths *p, const char *session_id, char *buf, size_t size)
{
        int n = snprintf(buf, size, "%s/%s.log", p->log_dir, session_id);
        if (n < 0 || (size_t)n >= size)
                buf[0] = '\0';
}

void paths_data(const struct paths *p, const char *name, char *buf, size_t size)
{
        join(buf, size, p->data_dir, name);
}

/* mkdir -p dir, then make sure it is a directory with mode exactly 0700
 * (an existing one with a wider mode is tightened). */
static int make_private_dir(const char *dir)
{
        struct stat st;
        int r;

        if (!*dir)
                return -ENAMETOOLONG;
        r = mkdir_p(dir, 0700);
        if (r < 0)
                return r;
        if (stat(dir, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        if ((st.st_mode & 07777) != 0700 && chmod(dir, 0700) < 0)
                return -errno;
        return 0;
}

int paths_create(const struct paths *p)
{
        const char *const dirs[] = {
                p->state_dir, p->sessions_dir, p->checkpoints_dir, p->backups_dir, p->log_dir,
        };

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                int r = make_private_dir(dirs[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}
