/* verification.h — the final health check, split in two so the judging can
 * be tested on fixtures: health_gather() looks at the system and fills
 * struct health_facts; health_evaluate() turns facts and answers into the
 * check list of the data model (categories system, services, applications,
 * network, security; pass / warn / fail with a message, a fix and details).
 * The phase itself is phase_verification in phases.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "answers.h"
#include "check.h"

struct phase_ctx;

#define HEALTH_MAX_APPS 16

/* One program the desktop should have. */
struct health_app {
        char name[48];         /* "Visual Studio Code" */
        char command[32];      /* "code" */
        char path[256];        /* where it was found; "" = not found */
        bool required;         /* chosen in the answers (fail when missing) */
};

struct health_facts {
        /* system */
        char os_id[32], os_version[16], os_codename[32], kernel[128];
        double disk_available_gb;      /* < 0 = unknown */
        /* kernels in /boot (vmlinuz-VERSION) when initramfs-tools is
         * installed (0 in a container without one: no check), and those of
         * them without a non-empty initrd.img-VERSION */
        unsigned n_kernels;
        char initrd_missing[160];      /* "6.12.0-1-amd64, …" or "" */
        int64_t ram_mb;
        /* services: "active", "inactive", "failed", … ("" = no such unit) */
        char xrdp[24], xrdp_sesman[24], ssh[24], fail2ban[24];
        int rdp_listening, ssh_listening;   /* 1 yes, 0 no, < 0 unknown */
        int rdp_beyond_loopback;   /* the RDP port listens on more than loopback: 1, 0, < 0 unknown */
        /* applications */
        struct health_app apps[HEALTH_MAX_APPS];
        size_t n_apps;
        /* network */
        char ip_address[64];
        bool ufw_installed, ufw_active, ufw_allows_ssh, ufw_allows_rdp;
        /* security */
        bool user_exists;
        uint32_t user_uid;
        char user_missing_groups[128];   /* "video, plugdev" or "" */
        bool sudoers_present;
        int sudoers_valid;               /* visudo --check: 1 ok, 0 rejected, < 0 not run */
        bool sshd_dropin;                /* the hardening drop-in is in place */
        char sshd_permit_root[32];       /* sshd -T permitrootlogin ("" = unknown) */
        int sshd_max_auth_tries;         /* sshd -T maxauthtries (-1 = unknown) */
        bool sshd_port_configured;       /* ssh_port among sshd -T's ports */
        bool root_has_key;
        int f2b_jail;                    /* fail2ban-client status lists sshd: 1 yes, 0 not, < 0 not asked */
        int f2b_rdp_jail;                /* the same for the RDP jail (HARDENING_XRDP_JAIL) */
};


/* Looks at the system (commands through ops_query, files, /proc). */
void health_gather(struct phase_ctx *c, struct health_facts *ret);
/* Appends one check per item to out. */
void health_evaluate(const struct health_facts *f, const struct answers *a,
                     struct check_list *out);
/* The file beside the session: DIR/health-ID.json. Caller frees. */
char *health_json_path(const char *sessions_dir, const char *session_id);
