/* answers.c — see answers.h.
 *
 * DESIGN: two parallel tables indexed by enum key_id describe every key:
 * keys[] is the public part (section, name, type, default, docs) and
 * fields[] says where the value lives in struct answers and how it is
 * checked. set_value() is the one place a text value becomes a field, so
 * the file parser and the wizard (answers_set) say the same words;
 * get_value() is its inverse, used by answers_get, answers_format and the
 * example file.
 *
 * The parser is hand-written (not libinih: Debian's build gives handlers no
 * line numbers, caps lines at 200 bytes and treats an inline ';' as a
 * comment). It walks the text line by line into a copy of the caller's
 * struct, records every problem with its line, and copies the result back
 * only when there was none. Values are never echoed for secret keys, and
 * other echoes are cut to QUOTE_MAX bytes with control characters masked. */
#include "answers.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "ide_catalog.h"
#include "util.h"

#define QUOTE_MAX 40            /* bytes of a user's text echoed in a message */
#define WRAP_WIDTH 78           /* columns of the example file's comments */

enum key_id {
        K_USERNAME,
        K_FULL_NAME,
        K_PASSWORD_HASH,
        K_PASSWORD_LENGTH,
        K_LAYOUT_SAFE_PASSWORD,
        K_COPY_ROOT_SSH_KEYS,
        K_SUDO_PASSWORD,
        K_IDES_INSTALL,
        K_IDES_CATALOG,
        K_RDP_PORT,
        K_SSH_PORT,
        K_RDP_LISTEN,
        K_FIREWALL,
        K_HARDENING,
        K_FAIL2BAN,
        K_DISPLAY_MANAGER,
        K_SCREEN_LOCKER,
        K_SOUND,
        K_UPGRADE,
        K_APT_MIRROR,
        K_LOG_LEVEL,
        K_ON_FAILURE,
        K_FAILURE_WAIT,
        K_CREDENTIALS_WAIT,
        K_APT_LOCK_WAIT,
        _K_MAX,
};

/* Sections in file order, each with the comment the example file puts
 * above it. */
static const struct {
        const char *name;
        const char *doc;
} sections[] = {
        { "user", "The developer account: the person who logs in over RDP and SSH and gets "
                  "sudo rights." },
        { "ides", "The editors installed for that account." },
        { "network", "The ports people connect on, and the firewall in front of them." },
        { "security", "SSH hardening and protection against password guessing." },
        { "desktop", "Extras on the XFCE desktop that is reached over RDP." },
        { "system", "The base system and where its packages come from." },
        { "run", "How this run itself behaves: its log and what happens when a step "
                 "fails." },
};

/* Our own mapping (log.c has its own for the log file's "INFO" form). */
static const char *const log_level_names[_LOG_LEVEL_MAX] = {
        [LOG_DEBUG] = "debug",
        [LOG_INFO] = "info",
        [LOG_WARNING] = "warning",
        [LOG_ERROR] = "error",
};

static const char *const on_failure_names[] = {
        [ON_FAILURE_ROLLBACK] = "rollback",
        [ON_FAILURE_KEEP] = "keep",
};

static const char *const rdp_listen_names[] = {
        [RDP_LISTEN_ALL] = "all",
        [RDP_LISTEN_LOCALHOST] = "localhost",
};

static const struct answers_key keys[] = {
        [K_USERNAME] = {
                "user", "username", ANSWERS_STRING, "devuser", NULL,
                "Login name of the developer account to create (or adopt).",
                "The login name of the account that gets the desktop, sudo rights and "
                "the IDEs. Debian's rules apply: it starts with a lower-case letter, "
                "then lower-case letters, digits, \"_\" or \"-\", at most 32 characters, "
                "and it is not a name the system keeps for itself (root, admin, sudo, "
                "www-data, ...) or an existing system account. If a regular account of "
                "that name (uid 1000 or above) already exists, it is adopted instead of "
                "created, so a second run is safe. The default devuser is plainly not a "
                "system name; use your own name if you would rather log in as yourself.",
                false,
        },
        [K_FULL_NAME] = {
                "user", "full_name", ANSWERS_STRING, "", NULL,
                "Full name of the person, stored with the account (optional).",
                "The person's full name, stored in the account's comment (GECOS) field, "
                "where finger and some desktop menus show it. It changes nothing else. "
                "At most 64 bytes of UTF-8 text; \":\", \",\" and \"=\" are not allowed "
                "because they separate fields in /etc/passwd. Empty by default; fill it "
                "in if you want the name to appear on the desktop.",
                false,
        },
        [K_PASSWORD_HASH] = {
                "user", "password_hash", ANSWERS_STRING, "", NULL,
                "A crypt(3) hash of the account's password; empty = generate one.",
                "A hash of the account's password in the form chpasswd -e takes: "
                "yescrypt ($y$), sha512crypt ($6$) or bcrypt ($2b$), checked with "
                "libxcrypt and by the shape of the method's hashes (sha256crypt and MD5 "
                "are refused as legacy). "
                "Empty (the default) means a strong random password is generated and "
                "shown once at the end of the run, which is safest: no password ever "
                "sits in a file. Set a hash only when the password must be known in "
                "advance; make one with \"mkpasswd -m yescrypt\" (package whois). Never "
                "write a plain-text password here. This key is never written back when "
                "answers are saved; keep a file that holds it private (chmod 600).",
                true,
        },
        [K_PASSWORD_LENGTH] = {
                "user", "password_length", ANSWERS_UINT, "20", "16..64",
                "Length of the generated password (16 to 64 characters).",
                "How many characters the generated password has, from 16 to 64; ignored "
                "when password_hash is set. The default 20 random characters are far "
                "beyond the reach of any guessing attack while still short enough to "
                "type when the RDP client cannot paste. Raise it if a policy asks for "
                "longer passwords.",
                false,
        },
        [K_LAYOUT_SAFE_PASSWORD] = {
                "user", "layout_safe_password", ANSWERS_BOOL, "no", "yes, no",
                "Generate a password of letters that every keyboard layout types alike.",
                "Makes the generated password of letters only, taken from those that sit "
                "on the same key in the QWERTY, QWERTZ and AZERTY layouts (no a, m, q, w, "
                "y or z, no digits, which AZERTY types with Shift, and no symbols), and "
                "longer, so that it is as hard to guess: 24 characters for the default "
                "length of 20. The password is typed at xrdp's login screen, where pasting "
                "often fails and where the server may read the keys with another layout "
                "than the one on your keyboard. No by default; say yes if you will type "
                "the password by hand on a keyboard that is not American. Ignored when "
                "password_hash is set.",
                false,
        },
        [K_COPY_ROOT_SSH_KEYS] = {
                "user", "copy_root_ssh_keys", ANSWERS_BOOL, "yes", "yes, no",
                "Let root's SSH keys log in as the developer too.",
                "Copies root's ~/.ssh/authorized_keys to the new account, so whoever can "
                "log in as root with a key today can also log in as the developer. Yes "
                "by default, because the usual next step is to stop working as root. Say "
                "no when the developer should use keys of their own, or when root's keys "
                "belong to an administrator who should not have the developer's account.",
                false,
        },
        [K_SUDO_PASSWORD] = {
                "user", "sudo_password", ANSWERS_BOOL, "no", "yes, no",
                "Make sudo ask for the account's password.",
                "Whether sudo asks the developer for the account's password. No by "
                "default: the account gets sudo without a password, because its password "
                "is generated, shown once and usually kept in a password manager, and "
                "whoever holds the account's session can act as the developer anyway. Say "
                "yes if a policy wants every administrative command confirmed with the "
                "password (with password_hash, or the generated password saved).",
                false,
        },
        [K_IDES_INSTALL] = {
                "ides", "install", ANSWERS_LIST, "vscode, cursor, antigravity",
                "ids of the IDE catalog (vscode, cursor, antigravity), none",
                "Which IDEs to install: ids of the IDE catalog, or none.",
                "A comma-separated list of the IDEs to install, by their ids in the IDE "
                "catalog; or none. The catalog installed with vps-provision has vscode "
                "(Visual Studio Code), cursor (Cursor) and antigravity (Google "
                "Antigravity); a catalog of your own (the catalog key below) may add "
                "others. Each comes from its vendor's signed apt repository, as the "
                "catalog says, and its signing key is trusted only when its fingerprint "
                "is one the catalog pins. All three by default, since this is a "
                "developer workstation. List fewer to save download time and several "
                "hundred megabytes of disk per IDE, or write none for a bare desktop. "
                "Each IDE may be named once.",
                false,
        },
        [K_IDES_CATALOG] = {
                "ides", "catalog", ANSWERS_PATH, "", NULL,
                "Path of another IDE catalog; empty = the one installed with the program.",
                "The absolute path of an IDE catalog: the file that says where each IDE "
                "is downloaded from and which signing key it must have. Empty (the default) "
                "uses the catalog installed with vps-provision, which matches its "
                "release. Point it at your own copy to pin other versions or to download "
                "from a mirror of your own.",
                false,
        },
        [K_RDP_PORT] = {
                "network", "rdp_port", ANSWERS_PORT, "3389", "1..65535",
                "TCP port of the Remote Desktop (xrdp) server.",
                "The TCP port xrdp listens on for Remote Desktop connections. 3389 is "
                "the standard port that every RDP client tries first. Another port only "
                "cuts down the noise of automated scans (clients then connect to "
                "host:port). It must differ from ssh_port and may not be 3350, the port "
                "on which xrdp talks to its own session manager (xrdp-sesman).",
                false,
        },
        [K_SSH_PORT] = {
                "network", "ssh_port", ANSWERS_PORT, "22", "1..65535",
                "TCP port of the SSH server, kept open in the firewall.",
                "The TCP port the SSH server listens on after the run, and that the "
                "firewall keeps open. 22 by default: the port you are most likely "
                "connected on right now. If you change it, keep your current session "
                "open until you have logged in on the new port. It must differ from "
                "rdp_port and may not be 3350 (xrdp-sesman's port).",
                false,
        },
        [K_RDP_LISTEN] = {
                "network", "rdp_listen", ANSWERS_ENUM, "all", "all, localhost",
                "Where xrdp listens: all addresses, or localhost (reach it through SSH).",
                "Which addresses xrdp accepts Remote Desktop connections on. all (the "
                "default) listens on every address and the firewall lets rdp_port in, so "
                "any RDP client reaches host:rdp_port directly. localhost listens on "
                "127.0.0.1 only and the firewall keeps rdp_port closed: the desktop is "
                "then reached through an SSH tunnel, for example ssh -L "
                "3389:localhost:3389 root@HOST, with the RDP client connecting to "
                "localhost. Choose localhost when nothing but SSH should face the "
                "internet; the end of the run shows the exact tunnel command.",
                false,
        },
        [K_FIREWALL] = {
                "network", "firewall", ANSWERS_BOOL, "yes", "yes, no",
                "Turn on a firewall (ufw) that lets in only SSH and RDP.",
                "Turns on ufw with incoming connections denied, except SSH (ssh_port) and "
                "RDP (rdp_port; not with rdp_listen = localhost). Yes by default, because "
                "a desktop server on the internet should expose nothing else. Say no only when another firewall, such as "
                "the cloud provider's or your own nftables rules, already protects the "
                "server.",
                false,
        },
        [K_HARDENING] = {
                "security", "hardening", ANSWERS_BOOL, "yes", "yes, no",
                "Tighten the SSH server's settings with a drop-in file.",
                "Installs a configuration drop-in for the SSH server (sshd) that tightens "
                "its settings, for example no password log-in for root and fewer "
                "authentication attempts. It is checked with sshd -t before it takes "
                "effect, and a rollback removes it. Yes by default, because the stock "
                "settings are lenient for a server reachable from the internet. Say no "
                "if you manage the SSH configuration yourself, for example with a "
                "configuration-management tool.",
                false,
        },
        [K_FAIL2BAN] = {
                "security", "fail2ban", ANSWERS_BOOL, "yes", "yes, no",
                "Ban addresses that keep failing to log in (fail2ban).",
                "Installs fail2ban, which bans for a while any address that fails to log "
                "in over and over. Yes by default, because every server on the internet "
                "sees password guessing within minutes of booting. Say no when another "
                "tool already does this, or when many people reach the server from one "
                "shared address, where one person's typos could lock out the rest.",
                false,
        },
        [K_DISPLAY_MANAGER] = {
                "desktop", "display_manager", ANSWERS_BOOL, "no", "yes, no",
                "Install a local graphical login screen (lightdm); not needed for RDP.",
                "Installs a display manager (lightdm), which starts a local X server with "
                "a graphical login screen. On a headless server nobody sees that screen; "
                "it only takes memory and fights xrdp for the user's session, so a "
                "person who is logged in locally cannot log in over RDP. No by default, "
                "since RDP sessions are started by xrdp itself. Say yes only if the "
                "machine also has a monitor, or a virtual console you log in to.",
                false,
        },
        [K_SCREEN_LOCKER] = {
                "desktop", "screen_locker", ANSWERS_BOOL, "no", "yes, no",
                "Install a screen locker (blanks and locks idle RDP sessions).",
                "Installs a screen locker, which blanks and locks the session after some "
                "idle time. Over RDP that only gets in the way: the RDP client already "
                "sits behind your own computer's lock, and a locked remote session asks "
                "for the password again, and sometimes cannot be unlocked over RDP at "
                "all. No by default. Say yes if a policy demands locking of remote "
                "sessions as well.",
                false,
        },
        [K_SOUND] = {
                "desktop", "sound", ANSWERS_BOOL, "yes", "yes, no",
                "Play the remote session's sound on the RDP client.",
                "Installs the xrdp sound module, so sound played in the remote session, "
                "from a video or a call, comes out of the RDP client's speakers. Yes by "
                "default, as it costs little and people expect it. Say no on a server "
                "where nobody needs sound, to install a few packages less.",
                false,
        },
        [K_UPGRADE] = {
                "system", "upgrade", ANSWERS_BOOL, "no", "yes, no",
                "Upgrade every installed package first (apt-get dist-upgrade).",
                "Runs apt-get dist-upgrade before installing anything, bringing every "
                "installed package to its newest version. No by default, because an "
                "upgrade can replace the kernel (which then needs a reboot), makes the "
                "run longer and its result less predictable, and a rollback cannot undo "
                "it. Say yes on a freshly created server whose image is old; security "
                "updates are worth having.",
                false,
        },
        [K_APT_MIRROR] = {
                "system", "apt_mirror", ANSWERS_URL, "", NULL,
                "Debian mirror URL to use; empty = keep the server's apt sources.",
                "The http:// or https:// URL of a Debian mirror to use instead of the "
                "server's own apt sources, e.g. http://deb.debian.org/debian. Empty (the "
                "default) keeps the sources the server came with, which hosting "
                "providers usually point at a mirror close to the server. Set it when "
                "those sources are slow, broken, or not a mirror you trust.",
                false,
        },
        [K_LOG_LEVEL] = {
                "run", "log_level", ANSWERS_ENUM, "info", "debug, info, warning, error",
                "How much the log file records: debug, info, warning or error.",
                "How much the run's log file records: debug (every command and its "
                "output), info (each step and its result), warning, or error. info by "
                "default: enough to see what was done and where something failed. Use "
                "debug when a step fails and you want to report it. Passwords are "
                "removed from the log at every level.",
                false,
        },
        [K_ON_FAILURE] = {
                "run", "on_failure", ANSWERS_ENUM, "rollback", "rollback, keep",
                "When a step fails: rollback (undo this run's changes) or keep them.",
                "What to do when a step fails. rollback undoes every change this run "
                "made, newest first, and exits with status 5; keep leaves the changes in "
                "place and exits with status 4, so you can look at the system and "
                "continue later with --resume. rollback by default, so that a failure "
                "leaves the server as it was. Choose keep while you investigate a "
                "failing step.",
                false,
        },
        [K_FAILURE_WAIT] = {
                "run", "failure_wait", ANSWERS_DURATION, "30m", "0s..7d",
                "How long a failure waits for someone to attach and answer it.",
                "When a step fails during a run started from the wizard and nobody is "
                "attached to it (the SSH connection dropped, or the person detached), the "
                "failure dialog waits this long for someone to run vps-provision --attach "
                "and choose retry, roll back or keep; then on_failure decides. Written as "
                "a number and a unit: s, m, h or d (30m, 2h). 30m by default: long enough "
                "to reconnect, short enough that a server is not left half done for a "
                "day. 0s applies on_failure at once. Runs with --unattended never wait.",
                false,
        },
        [K_CREDENTIALS_WAIT] = {
                "run", "credentials_wait", ANSWERS_DURATION, "24h", "0s..30d",
                "How long a password nobody has seen yet is kept for --attach.",
                "When a run started from the wizard ends while nobody is attached, the "
                "generated password is kept in the program's locked memory (never on "
                "disk) until someone runs vps-provision --attach and confirms the "
                "credentials screen. After this long it is wiped instead, and the end "
                "message says how to set a new one (passwd USER as root). Written as a "
                "number and a unit: s, m, h or d. 24h by default. Nothing is kept when "
                "password_hash is set.",
                false,
        },
        [K_APT_LOCK_WAIT] = {
                "run", "apt_lock_wait", ANSWERS_DURATION, "30m", "0s..24h",
                "How long to wait for another package manager to finish (0s: do not wait).",
                "How long the run waits when another program holds the package manager's "
                "lock: on a freshly booted server that is usually Debian's automatic "
                "security updates (unattended-upgrades), which can take several minutes. "
                "The dashboard and the log say which program holds the lock and how long "
                "the run has waited. When the lock is still held after this long the run "
                "stops with a message naming that program; when that happens before the "
                "run's first change, nothing was changed. Written as a number and a unit "
                "(s, m, h or d), or a bare number of seconds (1800 is 30m). 30m by "
                "default; 0s stops at once.",
                false,
        },
};

/* Where a key's value lives in struct answers and how it is checked. */
struct field {
        size_t offset, size;    /* STRING, PATH, URL, BOOL, PORT, UINT */
        long min, max;          /* UINT */
        const char *const *names;
        size_t n_names;         /* ENUM, LIST */
        int (*check)(const char *value, char *err, size_t errlen);      /* STRING */
};

#define AT(f) .offset = offsetof(struct answers, f), .size = sizeof(((struct answers *)0)->f)

static int check_username(const char *value, char *err, size_t errlen)
{
        return validate_username(value, NULL, NULL, err, errlen);
}

static const struct field fields[] = {
        [K_USERNAME] = { AT(username), .check = check_username },
        [K_FULL_NAME] = { AT(full_name), .check = validate_full_name },
        [K_PASSWORD_HASH] = { AT(password_hash), .check = validate_password_hash },
        [K_PASSWORD_LENGTH] = { AT(password_length), .min = 16, .max = 64 },
        [K_LAYOUT_SAFE_PASSWORD] = { AT(layout_safe_password) },
        [K_COPY_ROOT_SSH_KEYS] = { AT(copy_root_ssh_keys) },
        [K_SUDO_PASSWORD] = { AT(sudo_password) },
        [K_IDES_INSTALL] = { AT(ides) },
        [K_IDES_CATALOG] = { AT(ide_catalog) },
        [K_RDP_PORT] = { AT(rdp_port) },
        [K_SSH_PORT] = { AT(ssh_port) },
        [K_RDP_LISTEN] = { AT(rdp_listen), .names = rdp_listen_names,
                           .n_names = ELEMENTSOF(rdp_listen_names) },
        [K_FIREWALL] = { AT(firewall) },
        [K_HARDENING] = { AT(hardening) },
        [K_FAIL2BAN] = { AT(fail2ban) },
        [K_DISPLAY_MANAGER] = { AT(display_manager) },
        [K_SCREEN_LOCKER] = { AT(screen_locker) },
        [K_SOUND] = { AT(sound) },
        [K_UPGRADE] = { AT(upgrade) },
        [K_APT_MIRROR] = { AT(apt_mirror) },
        [K_LOG_LEVEL] = { AT(log_level), .names = log_level_names, .n_names = _LOG_LEVEL_MAX },
        [K_ON_FAILURE] = { AT(on_failure), .names = on_failure_names,
                           .n_names = ELEMENTSOF(on_failure_names) },
        [K_FAILURE_WAIT] = { AT(failure_wait), .min = 0, .max = 7 * 86400 },
        [K_CREDENTIALS_WAIT] = { AT(credentials_wait), .min = 0, .max = 30 * 86400 },
        [K_APT_LOCK_WAIT] = { AT(apt_lock_wait), .min = 0, .max = 86400 },
};

/* The tables are as long as their last entry: a key added at the end of
 * enum key_id without its entries stops the build here. A key missing in
 * the middle leaves a zeroed entry, which test_answers finds (key_table,
 * set_get_round_trip). */
_Static_assert(ELEMENTSOF(keys) == _K_MAX && ELEMENTSOF(fields) == _K_MAX,
               "every key needs an entry in keys[] and fields[]");
/* ENUM fields are stored as an int at their offset. */
_Static_assert(sizeof(enum log_level) == sizeof(int) && sizeof(enum on_failure) == sizeof(int) &&
               sizeof(enum rdp_listen) == sizeof(int),
               "an ENUM key's field is an int-sized enum");

const struct answers_key *answers_keys(size_t *ret_n)
{
        if (ret_n)
                *ret_n = _K_MAX;
        return keys;
}

const char *answers_type_name(enum answers_type t)
{
        switch (t) {
        case ANSWERS_STRING: return "string";
        case ANSWERS_BOOL: return "boolean";
        case ANSWERS_PORT: return "port";
        case ANSWERS_UINT: return "number";
        case ANSWERS_ENUM: return "choice";
        case ANSWERS_DURATION: return "duration";
        case ANSWERS_LIST: return "list";
        case ANSWERS_PATH: return "path";
        case ANSWERS_URL: return "URL";
        }
        return "?";
}

const char *on_failure_name(enum on_failure f)
{
        return (unsigned)f < ELEMENTSOF(on_failure_names) ? on_failure_names[f] : NULL;
}

const char *rdp_listen_name(enum rdp_listen l)
{
        return (unsigned)l < ELEMENTSOF(rdp_listen_names) ? rdp_listen_names[l] : NULL;
}

char *answers_rdp_tunnel(unsigned rdp_port, unsigned ssh_port, const char *host)
{
        if (ssh_port == 22)
                return xasprintf("ssh -L 3389:localhost:%u root@%s", rdp_port, host);
        return xasprintf("ssh -L 3389:localhost:%u -p %u root@%s", rdp_port, ssh_port, host);
}

/* Index of a section by exact name, or -1. */
static int section_find(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(sections); i++)
                if (strcmp(sections[i].name, name) == 0)
                        return (int)i;
        return -1;
}

/* Key id by section and exact name, or -1. */
static int key_find(const char *section, const char *name)
{
        for (int i = 0; i < _K_MAX; i++)
                if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
                        return i;
        return -1;
}

const struct answers_key *answers_key_find(const char *section, const char *key)
{
        int id = key_find(section, key);
        return id < 0 ? NULL : &keys[id];
}

/* ASCII lower case of c. */
static char lower(char c)
{
        return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

/* Edit distance (insert, delete, replace, swap of neighbours), ignoring
 * case, when it is at most max; max + 1 when it is more (the table stops
 * at the second row in a row whose every entry is beyond max: no later
 * entry can come back under it), and for words longer than MAXW. */
static unsigned edit_distance_within(const char *a, const char *b, unsigned max)
{
        enum { MAXW = 48 };
        size_t la = strlen(a), lb = strlen(b);
        unsigned d[MAXW + 1][MAXW + 1], prev_min = 0;

        if (la > MAXW || lb > MAXW)
                return max + 1;
        for (size_t i = 0; i <= la; i++)
                d[i][0] = (unsigned)i;
        for (size_t j = 0; j <= lb; j++)
                d[0][j] = (unsigned)j;
        for (size_t i = 1; i <= la; i++) {
                unsigned row_min = d[i][0];

                for (size_t j = 1; j <= lb; j++) {
                        char ca = lower(a[i - 1]), cb = lower(b[j - 1]);
                        unsigned best = d[i - 1][j - 1] + (ca != cb);

                        if (d[i - 1][j] + 1 < best)
                                best = d[i - 1][j] + 1;
                        if (d[i][j - 1] + 1 < best)
                                best = d[i][j - 1] + 1;
                        if (i > 1 && j > 1 && ca == lower(b[j - 2]) && cb == lower(a[i - 2]) &&
                            d[i - 2][j - 2] + 1 < best)
                                best = d[i - 2][j - 2] + 1;
                        d[i][j] = best;
                        if (best < row_min)
                                row_min = best;
                }
                /* an entry comes from the two rows above it (a swap
                 * reaches back two) and never gets smaller */
                if (row_min > max && prev_min > max)
                        return max + 1;
                prev_min = row_min;
        }
        return d[la][lb] <= max ? d[la][lb] : max + 1;
}

/* The closest of names[0..n) to word, or NULL when none is close enough to
 * suggest: a few typos (the edit distance within a limit that grows with
 * the name's length), or a shortened form ("warn" for "warning"). */
static const char *closest(const char *word, const char *const *names, size_t n)
{
        const char *best = NULL;
        size_t wl = strlen(word);
        unsigned bd = 1000;

        for (size_t i = 0; i < n; i++) {
                size_t len = strlen(names[i]);
                unsigned limit = len >= 9 ? 3 : len >= 4 ? 2 : 1, d;

                if (wl >= 3 && wl < len && strncasecmp(word, names[i], wl) == 0) {
                        d = (unsigned)(len - wl);       /* its start: the rest deleted */
                } else {
                        /* the distance is at least the difference of the
                         * lengths: a word much longer or shorter is not near
                         * (a line of a damaged file costs no table) */
                        if (wl > len + limit || len > wl + limit)
                                continue;
                        d = edit_distance_within(word, names[i], limit);
                        if (d > limit)
                                continue;
                }
                if (d < bd) {
                        bd = d;
                        best = names[i];
                }
        }
        return best;
}

/* A person's text made fit to quote in a message: in double quotes, cut to
 * QUOTE_MAX bytes (on a UTF-8 boundary, then "..."), control characters
 * shown as '?'. */
static const char *quote(const char *s, char out[static QUOTE_MAX + 8])
{
        size_t n = strlen(s), o = 0;
        bool cut = n > QUOTE_MAX;

        if (cut) {
                n = QUOTE_MAX;
                while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
                        n--;
        }
        out[o++] = '"';
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                out[o++] = (char)(c < 0x20 || c == 0x7f ? '?' : c);
        }
        if (cut) {
                memcpy(out + o, "...", 3);
                o += 3;
        }
        out[o++] = '"';
        out[o] = '\0';
        return out;
}

/* Writes the error sentence and returns -EINVAL. */
#define fail(err, errlen, ...) errorf(-EINVAL, (err), (errlen), __VA_ARGS__)

/* "debug, info, warning or error" */
static void join_or(const char *const *names, size_t n, const char *last_word, char *out,
                    size_t size)
{
        struct buf b;

        buf_init(&b, size ? size - 1 : 0);
        for (size_t i = 0; i < n; i++) {
                const char *sep = i == 0 ? "" : i + 1 == n ? last_word : ", ";
                (void)buf_printf(&b, "%s%s", sep, names[i]);
        }
        (void)!snprintf(out, size, "%s", b.data ? b.data : "");
        buf_release(&b);
}

/* Seconds as the answers file writes them: the largest of d, h, m, s that
 * divides them ("24h", "30m", "90s", "0s"); days only from 7d up, so a
 * day reads as 24h. */
static void format_duration(unsigned secs, char *out, size_t size)
{
        if (secs >= 7 * 86400 && secs % 86400 == 0)
                (void)!snprintf(out, size, "%ud", secs / 86400);
        else if (secs > 0 && secs % 3600 == 0)
                (void)!snprintf(out, size, "%uh", secs / 3600);
        else if (secs > 0 && secs % 60 == 0)
                (void)!snprintf(out, size, "%um", secs / 60);
        else
                (void)!snprintf(out, size, "%us", secs);
}

/* "30m" into seconds: digits, then one unit (s, m, h, d; any case) or
 * none (bare digits are seconds, as apt_lock_wait was first written).
 * -EINVAL for anything else, -ERANGE past 100 days. */
static int parse_duration(const char *value, unsigned *ret)
{
        size_t digits = strspn(value, "0123456789");
        unsigned long mult;
        long v;

        if (digits == 0 || digits > 9 || strlen(value) > digits + 1)
                return -EINVAL;
        switch (value[digits] ? value[digits] | 0x20 : 's') {
        case 's': mult = 1; break;
        case 'm': mult = 60; break;
        case 'h': mult = 3600; break;
        case 'd': mult = 86400; break;
        default: return -EINVAL;
        }
        {
                char num[16];
                memcpy(num, value, digits);
                num[digits] = '\0';
                if (parse_long(num, 0, 999999999, &v) < 0)
                        return -EINVAL;
        }
        if ((unsigned long)v > 100UL * 86400 / mult)
                return -ERANGE;
        *ret = (unsigned)((unsigned long)v * mult);
        return 0;
}

/* What a key takes, in words, for messages and the example file. */
static void describe_values(enum key_id id, char *out, size_t size)
{
        const struct field *f = &fields[id];
        char list[96];

        switch (keys[id].type) {
        case ANSWERS_BOOL:
                (void)!snprintf(out, size, "yes or no");
                break;
        case ANSWERS_PORT:
                (void)!snprintf(out, size, "a port number between 1 and 65535");
                break;
        case ANSWERS_UINT:
                (void)!snprintf(out, size, "a whole number between %ld and %ld", f->min, f->max);
                break;
        case ANSWERS_ENUM:
                join_or(f->names, f->n_names, " or ", list, sizeof(list));
                (void)!snprintf(out, size, "%s", list);
                break;
        case ANSWERS_LIST:
                (void)!snprintf(out, size, "a comma-separated list of ids of the IDE catalog "
                                "(or none)");
                break;
        case ANSWERS_PATH:
                (void)!snprintf(out, size, "an absolute path, or nothing");
                break;
        case ANSWERS_URL:
                (void)!snprintf(out, size, "an http:// or https:// URL, or nothing");
                break;
        case ANSWERS_STRING:
                (void)!snprintf(out, size, "text");
                break;
        case ANSWERS_DURATION: {
                char lo[24], hi[24];
                format_duration((unsigned)f->min, lo, sizeof(lo));
                format_duration((unsigned)f->max, hi, sizeof(hi));
                (void)!snprintf(out, size, "a duration between %s and %s: a number and s, m, h or "
                                "d (e.g. 30m), or a number of seconds", lo, hi);
                break;
        }
        }
}

/* Index of value among names (any case), or -1. */
static int name_index(const char *value, const char *const *names, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (strcasecmp(value, names[i]) == 0)
                        return (int)i;
        return -1;
}

/* The [ides] install list, "vscode, cursor" or "none", read for its form
 * only: ids as ide_id_valid() says, each once, none alone. Whether the
 * catalog has them is a cross-field rule (check_ides()), so that a stored
 * session still reads back after the catalog changed. ret gets the ids,
 * lower case, as "a, b" ("" for none). */
static int parse_ide_list(const char *value, char *ret, size_t size, char *err, size_t errlen)
{
        _cleanup_free_ char *copy = xstrdup(value);
        _cleanup_strv_ char **seen = NULL;
        _cleanup_free_ char *joined = NULL;
        bool none = false;
        char q[QUOTE_MAX + 8];
        char *p = copy;

        for (;;) {
                char *comma = strchr(p, ',');
                char *item;

                if (comma)
                        *comma = '\0';
                item = strstrip(p);
                for (char *c = item; *c; c++)
                        *c = lower(*c);
                if (!*item)
                        return fail(err, errlen, "has an empty item (two commas in a row, or a "
                                    "comma at one end); write e.g. \"vscode, cursor\"");
                if (strcmp(item, "none") == 0) {
                        if (none)
                                return fail(err, errlen, "lists \"none\" twice; write it once");
                        none = true;
                } else if (ide_id_valid(item)) {
                        if (strv_contains(seen, item))
                                return fail(err, errlen, "lists \"%s\" twice; name each IDE once",
                                            item);
                        strv_push(&seen, item);
                } else if (strpbrk(item, " \t"))
                        return fail(err, errlen, "%s is not a known IDE; separate IDE names with "
                                    "commas, e.g. \"vscode, cursor\"", quote(item, q));
                else
                        return fail(err, errlen, "%s is not a known IDE: an IDE id is lower-case "
                                    "letters, digits and \"-\", as in the IDE catalog (e.g. "
                                    "vscode), or write none", quote(item, q));
                if (!comma)
                        break;
                p = comma + 1;
        }
        if (none && seen)
                return fail(err, errlen, "combines \"none\" with IDE names; write either none "
                            "or a list such as \"vscode, cursor\"");
        joined = strv_join(seen, ", ");
        if (strlen(joined) >= size)
                return fail(err, errlen, "is too long: at most %zu bytes of IDE ids", size - 1);
        memcpy(ret, joined, strlen(joined) + 1);
        return 0;
}

bool answers_ide_wanted(const struct answers *a, const char *id)
{
        _cleanup_strv_ char **ids = answers_ide_list(a);

        return strv_contains(ids, id);
}

char **answers_ide_list(const struct answers *a)
{
        char **ret = NULL;
        const char *p = a->ides;

        while (*p) {
                size_t n = strcspn(p, ", ");

                if (n)
                        strv_push_take(&ret, xstrndup(p, n));
                p += n;
                p += strspn(p, ", ");
        }
        return ret;
}

/* Sets a string-like field after its check, or fails on its length. */
static int set_string(struct answers *a, enum key_id id, const char *value, char *err,
                      size_t errlen)
{
        const struct field *f = &fields[id];
        size_t len = strlen(value);

        if (len >= f->size)
                return fail(err, errlen, "is %zu bytes long; the limit is %zu", len, f->size - 1);
        memcpy((char *)a + f->offset, value, len + 1);
        return 0;
}

/* The one place a text value becomes a field: value is already trimmed. */
static int set_value(struct answers *a, enum key_id id, const char *value, char *err,
                     size_t errlen)
{
        const struct answers_key *k = &keys[id];
        const struct field *f = &fields[id];
        char q[QUOTE_MAX + 8], allowed[160];
        const char *near_name;
        long v;
        int i, r;

        describe_values(id, allowed, sizeof(allowed));
        for (const char *p = value; *p; p++) {
                unsigned char c = (unsigned char)*p;
                if ((c < 0x20 && c != '\t') || c == 0x7f)
                        return fail(err, errlen, "contains the control character 0x%02X (at "
                                    "character %zu); remove it",
                                    c, (size_t)(p - value) + 1);
        }
        if (!*value) {
                if (!*k->default_value) {
                        ((char *)a + f->offset)[0] = '\0';
                        return 0;
                }
                if (k->type != ANSWERS_STRING)
                        return fail(err, errlen, "is empty; write %s, or delete the line to "
                                    "keep the default (%s)",
                                    allowed, k->default_value);
        }

        switch (k->type) {
        case ANSWERS_STRING:
                r = f->check(value, err, errlen);
                if (r < 0)
                        return -EINVAL;
                return set_string(a, id, value, err, errlen);
        case ANSWERS_PATH:
                if (validate_abs_path(value, err, errlen) < 0)
                        return -EINVAL;
                return set_string(a, id, value, err, errlen);
        case ANSWERS_URL:
                if (validate_url(value, err, errlen) < 0)
                        return -EINVAL;
                return set_string(a, id, value, err, errlen);
        case ANSWERS_BOOL: {
                bool b;
                if (parse_bool(value, &b) < 0)
                        return fail(err, errlen, "must be yes or no (%s is neither)",
                                    quote(value, q));
                *(bool *)((char *)a + f->offset) = b;
                return 0;
        }
        case ANSWERS_PORT: {
                uint16_t port;
                if (validate_port(value, &port, err, errlen) < 0)
                        return -EINVAL;
                *(uint16_t *)((char *)a + f->offset) = port;
                return 0;
        }
        case ANSWERS_UINT:
                if (strspn(value, "0123456789") != strlen(value))
                        return fail(err, errlen, "must be a whole number between %ld and %ld "
                                    "(%s is not one)", f->min, f->max, quote(value, q));
                if (strlen(value) > 9 || parse_long(value, 0, 999999999, &v) < 0 || v > f->max)
                        return fail(err, errlen, "must be between %ld and %ld (%s is too large)",
                                    f->min, f->max, strlen(value) <= 20 ? value : "the number");
                if (v < f->min)
                        return fail(err, errlen, "must be between %ld and %ld (%ld is too small)",
                                    f->min, f->max, v);
                *(unsigned *)((char *)a + f->offset) = (unsigned)v;
                return 0;
        case ANSWERS_ENUM:
                i = name_index(value, f->names, f->n_names);
                if (i < 0) {
                        near_name = closest(value, f->names, f->n_names);
                        if (near_name)
                                return fail(err, errlen, "must be one of %s (%s is not one of "
                                            "them; did you mean \"%s\"?)",
                                            allowed, quote(value, q), near_name);
                        return fail(err, errlen, "must be one of %s (%s is not one of them)",
                                    allowed, quote(value, q));
                }
                *(int *)((char *)a + f->offset) = i;
                return 0;
        case ANSWERS_LIST:
                return parse_ide_list(value, (char *)a + f->offset, f->size, err, errlen);
        case ANSWERS_DURATION: {
                unsigned secs;
                char lo[24], hi[24];
                format_duration((unsigned)f->min, lo, sizeof(lo));
                format_duration((unsigned)f->max, hi, sizeof(hi));
                r = parse_duration(value, &secs);
                if (r == -EINVAL)
                        return fail(err, errlen, "must be a number of seconds, or a number and a "
                                    "unit (s, m, h or d), e.g. 30m or 24h (%s is not one)", quote(value, q));
                if (r < 0 || secs > (unsigned)f->max)
                        return fail(err, errlen, "must be between %s and %s (%s is too long)", lo, hi,
                                    quote(value, q));
                if (secs < (unsigned)f->min)
                        return fail(err, errlen, "must be between %s and %s (%s is too short)", lo, hi,
                                    quote(value, q));
                *(unsigned *)((char *)a + f->offset) = secs;
                return 0;
        }
        }
        return -EINVAL;
}

/* The text form of a key's value into b. */
static void get_value(const struct answers *a, enum key_id id, struct buf *b)
{
        const struct field *f = &fields[id];
        const char *p = (const char *)a + f->offset;

        switch (keys[id].type) {
        case ANSWERS_STRING:
        case ANSWERS_PATH:
        case ANSWERS_URL:
                (void)buf_printf(b, "%.*s", (int)strnlen(p, f->size), p);
                break;
        case ANSWERS_BOOL:
                (void)buf_printf(b, "%s", *(const bool *)p ? "yes" : "no");
                break;
        case ANSWERS_PORT:
                (void)buf_printf(b, "%u", (unsigned)*(const uint16_t *)p);
                break;
        case ANSWERS_UINT:
                (void)buf_printf(b, "%u", *(const unsigned *)p);
                break;
        case ANSWERS_ENUM: {
                int i = *(const int *)p;
                (void)buf_printf(b, "%s", i >= 0 && (size_t)i < f->n_names ? f->names[i] : f->names[0]);
                break;
        }
        case ANSWERS_DURATION: {
                char d[24];
                format_duration(*(const unsigned *)p, d, sizeof(d));
                (void)buf_printf(b, "%s", d);
                break;
        }
        case ANSWERS_LIST:
                if (*p)
                        (void)buf_printf(b, "%.*s", (int)strnlen(p, f->size), p);
                else
                        (void)buf_printf(b, "none");
                break;
        }
}

void answers_init(struct answers *a)
{
        *a = (struct answers){
                .username = "devuser",
                .password_length = 20,
                .copy_root_ssh_keys = true,
                .ides = "vscode, cursor, antigravity",
                .rdp_port = 3389,
                .ssh_port = 22,
                .rdp_listen = RDP_LISTEN_ALL,
                .firewall = true,
                .hardening = true,
                .fail2ban = true,
                .display_manager = false,
                .screen_locker = false,
                .sound = true,
                .upgrade = false,
                .log_level = LOG_INFO,
                .on_failure = ON_FAILURE_ROLLBACK,
                .failure_wait = 30 * 60,
                .credentials_wait = 24 * 3600,
                .apt_lock_wait = 1800,
        };
}

/* "user, ides, network …" as "[user], [ides] … and [run]". */
static void section_list(char *out, size_t size)
{
        const char *names[ELEMENTSOF(sections)];
        char tmp[ELEMENTSOF(sections)][24];

        for (size_t i = 0; i < ELEMENTSOF(sections); i++) {
                (void)!snprintf(tmp[i], sizeof(tmp[i]), "[%s]", sections[i].name);
                names[i] = tmp[i];
        }
        join_or(names, ELEMENTSOF(sections), " and ", out, size);
}

/* The keys of a section as "username, full_name, …". */
static void section_keys(const char *section, char *out, size_t size)
{
        const char *names[_K_MAX];
        size_t n = 0;

        for (int i = 0; i < _K_MAX; i++)
                if (strcmp(keys[i].section, section) == 0)
                        names[n++] = keys[i].name;
        join_or(names, n, " and ", out, size);
}

/* Explains an unknown key name of a known section into err: the key of
 * another section it belongs to, or the closest key, and the section's
 * keys. */
static void unknown_key(const char *section, const char *key, char *err, size_t errlen)
{
        const char *names[_K_MAX];
        char q[QUOTE_MAX + 8], list[256];
        const char *near_name;
        size_t n = 0;

        section_keys(section, list, sizeof(list));
        for (int i = 0; i < _K_MAX; i++)
                if (strcmp(keys[i].name, key) == 0) {
                        (void)fail(err, errlen, "%s belongs in [%s], not [%s]; move the line "
                                   "under the [%s] header",
                                   quote(key, q), keys[i].section, section, keys[i].section);
                        return;
                }
        for (int i = 0; i < _K_MAX; i++)
                if (strcmp(keys[i].section, section) == 0)
                        names[n++] = keys[i].name;
        near_name = closest(key, names, n);
        if (near_name)
                (void)fail(err, errlen, "unknown key %s; did you mean \"%s\"? [%s] has the keys %s",
                           quote(key, q), near_name, section, list);
        else
                (void)fail(err, errlen, "unknown key %s; [%s] has the keys %s", quote(key, q),
                           section, list);
}

/* Explains an unknown section name into err. */
static void unknown_section(const char *name, char *err, size_t errlen)
{
        const char *names[ELEMENTSOF(sections)];
        char q[QUOTE_MAX + 8], list[160];
        const char *near_name;

        for (size_t i = 0; i < ELEMENTSOF(sections); i++)
                names[i] = sections[i].name;
        section_list(list, sizeof(list));
        near_name = closest(name, names, ELEMENTSOF(sections));
        quote(name, q);
        /* [q without its quotes] */
        q[strlen(q) - 1] = '\0';
        if (near_name)
                (void)fail(err, errlen, "unknown section [%s]; did you mean [%s]? The sections "
                           "are %s", q + 1, near_name, list);
        else
                (void)fail(err, errlen, "unknown section [%s]; the sections are %s", q + 1, list);
}

int answers_set(struct answers *a, const char *section, const char *key, const char *value,
                char *err, size_t errlen)
{
        _cleanup_free_ char *v = NULL;
        struct answers copy;
        int id, r;

        if (section_find(section) < 0) {
                unknown_section(section, err, errlen);
                return -ENOENT;
        }
        id = key_find(section, key);
        if (id < 0) {
                unknown_key(section, key, err, errlen);
                return -ENOENT;
        }
        v = strstrip(xstrdup(value));
        copy = *a;
        r = set_value(&copy, (enum key_id)id, v, err, errlen);
        if (r == 0)
                *a = copy;
        wipe(&copy, sizeof(copy));
        wipe(v, strlen(v));
        return r;
}

int answers_get(const struct answers *a, const char *section, const char *key, char *buf,
                size_t size)
{
        struct buf b;
        int id = key_find(section, key), r = 0;

        if (id < 0)
                return -ENOENT;
        buf_init(&b, 1 << 16);
        get_value(a, (enum key_id)id, &b);
        if (!size || b.len >= size)
                r = -ENOBUFS;
        else
                memcpy(buf, b.data ? b.data : "", b.len + 1);
        wipe(b.data, b.len);
        buf_release(&b);
        return r;
}

void answers_errors_release(struct answers_errors *e)
{
        if (!e)
                return;
        free(e->v);
        e->v = NULL;
        e->n = 0;
}

/* Appends one error; key may be NULL. */
_printf_(4, 0) static void add_errorv(struct answers_errors *e, unsigned line, const char *key,
                                      const char *fmt, va_list ap)
{
        struct answers_error *x;

        e->v = xrealloc(e->v, (e->n + 1) * sizeof(*e->v));
        x = &e->v[e->n++];
        x->line = line;
        (void)strscpy(x->key, sizeof(x->key), key ? key : "");
        (void)!vsnprintf(x->message, sizeof(x->message), fmt, ap);
}

_printf_(4, 5) static void add_error(struct answers_errors *e, unsigned line, const char *key,
                                     const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        add_errorv(e, line, key, fmt, ap);
        va_end(ap);
}

/* "[network] rdp_port" */
static void key_label(enum key_id id, char out[80])
{
        (void)!snprintf(out, 80, "[%s] %s", keys[id].section, keys[id].name);
}

void answers_error_format(const char *filename, const struct answers_error *e, char *buf,
                          size_t size)
{
        char line[16] = "";

        if (!size)
                return;
        if (!filename)
                filename = "answers.ini";
        if (e->line)
                (void)!snprintf(line, sizeof(line), ":%u", e->line);
        if (e->key[0])
                (void)!snprintf(buf, size, "%s%s: %s: %s", filename, line, e->key, e->message);
        else
                (void)!snprintf(buf, size, "%s%s: %s", filename, line, e->message);
}

/* The cross-field rules. line[] says where each key was read (0 = not
 * from a file); keys marked bad had their own error and are not judged
 * again. */
/* Every id of [ides] install is in the IDE catalog the answers name. */
static void check_ides(const struct answers *a, const unsigned line[_K_MAX],
                       const bool bad[_K_MAX], struct answers_errors *errs)
{
        _cleanup_strv_ char **ids = answers_ide_list(a), **have = NULL;
        struct ide_catalog cat;
        char path[PATH_MAX] = "", err[1024], label[80], all[512];
        enum key_id at;

        if (bad[K_IDES_INSTALL] || bad[K_IDES_CATALOG] || !ids)
                return;
        if (ide_catalog_load_for(a, &cat, path, sizeof(path), err, sizeof(err)) < 0) {
                at = line[K_IDES_CATALOG] ? K_IDES_CATALOG : K_IDES_INSTALL;
                key_label(at, label);
                add_error(errs, line[at], label, "%s; the IDEs to install are looked up there "
                          "(or write [ides] install = none)", err);
                return;
        }
        for (size_t i = 0; i < cat.n_entries; i++)
                strv_push(&have, cat.entries[i].id);
        join_or((const char *const *)have, strv_length(have), " and ", all, sizeof(all));
        key_label(K_IDES_INSTALL, label);
        for (size_t i = 0; ids[i]; i++) {
                const char *near_name;
                char q[QUOTE_MAX + 8];

                if (strv_contains(have, ids[i]))
                        continue;
                near_name = closest(ids[i], (const char *const *)have, strv_length(have));
                if (!line[K_IDES_INSTALL])
                        add_error(errs, 0, label, "the default names %s, which the IDE catalog "
                                  "%s does not have; set [ides] install to IDs it has (%s), or "
                                  "none", quote(ids[i], q), path, have ? all : "none");
                else if (near_name)
                        add_error(errs, line[K_IDES_INSTALL], label, "%s is not a known IDE; did "
                                  "you mean \"%s\"? The IDE catalog %s has %s; write those, or "
                                  "none", quote(ids[i], q), near_name, path, all);
                else
                        add_error(errs, line[K_IDES_INSTALL], label, "%s is not a known IDE: "
                                  "the IDE catalog %s has %s; write those, or none",
                                  quote(ids[i], q), path, have ? all : "no IDE");
        }
        ide_catalog_release(&cat);
}

static void check_cross(const struct answers *a, const unsigned line[_K_MAX],
                        const bool bad[_K_MAX], struct answers_errors *errs)
{
        char label[80];

        check_ides(a, line, bad, errs);

        if (!bad[K_RDP_PORT] && !bad[K_SSH_PORT] && a->rdp_port == a->ssh_port) {
                /* Report on whichever of the two was written last. */
                bool on_ssh = line[K_SSH_PORT] > line[K_RDP_PORT];
                enum key_id id = on_ssh ? K_SSH_PORT : K_RDP_PORT;

                key_label(id, label);
                add_error(errs, line[id], label,
                          "is the same port as [network] %s (%u); RDP and SSH each need a "
                          "port of their own: change one of them (the defaults are 3389 "
                          "for RDP and 22 for SSH)",
                          on_ssh ? "rdp_port" : "ssh_port", (unsigned)a->rdp_port);
        }
        for (int id = K_RDP_PORT; id <= K_SSH_PORT; id++) {
                uint16_t port = id == K_RDP_PORT ? a->rdp_port : a->ssh_port;
                if (bad[id] || port != 3350)
                        continue;
                key_label((enum key_id)id, label);
                add_error(errs, line[id], label,
                          "3350 is the port of xrdp-sesman, xrdp's session manager, which "
                          "must keep it; choose another port, e.g. %s",
                          id == K_RDP_PORT ? "3389" : "22");
        }
}

int answers_check(const struct answers *a, struct answers_errors *errs)
{
        unsigned line[_K_MAX] = { 0 };
        bool bad[_K_MAX] = { false };
        size_t before = errs->n;

        check_cross(a, line, bad, errs);
        return errs->n > before ? -EINVAL : 0;
}

/* State of one parse. */
struct parser {
        struct answers a;             /* the copy being filled */
        struct answers_errors *errs;
        size_t first;                 /* errs->n when the parse began */
        unsigned line[_K_MAX];        /* where each key was set; 0 = not in the file */
        bool bad[_K_MAX];             /* its value was refused */
        int section;                  /* index in sections[], or NO_SECTION / BAD_SECTION */
        bool full;                    /* ANSWERS_MAX_ERRORS reached */
};

enum { NO_SECTION = -1, BAD_SECTION = -2 };

/* Records a problem of the file unless the limit is reached. */
_printf_(4, 5) static void parser_error(struct parser *p, unsigned line, const char *key,
                                        const char *fmt, ...)
{
        va_list ap;

        if (p->full)
                return;
        if (p->errs->n - p->first + 1 >= ANSWERS_MAX_ERRORS) {
                add_error(p->errs, line, NULL, "more than %d problems; stopped reading here. "
                          "Is this an answers file? Compare it with answers.ini.example",
                          ANSWERS_MAX_ERRORS - 1);
                p->full = true;
                return;
        }
        va_start(ap, fmt);
        add_errorv(p->errs, line, key, fmt, ap);
        va_end(ap);
}

/* Offset of the first byte that does not start a well-formed UTF-8
 * sequence, or len when the text is UTF-8. */
static size_t utf8_bad_offset(const char *s, size_t len)
{
        size_t i = 0;

        while (i < len) {
                unsigned char c = (unsigned char)s[i];
                size_t n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;

                if (c != 0 && c < 0x80) {       /* ASCII, most of any file: no call */
                        i++;
                        continue;
                }
                if (n > len - i || !utf8_valid(s + i, n))
                        return i;
                i += n;
        }
        return len;
}

/* A "[name]" line. */
static void parse_section(struct parser *p, unsigned lineno, char *s)
{
        char *close = strchr(s, ']'), err[512], q[QUOTE_MAX + 8];
        char *name;

        p->section = BAD_SECTION;
        if (!close) {
                parser_error(p, lineno, NULL, "a section header must be a name in square "
                             "brackets, e.g. \"[user]\" (the \"]\" is missing)");
                return;
        }
        if (close[1] != '\0') {
                parser_error(p, lineno, NULL, "has text after the section header's \"]\"; a "
                             "header must be alone on its line (comments go on a line of their "
                             "own)");
                return;
        }
        *close = '\0';
        name = strstrip(s + 1);
        if (!*name) {
                parser_error(p, lineno, NULL, "has an empty section header \"[]\"; write a "
                             "section name such as \"[user]\"");
                return;
        }
        p->section = section_find(name);
        if (p->section < 0) {
                char label[80];

                p->section = BAD_SECTION;
                unknown_section(name, err, sizeof(err));
                quote(name, q);
                q[strlen(q) - 1] = '\0';
                (void)!snprintf(label, sizeof(label), "[%s]", q + 1);
                parser_error(p, lineno, label, "%s", err);
        }
}

/* A "key = value" line (eq points at the '='). */
static void parse_assignment(struct parser *p, unsigned lineno, char *s, char *eq)
{
        char err[512], label[80], q[QUOTE_MAX + 8];
        const char *section;
        char *key, *value;
        int id;

        *eq = '\0';
        key = strstrip(s);
        value = strstrip(eq + 1);
        if (!*key) {
                parser_error(p, lineno, NULL, "has nothing before \"=\"; write a setting as "
                             "\"key = value\"");
                return;
        }
        if (p->section == BAD_SECTION)
                return;         /* the section's header was reported */
        if (p->section == NO_SECTION) {
                for (int i = 0; i < _K_MAX; i++)
                        if (strcmp(keys[i].name, key) == 0) {
                                key_label((enum key_id)i, label);
                                parser_error(p, lineno, label, "comes before any section "
                                             "header; put \"[%s]\" on a line above it",
                                             keys[i].section);
                                return;
                        }
                section_list(err, sizeof(err));
                parser_error(p, lineno, NULL, "the key %s comes before any section header, and "
                             "no section has a key of that name; the sections are %s",
                             quote(key, q), err);
                return;
        }
        section = sections[p->section].name;
        id = key_find(section, key);
        if (id < 0) {
                unknown_key(section, key, err, sizeof(err));
                quote(key, q);
                q[strlen(q) - 1] = '\0';
                (void)!snprintf(label, sizeof(label), "[%s] %s", section, q + 1);
                parser_error(p, lineno, label, "%s", err);
                return;
        }
        key_label((enum key_id)id, label);
        if (p->line[id]) {
                parser_error(p, lineno, label, "is set twice, on lines %u and %u; keep only one "
                             "of them", p->line[id], lineno);
                return;
        }
        p->line[id] = lineno;
        if (set_value(&p->a, (enum key_id)id, value, err, sizeof(err)) < 0) {
                p->bad[id] = true;
                /* A common slip: a comment after the value. */
                if (!keys[id].secret && (strstr(value, " #") || strstr(value, " ;")))
                        parser_error(p, lineno, label, "%s; comments must be on a line of "
                                     "their own", err);
                else
                        parser_error(p, lineno, label, "%s", err);
        }
        wipe(err, sizeof(err));
}

/* A line without '=' that is not a comment or a header. */
static void parse_other(struct parser *p, unsigned lineno, const char *s)
{
        size_t wl = strcspn(s, " \t:");
        char word[64], label[80];
        int id = -1;

        if (p->section >= 0 && wl < sizeof(word)) {
                memcpy(word, s, wl);
                word[wl] = '\0';
                id = key_find(sections[p->section].name, word);
        }
        if (id >= 0) {
                key_label((enum key_id)id, label);
                parser_error(p, lineno, label, "has no \"=\" after the key; write it as "
                             "\"%s = value\"", keys[id].name);
                return;
        }
        if (p->section == BAD_SECTION)
                return;
        parser_error(p, lineno, NULL, "is not a setting, a section header or a comment; "
                     "write settings as \"key = value\", sections as \"[name]\" and comments "
                     "as lines starting with \"#\"");
}

/* One line of the file, without its line ending. */
static void parse_line(struct parser *p, unsigned lineno, const char *line, size_t len)
{
        _cleanup_free_ char *copy = NULL;
        const char *nul;
        char *s, *eq;
        size_t bad;

        if (len > ANSWERS_MAX_LINE) {
                parser_error(p, lineno, NULL, "is %zu bytes long; the limit is %d bytes per "
                             "line. Is this an answers file?", len, ANSWERS_MAX_LINE);
                return;
        }
        nul = memchr(line, '\0', len);
        if (nul) {
                parser_error(p, lineno, NULL, "contains a NUL byte (at byte %zu); an answers "
                             "file must be plain UTF-8 text: save it as such",
                             (size_t)(nul - line) + 1);
                return;
        }
        bad = utf8_bad_offset(line, len);
        if (bad < len) {
                parser_error(p, lineno, NULL, "is not valid UTF-8 (byte 0x%02X at byte %zu); "
                             "save the file as UTF-8 (a Latin-1 or Windows editor may have "
                             "written it)", (unsigned char)line[bad], bad + 1);
                return;
        }
        copy = xstrndup(line, len);
        s = strstrip(copy);
        if (*s == '\0' || *s == '#' || *s == ';')
                goto out;
        if (*s == '[')
                parse_section(p, lineno, s);
        else if ((eq = strchr(s, '=')))
                parse_assignment(p, lineno, s, eq);
        else
                parse_other(p, lineno, s);
out:
        wipe(copy, len);
}

int answers_parse(const char *data, size_t len, struct answers *a, struct answers_errors *errs)
{
        struct parser p = { .a = *a, .errs = errs, .first = errs->n, .section = NO_SECTION };
        const char *s = data, *end = data + len;
        unsigned lineno = 0;
        int r = 0;

        if (len > ANSWERS_MAX_FILE) {
                add_error(errs, 0, NULL, "is %zu bytes long; an answers file may have at most "
                          "%d bytes. Is this the right file?", len, ANSWERS_MAX_FILE);
                wipe(&p.a, sizeof(p.a));
                return -EFBIG;
        }
        if (len >= 2 && (((unsigned char)s[0] == 0xff && (unsigned char)s[1] == 0xfe) ||
                         ((unsigned char)s[0] == 0xfe && (unsigned char)s[1] == 0xff))) {
                add_error(errs, 1, NULL, "the file is UTF-16 text (it starts with a UTF-16 "
                          "byte-order mark); save it as UTF-8 instead");
                wipe(&p.a, sizeof(p.a));
                return -EINVAL;
        }
        if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
                s += 3;
        while (s < end && !p.full) {
                const char *nl = memchr(s, '\n', (size_t)(end - s));
                const char *le = nl ? nl : end;

                lineno++;
                if (le > s && le[-1] == '\r')
                        le--;
                parse_line(&p, lineno, s, (size_t)(le - s));
                s = nl ? nl + 1 : end;
        }
        if (!p.full)
                check_cross(&p.a, p.line, p.bad, errs);
        if (errs->n > p.first)
                r = -EINVAL;
        else
                *a = p.a;
        wipe(&p.a, sizeof(p.a));
        return r;
}

int answers_load(const char *path, struct answers *a, struct answers_errors *errs)
{
        _cleanup_free_ char *data = NULL;
        struct stat st;
        size_t len = 0;
        int r;

        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
                add_error(errs, 0, NULL, "is a directory; give the path of the answers file "
                          "itself");
                return -EISDIR;
        }
        r = read_file(path, ANSWERS_MAX_FILE, &data, &len);
        switch (r) {
        case 0:
                break;
        case -ENOENT:
                add_error(errs, 0, NULL, "no such file; check the path (answers.ini.example "
                          "shows the format)");
                return r;
        case -EACCES:
        case -EPERM:
                add_error(errs, 0, NULL, "cannot be read: permission denied; run as root, or "
                          "make the file readable by the user running vps-provision");
                return r;
        case -EFBIG:
                add_error(errs, 0, NULL, "is larger than %d bytes, the most an answers file "
                          "may have; is this the right file?", ANSWERS_MAX_FILE);
                return r;
        case -EISDIR:
                add_error(errs, 0, NULL, "is a directory; give the path of the answers file "
                          "itself");
                return r;
        default:
                add_error(errs, 0, NULL, "cannot be read: %s; check the file and try again",
                          strerror(-r));
                return r;
        }
        r = answers_parse(data, len, a, errs);
        wipe(data, len);
        return r;
}

/* Appends text as "# "-prefixed comment lines wrapped at WRAP_WIDTH. */
static void append_wrapped(struct buf *b, const char *text)
{
        const char *p = text;
        size_t col = 0;

        while (*p) {
                size_t wl = strcspn(p, " ");
                if (col == 0) {
                        (void)buf_printf(b, "#");
                        col = 1;
                } else if (col + 1 + wl > WRAP_WIDTH) {
                        (void)buf_printf(b, "\n#");
                        col = 1;
                }
                (void)buf_printf(b, " %.*s", (int)wl, p);
                col += 1 + wl;
                p += wl;
                p += strspn(p, " ");
        }
        if (col)
                (void)buf_printf(b, "\n");
}

/* "key = value" (or "key =" when empty). */
static void append_setting(struct buf *b, const struct answers *a, enum key_id id)
{
        struct buf v;

        buf_init(&v, 1 << 16);
        get_value(a, id, &v);
        if (v.len)
                (void)buf_printf(b, "%s = %s\n", keys[id].name, v.data);
        else
                (void)buf_printf(b, "%s =\n", keys[id].name);
        wipe(v.data, v.len);
        buf_release(&v);
}

char *answers_format(const struct answers *a, bool with_docs)
{
        struct buf b;

        buf_init(&b, SIZE_MAX);
        (void)buf_printf(&b, "# vps-provision answers (the password hash is never written "
                         "here)\n");
        for (size_t s = 0; s < ELEMENTSOF(sections); s++) {
                (void)buf_printf(&b, "\n[%s]\n", sections[s].name);
                for (int i = 0; i < _K_MAX; i++) {
                        if (strcmp(keys[i].section, sections[s].name) != 0 || keys[i].secret)
                                continue;
                        if (with_docs)
                                (void)buf_printf(&b, "# %s\n", keys[i].summary);
                        append_setting(&b, a, (enum key_id)i);
                }
        }
        return buf_steal(&b);
}

static const char example_header[] =
        "# answers.ini - the choices for \"vps-provision --unattended answers.ini\"\n"
        "#\n"
        "# This file answers the questions the wizard would ask, so that a server can\n"
        "# be set up with nobody at the keyboard. Every key has a default: keep only\n"
        "# the lines you want to change. This example lists every key with its\n"
        "# default value.\n"
        "#\n"
        "# Format:\n"
        "#   [section]      starts a section; each key belongs to one section\n"
        "#   key = value    sets a key; spaces around \"=\" and at the ends are ignored\n"
        "#   # comment      a line starting with \"#\" or \";\" is a comment\n"
        "#\n"
        "# Values are taken exactly as written: no quotes, no escapes, and no comment\n"
        "# after a value on the same line (\"firewall = yes # on\" is an error).\n"
        "# Booleans are yes or no. Lists are separated by commas. Each key may be set\n"
        "# once. Section and key names are lower case. The file is UTF-8 text (LF or\n"
        "# CRLF line ends) of at most 64 KiB, with lines of at most 1024 bytes.\n"
        "#\n"
        "# The file is read, never executed. Every problem in it is reported at once,\n"
        "# with its line, and nothing on the server changes until the file is clean.\n"
        "# To check a file without touching the server:\n"
        "#   vps-provision --dry-run --unattended answers.ini\n";

char *answers_example(void)
{
        struct answers a;
        struct buf b;
        char allowed[160], *line;

        answers_init(&a);
        buf_init(&b, SIZE_MAX);
        (void)buf_printf(&b, "%s", example_header);
        for (size_t s = 0; s < ELEMENTSOF(sections); s++) {
                (void)buf_printf(&b, "\n\n[%s]\n", sections[s].name);
                append_wrapped(&b, sections[s].doc);
                for (int i = 0; i < _K_MAX; i++) {
                        const struct answers_key *k = &keys[i];
                        if (strcmp(k->section, sections[s].name) != 0)
                                continue;
                        describe_values((enum key_id)i, allowed, sizeof(allowed));
                        line = xasprintf("%s: %s", k->name, k->summary);
                        (void)buf_printf(&b, "\n");
                        append_wrapped(&b, line);
                        free(line);
                        (void)buf_printf(&b, "#\n");
                        append_wrapped(&b, k->doc);
                        if (k->type == ANSWERS_STRING)
                                line = xasprintf("Default: %s.", *k->default_value
                                                                         ? k->default_value
                                                                         : "(empty)");
                        else
                                line = xasprintf("Allowed: %s. Default: %s.", allowed,
                                                 *k->default_value ? k->default_value
                                                                   : "(empty)");
                        append_wrapped(&b, line);
                        free(line);
                        append_setting(&b, &a, (enum key_id)i);
                }
        }
        return buf_steal(&b);
}
