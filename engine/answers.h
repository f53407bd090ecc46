/* answers.h — the choices of a run: what the wizard asks and what an
 * answers.ini file holds.
 *
 * The file is INI: "[section]" headers, "key = value" lines, full-line
 * comments starting with '#' or ';', blank lines. Values are taken as
 * written (trimmed; no inline comments, no quoting, no escapes, no
 * continuation lines), so what a person sees is what the program reads. The
 * file is parsed, never executed. Every key has a default; a file may hold
 * any subset. Problems are collected, not just the first: each names the
 * file, the line, the key, the rule and the fix.
 *
 * The key table (answers_keys()) is the one source for the parser, the
 * wizard's help lines, assets/answers.ini.example and the answers.ini(5) man
 * page. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "validate.h"

#define ANSWERS_MAX_FILE   (64 * 1024)  /* bytes */
#define ANSWERS_MAX_LINE   1024         /* bytes, newline excluded */
#define ANSWERS_MAX_ERRORS 50           /* a parse stops collecting after this many */

#define ANSWERS_IDES_MAX   512          /* bytes of the [ides] install list */

enum on_failure {
        ON_FAILURE_ROLLBACK,   /* undo everything this run did, exit 5 */
        ON_FAILURE_KEEP,       /* keep the changes, exit 4; --resume continues */
};

/* Where xrdp listens ([network] rdp_listen). */
enum rdp_listen {
        RDP_LISTEN_ALL,         /* every address; the firewall opens rdp_port */
        RDP_LISTEN_LOCALHOST,   /* 127.0.0.1 only, reached through an SSH tunnel */
};

struct answers {
        /* [user] */
        char username[USERNAME_MAX + 1];
        char full_name[65];
        char password_hash[256];  /* "" = generate a password */
        unsigned password_length; /* generated password length, 16..64 */
        bool layout_safe_password;/* letters only, same keys in QWERTY/QWERTZ/AZERTY */
        bool copy_root_ssh_keys;
        bool sudo_password;       /* sudo asks for the password (default: NOPASSWD) */
        /* [ides] */
        char ides[ANSWERS_IDES_MAX]; /* ids of the IDE catalog, "a, b"; "" = none */
        char ide_catalog[4096];   /* "" = the installed catalog */
        /* [network] */
        uint16_t rdp_port;
        uint16_t ssh_port;
        enum rdp_listen rdp_listen;
        bool firewall;
        /* [security] */
        bool hardening;           /* sshd drop-in */
        bool fail2ban;
        /* [desktop] */
        bool display_manager;     /* install lightdm (not needed for RDP) */
        bool screen_locker;       /* install a screen locker (blanks RDP sessions) */
        bool sound;               /* audio redirection over RDP */
        /* [system] */
        bool upgrade;             /* apt-get dist-upgrade before installing */
        char apt_mirror[512];     /* "" = keep the server's apt sources */
        /* [run] */
        enum log_level log_level;
        enum on_failure on_failure;
        unsigned failure_wait;    /* seconds a failure waits for an attached client */
        unsigned credentials_wait;/* seconds an unseen password is kept for --attach */
        unsigned apt_lock_wait;   /* seconds to wait for another package manager's lock */
};

enum answers_type {
        ANSWERS_STRING,
        ANSWERS_BOOL,
        ANSWERS_PORT,
        ANSWERS_UINT,
        ANSWERS_ENUM,
        ANSWERS_LIST,
        ANSWERS_PATH,
        ANSWERS_URL,
        ANSWERS_DURATION,         /* "30m", "24h", "2d", "90s" (seconds in the struct) */
};

struct answers_key {
        const char *section;      /* "user" */
        const char *name;         /* "username" */
        enum answers_type type;
        const char *default_value;/* as written in a file: "devuser", "yes", "" */
        const char *values;       /* allowed values for ENUM/LIST/UINT ranges: "debug, info, warning, error" */
        const char *summary;      /* one line: shown in the wizard and --help-answers */
        const char *doc;          /* a paragraph: example file and man page */
        bool secret;              /* never written back by answers_format() */
};

const struct answers_key *answers_keys(size_t *ret_n);
/* The entry of one key, or NULL when the section has no such key. */
const struct answers_key *answers_key_find(const char *section, const char *key);
const char *answers_type_name(enum answers_type t);   /* "string", "boolean", "port", … */

struct answers_error {
        unsigned line;            /* 0 = not tied to a line (cross-field or I/O) */
        char key[80];             /* "[user] username", or "" */
        char message[512];        /* the rule and the fix */
};

/* Zero-initialise before first use; parsers append to it (errors already in
 * it are kept), answers_errors_release() frees and empties it. */
struct answers_errors {
        struct answers_error *v;
        size_t n;
};
void answers_errors_release(struct answers_errors *e);
/* "answers.ini:4: [user] username: must start with …" into buf; without
 * ":4" when the line is 0 and without the key part when the key is "". */
void answers_error_format(const char *filename, const struct answers_error *e, char *buf,
                          size_t size);

/* Defaults for every key. */
void answers_init(struct answers *a);

/* Sets one key from its text form, with the same validation as the file.
 * The wizard calls this for each field. 0, -ENOENT for an unknown key (err
 * lists the section's keys), -EINVAL with err filled for a bad value. */
int answers_set(struct answers *a, const char *section, const char *key, const char *value,
                char *err, size_t errlen);
/* The text form of a key's current value ("yes", "3389", "vscode, cursor";
 * the secret password_hash too: the caller decides where it may go). 0,
 * -ENOENT for an unknown key, -ENOBUFS when buf is too small. */
int answers_get(const struct answers *a, const char *section, const char *key, char *buf,
                size_t size);

/* Parses a whole file over *a (which the caller initialised, so a file can
 * pre-fill on top of defaults). Checks encoding (UTF-8, no NUL, BOM
 * allowed), line length, syntax, unknown sections and keys, duplicate keys,
 * each value, then the cross-field rules of answers_check(). Returns 0, or
 * -EINVAL with every problem in errs; on -EINVAL *a is left as it was.
 * I/O problems return -errno with one error (line 0) saying what to do:
 * -ENOENT, -EACCES, -EISDIR, -EFBIG (over ANSWERS_MAX_FILE), …
 * Values are checked with validate.h (the username against this machine's
 * /etc/passwd and /etc/group). At most ANSWERS_MAX_ERRORS problems are
 * collected; a last one then says the rest was not read. */
int answers_load(const char *path, struct answers *a, struct answers_errors *errs);
int answers_parse(const char *data, size_t len, struct answers *a, struct answers_errors *errs);

/* Cross-field rules: RDP and SSH ports differ, and neither is xrdp-sesman's
 * own 3350; every IDE of [ides] install is in the IDE catalog (the one
 * [ides] catalog names, see ide_catalog.h), which must be readable when
 * one is named. Appends to errs (line 0; answers_parse() puts them on the
 * line of the key it read); returns 0 or -EINVAL. */
int answers_check(const struct answers *a, struct answers_errors *errs);

/* The answers as an INI file (secret keys left out), with a header line;
 * with_docs adds each key's summary as a comment. Caller frees. */
char *answers_format(const struct answers *a, bool with_docs);

/* The full documented example file (assets/answers.ini.example is this text,
 * byte for byte): a header that explains the format, then every section and
 * key with its doc as comments and its default as an active line. Parsing it
 * gives exactly answers_init()'s defaults. Caller frees. */
char *answers_example(void);

/* Is the IDE id in [ides] install? */
bool answers_ide_wanted(const struct answers *a, const char *id);
/* The ids of [ides] install in the order written (strv, NULL = none). */
char **answers_ide_list(const struct answers *a);
const char *on_failure_name(enum on_failure f);
const char *rdp_listen_name(enum rdp_listen l);  /* "all", "localhost" */
/* The SSH tunnel to an xrdp that listens on 127.0.0.1 only (rdp_listen =
 * localhost): "ssh -L 3389:localhost:RDP_PORT root@HOST", with "-p
 * SSH_PORT" when that is not 22. The RDP client then connects to
 * localhost:3389. Caller frees. */
char *answers_rdp_tunnel(unsigned rdp_port, unsigned ssh_port, const char *host);/* "rollback" */
