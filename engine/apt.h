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

/* Installed packages ("ii" in dpkg's database) as sorted strv of
 * "name" or "name:arch" for foreign architectures. */
int apt_installed(char ***ret);
bool apt_is_installed(char *const *installed, const char *pkg);

/* Runs "apt-get -s install WORDS" (no changes, no lock needed; words are
 * what follows "install": options and package names) and returns the
 * packages the install would newly add (ret_new) and upgrade (ret_upgraded,
 * may be NULL), sorted. A package apt cannot find fails with -ENOENT and
 * its name in err; any other refusal with -EIO and apt's "E:" line in err. */
int apt_simulate_install(const char *const *pkgs, char ***ret_new, char ***ret_upgraded,
                         char *err, size_t errlen);

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
