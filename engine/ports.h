/* ports.h — which TCP ports something listens on, and which process it is.
 * Reads /proc; changes nothing. The wizard uses it to refuse a port that
 * another program holds and to say what a port change means.
 *
 * A listener is a socket in state LISTEN in /proc/net/tcp or tcp6 (any
 * local address). Its process is found by the socket's inode among the
 * links of /proc/PID/fd; the name is /proc/PID/comm. A socket whose owner
 * cannot be seen (another namespace, a process gone meanwhile) is listed
 * with pid 0 and an empty name. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct port_listener {
        uint16_t port;
        pid_t pid;               /* 0 = not known */
        char comm[32];           /* "sshd", "xrdp"; "" = not known */
};

struct port_listeners {
        struct port_listener *v; /* sorted by port, then pid; one entry per port and process */
        size_t n;
};

/* From the text of /proc/net/tcp or tcp6: appends (port, inode) of every
 * LISTEN socket to *ports / *inodes (n entries, grown with xrealloc). */
void ports_parse_proc_net_tcp(const char *text, uint16_t **ports, uint64_t **inodes, size_t *n);
/* The same for proc's net/tcp and net/tcp6 ("/proc"; tests point it
 * elsewhere): 0, or -errno when neither can be read. */
/* True when the text of /proc/net/tcp or tcp6 has a LISTEN socket on port
 * bound to an address other than a loopback one (127.0.0.0/8, ::1,
 * ::ffff:127.x): 0.0.0.0, ::, or any other address. */
bool ports_listen_beyond_loopback(const char *text, uint16_t port);

int ports_read_listening(const char *proc, uint16_t **ports, uint64_t **inodes, size_t *n);

/* Every listener of proc ("/proc"; tests point it elsewhere). 0, or
 * -errno when neither net/tcp nor net/tcp6 can be read (ret untouched). */
int ports_listeners(const char *proc, struct port_listeners *ret);
void port_listeners_release(struct port_listeners *l);

/* The first listener on port, or NULL. */
const struct port_listener *ports_find(const struct port_listeners *l, uint16_t port);
