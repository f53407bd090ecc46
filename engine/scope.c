/* scope.c — see scope.h. */
#include "scope.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "run.h"
#include "util.h"

#define MOVE_WAIT_MS 3000
#define BUSCTL_TIMEOUT_MS 20000

void scope_unit_of(const char *text, char *ret, size_t size)
{
        const char *line = text;

        ret[0] = '\0';
        /* cgroup v2: "0::/system.slice/x.scope"; v1: "N:name=systemd:/…";
         * the unified line wins, else the systemd one */
        while (line && *line) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t)(nl - line) : strlen(line);
                const char *path = NULL;

                if (len > 3 && startswith(line, "0::"))
                        path = line + 3;
                else if (!ret[0] && len > 0 && memmem(line, len, ":name=systemd:", 14))
                        path = (const char *)memmem(line, len, ":name=systemd:", 14) + 14;
                if (path) {
                        const char *end = line + len, *p = end;
                        /* the last component that names a unit */
                        while (p > path) {
                                const char *slash = p - 1;
                                while (slash > path && *slash != '/')
                                        slash--;
                                const char *name = *slash == '/' ? slash + 1 : slash;
                                size_t n = (size_t)(p - name);
                                if ((n > 6 && memcmp(p - 6, ".scope", 6) == 0) ||
                                    (n > 8 && memcmp(p - 8, ".service", 8) == 0)) {
                                        if (n < size) {
                                                memcpy(ret, name, n);
                                                ret[n] = '\0';
                                        }
                                        break;
                                }
                                p = slash;
                        }
                        if (startswith(line, "0::") && ret[0])
                                return;
                }
                line = nl ? nl + 1 : NULL;
        }
}

static void own_unit(char *ret, size_t size)
{
        _cleanup_free_ char *text = NULL;
        size_t len;

        ret[0] = '\0';
        if (read_file("/proc/self/cgroup", 64 * 1024, &text, &len) == 0)
                scope_unit_of(text, ret, size);
}

struct stderr_text {
        char text[512];
};

static void keep_stderr(void *userdata, enum run_stream stream, const char *line, size_t len,
                        bool truncated)
{
        struct stderr_text *t = userdata;
        (void)truncated;
        if (stream == RUN_STDERR && !t->text[0])
                snprintf(t->text, sizeof(t->text), "%.*s", (int)len, line);
}

int scope_leave_session(const char *systemd_dir, char *note, size_t note_size)
{
        char unit[64], desc[96], pid[24], now_in[256], before[256];
        struct stderr_text err = { "" };
        struct run_opts o;
        struct run_result res;
        int r;

        if (!path_exists(systemd_dir ? systemd_dir : "/run/systemd/system"))
                return errorf(-ENOMEDIUM, note, note_size,
                              "systemd is not PID 1 here, so the run gets no unit of its own: it "
                              "does not need the terminal, but a session manager that ends every "
                              "process of a login would end it");
        own_unit(before, sizeof(before));
        if (startswith(before, "vps-provision-")) {
                (void)!snprintf(note, note ? note_size : 0, "the run is in %s already", before);
                return 0;
        }
        snprintf(unit, sizeof(unit), "vps-provision-%d.scope", (int)getpid());
        snprintf(desc, sizeof(desc), "vps-provision run (pid %d)", (int)getpid());
        snprintf(pid, sizeof(pid), "%d", (int)getpid());
        {
                const char *argv[] = {
                        "busctl", "--system", "call", "org.freedesktop.systemd1",
                        "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                        "StartTransientUnit", "ssa(sv)a(sa(sv))", unit, "fail",
                        "4",
                        "Description", "s", desc,
                        "PIDs", "au", "1", pid,
                        "Slice", "s", "system.slice",
                        "CollectMode", "s", "inactive-or-failed",
                        "0", NULL,
                };
                run_opts_init(&o);
                o.argv = argv;
                o.timeout_ms = BUSCTL_TIMEOUT_MS;
                o.on_line = keep_stderr;
                o.userdata = &err;
                r = run_command(&o, &res);
        }
        if (r != 0) {
                char how[160];
                run_describe(r, &res, "busctl", how, sizeof(how));
                return errorf(r < 0 ? r : -EPROTO, note, note_size,
                              "systemd did not give the run a unit of its own (busctl %s%s%s): a "
                              "logout that ends this login's processes would end the run",
                              how, err.text[0] ? ": " : "", err.text);
        }
        /* the job runs asynchronously; the move shows in our cgroup */
        for (int64_t until = now_ms() + MOVE_WAIT_MS;;) {
                own_unit(now_in, sizeof(now_in));
                if (strcmp(now_in, unit) == 0)
                        break;
                if (now_ms() >= until)
                        return errorf(-ETIMEDOUT, note, note_size,
                                      "systemd accepted %s but the run is still in %s", unit,
                                      now_in[0] ? now_in : "its old cgroup");
                sleep_ms(20);
        }
        (void)!snprintf(note, note ? note_size : 0, "the run moved from %s into %s (system.slice)",
                        before[0] ? before : "its login", unit);
        return 0;
}
