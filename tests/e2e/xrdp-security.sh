# shellcheck shell=bash disable=SC2016,SC2154 # programs in single quotes run in the container; $tmp, $user, $rdp_port come from test-provision
# xrdp-security.sh — the RDP hardening checked with real FreeRDP clients on a
# host the caller already provisioned. Sourced by test-provision, which
# provides th_* (lib.sh), rdp_login and tcp_open (ports.sh), $tmp, $user and
# $rdp_port.
#
# xrdp_security_checks HOST PWFILE (PWFILE: the password of $user):
#  1. five failed FreeRDP logins from this machine's address get that address
#     banned by the xrdp jail (not before the fifth): fail2ban-client lists it
#     and a sixth connection is refused; then it is unbanned and a TCP
#     connection works again, so later RDP checks are not affected;
#  2. FreeRDP with standard RDP security (/sec:rdp, no TLS) and the right
#     password is refused: no session starts;
#  3. root, with a password set for it, cannot log in over RDP: no session
#     of root starts (root's shadow entry is put back afterwards).
# Failures are counted by the jail per address within 10 minutes, so call it
# before any other failed RDP login on HOST (or at least 10 minutes after).

XRDP_JAIL=vps-provision-xrdp

# Number of AUTHFAIL lines of xrdp-sesexec for user NAME: xs_authfails HOST NAME
xs_authfails() {
        th_exec "$1" journalctl -u xrdp-sesman --no-pager -o cat | grep -c "AUTHFAIL: user=$2 " || true
}

# Exit status 0 when a TCP connection to HOST's RDP port is accepted within 5 s.
xs_tcp_open() { tcp_open "$(cat "$TH_CACHE/hosts/$1/net-addr")" "$rdp_port"; }

# 0 when ADDR is in the banned list of the xrdp jail of HOST.
xs_banned() {
        th_exec "$1" fail2ban-client status "$XRDP_JAIL" |
                sed -n 's/.*Banned IP list:[[:space:]]*//p' | tr -s ' \t' '\n' | grep -qxF "$2"
}

# One failed login: FreeRDP (display DISP) as $user with a wrong password,
# until xrdp-sesexec logged one more AUTHFAIL (up to 30 s).
# xs_fail_once HOST DISP; returns 0 when the failure was logged.
xs_fail_once() {
        local h=$1 disp=$2 before i xf ok=1
        before=$(xs_authfails "$h" "$user")
        DISPLAY=$disp timeout -k 5 40 xfreerdp /v:"$(cat "$TH_CACHE/hosts/$h/net-addr"):$rdp_port" /u:"$user" \
                /from-stdin:force /cert:ignore /log-level:WARN <"$tmp/xs-wrongpw" >>"$tmp/xs-xfreerdp.out" 2>&1 &
        xf=$!
        for ((i = 0; i < 60; i++)); do
                if [ "$(xs_authfails "$h" "$user")" -gt "$before" ]; then ok=0; break; fi
                kill -0 "$xf" 2>/dev/null || break
                sleep 0.5
        done
        kill "$xf" 2>/dev/null || true
        wait "$xf" 2>/dev/null || true
        return "$ok"
}

xrdp_security_checks() {
local H=$1 pwf=$2 dfile xvfb disp i src rc roothash out before
th_step "$H: RDP hardening with FreeRDP: the xrdp jail bans, no plain RDP security, no root"
printf 'not-the-%s-password\n' "$RANDOM" >"$tmp/xs-wrongpw"
: >"$tmp/xs-xfreerdp.out"
th_assert "the $XRDP_JAIL jail answers" th_exec "$H" fail2ban-client status "$XRDP_JAIL" >/dev/null
th_assert "before: a TCP connection to RDP port $rdp_port is accepted" xs_tcp_open "$H"

dfile=$(mktemp "$tmp/display.XXXXXX")
Xvfb -displayfd 3 -screen 0 1024x768x24 -nolisten tcp 3>"$dfile" >/dev/null 2>&1 &
xvfb=$!
for ((i = 0; i < 300; i++)); do [ -s "$dfile" ] && break; sleep 0.1; done
[ -s "$dfile" ] || th_fail "Xvfb did not start within 30 s"
disp=:$(head -n 1 "$dfile")

# 1. Five failures, one at a time: not banned after 1..4, banned after 5.
for i in 1 2 3 4 5; do
        xs_fail_once "$H" "$disp" || {
                tail -n 20 "$tmp/xs-xfreerdp.out" >&2
                th_fail "failed RDP login $i: xrdp-sesexec logged no AUTHFAIL within 30 s"
        }
        src=$(th_exec "$H" journalctl -u xrdp-sesman --no-pager -o cat |
                sed -n "s/.*AUTHFAIL: user=$user ip=\(::ffff:\)\{0,1\}\([^ ]*\) time=.*/\2/p" | tail -n 1)
        [ -n "$src" ] || th_fail "no source address in xrdp-sesexec's AUTHFAIL line"
        if [ "$i" -lt 5 ]; then
                sleep 2         # fail2ban reads the journal as it is written
                if xs_banned "$H" "$src"; then
                        th_fail "$src banned after $i failed RDP logins; the jail allows 5"
                fi
        fi
done
th_info "ok: 5 failed FreeRDP logins from $src, each logged as AUTHFAIL; not banned after 4"
for ((i = 0; i < 30; i++)); do xs_banned "$H" "$src" && break; sleep 1; done
if ! xs_banned "$H" "$src"; then
        th_exec "$H" fail2ban-client status "$XRDP_JAIL" >&2 || true
        th_exec "$H" journalctl -u fail2ban -n 20 --no-pager >&2 || true
        th_fail "$src is not banned by $XRDP_JAIL 30 s after the fifth failed RDP login"
fi
th_info "ok: fail2ban-client status $XRDP_JAIL lists $src"
if xs_tcp_open "$H"; then th_fail "$src is banned but a sixth connection to port $rdp_port was accepted"; fi
th_info "ok: a sixth connection from $src is refused"
th_assert "fail2ban-client set $XRDP_JAIL unbanip $src" th_exec "$H" fail2ban-client set "$XRDP_JAIL" unbanip "$src" >/dev/null
for ((i = 0; i < 10; i++)); do xs_tcp_open "$H" && break; sleep 1; done
th_assert "after the unban a TCP connection to port $rdp_port is accepted again" xs_tcp_open "$H"
kill "$xvfb" 2>/dev/null || true
wait "$xvfb" 2>/dev/null || true

# 2. Standard RDP security (RC4, no TLS) with the right password: refused.
dfile=$(mktemp "$tmp/display.XXXXXX")
Xvfb -displayfd 3 -screen 0 1024x768x24 -nolisten tcp 3>"$dfile" >/dev/null 2>&1 &
xvfb=$!
for ((i = 0; i < 300; i++)); do [ -s "$dfile" ] && break; sleep 0.1; done
[ -s "$dfile" ] || th_fail "Xvfb did not start within 30 s"
disp=:$(head -n 1 "$dfile")
rc=0
DISPLAY=$disp timeout -k 5 30 xfreerdp /v:"$(cat "$TH_CACHE/hosts/$H/net-addr"):$rdp_port" \
        /u:"$user" /from-stdin:force /cert:ignore /sec:rdp /log-level:WARN <"$pwf" >"$tmp/xs-secrdp.out" 2>&1 || rc=$?
kill "$xvfb" 2>/dev/null || true
wait "$xvfb" 2>/dev/null || true
# timeout's 124 would mean the client was still connected after 30 s.
if [ "$rc" = 0 ] || [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        tail -n 20 "$tmp/xs-secrdp.out" >&2
        th_fail "FreeRDP /sec:rdp (no TLS) was not refused (exit $rc)"
fi
th_assert "... and started no session of $user" bash -c \
        "! $(printf '%q ' "$TH_TESTHOST") exec $H -- pgrep -u $user -x xfce4-session >/dev/null"
th_info "ok: FreeRDP /sec:rdp refused (exit $rc: $(grep -m 1 -iE 'error|fail' "$tmp/xs-secrdp.out" | cut -c1-100))"

# 3. root over RDP, with the right password set for root: no session.
roothash=$(th_exec "$H" getent shadow root | cut -d: -f2)
out=$(mktemp "$tmp/xs-rootpw.XXXXXX")
printf 'Rdp-root-%s-%s\n' "$RANDOM" "$RANDOM" >"$out"
# chpasswd reads the name:password line on stdin (never on a command line).
sed 's/^/root:/' "$out" | th_exec "$H" chpasswd || th_fail "cannot set a password for root in $H"
before=$(xs_authfails "$H" root)
rc=0
user=root rdp_login "$H" "$out" 25 "" || rc=$?
th_exec "$H" usermod -p "$roothash" root || th_fail "cannot put root's shadow entry back"
rm -f "$out"
[ "$rc" = 1 ] || th_fail "root logged in over RDP with its password (an xfce4-session of root started)"
th_info "ok: root with its right password starts no RDP session (AUTHFAIL lines for root: $before before, $(xs_authfails "$H" root) after)"
# The root attempt may count as a failure of this address: leave none behind.
th_exec "$H" fail2ban-client set "$XRDP_JAIL" unbanip "$src" >/dev/null 2>&1 || true
th_assert "the RDP port still accepts connections" xs_tcp_open "$H"
}
