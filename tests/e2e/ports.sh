# shellcheck shell=bash disable=SC2016,SC2154 # programs in single quotes run in the container; $tmp, $user, $rdp_port come from the sourcing test
# ports.sh — reaching a provisioned host as a person does, and the checks of
# a run with a new SSH port and rdp_listen = localhost. Sourced by
# test-provision and test-ssh-drop, which provide th_* (lib.sh), $tmp, $user
# (the developer account) and $rdp_port.
#
#   proxy_env HOST                  http_proxy=... https_proxy=... (the archive's proxy)
#   ssh_p PORT [SSH-ARGS] root@ADDR [CMD]    ssh on a port, bounded by SSH_P_LIMIT (60 s)
#   tcp_open ADDR PORT              true when a TCP connection is accepted within 5 s
#   rdp_login HOST PWFILE SECS SHOT [ADDR] [PORT]   FreeRDP, true on a new xfce4-session
#   ports_open_checks HOST PORT     after a run with ssh_port = PORT, rdp_listen = localhost
#   ports_tunnel_rdp HOST PORT PWFILE   FreeRDP through ssh -p PORT -L (a login on PORT)
#   ports_closed_checks HOST PORT   port 22 closed in sshd and ufw, with the log line
#
# The ports_* checks fail the test with th_fail (in a subshell: that
# subshell) and print "ok: ..." lines with th_info.

# The program's proxy settings: the container reaches the archive only
# through apt-cacher-ng; libcurl (preflight's archive check) reads these.
proxy_env() {
        local p
        p="http://$(cat "$TH_CACHE/hosts/$1/net-gw"):$(cat "$TH_CACHE/net/acng-port")/"
        printf 'http_proxy=%s https_proxy=%s' "$p" "$p"
}

# ssh as root to ADDR on PORT, no questions, bounded by SSH_P_LIMIT (60 s):
# ssh_p PORT [SSH-ARGS...] root@ADDR [CMD...]
ssh_p() {
        local port=$1
        shift
        timeout -k 5 "${SSH_P_LIMIT:-60}" ssh -F none -i "$TH_CACHE/ssh/id_ed25519" -o IdentitiesOnly=yes \
                -p "$port" -o BatchMode=yes -o ConnectTimeout=10 -o UserKnownHostsFile=/dev/null \
                -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o LogLevel=ERROR "$@"
}

# True when something accepts a TCP connection on ADDR PORT within 5 s.
tcp_open() { timeout -k 1 5 bash -c 'exec 3<>"/dev/tcp/$1/$2"' sh "$1" "$2" 2>/dev/null; }

# Connects an RDP client (FreeRDP under Xvfb) to HOST as $user with the
# password read from file PWFILE and waits up to SECS for a new XFCE session
# of $user that started after the connect (a full session: xrdp does no
# NLA, so /auth-only would prove nothing). rdp_login HOST PWFILE SECS SHOT
# [ADDR] [PORT]; returns 0 when such a session appeared, 1 when none did.
# SHOT: a file for a screenshot of the drawn desktop, or "". ADDR and PORT
# connect elsewhere (a tunnel's end). FreeRDP's output: $tmp/xfreerdp-HOST.out.
rdp_login() {
        local h=$1 pwfile=$2 secs=$3 shot=$4 addr=${5:-} port=${6:-$rdp_port} disp dfile xvfb xf t0 i found=1
        [ -n "$addr" ] || addr=$(cat "$TH_CACHE/hosts/$h/net-addr")
        # Xvfb picks a free display and writes its number when it is ready;
        # a new file each time, so an earlier number is never read.
        dfile=$(mktemp "$tmp/display.XXXXXX")
        Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$dfile" >/dev/null 2>&1 &
        xvfb=$!
        for ((i = 0; i < 300; i++)); do
                [ -s "$dfile" ] && break
                sleep 0.1
        done
        [ -s "$dfile" ] || th_fail "Xvfb did not start within 30 s"
        disp=:$(head -n 1 "$dfile")
        t0=$(th_exec "$h" cut -d' ' -f1 /proc/uptime)
        # The password goes in on stdin, never on a command line.
        DISPLAY=$disp timeout -k 5 $((secs + 10)) xfreerdp /v:"$addr:$port" /u:"$user" /from-stdin:force \
                /cert:ignore /log-level:WARN <"$pwfile" >"$tmp/xfreerdp-$h.out" 2>&1 &
        xf=$!
        for ((i = 0; i < secs * 2; i++)); do
                # Seconds since boot when each xfce4-session of the user started
                # (started as x-session-manager by xrdp's startwm.sh: by exe).
                if th_exec "$h" sh -c 'tck=$(getconf CLK_TCK)
                        for p in $(pgrep -u "$1"); do
                                [ "$(readlink /proc/$p/exe)" = /usr/bin/xfce4-session ] || continue
                                awk -v t="$tck" "{ print \$22 / t }" /proc/$p/stat
                        done' sh "$user" | awk -v t0="$t0" '$1 > t0 { ok = 1 } END { exit !ok }'; then
                        found=0
                        break
                fi
                kill -0 "$xf" 2>/dev/null || break
                sleep 0.5
        done
        if [ "$found" = 0 ] && [ -n "$shot" ]; then
                # Let the desktop draw: a screenshot every 2 s until one has
                # the colours of a drawn desktop (the caller's check), for at
                # most 40 s; on a loaded machine 5 s were once not enough.
                for ((i = 0; i < 20; i++)); do
                        sleep 2
                        DISPLAY=$disp import -window root "$shot" 2>/dev/null || continue
                        [ "$(convert "$shot" -format '%k' info: 2>/dev/null || echo 0)" -ge 50 ] && break
                done
        fi
        kill "$xf" "$xvfb" 2>/dev/null || true
        wait "$xf" "$xvfb" 2>/dev/null || true
        return "$found"
}

# HOST's ufw rule for PORT (as "ufw status" lists it): 0 when there is one.
ufw_allows() { th_exec "$1" ufw status | grep -q -E "^$2(/tcp)? "; }

# After a run with ssh_port = PORT and rdp_listen = localhost, before any
# login on PORT: port 22 still answers (a login there), sshd listens on
# PORT, the RDP port listens on 127.0.0.1/[::1] only and refuses a
# connection from outside, ufw is active, allows 22 and PORT and has no
# rule for the RDP port. ports_open_checks HOST PORT
ports_open_checks() {
        local h=$1 port=$2 addr p
        addr=$(cat "$TH_CACHE/hosts/$h/net-addr")
        ssh_p 22 "root@$addr" true || th_fail "$h: port 22 does not answer after the run (a login there)" "$h"
        th_info "ok: $h: port 22 still answers after the run (a login there)"
        th_exec "$h" ss -Htln "sport = :$port" | grep -q . || th_fail "$h: sshd does not listen on $port" "$h"
        th_info "ok: $h: sshd listens on $port"
        th_exec "$h" ss -Htln "sport = :$rdp_port" >"$tmp/$h-rdp-listen"
        [ -s "$tmp/$h-rdp-listen" ] || th_fail "$h: nothing listens on port $rdp_port at all (xrdp)" "$h"
        if awk '{ print $4 }' "$tmp/$h-rdp-listen" | grep -v -E '^(127\.0\.0\.1|\[::1\]):' >&2; then
                th_fail "$h: the RDP port listens on more than the loopback addresses (above)" "$h"
        fi
        th_info "ok: $h: port $rdp_port listens on $(awk '{ print $4 }' "$tmp/$h-rdp-listen" | paste -sd' ') only"
        ! tcp_open "$addr" "$rdp_port" || th_fail "$h: $addr:$rdp_port accepts a connection from outside" "$h"
        th_info "ok: $h: $addr:$rdp_port accepts no connection"
        th_exec "$h" ufw status | grep -q '^Status: active' || th_fail "$h: ufw is not active" "$h"
        for p in 22 "$port"; do
                ufw_allows "$h" "$p" || { th_exec "$h" ufw status >&2; th_fail "$h: ufw has no rule for $p" "$h"; }
        done
        ! ufw_allows "$h" "$rdp_port" || { th_exec "$h" ufw status >&2; th_fail "$h: ufw has a rule for the RDP port" "$h"; }
        th_info "ok: $h: ufw active, 22 and $port allowed, no rule for $rdp_port"
}

# FreeRDP through the tunnel the end shows (ssh -p PORT -L ...:localhost:RDP),
# the first login on PORT: a new xfce4-session of $user within 60 s.
# ports_tunnel_rdp HOST PORT PWFILE
ports_tunnel_rdp() {
        local h=$1 port=$2 pwfile=$3 addr lport tun i rc=0
        addr=$(cat "$TH_CACHE/hosts/$h/net-addr")
        lport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        SSH_P_LIMIT=300 ssh_p "$port" -N -o ExitOnForwardFailure=yes -L "127.0.0.1:$lport:localhost:$rdp_port" \
                "root@$addr" 2>"$tmp/$h-tunnel.err" &
        tun=$!
        for ((i = 0; i < 100; i++)); do tcp_open 127.0.0.1 "$lport" && break; sleep 0.2; done
        tcp_open 127.0.0.1 "$lport" || {
                cat "$tmp/$h-tunnel.err" >&2
                th_fail "$h: the tunnel ssh -p $port -L $lport:localhost:$rdp_port did not open" "$h"
        }
        rdp_login "$h" "$pwfile" 60 "" 127.0.0.1 "$lport" || rc=1
        kill "$tun" 2>/dev/null || true
        wait "$tun" 2>/dev/null || true
        [ "$rc" = 0 ] || {
                tail -n 20 "$tmp/xfreerdp-$h.out" >&2
                th_fail "$h: no new xfce4-session of $user through the tunnel on port $port" "$h"
        }
        th_info "ok: $h: FreeRDP through ssh -p $port -L: a new xfce4-session of $user"
}

# Port 22 closed for good, within SECS: it refuses connections, ufw has
# no rule for it, and the program's log says why; PORT still answers. The
# program restarts sshd first and deletes the firewall rule next, then logs
# the line: the checks wait for the line, not for the port, which closes
# a moment before the rule goes.
# ports_closed_checks HOST PORT SECS
ports_closed_checks() {
        local h=$1 port=$2 secs=$3 addr i logged=0
        local line="SSH port 22 is closed (a login on the new port was seen in sshd's log)"
        addr=$(cat "$TH_CACHE/hosts/$h/net-addr")
        for ((i = 0; i < secs; i++)); do
                if th_exec "$h" grep -rqF "$line" /var/log/vps-provision; then
                        logged=1
                        break
                fi
                sleep 1
        done
        [ "$logged" = 1 ] ||
                th_fail "$h: within $secs s of a login on $port the log does not say that port 22 was closed" "$h"
        ! tcp_open "$addr" 22 || th_fail "$h: port 22 still answers after the log says it is closed" "$h"
        ! ufw_allows "$h" 22 || { th_exec "$h" ufw status >&2; th_fail "$h: ufw still allows 22" "$h"; }
        tcp_open "$addr" "$port" || th_fail "$h: port $port does not answer after 22 closed" "$h"
        th_info "ok: $h: port 22 closed (sshd and ufw, the log says why), $port answers"
}
