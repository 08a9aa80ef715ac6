#!/usr/bin/python3
"""unit_sandbox_exec.py UNIT_FILE USER ACTION -- COMMAND...

Runs COMMAND the way sealpost.service confines it, as far as that works
without systemd as PID 1: as USER (its group, no supplementary groups), with
UMask from the unit, no_new_privs, and the unit's SystemCallFilter= lines
(allow-list, then `~` removals; groups expanded with `systemd-analyze
syscall-filter`) loaded as a seccomp filter with libseccomp. ACTION is what a
call outside the filter does: `eperm` (as SystemCallErrorNumber=EPERM) or
`kill` (the process dies with SIGSYS: proves no such call is made at all).
Needs Debian's python3-seccomp (hence /usr/bin/python3)."""
import errno
import os
import pwd
import subprocess
import sys

import seccomp


def expand(name, seen=None):
    seen = set() if seen is None else seen
    if not name.startswith("@"):
        return {name}
    if name in seen:
        return set()
    seen.add(name)
    out = subprocess.run(["systemd-analyze", "syscall-filter", name], check=True,
                         capture_output=True, text=True).stdout
    calls = set()
    for line in out.splitlines()[1:]:
        item = line.strip()
        if not item or item.startswith("#"):
            continue
        calls |= expand(item, seen)
    return calls


def unit_values(path, key):
    values = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith(key + "="):
                values.append(line.split("=", 1)[1])
    return values


def main():
    unit, user, action = sys.argv[1:4]
    assert sys.argv[4] == "--"
    command = sys.argv[5:]
    allowed = set()
    for value in unit_values(unit, "SystemCallFilter"):
        if value.startswith("~"):
            for item in value[1:].split():
                allowed -= expand(item)
        else:
            for item in value.split():
                allowed |= expand(item)
    if not allowed:
        sys.exit("no SystemCallFilter= in " + unit)
    umask = unit_values(unit, "UMask")
    if umask:
        os.umask(int(umask[-1], 8))
    pw = pwd.getpwnam(user)
    os.setgroups([])
    os.setgid(pw.pw_gid)
    os.setuid(pw.pw_uid)
    default = seccomp.KILL_PROCESS if action == "kill" else seccomp.ERRNO(errno.EPERM)
    flt = seccomp.SyscallFilter(defaction=default)
    for call in sorted(allowed):
        try:
            flt.add_rule(seccomp.ALLOW, call)
        except (RuntimeError, ValueError, OSError):
            pass  # not a syscall on this architecture
    flt.load()
    os.execv(command[0], command)


main()
