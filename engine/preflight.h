/* preflight.h — facts about the server (the data model's VPSInstance) and
 * the checks that decide whether a run may start. Reads only; changes
 * nothing. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "check.h"

struct json_object;

/* The most disk_available_gb a session file may say (a zettabyte). */
#define VPS_DISK_GB_MAX 1e12

struct vps_info {
        char hostname[256];
        char ip_address[64];      /* primary address: source of the default route */
        char os_name[64];         /* "Debian GNU/Linux" (NAME of os-release) */
        char os_id[32];           /* "debian" */
        char os_version[16];      /* "13" (VERSION_ID) */
        char os_codename[32];     /* "trixie" */
        char kernel_version[128];
        char architecture[32];    /* dpkg architecture: "amd64" (uname machine mapped) */
        char virtualization[32];  /* "kvm", "systemd-nspawn", "none", … */
        int cpu_cores;
        int64_t ram_mb;
        int64_t disk_space_gb;
        double disk_available_gb;
        bool validated;           /* set when preflight_check() found no failure */
};

/* Where preflight looks; tests point these at a fake tree. Defaults (from
 * preflight_env_default()): /etc/os-release (/usr/lib/os-release when
 * that is missing), /proc, "/", /var/lib/dpkg, /run, /sys, euid from
 * geteuid(), no mirror (the caller sets it from the answers or from
 * preflight_default_mirror()). A NULL path skips what it is for. */
struct preflight_env {
        const char *os_release;   /* os-release file */
        const char *proc;         /* /proc (meminfo, cpuinfo) */
        const char *root;         /* filesystem whose free space counts; also /.dockerenv */
        const char *dpkg_dir;     /* /var/lib/dpkg: status readable, nothing pending in updates/
                                   * (apt_dpkg_pending()); ops repairs in the same one */
        const char *run_dir;      /* /run: container detection (systemd/container, .containerenv) */
        const char *sys;          /* /sys: VM detection (class/dmi/id/sys_vendor, hypervisor/type) */
        uid_t euid;
        const char *mirror_url;   /* archive to test for reachability; NULL = skip that check */
        const char *proxy;        /* HTTP proxy for the archive check (apt's own, which the
                                   * engine asks apt-config for); NULL = none */
        const char *apt_dir;      /* /etc/apt: where the engine finds the default mirror when
                                   * the answers name none; NULL = no default (tests) */
        unsigned network_timeout_ms;  /* 5000; 0 means that default */
        int64_t min_ram_mb;       /* 1900: a "2 GiB" VPS reports ~1950-2000 MB of MemTotal,
                                   * so the bar sits a little under 2048; messages say
                                   * "2 GiB" (min_ram_mb rounded up to whole GiB) */
        double min_disk_gb;       /* 10 (GiB available to non-root on root) */
        const char *state_dir;    /* where the journal, sessions and backups go: must be
                                   * writable with min_state_mb free (its nearest existing
                                   * parent when it does not exist yet); NULL = skip */
        int64_t min_state_mb;     /* 64 */
        bool dpkg_interrupted_ok; /* an interrupted dpkg is a warning, not a failure: set
                                   * when the run repairs it itself (--resume) */
};

void preflight_env_default(struct preflight_env *env);

/* Gathers facts; never fails for a missing fact (fields stay empty/0).
 * Disk sizes are GiB (what df -h shows as G). virtualization is a
 * container name ("systemd-nspawn", "docker", "podman", "lxc" …), a
 * hypervisor ("kvm", "vmware", "xen", "hyperv", "amazon", "oracle",
 * "vm-other") or "none". */
void preflight_gather(const struct preflight_env *env, struct vps_info *ret);

/* Runs the checks (root, OS is Debian 12 or 13, RAM, disk, state
 * directory writable with room, dpkg healthy, archive reachable),
 * appending one check per item to ret. force turns
 * the RAM, disk and OS-version failures into warnings (never root or dpkg).
 * The archive check (an HTTP HEAD of MIRROR/dists/CODENAME/InRelease
 * through engine/fetch's fetch_head(), with env->proxy, which must answer
 * 200) runs only when env->mirror_url is set (libcurl is loaded then, not
 * before). No answer in network_timeout_ms, or a 5xx, is asked once more
 * with three times the time before the check fails (detail "attempts").
 * Returns the number of failures; sets info->validated. */
int preflight_check(const struct preflight_env *env, struct vps_info *info, bool force,
                    struct check_list *ret);

/* The Debian archive this server's apt uses, from the http(s) URIs of
 * "deb" entries in apt_dir/sources.list and apt_dir/sources.list.d/ (*.list
 * one-line entries and *.sources deb822 stanzas, files in name order;
 * deb-src, comments, [options] and "Enabled: no" stanzas skipped). Best
 * first: a URI naming "debian" in a file Debian itself writes
 * (sources.list, sources.list.d/debian.sources); any URI in those files;
 * a URI naming "debian" in another file (third-party repositories rarely
 * do). Within a rank the first one wins. Security mirrors
 * ("debian-security", security.*) are skipped: the check wants the main
 * archive. A trailing slash is dropped. 0, -ENOENT when there is none,
 * -ENAMETOOLONG when it does not fit in buf (buf untouched on error). */
int preflight_default_mirror(const char *apt_dir, char *buf, size_t size);

/* The data model's VPSInstance (hostname, ip_address, os_name, os_version,
 * kernel_version, cpu_cores, ram_mb, disk_space_gb, disk_available_gb,
 * validated) plus os_id, os_codename, architecture, virtualization.
 * from_json: missing keys stay empty/0 (older sessions), a key of the
 * wrong type or a string too long for its field is -EINVAL; ret is
 * written only on success. */
struct json_object *vps_info_to_json(const struct vps_info *v);
int vps_info_from_json(struct json_object *o, struct vps_info *ret);
