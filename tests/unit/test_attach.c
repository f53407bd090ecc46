/* test_attach.c — the attach channel: its wire format (commands, events
 * back from JSON, the credentials line in locked memory) and the server
 * (directory and socket modes, hello, replay in order, roles and the keys,
 * refused commands, promotion, credentials only to the controller and
 * gone once dropped, a client that never reads is dropped while publishing
 * never waits, garbage and a missing hello end a client, stale sockets),
 * and the unit name read from /proc/PID/cgroup and the scope move's
 * refusals. */
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "attach_proto.h"
#include "attach_server.h"
#include "engine.h"
#include "enginelib.h"
#include "events.h"
#include "lock.h"
#include "ops.h"
#include "scope.h"
#include "session.h"
#include "secret.h"
#include "util.h"

/* ---- commands ------------------------------------------------------------- */

static int parse_cmd(const char *text, struct attach_cmd *c)
{
        char err[200] = "";
        int r = attach_cmd_parse(text, strlen(text), c, err, sizeof(err));
        if (r < 0)
                assert_true(err[0] != '\0');   /* every refusal says why */
        return r;
}

static void test_cmd_parse(void **state)
{
        struct attach_cmd c;
        (void)state;

        assert_int_equal(parse_cmd("{\"cmd\":\"hello\",\"want\":\"control\"}", &c), 0);
        assert_int_equal(c.type, ATTACH_CMD_HELLO);
        assert_true(c.want_control);
        assert_int_equal(parse_cmd("{\"cmd\":\"hello\"}", &c), 0);
        assert_false(c.want_control);
        assert_int_equal(parse_cmd("{\"cmd\":\"answer\",\"prompt_id\":3,\"choice\":\"rollback\",\"x\":1}", &c), 0);
        assert_int_equal(c.type, ATTACH_CMD_ANSWER);
        assert_int_equal(c.prompt_id, 3);
        assert_int_equal(c.choice, CHOICE_ROLLBACK);
        for (int t = 0; t < _ATTACH_CMD_MAX; t++) {
                struct attach_cmd in = { .type = (enum attach_cmd_type)t, .want_control = true,
                                         .prompt_id = 7, .choice = CHOICE_KEEP };
                char *line = attach_cmd_format(&in);
                size_t n = strlen(line);
                assert_true(n > 0 && line[n - 1] == '\n');
                assert_int_equal(attach_cmd_parse(line, n - 1, &c, NULL, 0), 0);
                assert_int_equal(c.type, t);
                free(line);
        }

        /* refused: not JSON, not an object, unknown command, bad fields */
        const char *bad[] = {
                "", "garbage", "[1]", "{\"cmd\":1}", "{\"cmd\":\"launch\"}", "{}",
                "{\"cmd\":\"hello\",\"want\":\"everything\"}",
                "{\"cmd\":\"answer\",\"prompt_id\":0,\"choice\":\"retry\"}",
                "{\"cmd\":\"answer\",\"prompt_id\":1,\"choice\":\"none\"}",
                "{\"cmd\":\"answer\",\"prompt_id\":1}",
                "{\"cmd\":\"answer\",\"prompt_id\":99999999999,\"choice\":\"keep\"}",
                "{\"cmd\":\"cancel\",\"cmd\":\"detach\"}",
                "{\"cmd\":\"cancel\"} trailing",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(parse_cmd(bad[i], &c), -EBADMSG);

        char big[ATTACH_CMD_MAX + 64];
        memset(big, ' ', sizeof(big));
        memcpy(big, "{\"cmd\":\"cancel\"}", 16);
        assert_int_equal(attach_cmd_parse(big, sizeof(big), &c, NULL, 0), -EBADMSG);
}

/* ---- events back from JSON -------------------------------------------------- */

/* The event through a server line and back (a client's view). */
static struct event *round_trip(const struct event *ev)
{
        char *line = attach_event_line(ev, 42);
        struct attach_msg m;
        char err[200] = "";
        size_t n;

        assert_non_null(line);
        n = strlen(line);
        assert_true(line[n - 1] == '\n');
        assert_null(memchr(line, '\n', n - 1));   /* one line */
        if (attach_msg_parse(line, n - 1, &m, err, sizeof(err)) != 0)
                fail_msg("%s: %s", line, err);
        assert_int_equal(m.type, ATTACH_MSG_EVENT);
        assert_int_equal(m.ev->type, ev->type);
        assert_int_equal(m.ev->seq, 42);
        free(line);
        return m.ev;
}

static void test_event_round_trip(void **state)
{
        struct event *ev, *back;
        (void)state;

        ev = event_new(EV_SESSION_START);
        ev->session.session_id = xstrdup("20261206-101500");
        ev->session.mode = MODE_RESUME;
        ev->session.log_path = xstrdup("/var/log/vps-provision/20261206-101500.log");
        ev->session.n_phases = 2;
        ev->session.phases = xcalloc(3, sizeof(struct ev_phase_info));
        ev->session.phases[0] = (struct ev_phase_info){ xstrdup("preflight"), xstrdup("Preflight checks"), 1, PHASE_DONE };
        ev->session.phases[1] = (struct ev_phase_info){ xstrdup("desktop"), xstrdup("XFCE \"desktop\""), 30, PHASE_RUNNING };
        back = round_trip(ev);
        assert_string_equal(back->session.session_id, "20261206-101500");
        assert_int_equal(back->session.mode, MODE_RESUME);
        assert_string_equal(back->session.log_path, ev->session.log_path);
        assert_null(back->session.session_path);
        assert_int_equal(back->session.n_phases, 2);
        assert_string_equal(back->session.phases[1].title, "XFCE \"desktop\"");
        assert_int_equal(back->session.phases[1].weight, 30);
        assert_int_equal(back->session.phases[1].state, PHASE_RUNNING);
        assert_int_equal(back->time_ms / 1000, ev->time_ms / 1000);
        event_free(ev);
        event_free(back);

        ev = event_new(EV_PROGRESS);
        ev->progress.overall = 0.25;
        ev->progress.phase = 0.5;
        ev->progress.phase_index = 3;
        ev->progress.elapsed_ms = 61000;
        ev->progress.eta_ms = -1;
        ev->progress.detail = xstrdup("Unpacking xfce4-panel (132/412)");
        back = round_trip(ev);
        assert_true(back->progress.overall > 0.249 && back->progress.overall < 0.251);
        assert_int_equal(back->progress.phase_index, 3);
        assert_int_equal(back->progress.eta_ms, -1);
        assert_string_equal(back->progress.detail, ev->progress.detail);
        event_free(ev);
        event_free(back);

        ev = event_new(EV_PROMPT);
        ev->prompt.id = 2;
        ev->prompt.kind = PROMPT_PHASE_FAILED;
        ev->prompt.title = xstrdup("Phase desktop failed");
        ev->prompt.message = xstrdup("apt-get exited with status 100");
        strv_push(&ev->prompt.tail, "E: Unable to locate package x");
        strv_push(&ev->prompt.undo, "remove /etc/xrdp/xrdp.ini");
        back = round_trip(ev);
        assert_int_equal(back->prompt.id, 2);
        assert_string_equal(back->prompt.tail[0], "E: Unable to locate package x");
        assert_string_equal(back->prompt.undo[0], "remove /etc/xrdp/xrdp.ini");
        assert_null(back->prompt.undo[1]);
        event_free(ev);
        event_free(back);

        ev = event_new(EV_LOG);
        ev->log.level = LOG_WARNING;
        ev->log.phase_index = 4;
        ev->log.text = xstrdup("bad byte \xff here");
        back = round_trip(ev);
        assert_int_equal(back->log.level, LOG_WARNING);
        assert_string_equal(back->log.text, "bad byte \xef\xbf\xbd here");
        event_free(ev);
        event_free(back);

        ev = event_new(EV_SESSION_END);
        ev->session_end.status = SESSION_FAILED;
        ev->session_end.exit_code = 4;
        ev->session_end.message = xstrdup("phase desktop failed");
        strv_push(&ev->session_end.summary, "RDP: 192.0.2.2:3389");
        back = round_trip(ev);
        assert_int_equal(back->session_end.status, SESSION_FAILED);
        assert_int_equal(back->session_end.exit_code, 4);
        assert_string_equal(back->session_end.summary[0], "RDP: 192.0.2.2:3389");
        event_free(ev);
        event_free(back);

        ev = event_new(EV_PREFLIGHT);
        strscpy(ev->preflight.info.hostname, sizeof(ev->preflight.info.hostname), "vm");
        ev->preflight.info.cpu_cores = 2;
        check_add(&ev->preflight.checks, "system", "Operating system", CHECK_WARN, "upgrade", "Debian %d", 12);
        back = round_trip(ev);
        assert_string_equal(back->preflight.info.hostname, "vm");
        assert_int_equal(back->preflight.checks.n, 1);
        assert_int_equal(back->preflight.checks.v[0].status, CHECK_WARN);
        assert_string_equal(back->preflight.checks.v[0].message, "Debian 12");
        assert_string_equal(back->preflight.checks.v[0].fix, "upgrade");
        event_free(ev);
        event_free(back);

        ev = event_new(EV_PHASE_END);
        ev->phase_end.index = 2;
        ev->phase_end.id = xstrdup("user");
        ev->phase_end.state = PHASE_ROLLED_BACK;
        ev->phase_end.duration_ms = 1500;
        back = round_trip(ev);
        assert_int_equal(back->phase_end.state, PHASE_ROLLED_BACK);
        assert_null(back->phase_end.message);
        event_free(ev);
        event_free(back);

        ev = event_new(EV_PLAN);
        ev->plan.phase_index = 1;
        strv_push(&ev->plan.steps, "FILE_CREATE\t/etc/x\twrite x");
        strv_push(&ev->plan.steps, "just words");
        back = round_trip(ev);
        assert_string_equal(back->plan.steps[0], "FILE_CREATE\t/etc/x\twrite x");
        assert_string_equal(back->plan.steps[1], "just words");
        event_free(ev);
        event_free(back);
}

static int parse_msg(const char *text, struct attach_msg *m)
{
        char *copy = xstrdup(text);
        int r = attach_msg_parse(copy, strlen(copy), m, NULL, 0);
        free(copy);
        return r;
}

static void test_msg_refusals(void **state)
{
        struct attach_msg m;
        (void)state;

        assert_int_equal(parse_msg("{\"event\":\"replay_end\"}", &m), 0);
        assert_int_equal(m.type, ATTACH_MSG_REPLAY_END);
        assert_int_equal(parse_msg("{\"event\":\"role\",\"role\":\"control\"}", &m), 0);
        assert_true(m.control);
        assert_int_equal(parse_msg("{\"event\":\"bye\",\"reason\":\"too slow\"}", &m), 0);
        assert_int_equal(m.type, ATTACH_MSG_BYE);
        assert_string_equal(m.text, "too slow");
        /* an event type of a newer server is skipped, not fatal */
        assert_int_equal(parse_msg("{\"event\":\"weather\",\"sky\":\"blue\"}", &m), -ENOMSG);
        /* answers travel the other way */
        assert_int_equal(parse_msg("{\"event\":\"answer\",\"prompt_id\":1,\"choice\":\"keep\"}", &m), -ENOMSG);
        const char *bad[] = {
                "", "{", "{\"event\":3}", "{\"event\":\"role\",\"role\":\"king\"}",
                "{\"event\":\"progress\",\"overall\":2,\"phase\":0,\"phase_index\":0,\"elapsed_ms\":0,\"eta_ms\":0}",
                "{\"event\":\"session_end\",\"status\":\"GREAT\",\"exit_code\":0,\"message\":\"\"}",
                "{\"event\":\"log\",\"level\":\"info\",\"phase_index\":0,\"text\":7,\"dropped_before\":0}",
                "{\"event\":\"hello\",\"proto\":1}",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(parse_msg(bad[i], &m), -EBADMSG);
}

/* ---- the credentials line --------------------------------------------------- */

static struct event *creds_event(const char *pw)
{
        struct event *ev = event_new(EV_CREDENTIALS);

        ev->credentials.username = xstrdup("devuser");
        ev->credentials.host = xstrdup("192.0.2.2");
        ev->credentials.rdp_port = 3389;
        ev->credentials.ssh_port = 2222;
        if (pw)
                assert_int_equal(secret_from(pw, strlen(pw), &ev->credentials.password), 0);
        return ev;
}

static void test_credentials_line(void **state)
{
        const char *pws[] = { "Ab3#kLmn-pQ2=rS_t@uV", "with \"quote\" and \\ back\x01slash/", "" };
        (void)state;

        {
                /* never as an ordinary line */
                struct event *ev = creds_event("Zq7#Lk2=mP9-xR4@tW8_");
                assert_null(attach_event_line(ev, 1));
                event_free(ev);
        }
        for (size_t i = 0; i < ELEMENTSOF(pws); i++) {
                struct event *ev = creds_event(pws[i]);
                struct secret *line = NULL;
                struct attach_msg m;
                char *copy;
                size_t n;

                assert_int_equal(attach_credentials_line(ev, 9, &line), 0);
                n = strlen(secret_str(line));
                assert_true(n > 0 && secret_str(line)[n - 1] == '\n');
                copy = xstrndup(secret_str(line), n - 1);
                assert_int_equal(attach_msg_parse(copy, n - 1, &m, NULL, 0), 0);
                assert_int_equal(m.type, ATTACH_MSG_EVENT);
                assert_int_equal(m.ev->type, EV_CREDENTIALS);
                assert_non_null(m.ev->credentials.password);
                assert_string_equal(secret_str(m.ev->credentials.password), pws[i]);
                assert_int_equal(m.ev->credentials.ssh_port, 2222);
                assert_string_equal(m.ev->credentials.username, "devuser");
                /* the line that was read holds the password no more */
                if (strlen(pws[i]) >= 4)
                        assert_null(strstr(copy, pws[i]));
                free(copy);
                event_free(m.ev);
                secret_free(line);
                event_free(ev);
        }

        /* with a password hash there is no password in the line */
        {
                struct event *ev = creds_event(NULL);
                struct secret *line = NULL;
                struct attach_msg m;
                char *copy;

                assert_int_equal(attach_credentials_line(ev, 9, &line), 0);
                assert_non_null(strstr(secret_str(line), "\"password\":null"));
                copy = xstrdup(secret_str(line));
                assert_int_equal(attach_msg_parse(copy, strlen(copy) - 1, &m, NULL, 0), 0);
                assert_null(m.ev->credentials.password);
                event_free(m.ev);
                free(copy);
                secret_free(line);
                event_free(ev);
        }

        /* a "password" that is not the member the parser reads is refused */
        const char *bad[] = {
                "{\"event\":\"credentials\",\"username\":\"u\",\"host\":\"h\",\"rdp_port\":1,\"ssh_port\":2}",
                "{\"event\":\"credentials\",\"username\":\"u\",\"x\":{\"password\":\"p\"},\"password\":\"q\",\"host\":\"h\",\"rdp_port\":1,\"ssh_port\":2}",
                "{\"event\":\"credentials\",\"password\":\"a\\u00e9\",\"username\":\"u\",\"host\":\"h\",\"rdp_port\":1,\"ssh_port\":2}",
                "{\"event\":\"credentials\",\"password\":\"unterminated",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct attach_msg m;
                assert_int_equal(parse_msg(bad[i], &m), -EBADMSG);
        }
}

/* ---- the server ------------------------------------------------------------- */

struct got {
        pthread_mutex_t mu;
        struct attach_cmd cmds[16];
        size_t n;
};

static void on_cmd(void *userdata, const struct attach_cmd *c)
{
        struct got *g = userdata;
        pthread_mutex_lock(&g->mu);
        if (g->n < ELEMENTSOF(g->cmds))
                g->cmds[g->n++] = *c;
        pthread_mutex_unlock(&g->mu);
}

static size_t got_n(struct got *g)
{
        size_t n;
        pthread_mutex_lock(&g->mu);
        n = g->n;
        pthread_mutex_unlock(&g->mu);
        return n;
}

/* A raw client: its fd and what it has read so far. */
struct cli {
        int fd;
        char buf[1 << 16];
        size_t len;
};

static void cli_open(struct cli *c, const char *path)
{
        c->len = 0;
        c->fd = attach_connect(path);
        assert_true(c->fd >= 0);
}

static void cli_send(struct cli *c, const char *line)
{
        assert_int_equal(write(c->fd, line, strlen(line)), (ssize_t)strlen(line));
}

/* The next line (without '\n') within ms, or NULL at EOF/timeout. Caller frees. */
static char *cli_line(struct cli *c, int ms)
{
        int64_t until = now_ms() + ms;

        for (;;) {
                char *nl = memchr(c->buf, '\n', c->len);
                struct pollfd p = { .fd = c->fd, .events = POLLIN };
                ssize_t k;

                if (nl) {
                        char *line = xstrndup(c->buf, (size_t)(nl - c->buf));
                        c->len -= (size_t)(nl - c->buf) + 1;
                        memmove(c->buf, nl + 1, c->len);
                        return line;
                }
                if (now_ms() >= until || poll(&p, 1, (int)(until - now_ms())) <= 0)
                        return NULL;
                k = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
                if (k <= 0)
                        return NULL;
                c->len += (size_t)k;
        }
}

/* Reads lines until one contains text; fails after ms. Returns that line. */
static char *cli_until(struct cli *c, const char *text, int ms)
{
        char *line;
        while ((line = cli_line(c, ms))) {
                if (strstr(line, text))
                        return line;
                free(line);
        }
        fail_msg("no line with %s", text);
        return NULL;
}

static bool cli_eof(struct cli *c, int ms)
{
        char *line;
        while ((line = cli_line(c, ms)))
                free(line);
        struct pollfd p = { .fd = c->fd, .events = POLLIN };
        char b;
        return poll(&p, 1, 0) == 1 && read(c->fd, &b, 1) == 0;
}

static struct event *log_ev(const char *text)
{
        struct event *ev = event_new(EV_LOG);
        ev->log.text = xstrdup(text);
        return ev;
}

static void publish_free(struct attach_server *s, struct event *ev)
{
        attach_server_publish(s, ev);
        event_free(ev);
}

static void test_server_dir(void **state)
{
        char *root = test_tmpdir(), *dir = test_path(root, "run"), err[512] = "";
        struct attach_server *s = NULL;
        struct stat st;
        (void)state;

        /* another user could write there: refused, nothing made in it */
        assert_int_equal(mkdir(dir, 0777), 0);
        assert_int_equal(chmod(dir, 0777), 0);
        assert_int_equal(attach_server_start(dir, NULL, NULL, &s, err, sizeof(err)), -EPERM);
        assert_non_null(strstr(err, dir));
        assert_non_null(strstr(err, "VPS_PROVISION_RUN_DIR"));
        assert_int_equal(rmdir(dir), 0);

        /* made when missing: 0700, the socket 0600 */
        assert_int_equal(attach_server_start(dir, NULL, NULL, &s, err, sizeof(err)), 0);
        assert_int_equal(stat(dir, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
        assert_int_equal(lstat(attach_server_path(s), &st), 0);
        assert_true(S_ISSOCK(st.st_mode));
        assert_int_equal(st.st_mode & 0777, 0600);
        {
                char *path = xstrdup(attach_server_path(s));
                attach_server_stop(s, NULL);
                assert_false(path_exists(path));   /* removed with its server */
                free(path);
        }
        free(dir);
}

static void test_server_roles_and_replay(void **state)
{
        char *dir = test_path(test_tmpdir(), "run"), err[512];
        struct got g = { .mu = PTHREAD_MUTEX_INITIALIZER };
        struct attach_server *s = NULL;
        struct cli a, b;
        struct event *ev;
        char *line;
        (void)state;

        assert_int_equal(attach_server_start(dir, on_cmd, &g, &s, err, sizeof(err)), 0);
        ev = event_new(EV_SESSION_START);
        ev->session.session_id = xstrdup("20261206-101500");
        ev->session.phases = xcalloc(1, sizeof(struct ev_phase_info));
        publish_free(s, ev);
        for (int i = 0; i < ATTACH_LOG_LINES + 10; i++) {
                char t[32];
                snprintf(t, sizeof(t), "line %d", i);
                publish_free(s, log_ev(t));
        }
        ev = event_new(EV_PROGRESS);
        ev->progress.overall = 0.5;
        publish_free(s, ev);
        ev = event_new(EV_PROMPT);
        ev->prompt.id = 1;
        ev->prompt.title = xstrdup("Phase x failed");
        ev->prompt.message = xstrdup("boom");
        publish_free(s, ev);

        /* the first client: the hello, then the keys and the replay */
        cli_open(&a, attach_server_path(s));
        line = cli_line(&a, 2000);
        assert_non_null(strstr(line, "\"event\":\"hello\""));
        assert_non_null(strstr(line, "\"session_id\":\"20261206-101500\""));
        assert_non_null(strstr(line, "\"has_controller\":false"));
        free(line);
        cli_send(&a, "{\"cmd\":\"hello\",\"want\":\"control\"}\n");
        line = cli_line(&a, 2000);
        assert_string_equal(line, "{\"event\":\"role\",\"role\":\"control\"}");
        free(line);
        line = cli_line(&a, 2000);
        assert_non_null(strstr(line, "session_start"));
        free(line);
        /* the oldest log lines kept come first, in order */
        line = cli_line(&a, 2000);
        assert_non_null(strstr(line, "\"text\":\"line 10\""));
        free(line);
        free(cli_until(&a, "line 2009", 2000));
        free(cli_until(&a, "\"event\":\"progress\"", 2000));
        free(cli_until(&a, "\"event\":\"prompt\"", 2000));
        free(cli_until(&a, "replay_end", 2000));

        /* a second client watches: no prompt in its replay, its cancel is refused */
        cli_open(&b, attach_server_path(s));
        line = cli_line(&b, 2000);
        assert_non_null(strstr(line, "\"has_controller\":true"));
        free(line);
        cli_send(&b, "{\"cmd\":\"hello\",\"want\":\"control\"}\n");
        line = cli_line(&b, 2000);
        assert_string_equal(line, "{\"event\":\"role\",\"role\":\"watch\"}");
        free(line);
        while ((line = cli_line(&b, 2000)) && !strstr(line, "replay_end")) {
                assert_null(strstr(line, "\"event\":\"prompt\""));
                free(line);
        }
        assert_non_null(line);
        free(line);
        cli_send(&b, "{\"cmd\":\"cancel\"}\n");
        line = cli_line(&b, 2000);
        assert_non_null(strstr(line, "\"event\":\"refused\""));
        free(line);

        /* the controller's commands reach the callback */
        cli_send(&a, "{\"cmd\":\"answer\",\"prompt_id\":1,\"choice\":\"retry\"}\n");
        for (int i = 0; i < 200 && got_n(&g) < 1; i++)
                sleep_ms(10);
        assert_int_equal(got_n(&g), 1);
        assert_int_equal(g.cmds[0].type, ATTACH_CMD_ANSWER);
        assert_int_equal(g.cmds[0].choice, CHOICE_RETRY);

        /* live events reach both */
        publish_free(s, log_ev("live one"));
        free(cli_until(&a, "live one", 2000));
        free(cli_until(&b, "live one", 2000));

        /* the controller leaves: the watcher that asked for the keys gets
         * them, and the prompt that is still pending */
        cli_send(&a, "{\"cmd\":\"detach\"}\n");
        assert_true(cli_eof(&a, 2000));
        close(a.fd);
        line = cli_until(&b, "\"event\":\"role\"", 2000);
        assert_non_null(strstr(line, "control"));
        free(line);
        free(cli_until(&b, "\"event\":\"prompt\"", 2000));

        /* once answered, a new controller does not see the prompt */
        attach_server_prompt_done(s, 1);
        cli_open(&a, attach_server_path(s));
        free(cli_line(&a, 2000));
        cli_send(&a, "{\"cmd\":\"hello\",\"want\":\"control\"}\n");
        line = cli_line(&a, 2000);
        assert_non_null(strstr(line, "watch"));
        free(line);
        cli_send(&a, "{\"cmd\":\"take\"}\n");
        while ((line = cli_line(&a, 2000)) && !strstr(line, "\"role\":\"control\"")) {
                assert_null(strstr(line, "\"event\":\"prompt\""));
                free(line);
        }
        assert_non_null(line);
        free(line);
        line = cli_until(&b, "\"event\":\"role\"", 2000);
        assert_non_null(strstr(line, "watch"));
        free(line);
        assert_true(attach_server_has_controller(s));

        attach_server_stop(s, "the test is over");
        free(cli_until(&a, "the test is over", 2000));
        close(a.fd);
        close(b.fd);
        free(dir);
}

/* The terminal that started the run keeps the keys: a session that
 * connects and says hello before it (another --attach, as soon as the
 * socket exists) only watches; the owner gets them when it says hello,
 * and when it leaves they pass to the watcher that asked. */
static void test_server_owner_keeps_keys(void **state)
{
        char *dir = test_path(test_tmpdir(), "run-owned"), err[512];
        struct got g = { .mu = PTHREAD_MUTEX_INITIALIZER };
        struct attach_server *s = NULL;
        struct cli own = { .fd = -1 }, b;
        int pair[2];
        char *line;
        (void)state;

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
        assert_int_equal(attach_server_start_owned(dir, pair[0], on_cmd, &g, &s, err, sizeof(err)), 0);
        own.fd = pair[1];

        /* another session first: hello, wants the keys, only watches */
        cli_open(&b, attach_server_path(s));
        line = cli_line(&b, 2000);
        assert_non_null(strstr(line, "\"event\":\"hello\""));
        free(line);
        cli_send(&b, "{\"cmd\":\"hello\",\"want\":\"control\"}\n");
        line = cli_line(&b, 2000);
        assert_string_equal(line, "{\"event\":\"role\",\"role\":\"watch\"}");
        free(line);
        assert_false(attach_server_has_controller(s));
        /* and its commands are refused */
        cli_send(&b, "{\"cmd\":\"cancel\"}\n");
        free(cli_until(&b, "another session has the keys", 2000));
        assert_int_equal(got_n(&g), 0);

        /* the owner says hello late: the keys are its */
        line = cli_line(&own, 2000);
        assert_non_null(strstr(line, "\"event\":\"hello\""));
        free(line);
        cli_send(&own, "{\"cmd\":\"hello\",\"want\":\"control\"}\n");
        line = cli_line(&own, 2000);
        assert_string_equal(line, "{\"event\":\"role\",\"role\":\"control\"}");
        free(line);
        assert_true(attach_server_has_controller(s));
        cli_send(&own, "{\"cmd\":\"cancel\"}\n");
        for (int i = 0; i < 200 && got_n(&g) == 0; i++)
                sleep_ms(10);
        assert_int_equal(got_n(&g), 1);
        assert_int_equal(g.cmds[0].type, ATTACH_CMD_CANCEL);

        /* the starting terminal hangs up: the watcher that asked gets them */
        close(own.fd);
        line = cli_until(&b, "\"event\":\"role\"", 3000);
        assert_non_null(strstr(line, "control"));
        free(line);

        attach_server_stop(s, NULL);
        close(b.fd);

        /* an owner that never says hello: the keys do not wait forever
         * (the hello timeout drops it, then the others may have them) */
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
        assert_int_equal(attach_server_start_owned(dir, pair[0], on_cmd, &g, &s, err, sizeof(err)), 0);
        close(pair[1]);   /* hung up before its hello */
        cli_open(&b, attach_server_path(s));
        free(cli_line(&b, 2000));
        cli_send(&b, "{\"cmd\":\"hello\",\"want\":\"control\"}\n");
        line = cli_until(&b, "\"role\":\"control\"", 3000);
        free(line);
        attach_server_stop(s, NULL);
        close(b.fd);
        free(dir);
}

static void test_server_credentials(void **state)
{
        char *dir = test_path(test_tmpdir(), "run"), err[512];
        const char *pw = "Zq7#Lk2=mP9-xR4@tW8_";
        struct attach_server *s = NULL;
        struct cli a, b;
        struct event *ev;
        char *line;
        (void)state;

        assert_int_equal(attach_server_start(dir, NULL, NULL, &s, err, sizeof(err)), 0);
        publish_free(s, log_ev("before"));
        attach_server_keep_credentials(s, creds_event(pw));
        ev = event_new(EV_SESSION_END);
        ev->session_end.message = xstrdup("done");
        publish_free(s, ev);

        /* a watcher never gets the password */
        cli_open(&b, attach_server_path(s));
        line = cli_line(&b, 2000);
        assert_non_null(strstr(line, "\"credentials_waiting\":true"));
        assert_non_null(strstr(line, "\"ended\":true"));
        free(line);
        cli_send(&b, "{\"cmd\":\"hello\",\"want\":\"watch\"}\n");
        while ((line = cli_line(&b, 2000)) && !strstr(line, "replay_end")) {
                assert_null(strstr(line, pw));
                free(line);
        }
        free(line);

        /* the controller gets it where it happened: before the end */
        cli_open(&a, attach_server_path(s));
        free(cli_line(&a, 2000));
        cli_send(&a, "{\"cmd\":\"hello\",\"want\":\"control\"}\n");
        line = cli_until(&a, "\"event\":\"credentials\"", 2000);
        assert_non_null(strstr(line, pw));
        free(line);
        free(cli_until(&a, "session_end", 2000));
        sleep_ms(100);
        assert_true(attach_server_end_delivered(s));
        close(a.fd);

        /* once dropped, the next controller sees no password */
        attach_server_drop_credentials(s);
        cli_open(&a, attach_server_path(s));
        line = cli_line(&a, 2000);
        assert_non_null(strstr(line, "\"credentials_waiting\":false"));
        free(line);
        cli_send(&a, "{\"cmd\":\"hello\",\"want\":\"control\"}\n");
        while ((line = cli_line(&a, 2000)) && !strstr(line, "replay_end")) {
                assert_null(strstr(line, "\"event\":\"credentials\""));
                free(line);
        }
        assert_non_null(line);
        free(line);
        close(a.fd);
        close(b.fd);
        attach_server_stop(s, NULL);
        free(dir);
}

static void test_server_bad_clients(void **state)
{
        char *dir = test_path(test_tmpdir(), "run"), err[512];
        struct attach_server *s = NULL;
        struct cli a, slow;
        char *line;
        int64_t t0, spent;
        (void)state;

        assert_int_equal(attach_server_start(dir, NULL, NULL, &s, err, sizeof(err)), 0);

        /* garbage: a bye that says why, then the end */
        cli_open(&a, attach_server_path(s));
        free(cli_line(&a, 2000));
        cli_send(&a, "this is not json\n");
        line = cli_until(&a, "\"event\":\"bye\"", 2000);
        assert_non_null(strstr(line, "not a command"));
        free(line);
        assert_true(cli_eof(&a, 2000));
        close(a.fd);

        /* a command before the hello */
        cli_open(&a, attach_server_path(s));
        free(cli_line(&a, 2000));
        cli_send(&a, "{\"cmd\":\"cancel\"}\n");
        free(cli_until(&a, "hello command", 2000));
        close(a.fd);

        /* a line that never ends */
        cli_open(&a, attach_server_path(s));
        free(cli_line(&a, 2000));
        {
                char big[ATTACH_CMD_MAX * 2];
                memset(big, 'x', sizeof(big));
                assert_true(write(a.fd, big, sizeof(big)) > 0);
        }
        free(cli_until(&a, "too long", 2000));
        close(a.fd);

        /* a client that says hello and never reads: publishing goes on (it
         * would hang here if it waited for the client), and the client is
         * dropped once it is ATTACH_CLIENT_BACKLOG behind */
        cli_open(&slow, attach_server_path(s));
        cli_send(&slow, "{\"cmd\":\"hello\",\"want\":\"control\"}\n");
        for (int i = 0; i < 200 && !attach_server_has_controller(s); i++)
                sleep_ms(10);
        assert_true(attach_server_has_controller(s));
        {
                char text[4096];
                int sent = 0;
                memset(text, 'y', sizeof(text) - 1);
                text[sizeof(text) - 1] = '\0';
                t0 = now_ms();
                for (; sent < 3 * (int)(ATTACH_CLIENT_BACKLOG / sizeof(text)) &&
                       attach_server_clients(s) > 0; sent++) {
                        struct event *ev = log_ev(text);
                        attach_server_publish(s, ev);
                        event_free(ev);
                }
                spent = now_ms() - t0;
                /* dropped after about the backlog (the kernel's socket buffer
                 * takes a little more), not at the end of the flood */
                assert_true(sent < 2 * (int)(ATTACH_CLIENT_BACKLOG / sizeof(text)));
        }
        for (int i = 0; i < 300 && attach_server_clients(s) > 0; i++)
                sleep_ms(10);
        assert_int_equal(attach_server_clients(s), 0);
        assert_false(attach_server_has_controller(s));
        print_message("published past a stalled client: %lld ms\n", (long long)spent);
        close(slow.fd);

        attach_server_stop(s, NULL);
        free(dir);
}

static void test_list_and_stale(void **state)
{
        char *dir = test_path(test_tmpdir(), "run"), err[512], *stale;
        struct attach_server *s = NULL;
        struct attach_peer *peers = NULL;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t n = 0;
        int fd;
        (void)state;

        assert_int_equal(attach_list(dir, &peers, &n), -ENOENT);
        assert_int_equal(attach_server_start(dir, NULL, NULL, &s, err, sizeof(err)), 0);

        /* a socket nobody listens on any more (its run was killed) */
        stale = test_path(dir, "attach-999999.sock");
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        strscpy(sa.sun_path, sizeof(sa.sun_path), stale);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        close(fd);
        assert_true(path_exists(stale));

        assert_int_equal(attach_list(dir, &peers, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(peers[0].path, attach_server_path(s));
        assert_int_equal(peers[0].hello.pid, getpid());
        assert_int_equal(peers[0].hello.proto, ATTACH_PROTO_VERSION);
        free(peers);
        assert_false(path_exists(stale));

        attach_server_stop(s, NULL);
        assert_int_equal(attach_list(dir, &peers, &n), 0);
        assert_int_equal(n, 0);
        free(peers);
        free(stale);
        free(dir);
}

/* ---- scope ------------------------------------------------------------------ */

static void test_scope_unit_of(void **state)
{
        char u[128];
        (void)state;

        scope_unit_of("0::/user.slice/user-1000.slice/session-3.scope\n", u, sizeof(u));
        assert_string_equal(u, "session-3.scope");
        scope_unit_of("0::/system.slice/vps-provision-812.scope\n", u, sizeof(u));
        assert_string_equal(u, "vps-provision-812.scope");
        scope_unit_of("0::/system.slice/ssh.service\n", u, sizeof(u));
        assert_string_equal(u, "ssh.service");
        scope_unit_of("12:pids:/\n1:name=systemd:/user.slice/user-0.slice/session-9.scope\n0::/\n",
                      u, sizeof(u));
        assert_string_equal(u, "session-9.scope");
        scope_unit_of("0::/\n", u, sizeof(u));
        assert_string_equal(u, "");
        scope_unit_of("", u, sizeof(u));
        assert_string_equal(u, "");
}

static void test_scope_refusals(void **state)
{
        const struct etest_scratch *h = *state;
        char *sd = test_path(h->root, "systemd");
        const char *bin = h->bin;
        char note[512] = "";

        /* no systemd as PID 1: nothing is asked of anyone */
        assert_int_equal(scope_leave_session(sd, note, sizeof(note)), -ENOMEDIUM);
        assert_non_null(strstr(note, "not PID 1"));

        /* systemd refuses: the note says so, with busctl's words */
        assert_int_equal(mkdir(sd, 0755), 0);
        test_stub(bin, "busctl", "echo 'Call failed: Access denied' >&2; exit 1\n");
        assert_true(scope_leave_session(sd, note, sizeof(note)) < 0);
        assert_non_null(strstr(note, "Access denied"));
        {
                char *calls = test_stub_calls(bin);
                char want[128];
                snprintf(want, sizeof(want), "StartTransientUnit ssa(sv)a(sa(sv)) vps-provision-%d.scope fail 4",
                         (int)getpid());
                assert_non_null(strstr(calls, want));
                snprintf(want, sizeof(want), "PIDs au 1 %d Slice s system.slice", (int)getpid());
                assert_non_null(strstr(calls, want));
                free(calls);
        }
        /* systemd says yes but the process did not move: not claimed as moved */
        test_stub(bin, "busctl", "echo 'o \"/org/freedesktop/systemd1/job/1\"'\n");
        assert_int_equal(scope_leave_session(sd, note, sizeof(note)), -ETIMEDOUT);
        assert_non_null(strstr(note, "still in"));
        free(sd);
}

/* ---- the engine with the channel -------------------------------------------- */

/* ROOT/files/name, ROOT being the parent of the engine's state directory. */
static char *phase_file(struct phase_ctx *c, const char *name)
{
        const char *st = phase_paths(c)->state_dir;
        const char *slash = strrchr(st, '/');
        return xasprintf("%.*s/files/%s", (int)(slash - st), st, name);
}

/* Like the user phase: done when its file is there and no password it
 * generated went unseen; run() sets a new one. */
static int acct_verify(struct phase_ctx *c)
{
        char *p = phase_file(c, "acct.txt");
        bool ok = path_exists(p);
        free(p);
        if (ok && phase_unseen_password(c)) {
                phase_verify_note(c, "the password session %s set was never shown", phase_unseen_password(c));
                return 0;
        }
        return ok;
}

static int acct_run(struct phase_ctx *c)
{
        char *p = phase_file(c, "acct.txt");
        struct secret *pw = NULL;
        int r = ops_write_file(c, p, "acct\n", 5, 0600, getuid(), getgid());

        free(p);
        if (r < 0)
                return r;
        r = secret_generate_password(20, &pw);
        if (r < 0)
                return phase_fail(c, r, "no password");
        phase_set_credentials(c, "devuser", CREDS_PW_GENERATED, pw);
        return 0;
}

/* Fails until ROOT/files/fixed exists. */
static int flaky_run(struct phase_ctx *c)
{
        char *p = phase_file(c, "fixed");
        bool ok = path_exists(p);
        free(p);
        return ok ? 0 : phase_fail(c, -EIO, "the flaky step failed");
}

static const struct phase acct_phase = { .id = "acct", .title = "Account", .weight = 50,
                                   .verify = acct_verify, .run = acct_run };
static const struct phase flaky = { .id = "flaky", .title = "Flaky", .weight = 50, .run = flaky_run };
/* Waits for the person like the SSH port move: settled once ROOT/files/login
 * exists (a login was seen) or the person confirmed; each settling writes
 * ROOT/files/settled (journaled) and counts. */
static int settle_calls;
static bool settle_confirmed_seen;

static int mover_run(struct phase_ctx *c)
{
        (void)c;
        return 0;
}

static int mover_settle(struct phase_ctx *c, bool confirmed)
{
        char *login = phase_file(c, "login"), *done = phase_file(c, "settled");
        bool go = confirmed || path_exists(login);
        int r = 0;

        settle_calls++;
        settle_confirmed_seen |= confirmed;
        if (go && !path_exists(done)) {
                phase_action_begin(c, "FILE_CREATE", done, "Closing the old way in");
                r = phase_action_end(c, ops_write_file(c, done, "x\n", 2, 0600, getuid(), getgid()));
        }
        free(login);
        free(done);
        return r < 0 ? r : go;
}

static const struct phase mover = { .id = "mover", .title = "Mover", .weight = 50,
                                    .run = mover_run, .settle = mover_settle };
static const struct phase *mover_table[] = { &mover };
static const struct phase *acct_table[] = { &acct_phase };
static const struct phase *flaky_table[] = { &acct_phase, &flaky };

static int engine_setup(void **state)
{
        struct etest_scratch *h = xcalloc(1, sizeof(*h));
        etest_scratch_begin(h);
        *state = h;
        return 0;
}

static int engine_teardown(void **state)
{
        etest_scratch_end(*state);
        free(*state);
        return 0;
}

/* A served engine as the wizard starts one: interactive, keeping an
 * unseen password. */
static struct engine *served(const struct etest_scratch *h, struct engine_opts *o,
                             const struct phase **phases, size_t n)
{
        struct engine *e = NULL;
        char err[512];

        etest_opts(o, h->root, MODE_PROVISION, phases, n);
        o->interactive = true;
        o->keep_credentials = true;
        assert_int_equal(engine_new(o, &e), 0);
        if (engine_serve(e, err, sizeof(err)) != 0)
                fail_msg("engine_serve: %s", err);
        assert_int_equal(engine_start(e), 0);
        return e;
}

/* The local events until the session's end (which is then returned). */
static struct event *until_end(struct engine *e, bool *ret_creds)
{
        for (;;) {
                struct event *ev = queue_wait_pop(engine_events(e), 20000);
                assert_non_null(ev);
                if (ev->type == EV_CREDENTIALS && ret_creds)
                        *ret_creds = true;
                if (ev->type == EV_SESSION_END)
                        return ev;
                event_free(ev);
        }
}

static void latest_session(const struct etest_scratch *h, struct session *ret)
{
        char path[PATH_MAX];
        char *dir = test_path(h->root, "state/sessions");
        assert_int_equal(session_find_latest(dir, 0, path, sizeof(path)), 0);
        assert_int_equal(session_load(path, ret), 0);
        free(dir);
}

/* A client with the keys on e's socket, through the replay. */
static void attach_control(struct engine *e, struct cli *c)
{
        cli_open(c, engine_socket(e));
        free(cli_line(c, 2000));
        cli_send(c, "{\"cmd\":\"hello\",\"want\":\"control\"}\n");
}

static void test_engine_keeps_credentials(void **state)
{
        const struct etest_scratch *h = *state;
        struct engine_opts o;
        struct engine *e = served(h, &o, acct_table, 1);
        struct event *end;
        struct session s;
        struct lock *l = NULL;
        struct cli a;
        bool local_creds = false;
        char *line;

        end = until_end(e, &local_creds);
        assert_int_equal(end->session_end.exit_code, 0);
        event_free(end);
        /* kept for a client, not handed to this process's queue */
        assert_false(local_creds);
        /* the run is over: the lock is free for the next one, and the
         * session says nobody saw the password yet */
        for (int i = 0; i < 100 && lock_acquire(o.paths.lock_path, "test", &l, NULL, NULL, 0) != 0; i++)
                sleep_ms(20);
        assert_non_null(l);
        lock_release(l);
        latest_session(h, &s);
        assert_int_equal(s.status, SESSION_COMPLETED);
        assert_int_equal(s.credentials, CREDENTIALS_UNSEEN);
        session_release(&s);

        /* a client with the keys gets the password, once confirmed the run ends */
        attach_control(e, &a);
        line = cli_until(&a, "\"event\":\"credentials\"", 5000);
        assert_non_null(strstr(line, "\"username\":\"devuser\""));
        assert_non_null(strstr(line, "\"password\":\""));
        assert_null(strstr(line, "\"password\":null"));
        free(line);
        free(cli_until(&a, "session_end", 2000));
        cli_send(&a, "{\"cmd\":\"credentials_saved\"}\n");
        assert_int_equal(engine_join(e), 0);
        latest_session(h, &s);
        assert_int_equal(s.credentials, CREDENTIALS_SHOWN);
        session_release(&s);
        assert_true(engine_end_seen(e));
        engine_free(e);
        close(a.fd);
        etest_opts_release(&o);
}

static void test_engine_credentials_expire(void **state)
{
        const struct etest_scratch *h = *state;
        struct engine_opts o;
        struct engine *e;
        struct session s;
        char *log, path[PATH_MAX];
        int64_t t0;

        e = NULL;
        {
                char err[512] = "";
                etest_opts(&o, h->root, MODE_PROVISION, acct_table, 1);
                o.interactive = o.keep_credentials = true;
                o.answers.credentials_wait = 1;
                assert_int_equal(engine_new(&o, &e), 0);
                if (engine_serve(e, err, sizeof(err)) != 0)
                        fail_msg("engine_serve: %s", err);
                assert_int_equal(engine_start(e), 0);
        }
        t0 = now_ms();
        event_free(until_end(e, NULL));
        assert_int_equal(engine_join(e), 0);
        assert_true(now_ms() - t0 >= 900);
        latest_session(h, &s);
        assert_int_equal(s.credentials, CREDENTIALS_WIPED);
        /* the log says how to set a new one */
        snprintf(path, sizeof(path), "%s", s.log_path);
        log = test_read(path);
        assert_non_null(log);
        assert_non_null(strstr(log, "passwd devuser"));
        free(log);
        session_release(&s);
        engine_free(e);
        etest_opts_release(&o);
}

static void test_engine_unseen_password_is_set_again(void **state)
{
        const struct etest_scratch *h = *state;
        struct engine_opts o;
        struct engine *e = served(h, &o, acct_table, 1);
        struct etest_run r;
        struct session s;
        const struct event *ev;
        char first[SESSION_ID_MAX];

        /* stopped (SIGTERM) while the password waits: as good as killed */
        event_free(until_end(e, NULL));
        engine_send(e, event_new(EV_CANCEL));
        assert_int_equal(engine_join(e), 0);
        engine_free(e);
        etest_opts_release(&o);
        latest_session(h, &s);
        assert_int_equal(s.credentials, CREDENTIALS_UNSEEN);
        strscpy(first, sizeof(first), s.session_id);
        session_release(&s);

        /* the next run does not skip the account: it sets and shows a new password */
        etest_opts(&o, h->root, MODE_PROVISION, acct_table, 1);
        sleep_ms(1100);   /* a new session id */
        etest_run(&o, NULL, NULL, &r);
        assert_int_equal(r.code, 0);
        assert_int_equal(etest_end_state(&r, "acct"), PHASE_DONE);
        ev = etest_find(&r, EV_CREDENTIALS, 0);
        assert_non_null(ev);
        assert_non_null(ev->credentials.password);
        latest_session(h, &s);
        assert_string_not_equal(s.session_id, first);
        assert_int_equal(s.credentials, CREDENTIALS_SHOWN);
        session_release(&s);
        etest_run_release(&r);

        /* and the one after that skips it again: nothing went unseen */
        etest_run(&o, NULL, NULL, &r);
        assert_int_equal(etest_end_state(&r, "acct"), PHASE_SKIPPED);
        assert_null(etest_find(&r, EV_CREDENTIALS, 0));
        etest_run_release(&r);
        etest_opts_release(&o);
}

static void test_engine_resume_shows_unseen_password(void **state)
{
        const struct etest_scratch *h = *state;
        struct engine_opts o;
        struct engine *e = served(h, &o, acct_table, 1);
        struct etest_run r;
        struct session s;
        char first[SESSION_ID_MAX];

        event_free(until_end(e, NULL));
        engine_send(e, event_new(EV_CANCEL));
        assert_int_equal(engine_join(e), 0);
        engine_free(e);
        etest_opts_release(&o);
        latest_session(h, &s);
        strscpy(first, sizeof(first), s.session_id);
        session_release(&s);

        /* a finished run whose password nobody saw: --resume reopens it */
        etest_opts(&o, h->root, MODE_RESUME, acct_table, 1);
        etest_run(&o, NULL, NULL, &r);
        assert_int_equal(r.code, 0);
        assert_int_equal(etest_end_state(&r, "acct"), PHASE_DONE);
        assert_non_null(etest_find(&r, EV_CREDENTIALS, 0));
        latest_session(h, &s);
        assert_string_equal(s.session_id, first);
        assert_int_equal(s.credentials, CREDENTIALS_SHOWN);
        session_release(&s);
        etest_run_release(&r);

        /* then there is nothing to resume */
        etest_run(&o, NULL, NULL, &r);
        assert_non_null(strstr(etest_find(&r, EV_SESSION_END, 0)->session_end.message, "nothing to do"));
        etest_run_release(&r);
        etest_opts_release(&o);
}

static void test_engine_failure_waits_for_a_client(void **state)
{
        const struct etest_scratch *h = *state;
        struct engine_opts o;
        struct engine *e = NULL;
        struct event *end;
        char err[512];
        int64_t t0;

        /* nobody attached: after failure_wait, on_failure (keep) decides */
        etest_opts(&o, h->root, MODE_PROVISION, flaky_table, 2);
        o.interactive = o.keep_credentials = true;
        o.answers.failure_wait = 1;
        o.answers.on_failure = ON_FAILURE_KEEP;
        assert_int_equal(engine_new(&o, &e), 0);
        assert_int_equal(engine_serve(e, err, sizeof(err)), 0);
        t0 = now_ms();
        assert_int_equal(engine_start(e), 0);
        {
                bool saw_prompt = false, saw_note = false;
                for (;;) {
                        struct event *ev = queue_wait_pop(engine_events(e), 20000);
                        assert_non_null(ev);
                        saw_prompt |= ev->type == EV_PROMPT;
                        saw_note |= ev->type == EV_LOG && strstr(ev->log.text, "failure_wait") &&
                                    strstr(ev->log.text, "keep");
                        if (ev->type == EV_SESSION_END) {
                                end = ev;
                                break;
                        }
                        event_free(ev);
                }
                assert_true(saw_prompt);
                assert_true(saw_note);
        }
        assert_int_equal(end->session_end.exit_code, EXIT_FAILED_KEPT);
        event_free(end);
        assert_true(now_ms() - t0 >= 1000);
        engine_send(e, event_new(EV_CANCEL));   /* do not keep the password */
        engine_join(e);
        engine_free(e);
        etest_opts_release(&o);
}

static void test_engine_failure_answered_over_the_socket(void **state)
{
        const struct etest_scratch *h = *state;
        struct engine_opts o;
        struct engine *e = NULL;
        struct event *end;
        struct cli a;
        char err[512], *line, answer[128];
        long id = 0;

        etest_opts(&o, h->root, MODE_PROVISION, flaky_table, 2);
        o.interactive = o.keep_credentials = true;
        o.answers.failure_wait = 600;
        assert_int_equal(engine_new(&o, &e), 0);
        assert_int_equal(engine_serve(e, err, sizeof(err)), 0);
        assert_int_equal(engine_start(e), 0);

        /* attached late: the pending prompt is in the replay */
        for (;;) {
                struct event *ev = queue_wait_pop(engine_events(e), 20000);
                assert_non_null(ev);
                bool prompt = ev->type == EV_PROMPT;
                event_free(ev);
                if (prompt)
                        break;
        }
        attach_control(e, &a);
        line = cli_until(&a, "\"event\":\"prompt\"", 5000);
        assert_non_null(strstr(line, "the flaky step failed"));
        assert_int_equal(sscanf(strstr(line, "\"id\":"), "\"id\":%ld", &id), 1);
        free(line);
        /* the fix, then retry: the run goes on and finishes */
        {
                char *p = test_path(h->files, "fixed");
                test_write(p, "");
                free(p);
        }
        snprintf(answer, sizeof(answer), "{\"cmd\":\"answer\",\"prompt_id\":%ld,\"choice\":\"retry\"}\n", id);
        cli_send(&a, answer);
        free(cli_until(&a, "\"event\":\"credentials\"", 10000));
        line = cli_until(&a, "session_end", 5000);
        assert_non_null(strstr(line, "\"exit_code\":0"));
        free(line);
        end = until_end(e, NULL);
        assert_int_equal(end->session_end.exit_code, 0);
        event_free(end);
        cli_send(&a, "{\"cmd\":\"credentials_saved\"}\n");
        assert_int_equal(engine_join(e), 0);
        engine_free(e);
        /* the client is told the process has ended */
        free(cli_until(&a, "\"event\":\"bye\"", 2000));
        close(a.fd);
        etest_opts_release(&o);
}

static void test_engine_settles_when_the_login_is_seen(void **state)
{
        const struct etest_scratch *h = *state;
        struct engine_opts o;
        struct engine *e;
        char *login = test_path(h->files, "login"), *done = test_path(h->files, "settled");

        settle_calls = 0;
        settle_confirmed_seen = false;
        e = served(h, &o, mover_table, 1);
        event_free(until_end(e, NULL));
        /* the first turn at the end, then the process waits */
        sleep_ms(1500);
        assert_true(settle_calls >= 1);
        assert_false(path_exists(done));
        test_write(login, "");
        assert_int_equal(engine_join(e), 0);   /* returns once settled */
        assert_true(path_exists(done));
        assert_false(settle_confirmed_seen);
        assert_true(settle_calls >= 2);
        engine_free(e);
        etest_opts_release(&o);

        /* the change is in the run's journal: a rollback undoes it */
        {
                struct etest_run r;
                etest_opts(&o, h->root, MODE_ROLLBACK, mover_table, 1);
                o.assume_yes = true;
                etest_run(&o, NULL, NULL, &r);
                assert_int_equal(r.code, 0);
                assert_false(path_exists(done));
                etest_run_release(&r);
                etest_opts_release(&o);
        }
        free(login);
        free(done);
}

static void test_engine_settles_when_confirmed(void **state)
{
        const struct etest_scratch *h = *state;
        struct engine_opts o;
        struct engine *e;
        struct cli a;
        char *done = test_path(h->files, "settled");

        settle_calls = 0;
        settle_confirmed_seen = false;
        e = served(h, &o, mover_table, 1);
        event_free(until_end(e, NULL));
        attach_control(e, &a);
        free(cli_until(&a, "session_end", 5000));
        cli_send(&a, "{\"cmd\":\"ssh_port_confirmed\"}\n");
        assert_int_equal(engine_join(e), 0);
        assert_true(settle_confirmed_seen);
        assert_true(path_exists(done));
        engine_free(e);
        close(a.fd);
        etest_opts_release(&o);
        free(done);
}

static void test_engine_unattended_settles_once(void **state)
{
        const struct etest_scratch *h = *state;
        struct engine_opts o;
        struct etest_run r;

        settle_calls = 0;
        etest_opts(&o, h->root, MODE_PROVISION, mover_table, 1);
        etest_run(&o, NULL, NULL, &r);
        assert_int_equal(r.code, 0);
        /* one turn at the end; nobody can attach, so nothing waits */
        assert_int_equal(settle_calls, 1);
        etest_run_release(&r);
        etest_opts_release(&o);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cmd_parse),
                cmocka_unit_test(test_event_round_trip),
                cmocka_unit_test(test_msg_refusals),
                cmocka_unit_test(test_credentials_line),
                cmocka_unit_test(test_server_dir),
                cmocka_unit_test(test_server_roles_and_replay),
                cmocka_unit_test(test_server_owner_keeps_keys),
                cmocka_unit_test(test_server_credentials),
                cmocka_unit_test(test_server_bad_clients),
                cmocka_unit_test(test_list_and_stale),
                cmocka_unit_test(test_scope_unit_of),
                cmocka_unit_test_setup_teardown(test_scope_refusals, engine_setup, engine_teardown),
                cmocka_unit_test_setup_teardown(test_engine_keeps_credentials, engine_setup, engine_teardown),
                cmocka_unit_test_setup_teardown(test_engine_credentials_expire, engine_setup, engine_teardown),
                cmocka_unit_test_setup_teardown(test_engine_unseen_password_is_set_again, engine_setup,
                                                engine_teardown),
                cmocka_unit_test_setup_teardown(test_engine_resume_shows_unseen_password, engine_setup,
                                                engine_teardown),
                cmocka_unit_test_setup_teardown(test_engine_failure_waits_for_a_client, engine_setup,
                                                engine_teardown),
                cmocka_unit_test_setup_teardown(test_engine_failure_answered_over_the_socket, engine_setup,
                                                engine_teardown),
                cmocka_unit_test_setup_teardown(test_engine_settles_when_the_login_is_seen, engine_setup,
                                                engine_teardown),
                cmocka_unit_test_setup_teardown(test_engine_settles_when_confirmed, engine_setup,
                                                engine_teardown),
                cmocka_unit_test_setup_teardown(test_engine_unattended_settles_once, engine_setup,
                                                engine_teardown),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        test_cleanup_all();
        return r;
}
