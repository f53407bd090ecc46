/* fuzz_attach — the attach socket's protocol, both directions: a client's
 * command line as the run's server reads it (attach_cmd_parse(): any local
 * root process may connect and send anything) and a server line as
 * `vps-provision --attach` reads it (attach_msg_parse(), including the
 * credentials event whose password is taken out of the line into locked
 * memory by a parser of its own).
 *
 * Promises checked:
 *  - a command: 0 or -EBADMSG, *ret untouched on failure; a parsed command
 *    formats (attach_cmd_format(), one line ending in '\n') to a line that
 *    parses to the same command and formats to the same text;
 *  - a server line: 0, -EBADMSG, -ENOMSG or -ENOMEM, *ret untouched on
 *    failure, the line keeps its length; a parsed hello, role, refusal,
 *    bye or event writes out (attach_hello_line(), attach_role_line(), …,
 *    attach_event_line(), attach_credentials_line()) to a line that parses
 *    back to the same thing, and a credentials line keeps no byte of its
 *    password once parsed. */
#include <errno.h>
#include <stdbool.h>

#include "attach_proto.h"
#include "fuzz.h"
#include "secret.h"

static void check_cmd(const uint8_t *data, size_t size)
{
        struct attach_cmd c, back, sentinel;
        char err[256];
        char *line, *again;
        int r;

        memset(&c, 0x5a, sizeof(c));
        sentinel = c;
        r = attach_cmd_parse((const char *)data, size, &c, err, sizeof(err));
        FUZZ_CHECK(r == 0 || r == -EBADMSG);
        if (r < 0) {
                FUZZ_CHECK(memcmp(&c, &sentinel, sizeof(c)) == 0);
                FUZZ_CHECK(err[0] != '\0');
                return;
        }
        FUZZ_CHECK((unsigned)c.type < _ATTACH_CMD_MAX);
        line = attach_cmd_format(&c);
        FUZZ_CHECK(line && strlen(line) > 1 && line[strlen(line) - 1] == '\n');
        FUZZ_CHECK(strchr(line, '\n') == line + strlen(line) - 1);
        r = attach_cmd_parse(line, strlen(line) - 1, &back, err, sizeof(err));
        if (r != 0)
                fprintf(stderr, "a formatted command does not parse back: %s (%s)\n", line, err);
        FUZZ_CHECK(r == 0);
        FUZZ_CHECK(back.type == c.type);
        if (c.type == ATTACH_CMD_HELLO)
                FUZZ_CHECK(back.want_control == c.want_control);
        if (c.type == ATTACH_CMD_ANSWER)
                FUZZ_CHECK(back.prompt_id == c.prompt_id && back.choice == c.choice);
        again = attach_cmd_format(&back);
        FUZZ_CHECK(strcmp(line, again) == 0);
        free(line);
        free(again);
}

static bool same_hello(const struct attach_hello *a, const struct attach_hello *b)
{
        return a->proto == b->proto && a->pid == b->pid && strcmp(a->version, b->version) == 0 &&
               strcmp(a->session_id, b->session_id) == 0 && strcmp(a->mode, b->mode) == 0 &&
               a->ended == b->ended && a->exit_code == b->exit_code &&
               a->credentials_waiting == b->credentials_waiting &&
               a->has_controller == b->has_controller;
}

/* A server line written by the server's own functions parses back. line
 * ends in '\n' (taken off here). */
static struct attach_msg reparse(char *line, size_t len)
{
        struct attach_msg m;
        char err[256];
        int r;

        FUZZ_CHECK(len > 0 && line[len - 1] == '\n');
        r = attach_msg_parse(line, len - 1, &m, err, sizeof(err));
        if (r != 0)
                fprintf(stderr, "a written line does not parse back: %.*s (%s)\n", (int)len, line, err);
        FUZZ_CHECK(r == 0);
        return m;
}

static void check_msg(const uint8_t *data, size_t size)
{
        struct attach_msg m, sentinel, back;
        char err[256];
        char *line = malloc(size + 1), *out;
        int r;

        FUZZ_CHECK(line);
        if (size)
                memcpy(line, data, size);
        line[size] = '\0';
        memset(&m, 0x5a, sizeof(m));
        sentinel = m;
        r = attach_msg_parse(line, size, &m, err, sizeof(err));
        FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -ENOMSG || r == -ENOMEM);
        FUZZ_CHECK(line[size] == '\0');
        if (r < 0) {
                FUZZ_CHECK(memcmp(&m, &sentinel, sizeof(m)) == 0);
                free(line);
                return;
        }
        switch (m.type) {
        case ATTACH_MSG_HELLO:
                out = attach_hello_line(&m.hello);
                back = reparse(out, strlen(out));
                FUZZ_CHECK(back.type == ATTACH_MSG_HELLO);
                FUZZ_CHECK(same_hello(&back.hello, &m.hello));
                free(out);
                break;
        case ATTACH_MSG_ROLE:
                out = attach_role_line(m.control);
                back = reparse(out, strlen(out));
                FUZZ_CHECK(back.type == ATTACH_MSG_ROLE && back.control == m.control);
                free(out);
                break;
        case ATTACH_MSG_REPLAY_END:
                out = attach_replay_end_line();
                back = reparse(out, strlen(out));
                FUZZ_CHECK(back.type == ATTACH_MSG_REPLAY_END);
                free(out);
                break;
        case ATTACH_MSG_REFUSED:
        case ATTACH_MSG_BYE:
                out = m.type == ATTACH_MSG_BYE ? attach_bye_line(m.text)
                                               : attach_refused_line("cancel", m.text);
                back = reparse(out, strlen(out));
                FUZZ_CHECK(back.type == m.type);
                FUZZ_CHECK(strcmp(back.text, m.text) == 0);
                free(out);
                break;
        case ATTACH_MSG_EVENT:
                FUZZ_CHECK(m.ev);
                if (m.ev->type == EV_CREDENTIALS) {
                        struct secret *s = NULL;
                        const struct secret *pw = m.ev->credentials.password;
                        char *copy;

                        /* none of the password is left in the line */
                        if (pw && secret_len(pw) >= 4)
                                FUZZ_CHECK(!memmem(line, size, secret_str(pw), secret_len(pw)));
                        FUZZ_CHECK(attach_credentials_line(m.ev, 7, &s) == 0);
                        copy = strdup(secret_str(s));
                        FUZZ_CHECK(copy);
                        back = reparse(copy, strlen(copy));
                        FUZZ_CHECK(back.type == ATTACH_MSG_EVENT && back.ev->type == EV_CREDENTIALS);
                        FUZZ_CHECK(!pw == !back.ev->credentials.password);
                        if (pw)
                                FUZZ_CHECK(secret_len(pw) == secret_len(back.ev->credentials.password) &&
                                           memcmp(secret_str(pw), secret_str(back.ev->credentials.password),
                                                  secret_len(pw)) == 0);
                        event_free(back.ev);
                        secret_free(s);
                        free(copy);
                } else {
                        char *again;
                        out = attach_event_line(m.ev, 7);
                        FUZZ_CHECK(out);
                        back = reparse(out, strlen(out));
                        FUZZ_CHECK(back.type == ATTACH_MSG_EVENT && back.ev->type == m.ev->type);
                        again = attach_event_line(back.ev, 7);
                        if (strcmp(out, again) != 0)
                                fprintf(stderr, "first:\n%ssecond:\n%s", out, again);
                        FUZZ_CHECK(strcmp(out, again) == 0);
                        event_free(back.ev);
                        free(out);
                        free(again);
                }
                event_free(m.ev);
                break;
        }
        free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        check_cmd(data, size);
        check_msg(data, size);
        return 0;
}
