#!/usr/bin/python3
# vps_provision — the Ansible module of the vps_provision role: runs
# vps-provision on the managed host and reads its --json event stream.
#
# step=prepare  installs the package (a .deb already on the host, or the
#               package from the host's apt sources) and checks the answers
#               with the program itself (vps-provision --dry-run). When the
#               program rejects them, the packages this step installed are
#               purged again and the task fails with the program's messages:
#               the host is left as it was.
# step=run      runs vps-provision --unattended --json and reports the
#               outcome from its events: changed (the run's journal has
#               entries), the failed phase and its message, and the
#               credentials event. The result holds the generated password:
#               the task that calls this step must have no_log: true.
# In check mode, prepare reports what it would install and checks the
# answers when the program is already there; run shows the plan of a dry run.
#
# The answers are written to a private temporary file (mode 0600, in /run
# where it exists, so in memory) that is removed before the module returns.
import json
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: vps_provision
short_description: run vps-provision on a Debian server and report its result
description:
  - Installs vps-provision and checks the answers with the program (step=prepare),
    or runs it unattended with --json (step=run). See the role's README.md.
options:
  step: {type: str, required: true, choices: [prepare, run]}
  answers: {type: dict, required: true, description: "answers keys as SECTION.KEY: value, without user.password_hash"}
  password_hash: {type: str, default: "", description: "user.password_hash (kept out of every output)"}
  deb: {type: path, description: "a .deb on the host to install (prepare)"}
  package: {type: str, default: vps-provision}
  timeout: {type: int, default: 3600}
"""

PROGRAM = "/usr/sbin/vps-provision"
LOG_TAIL = 30


def answers_text(answers):
    """The answers file for a dict {"section.key": value}. Booleans become
    yes/no, lists are joined with ", ", None is empty. Raises ValueError
    naming the key when a value cannot be one line of the file."""
    sections = {}
    for name, value in answers.items():
        if not re.fullmatch(r"[a-z0-9_]+\.[a-z0-9_]+", name):
            raise ValueError("answers key %r is not SECTION.KEY" % name)
        section, key = name.split(".", 1)
        if value is None:
            text = ""
        elif isinstance(value, bool):
            text = "yes" if value else "no"
        elif isinstance(value, (list, tuple)):
            text = ", ".join("" if v is None else str(v) for v in value)
        else:
            text = str(value)
        if "\n" in text or "\r" in text:
            raise ValueError("%s: the value has a line break; an answers value is one line"
                             % variable_name(section, key))
        sections.setdefault(section, []).append("%s = %s" % (key, text))
    out = ["# written by the vps_provision Ansible role from its variables"]
    for section, lines in sections.items():
        out.append("[%s]" % section)
        out.extend(lines)
    return "\n".join(out) + "\n"


def variable_name(section, key):
    return "vps_provision_%s_%s" % (section, key)


def explain(stderr, path):
    """The program's messages about the answers file, each followed by the
    role variable it is about; the temporary file's path left out."""
    lines = []
    for line in stderr.splitlines():
        line = line.replace(path + ":", "answers.ini line ").replace(path, "answers.ini")
        names = []
        for section, key in re.findall(r"\[([a-z0-9_]+)\] ([a-z0-9_]+)\b", line):
            if variable_name(section, key) not in names:
                names.append(variable_name(section, key))
        if names:
            line += " (role variable%s %s)" % ("" if len(names) == 1 else "s", ", ".join(names))
        lines.append(line)
    return lines


class Host:
    def __init__(self, module):
        self.m = module
        self.tmpdir = None
        self.undo = None     # undoes what this step installed, when it fails

    def run_undo(self):
        undo, self.undo = self.undo, None
        return undo() if undo else ""

    def run(self, argv, check=False, env=None):
        full = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8", DEBIAN_FRONTEND="noninteractive")
        if env:
            full.update(env)
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=full)
        out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
        if check and p.returncode != 0:
            self.fail("%s failed (exit %d): %s" % (" ".join(argv), p.returncode, (err or out).strip()[-2000:]))
        return p.returncode, out, err

    def fail(self, msg, **kw):
        if self.undo:
            # a failure after a fresh install (apt, the answers check): the
            # package goes again, so that nothing was changed
            msg += self.run_undo()
        self.cleanup()
        self.m.fail_json(msg=msg, **kw)

    def exit(self, **kw):
        self.cleanup()
        self.m.exit_json(**kw)

    def cleanup(self):
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None

    def answers(self):
        """The answers file's text; fails the task (before any change) when
        a value cannot be written as one."""
        answers = dict(self.m.params["answers"])
        if "user.password_hash" in answers:
            self.fail("pass user.password_hash as password_hash, not in answers (it is kept out of every output)")
        answers["user.password_hash"] = self.m.params["password_hash"]
        try:
            return answers_text(answers)
        except ValueError as e:
            self.fail(str(e) + "; nothing was changed")

    def answers_file(self, text):
        base = "/run" if os.path.isdir("/run") and os.access("/run", os.W_OK) else None
        self.tmpdir = tempfile.mkdtemp(prefix="vps-provision-ansible.", dir=base)
        path = os.path.join(self.tmpdir, "answers.ini")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def installed(self):
        """{package:arch: version} of the fully installed packages."""
        rc, out, _ = self.run(["dpkg-query", "-W", "-f", "${binary:Package} ${Version} ${db:Status-Abbrev}\n"], check=True)
        pkgs = {}
        for line in out.splitlines():
            f = line.split()
            if len(f) >= 3 and f[2] == "ii":
                pkgs[f[0]] = f[1]
        return pkgs

    def version_of(self, package):
        rc, out, _ = self.run(["dpkg-query", "-W", "-f", "${Version} ${db:Status-Abbrev}", package])
        f = out.split()
        return f[0] if rc == 0 and len(f) >= 2 and f[1] == "ii" else None

    def lists_present(self):
        d = "/var/lib/apt/lists"
        return os.path.isdir(d) and any(n.endswith("_Packages") for n in os.listdir(d))

    def apt_install(self, target):
        """apt-get install TARGET, with package lists fetched first when there
        are none, and once more after a failure (stale lists)."""
        if not self.lists_present():
            self.run(["apt-get", "-q", "update"], check=True)
        argv = ["apt-get", "-q", "-y", "-o", "Dpkg::Use-Pty=0", "install", target]
        rc, out, err = self.run(argv)
        if rc != 0:
            self.run(["apt-get", "-q", "update"], check=True)
            self.run(argv, check=True)


def prepare(m, h):
    p = m.params
    deb, package = p["deb"], p["package"]
    text = h.answers()
    want = None
    if deb:
        rc, out, err = h.run(["dpkg-deb", "-f", deb, "Package", "Version"], check=True)
        fields = dict(re.findall(r"^(\w+): (.*)$", out, re.M))
        package, want = fields.get("Package", package), fields.get("Version")
    have = h.version_of(package)
    needs_install = have is None or (want is not None and have != want)
    result = dict(changed=needs_install, package=package, version_before=have,
                  version=want or have)
    if needs_install and m.check_mode and have is None:
        h.exit(msg="would install %s %s; the answers are checked once it is installed"
               % (package, want or "from the apt sources"), **result)
    if needs_install and not m.check_mode:
        before = h.installed()
        if have is None:
            # a fresh install is undone when the answers turn out bad: the
            # host is then left as it was
            h.undo = lambda: purge_added(h, before)
        h.apt_install(os.path.abspath(deb) if deb else package)
        result["version"] = h.version_of(package)
    path = h.answers_file(text)
    rc, out, err = h.run([PROGRAM, "--dry-run", "--unattended", path])
    if rc == 2:
        lines = explain(err, path)
        h.fail("vps-provision rejected the answers; nothing was changed.%s\n%s" % (h.run_undo(), "\n".join(lines)),
               program_messages=lines, exit_code=rc, **dict(result, changed=False))
    if rc != 0:
        h.fail("vps-provision --dry-run exited %d; nothing was changed.%s\n%s"
               % (rc, h.run_undo(), (err or out).strip()[-2000:]), exit_code=rc, **dict(result, changed=False))
    h.undo = None
    h.exit(**result)


def purge_added(h, before):
    """Purges the packages installed since BEFORE; says which."""
    added = sorted(set(h.installed()) - set(before))
    if not added:
        return ""
    h.run(["apt-get", "-q", "-y", "-o", "Dpkg::Use-Pty=0", "purge"] + added, check=True)
    return " The %d package%s installed for it (%s) were purged again." % (
        len(added), "" if len(added) == 1 else "s", ", ".join(added))


def read_events(m, h, argv, timeout):
    """Runs argv and keeps what the report needs from its events (never the
    progress events, and only the last log lines)."""
    ev = dict(start=None, preflight=None, phases=[], plans=[], credentials=None, end=None, log=[])
    stderr = []
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8"))
    deadline = time.monotonic() + timeout
    buf = {proc.stdout.fileno(): b"", proc.stderr.fileno(): b""}
    open_fds = set(buf)
    timed_out = False
    while open_fds:
        left = deadline - time.monotonic()
        if left <= 0 and not timed_out:
            timed_out = True
            proc.send_signal(signal.SIGTERM)   # the program stops at a safe point (exit 7)
            deadline = time.monotonic() + 120
            continue
        if left <= 0:
            proc.kill()
            break
        ready, _, _ = select.select(list(open_fds), [], [], min(left, 5))
        for fd in ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                open_fds.discard(fd)
                continue
            data = buf[fd] + chunk
            *lines, buf[fd] = data.split(b"\n")
            for raw in lines:
                if fd == proc.stderr.fileno():
                    stderr.append(raw.decode("utf-8", "replace"))
                    del stderr[:-LOG_TAIL]
                    continue
                try:
                    e = json.loads(raw)
                except ValueError:
                    continue
                t = e.get("event")
                if t == "session_start":
                    ev["start"] = e
                elif t == "preflight":
                    ev["preflight"] = e
                elif t == "phase_end":
                    ev["phases"].append(e)
                elif t == "plan":
                    ev["plans"].append(e)
                elif t == "credentials":
                    ev["credentials"] = e
                elif t == "session_end":
                    ev["end"] = e
                elif t == "log" and e.get("level") in ("INFO", "WARNING", "ERROR"):
                    ev["log"].append(e.get("text"))
                    del ev["log"][:-LOG_TAIL]
    rc = proc.wait()
    return rc, ev, stderr, timed_out


def journal_entries(start):
    """Lines of the run's journal of changes (0 when there is none)."""
    sp = start.get("session_path") if start else None
    if not sp:
        return 0
    path = os.path.join(os.path.dirname(os.path.dirname(sp)), "journal-%s.jsonl" % start.get("session_id"))
    try:
        with open(path, "rb") as f:
            return sum(1 for line in f if line.strip())
    except OSError:
        return 0


def run(m, h):
    if h.version_of(m.params["package"]) is None or not os.access(PROGRAM, os.X_OK):
        if m.check_mode:
            h.exit(changed=True, skipped=True, msg="vps-provision is not installed yet: check mode cannot show its plan")
        h.fail("%s is not installed; the prepare step installs it" % PROGRAM)
    path = h.answers_file(h.answers())
    argv = [PROGRAM, "--unattended", path, "--json"]
    if m.check_mode:
        argv.insert(1, "--dry-run")
    rc, ev, stderr, timed_out = read_events(m, h, argv, m.params["timeout"])
    names = [p.get("id") for p in (ev["start"] or {}).get("phases", [])]
    end = ev["end"] or {}
    result = dict(
        exit_code=rc,
        status=end.get("status"),
        message=end.get("message") or "\n".join(stderr[-5:]),
        summary=end.get("summary") or [],
        session_id=(ev["start"] or {}).get("session_id"),
        session_path=(ev["start"] or {}).get("session_path"),
        log_path=(ev["start"] or {}).get("log_path"),
        phases=[dict(id=p.get("id"), state=p.get("state"), duration_ms=p.get("duration_ms")) for p in ev["phases"]],
        failed_phase=None, phase_message=None, timed_out=timed_out, log_tail=[], stderr_tail=stderr,
        credentials=None, changes=0, changed=False)
    failed = [p for p in ev["phases"] if p.get("state") == "failed"]
    if failed:
        result["failed_phase"] = failed[-1].get("id")
        result["phase_message"] = failed[-1].get("message")
    if ev["preflight"] and ev["preflight"].get("refused"):
        result["failed_phase"] = "preflight"
        result["phase_message"] = "; ".join("%s: %s" % (c.get("name"), c.get("message"))
                                            for c in ev["preflight"].get("checks", []) if c.get("status") == "fail")
    if rc != 0:
        result["log_tail"] = ev["log"]
    if m.check_mode:
        result["plan"] = [dict(phase=names[p["phase_index"]] if 0 <= p.get("phase_index", -1) < len(names) else None,
                               steps=[s.get("description") for s in p.get("steps", [])]) for p in ev["plans"]]
        result["changed"] = any(p["steps"] for p in result["plan"])
    else:
        result["changes"] = journal_entries(ev["start"])
        result["changed"] = result["changes"] > 0
    c = ev["credentials"]
    if c:
        result["credentials"] = dict(username=c.get("username"), password=c.get("password"), host=c.get("host"),
                                     rdp_port=c.get("rdp_port"), ssh_port=c.get("ssh_port"),
                                     rdp_listen=c.get("rdp_listen", "all"))
        if c.get("rdp_tunnel"):
            # rdp_listen = localhost: RDP is reached through this ssh -L only
            result["credentials"]["rdp_tunnel"] = c["rdp_tunnel"]
    h.exit(**result)


def main():
    m = AnsibleModule(
        argument_spec=dict(
            step=dict(type="str", required=True, choices=["prepare", "run"]),
            # not no_log: Ansible would then mask every value ("yes", "22")
            # wherever it appears in the output; the one secret key has its
            # own no_log parameter
            answers=dict(type="dict", required=True),
            password_hash=dict(type="str", default="", no_log=True),
            deb=dict(type="path"),
            package=dict(type="str", default="vps-provision"),
            timeout=dict(type="int", default=3600),
        ),
        supports_check_mode=True,
    )
    if os.geteuid() != 0:
        m.fail_json(msg="vps-provision runs as root: use become: true (or connect as root)")
    h = Host(m)
    try:
        if m.params["step"] == "prepare":
            prepare(m, h)
        else:
            run(m, h)
    finally:
        h.cleanup()


if __name__ == "__main__":
    main()
