/* apt.h — what the engine needs to know about apt and dpkg: parsing apt's
 * status channel (APT::Status-Fd) into true per-package progress, asking
 * dpkg what is installed, asking apt what an install would add (so the undo
 * can be journaled before anything changes), and waiting for a dpkg lock
 * held by someone else (fresh VPSes run unattended-upgrades at boot). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum apt_status_kind {
        APT_ST_DOWNLOAD,   /* dlstatus:  percent covers the download stage */
        APT_ST_INSTALL,    /* pmstatus:  percent covers unpack/configure */
        APT_ST_ERROR,      /* pmerror:   pkg + message */
        APT_ST_CONFFILE,   /* pmconffile: a conffile question (should not happen with our options) */
        APT_ST_OTHER,
};

struct apt_status {
        enum apt_status_kind kind;
        char pkg[128];
        double percent;    /* 0..100 as apt reports it */
        char message[256];
};

/* Parses "pmstatus:xfce4-panel:42.8571:Unpacking xfce4-panel (amd64)" and
 * friends. The message may contain ':'. -EINVAL on a line of another shape. */
int apt_status_parse(const char *line, size_t len, struct apt_status *ret);

/* How long apt itself waits for dpkg's lock before giving up (seconds);
 * ops.c waits longer in front of it, saying who holds the lock. */
#define APT_LOCK_TIMEOUT_S 900
/* The lock every dpkg frontend (apt, unattended-upgrades, aptitude) takes. */
#define APT_LOCK_FRONTEND "/var/lib/dpkg/lock-frontend"

/* The argv for a non-interactive apt-get that reports on fd status_fd
 * (-1 = no status): apt-get -y -q -o Dpkg::Options::=--force-confdef
 * -o Dpkg::Options::=--force-confold -o Dpkg::Use-Pty=0
 * -o DPkg::Lock::Timeout=APT_LOCK_TIMEOUT_S [-o APT::Status-Fd=N], followed
 * by the caller's words. The result is a strv the caller frees. */
char **apt_argv(int status_fd, const char *const *words);

/* apt_argv() for a transaction in which dpkg unpacks packages (install,
 * install --reinstall, dist-upgrade), with -o
 * DPkg::Options::=--force-unsafe-io after DPkg::Lock::Timeout: dpkg then
 * skips its fsync before each extracted file's rename, about half of a
 * full run's time. Safe only with what ops.c does around every such
 * transaction: one sync(2) when it ends (before its step is recorded as
 * done), and on a resume after an interruption, dpkg --verify of its
 * packages and a reinstall of those whose files are damaged. Never for
 * apt-get update, a download, a simulation or a removal (nothing is
 * unpacked there). */
char **apt_argv_unpack(int status_fd, const char *const *words);
#define APT_UNSAFE_IO "DPkg::Options::=--force-unsafe-io"

/* What "dpkg --verify --verify-format rpm" printed: one line per path that
 * failed a check, "??5?????? c /etc/foo" (the third character '5': its
 * md5sum differs from the one dpkg recorded at unpack time; "c": a
 * configuration file) or "missing   c /etc/foo (error)". ret_changed gets
 * the paths of files that are not configuration files whose md5sum
 * differs, ret_conffiles the configuration files whose md5sum differs,
 * ret_missing the missing paths (each a strv in output order, NULL when
 * none; any of them may be NULL when not wanted). Other lines (dpkg's
 * warnings) are skipped. */
void apt_verify_parse(const char *out, char ***ret_changed, char ***ret_conffiles,
                      char ***ret_missing);

/* "dpkg-query -S" patterns for exact paths: each of the characters dpkg
 * takes as a wildcard or escape (*, ?, [, \) escaped with a backslash, so
 * "/usr/bin/[" names that file only. Caller frees. */
char *apt_search_pattern(const char *path);
/* The packages "dpkg-query -S PATH…" names as owners ("pkg1, pkg2:arm64:
 * /path"; "diversion by …" lines skipped), as a sorted strv without
 * duplicates, or NULL. */
char **apt_search_owners_parse(const char *out);

/* ---- dpkg's database: one reader, one rule for "installed" --------------
 *
 * Every question "is this package installed?" in the program is answered
 * here (the phases ask through ops.h: ops_pkg_installed(),
 * ops_pkgs_missing(), ops_pkgs_installed()).
 *
 * dpkg-query's ${db:Status-Abbrev} is three letters: the selection (what
 * was asked for: u unknown, i install, h hold, r remove, p purge), the
 * current state (n not-installed, c config-files, H half-installed,
 * U unpacked, F half-configured, W triggers-awaited, t triggers-pending,
 * i installed) and an error flag (space, or R reinst-required).
 *
 * The rule: a package is INSTALLED when its current state is i and it has
 * no error flag, whatever its selection. "ii", "hi" (held), "ri" and "pi"
 * (selected for removal, but still there until apt acts) are all installed,
 * as apt sees them too. A package dpkg began and did not finish (H, U, F,
 * W, t, or the R flag with any state) is HALF: its files may be on disk, so
 * a rollback purges it, but it is not installed, so verify() says so and
 * ops_apt_install() finishes it (dpkg --configure -a) before it installs.
 * CONFIG_FILES (c) has only configuration files left (a rollback purges
 * those too). ABSENT is n, and any name dpkg has no record of. */
enum apt_pkg_state {
        APT_PKG_ABSENT,
        APT_PKG_CONFIG_FILES,
        APT_PKG_HALF,
        APT_PKG_INSTALLED,
};

/* The state of one ${db:Status-Abbrev} (its first len bytes, at least the
 * selection and state letters). Anything unreadable is ABSENT. */
enum apt_pkg_state apt_pkg_state_parse(const char *abbrev, size_t len);

/* The one format every dpkg-query -W of this program prints with, and
 * apt_pkg_list_parse() reads: status, package, architecture, and whether
 * apt guards the package from removal (Essential, Protected, or apt's own
 * Important: e2fsprogs in Debian 13). */
#define APT_DPKG_FORMAT \
        "${db:Status-Abbrev}\t${Package}\t${Architecture}\t${Essential}${Protected}${Important}\n"

struct apt_pkg {
        char *name;                /* "name", or "name:arch" for a foreign architecture */
        enum apt_pkg_state state;
        bool guarded;              /* Essential, Protected or Important: yes */
};

struct apt_pkg_list {
        struct apt_pkg *v;
        size_t n;
        char native[32];           /* dpkg's architecture, as given to the parser */
};

/* Reads APT_DPKG_FORMAT lines (other lines are skipped). native is dpkg's
 * own architecture ("amd64"): packages of it and of "all" are named
 * without a qualifier. ret is replaced (release it before reuse). */
void apt_pkg_list_parse(const char *out, const char *native, struct apt_pkg_list *ret);
/* Asks dpkg-query about names (NULL: every package dpkg has a record of).
 * A name dpkg never heard of simply has no entry. 0, or -errno (-EIO when
 * dpkg-query fails otherwise than "some names unknown"); ret is written
 * only on success. */
int apt_pkg_list_query(const char *const *names, struct apt_pkg_list *ret);
void apt_pkg_list_release(struct apt_pkg_list *l);
/* The state of pkg in l: "name" (or "name:NATIVE", "name:all") is the
 * package of dpkg's architecture or of "all", "name:arch" that of a foreign
 * arch. ABSENT when l has no such entry. */
enum apt_pkg_state apt_pkg_list_state(const struct apt_pkg_list *l, const char *pkg);

/* The package names among apt-get install words, in order: options
 * ("-…"), apt's "keep this out" ("name-") and files ("./x.deb",
 * "/tmp/x.deb") left out, a version ("name=1.0") or release
 * ("name/trixie") suffix cut off. A strv, NULL when there are none. */
char **apt_word_names(const char *const *words);

/* Every installed package (the rule above), as a sorted strv of "name" or
 * "name:arch" for foreign architectures. */
int apt_installed(char ***ret);
bool apt_is_installed(char *const *installed, const char *pkg);

/* dpkg's own sign that it was interrupted, counted as apt counts it: the
 * files named by digits only in DPKG_DIR/updates (dpkg's journal of
 * status changes not yet folded into DPKG_DIR/status; its tmp.i is not
 * one). apt refuses to work while there is any ("dpkg was interrupted,
 * you must manually run 'dpkg --configure -a'"). Returns how many (0 when
 * none, or when the directory cannot be read). dpkg_dir NULL: the
 * system's, /var/lib/dpkg. */
#define APT_DPKG_DIR "/var/lib/dpkg"
int apt_dpkg_pending(const char *dpkg_dir);

/* Runs "apt-get -s install WORDS" (no changes, no lock needed; words are
 * what follows "install": options and package names) and returns the
 * packages the install would newly add (ret_new) and upgrade (ret_upgraded,
 * may be NULL), sorted. A package apt cannot find fails with -ENOENT and
 * its name in err; any other refusal with -EIO and apt's "E:" line in err. */
int apt_simulate_install(const char *const *pkgs, char ***ret_new, char ***ret_upgraded,
                         char *err, size_t errlen);

/* The package an apt "E:" line says it cannot install ("Unable to locate
 * package NAME", "Package 'NAME' has no installation candidate"): true and
 * the name in buf, or false. */
bool apt_missing_package(const char *line, char *buf, size_t size);

/* If the lock file (NULL = APT_LOCK_FRONTEND) is locked by another process,
 * fills the holder's pid and command name and returns 1; 0 when free or
 * missing; -errno on error. Only asks (F_GETLK); never takes the lock. */
int apt_lock_holder(const char *lock_path, pid_t *ret_pid, char *ret_comm, size_t comm_size);

/* The proxy apt itself uses for a URL of scheme ("http" or "https") on
 * host (may be NULL): Acquire::SCHEME::Proxy::HOST, then
 * Acquire::SCHEME::Proxy, then Acquire::http::Proxy, as apt-config reports
 * them. Fills buf ("" when none, or "DIRECT") and returns 0; -errno when
 * apt-config cannot run. So our own requests go where apt's go. */
int apt_proxy(const char *scheme, const char *host, char *buf, size_t size);

/* The Recommends of those of pkgs that dpkg has at least unpacked, that
 * nothing installed satisfies: for each unsatisfied clause ("a | b (>= 1)") its first
 * alternative, unless that name is in excluded (the "name-" words of an
 * install). apt installs Recommends only for packages it newly installs,
 * so an install cut off half-way and finished later leaves these out;
 * asking for them restores what an uninterrupted run gets. Sorted strv. */
int apt_missing_recommends(char *const *pkgs, char *const *installed, char *const *excluded,
                           char ***ret);
