/* preflight.h — facts about the server (the data model's VPSInstance) and
 * the checks that decide whether a run may start. Reads only; changes
 * nothing. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "check.h"

struct json_object;

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
 * preflight_env_default()): /etc/os-release, /proc, "/", /var/lib/dpkg,
 * euid from geteuid(), mirror from /etc/apt sources (or the answers). */
struct preflight_env {
        const char *os_release;   /* os-release file */
        const char *proc;         /* /proc (meminfo, cpuinfo) */
        const char *root;         /* filesystem whose free space counts */
        const char *dpkg_dir;     /* /var/lib/dpkg: updates/ must be empty, status readable */
        const char *run_dir;      /* /run: container detection (systemd/container, .containerenv) */
        uid_t euid;
        const char *mirror_url;   /* archive to test for reachability; NULL = skip that check */
        unsigned network_timeout_ms;
        int64_t min_ram_mb;       /* 2048 (a little under: "2 GiB" VPSes report ~1950) */
        double min_disk_gb;       /* 10 */
};

void preflight_env_default(struct preflight_env *env);

/* Gathers facts; never fails for a missing fact (fields stay empty/0). */
void preflight_gather(const struct preflight_env *env, struct vps_info *ret);

/* Runs the checks (root, OS is Debian 12 or 13, RAM, disk, dpkg healthy,
 * archive reachable), appending one check per item to ret. force turns
 * the RAM, disk and OS-version failures into warnings (never root or dpkg).
 * Returns the number of failures; sets info->validated. */
int preflight_check(const struct preflight_env *env, struct vps_info *info, bool force,
                    struct check_list *ret);

struct json_object *vps_info_to_json(const struct vps_info *v);
int vps_info_from_json(struct json_object *o, struct vps_info *ret);
