/* checkpoint.c — see checkpoint.h.
 *
 * A checkpoint is DIR/PHASE.json, replaced atomically. Reading is strict: a
 * file that is not exactly a checkpoint for that phase counts as corrupt
 * (-EBADMSG), so a damaged file makes the phase run again rather than be
 * skipped on a guess. */
#include "checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "json_strict.h"

#define CHECKPOINT_FILE_MAX (64 * 1024)

/* A phase id usable as a file name: [a-z0-9_-], not starting with '-'. */
static bool phase_name_ok(const char *s)
{
        size_t n = 0;

        if (!s || !*s || *s == '-')
                return false;
        for (; s[n]; n++)
                if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') ||
                      s[n] == '-' || s[n] == '_'))
                        return false;
        return n < sizeof(((struct checkpoint *)0)->phase);
}

/* "" or 64 lower-case hex digits. */
static bool digest_ok(const char *s)
{
        size_t n = 0;

        for (; s[n]; n++)
                if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
                        return false;
        return n == 0 || n == SHA256_HEX - 1;
}

/* DIR/PHASE.json into buf; -EINVAL for a phase name unfit for a file name. */
static int checkpoint_path(const char *dir, const char *phase, char *buf, size_t size)
{
        int w;

        if (!phase_name_ok(phase))
                return -EINVAL;
        w = snprintf(buf, size, "%s/%s.json", dir, phase);
        if (w < 0 || (size_t)w >= size)
                return -ENAMETOOLONG;
        return 0;
}

/* Writes the checkpoint of c->phase atomically (0600), creating dir (0700). */
int checkpoint_write(const char *dir, const struct checkpoint *c)
{
        char path[PATH_MAX];
        struct json_object *o;
        const char *s;
        int r;

        if (!digest_ok(c->checksum) || !digest_ok(c->inputs))
                return -EINVAL;
        r = checkpoint_path(dir, c->phase, path, sizeof(path));
        if (r < 0)
                return r;
        r = mkdir_p(dir, 0700);
        if (r < 0)
                return r;

        o = json_object_new_object();
        json_object_object_add(o, "phase_name", json_object_new_string(c->phase));
        json_object_object_add(o, "completed_at", json_object_new_string(c->completed_at));
        json_object_object_add(o, "session_id", json_object_new_string(c->session_id));
        json_object_object_add(o, "checksum", json_object_new_string(c->checksum));
        json_object_object_add(o, "inputs", json_object_new_string(c->inputs));
        s = json_object_to_json_string_ext(
                o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                           JSON_C_TO_STRING_NOSLASHESCAPE);
        _cleanup_free_ char *text = xasprintf("%s\n", s);
        json_object_put(o);
        return write_file_atomic(path, text, strlen(text), 0600, (uid_t)-1, (gid_t)-1);
}

/* Copies member key (a string) into a fixed field; false when missing,
 * not a string or too long. */
static bool get_field(struct json_object *o, const char *key, char *buf, size_t size)
{
        struct json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return false;
        return strscpy(buf, size, json_object_get_string(v)) == 0;
}

/* Parses a checkpoint file's text. */
int checkpoint_parse(const char *text, size_t len, struct checkpoint *ret)
{
        struct checkpoint c = { 0 };
        struct json_object *o;
        bool ok;

        if (json_parse_strict(text, len, &o, NULL, 0) < 0)
                return -EBADMSG;
        ok = get_field(o, "phase_name", c.phase, sizeof(c.phase)) &&
             get_field(o, "completed_at", c.completed_at, sizeof(c.completed_at)) &&
             get_field(o, "session_id", c.session_id, sizeof(c.session_id)) &&
             get_field(o, "checksum", c.checksum, sizeof(c.checksum)) &&
             get_field(o, "inputs", c.inputs, sizeof(c.inputs));
        json_object_put(o);
        if (!ok || !phase_name_ok(c.phase) || !digest_ok(c.checksum) || !digest_ok(c.inputs))
                return -EBADMSG;
        *ret = c;
        return 0;
}

/* Reads and checks DIR/PHASE.json. */
int checkpoint_read(const char *dir, const char *phase, struct checkpoint *ret)
{
        _cleanup_free_ char *text = NULL;
        char path[PATH_MAX];
        struct checkpoint c;
        size_t len = 0;
        int r;

        r = checkpoint_path(dir, phase, path, sizeof(path));
        if (r < 0)
                return r;
        r = read_file(path, CHECKPOINT_FILE_MAX, &text, &len);
        if (r == -EFBIG)
                return -EBADMSG;
        if (r < 0)
                return r;
        r = checkpoint_parse(text, len, &c);
        if (r < 0)
                return r;
        if (strcmp(c.phase, phase) != 0)
                return -EBADMSG;    /* a file renamed by hand */
        *ret = c;
        return 0;
}

/* Removes one phase's checkpoint. */
int checkpoint_remove(const char *dir, const char *phase)
{
        char path[PATH_MAX];
        int r;

        r = checkpoint_path(dir, phase, path, sizeof(path));
        if (r < 0)
                return r;
        if (unlink(path) < 0)
                return -errno;
        (void)fsync_dir_of(path);
        return 0;
}

/* Removes the checkpoints in dir (only session_id's when not NULL); returns
 * how many, or -errno. A missing dir holds none. */
static int remove_matching(const char *dir, const char *session_id)
{
        DIR *d = opendir(dir);
        struct dirent *de;
        int n = 0, r = 0;

        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while ((de = readdir(d))) {
                char phase[sizeof(((struct checkpoint *)0)->phase)];
                size_t len = strlen(de->d_name);
                struct checkpoint c;

                if (len <= 5 || strcmp(de->d_name + len - 5, ".json") != 0 ||
                    len - 5 >= sizeof(phase))
                        continue;
                memcpy(phase, de->d_name, len - 5);
                phase[len - 5] = '\0';
                if (!phase_name_ok(phase))
                        continue;
                if (session_id && (checkpoint_read(dir, phase, &c) < 0 ||
                                   strcmp(c.session_id, session_id) != 0))
                        continue;
                r = checkpoint_remove(dir, phase);
                if (r < 0 && r != -ENOENT)
                        break;
                if (r == 0)
                        n++;
                r = 0;
        }
        closedir(d);
        return r < 0 ? r : n;
}

/* Removes the checkpoints a session wrote (unreadable ones are left). */
int checkpoint_remove_session(const char *dir, const char *session_id)
{
        if (!session_id || !*session_id)
                return -EINVAL;
        return remove_matching(dir, session_id);
}

/* Removes every checkpoint in dir. */
int checkpoint_remove_all(const char *dir)
{
        return remove_matching(dir, NULL);
}
