/* hardening.h — the pure parts of the hardening phase (the sshd drop-in,
 * the fail2ban jail, reading sshd -T and ufw output), declared for the unit
 * tests; the phase itself is phase_hardening in phases.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HARDENING_SSHD_DROPIN "/etc/ssh/sshd_config.d/10-vps-provision.conf"
#define HARDENING_JAIL "/etc/fail2ban/jail.d/vps-provision.local"
/* The jail (and filter) for failed RDP logins. */
#define HARDENING_XRDP_JAIL "vps-provision-xrdp"
/* fail2ban's ban action in both jails (action.d/nftables.conf) */
#define HARDENING_BANACTION "nftables"
#define HARDENING_XRDP_FILTER "/etc/fail2ban/filter.d/" HARDENING_XRDP_JAIL ".conf"
#define HARDENING_MAX_AUTH_TRIES 4

/* What the phase installs (without Recommends), for fail2ban and for the
 * firewall: NULL-terminated apt-get install words. */
extern const char *const hardening_fail2ban_packages[];
extern const char *const hardening_firewall_packages[];

/* The sshd drop-in: Port ssh_port, then a Port line for each of the n_old
 * ports SSH was reached on before (kept until a login on ssh_port is seen,
 * see hardening_login_seen()), LogLevel VERBOSE (the log then says which
 * port each connection came in on), MaxAuthTries, LoginGraceTime,
 * PermitEmptyPasswords no, and PermitRootLogin prohibit-password only when
 * root_has_key (otherwise root's login is left as it is). Caller frees. */
char *hardening_sshd_text(uint16_t ssh_port, const uint16_t *old, size_t n_old, bool root_has_key);
/* The ports of the drop-in's "Port N" lines other than ssh_port (the old
 * ports it keeps open), at most max; returns how many. */
size_t hardening_sshd_kept_ports(const char *dropin, uint16_t ssh_port, uint16_t *ports, size_t max);
/* Whether sshd's log (journalctl -o cat: one message a line) shows a login
 * that came in on port: a "Connection from A port P on B port PORT" line
 * (LogLevel VERBOSE) and later an "Accepted METHOD for USER from A port P"
 * line of the same client address and port. */
bool hardening_login_seen(const char *log, uint16_t port);
/* The fail2ban jail drop-in: the sshd jail on ssh_port and the RDP jail
 * (HARDENING_XRDP_JAIL) on rdp_port, both reading the systemd journal: 5
 * failures in 10 minutes ban the address for an hour. Caller frees. */
char *hardening_jail_text(uint16_t ssh_port, uint16_t rdp_port);
/* The fail2ban filter of failed RDP logins (HARDENING_XRDP_FILTER). */
extern const char hardening_xrdp_filter[];
/* The TCP ports of the Listen= lines of the active units in
 * "systemctl show -p ActiveState -p Listen UNIT…" output (blocks separated
 * by blank lines; "[::]:2222 (Stream)", "0.0.0.0:22 (Stream)", "2222
 * (Stream)"; a path or a datagram socket is no TCP port), at most max;
 * returns how many. */
size_t hardening_socket_ports(const char *show, uint16_t *ports, size_t max);
/* The server's port (fourth field) of an SSH_CONNECTION value
 * ("client_ip client_port server_ip server_port"), 0 when there is none. */
uint16_t hardening_ssh_connection_port(const char *value);
/* A throwaway main configuration for "sshd -t -f": the candidate drop-in
 * first (so it wins as it will when installed), then the real one. */
char *hardening_sshd_test_config(const char *candidate_path, const char *sshd_config);

/* The ports of "port N" lines in sshd -T output, in order, at most max;
 * returns how many. */
size_t hardening_sshd_ports(const char *sshd_T, uint16_t *ports, size_t max);
/* The value of the first "KEY value" line of sshd -T output (keys are lower
 * case there); NULL when absent. Caller frees. */
char *hardening_sshd_value(const char *sshd_T, const char *key);

/* "ufw show added" lists "ufw allow 22/tcp" lines: is "ufw RULE" one? */
bool hardening_ufw_added(const char *show_added, const char *rule);
/* "ufw status": "Status: active"? */
bool hardening_ufw_active(const char *status);
/* Whether sshd is socket-activated, from the output of "systemctl
 * is-enabled ssh.socket" and "systemctl is-active ssh.socket" (NULL: the
 * question failed, as for a disabled or stopped unit): enabled (also
 * enabled-runtime) or active. */
bool hardening_socket_in_use(const char *is_enabled, const char *is_active);
/* "ufw status": an ALLOW (or LIMIT) line for port_proto ("22/tcp")? */
bool hardening_ufw_allows(const char *status, const char *port_proto);
/* "fail2ban-client status": does its "Jail list:" line name jail? (one
 * question for every jail, where "status JAIL" asks for one) */
bool hardening_f2b_has_jail(const char *status, const char *jail);
