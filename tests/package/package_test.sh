#!/usr/bin/env bash
# package_test.sh DEB: the Debian package, installed for real on this machine
# (run as root; scripts/test-package builds DEB first and runs this).
#   lintian: no errors, and every warning is one packaging/LINTIAN.md explains
#   dpkg -i: files where they belong, the sealpost user, the state directories
#   the installed /usr/bin/sealpost: --version, and `serve` with the shipped
#     /etc/sealpost/sealpost.ini as the user sealpost: READY=1 on NOTIFY_SOCKET,
#     one message over SMTP lands in the shipped outbox, SIGTERM exits 0 after
#     STOPPING=1; under the unit's SystemCallFilter (seccomp), with the
#     collector plugin found in /usr/lib/sealpost by default
#   the unit: systemd-analyze verify, and security exposure <= 2.0 ("OK")
#   dpkg -r keeps the conffile and the data; dpkg --purge removes them.
# It changes the machine (package, user, /etc, /var); it leaves no package
# installed, the user sealpost stays (Debian never deletes system users).
set -euo pipefail
DEB=$(realpath "${1:?usage: package_test.sh sealpost_VERSION_amd64.deb}")
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "package_test.sh: needs root (dpkg -i)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/sealpost-package-test.XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
  if dpkg-query -W -f='${Status}' sealpost 2>/dev/null | grep ' installed\|config-files' >/dev/null; then
    dpkg_ --purge sealpost >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
CASE="(setup)"
case_() { CASE="$*"; echo "--- $CASE"; }
die() { echo "FAIL [$CASE]: $*" >&2; exit 1; }
assert_eq() { [ "$1" == "$2" ] || die "${3:-value}: expected '$1', got '$2'"; }
assert_exists() { [ -e "$1" ] || die "missing $1"; }
assert_missing() { [ ! -e "$1" ] || die "should not exist: $1"; }
assert_text_contains() { grep -Eq -- "$2" <<<"$1" || die "text does not match /$2/: $(head -c 3000 <<<"$1")"; }
wait_for() {  # wait_for SECONDS CMD...: until CMD succeeds
  local until=$((SECONDS + $1)); shift
  until "$@"; do [ $SECONDS -lt $until ] || return 1; sleep 0.2; done
}
# dpkg, waiting while another apt/dpkg (other engineers, unattended) holds the lock.
dpkg_() {
  local out rc
  for _ in $(seq 120); do
    set +e; out=$(dpkg "$@" 2>&1); rc=$?; set -e
    if [ $rc -ne 0 ] && grep -q 'lock' <<<"$out"; then sleep 1; continue; fi
    printf '%s\n' "$out"
    return $rc
  done
  printf '%s\n' "$out"; return 1
}
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# runuser forks: SIGTERM goes to its child, the real sealpost, whose exit code runuser returns.
term_serve() { local child; child=$(pgrep -P "$1" -x sealpost) || die "no sealpost under runuser $1"; kill -TERM "$child"; }
port_free() { /usr/bin/python3 -c 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1])))' "$1" 2>/dev/null; }

case_ "file name and control fields"
[[ $(basename "$DEB") =~ ^sealpost_[0-9][^_]*_amd64\.deb$ ]] || die "unexpected file name $(basename "$DEB")"
deps=$(dpkg-deb -f "$DEB" Depends)
for d in adduser libc6 libssl3 libgmime-3.0-0 libcurl4 libopendkim11 libsystemd0 libboost-program-options; do
  assert_text_contains "$deps" "(^|, )$d"
done
assert_text_contains "$(dpkg-deb --ctrl-tarfile "$DEB" | tar -xO ./conffiles)" '^/etc/sealpost/sealpost.ini$'
listing=$(dpkg-deb -c "$DEB" | awk '{print $6}')
for f in ./usr/bin/sealpost ./usr/lib/sealpost/libsealpost_core.so.0 ./usr/lib/sealpost/libsealpost_collector.so.0 \
         ./usr/lib/sealpost/libsealpost_collector_plugin.so ./etc/sealpost/sealpost.ini \
         ./lib/systemd/system/sealpost.service ./usr/share/doc/sealpost/copyright \
         ./usr/share/doc/sealpost/changelog.Debian.gz ./usr/share/doc/sealpost/sealpost-serve.txt \
         ./usr/share/doc/sealpost/sealpost-send.txt ./usr/share/man/man1/sealpost.1.gz; do
  grep -qxF -- "$f" <<<"$listing" || die "$f is not in the package"
done
if grep -E '\.so$' <<<"$listing" | grep -v '_plugin\.so$'; then die "development symlinks (.so) in the package"; fi

case_ "lintian: no errors; each warning explained in packaging/LINTIAN.md"
set +e
lint=$(lintian --no-cfg --display-level '>=warning' "$DEB" 2>&1)
set -e
echo "$lint"
if grep -q '^E: ' <<<"$lint"; then die "lintian reports errors"; fi
while read -r tag; do
  [ -n "$tag" ] || continue
  grep -q -- "\`$tag\`" "$SRC/packaging/LINTIAN.md" || die "lintian warning $tag is not explained in packaging/LINTIAN.md"
done < <(sed -n 's/^W: sealpost[^:]*: \([^ ]*\).*/\1/p' <<<"$lint" | sort -u)

case_ "dpkg -i"
if dpkg-query -W -f='${Status}' sealpost 2>/dev/null | grep 'installed\|config-files' >/dev/null; then
  dpkg_ --purge sealpost >/dev/null
fi
dpkg_ -i "$DEB"
assert_eq "install ok installed" "$(dpkg-query -W -f='${Status}' sealpost)" "package status"

case_ "dpkg -i again (upgrade path: postinst is idempotent)"
dpkg_ -i "$DEB" >/dev/null
assert_eq "install ok installed" "$(dpkg-query -W -f='${Status}' sealpost)" "package status"
assert_eq 1 "$(getent passwd sealpost | wc -l)" "sealpost users"

case_ "installed files, user and directories"
assert_eq "sealpost $(dpkg-deb -f "$DEB" Version | sed 's/-[^-]*$//')" "$(/usr/bin/sealpost --version)" "--version"
ldd_out=$(ldd /usr/bin/sealpost)
assert_text_contains "$ldd_out" 'libsealpost_core\.so\.0 => /usr/(bin/\.\./)?lib/sealpost/libsealpost_core\.so\.0 '
assert_text_contains "$ldd_out" 'libsealpost_collector\.so\.0 => /usr/(bin/\.\./)?lib/sealpost/libsealpost_collector\.so\.0 '
if grep -q 'not found' <<<"$ldd_out"; then die "unresolved libraries: $ldd_out"; fi
getent passwd sealpost >/dev/null || die "no user sealpost"
getent group sealpost >/dev/null || die "no group sealpost"
uid=$(id -u sealpost)
[ "$uid" -lt 1000 ] || die "sealpost is not a system user (uid $uid)"
assert_eq "/usr/sbin/nologin" "$(getent passwd sealpost | cut -d: -f7)" "login shell"
for d in /var/lib/sealpost /var/lib/sealpost/store /var/lib/sealpost/outbox /var/log/sealpost; do
  assert_eq "sealpost:sealpost 750" "$(stat -c '%U:%G %a' "$d")" "owner and mode of $d"
done
assert_exists /etc/systemd/system/multi-user.target.wants/sealpost.service  # enabled, as dh does
man -l /usr/share/man/man1/sealpost.1.gz 2>&1 | grep 'SEALPOST SERVE' >/dev/null || die "sealpost(1) lacks the serve section"
grep -q 'usage: sealpost serve --config FILE' /usr/share/doc/sealpost/sealpost-serve.txt || die "sealpost-serve.txt is not the --help text"

case_ "systemd-analyze verify and security"
set +e
verify=$(systemd-analyze verify /lib/systemd/system/sealpost.service 2>&1); rc=$?
set -e
[ $rc -eq 0 ] || die "systemd-analyze verify failed: $verify"
if grep -q 'sealpost' <<<"$verify"; then die "systemd-analyze verify complains: $verify"; fi
security=$(systemd-analyze security --offline=yes /lib/systemd/system/sealpost.service 2>&1 | tail -1)
echo "$security"
exposure=$(sed -n 's/.*exposure level for sealpost.service: \([0-9.]*\) .*/\1/p' <<<"$security")
[ -n "$exposure" ] || die "no exposure level in: $security"
awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }' || die "exposure $exposure > 2.0"
assert_text_contains "$security" ' OK '

case_ "serve with the shipped configuration, as the user sealpost"
port=2525
listen=()
if ! port_free $port; then  # someone else's 2525: same config, another port
  port=$(free_port); listen=(--listen "127.0.0.1:$port")
  echo "(port 2525 is busy; --listen 127.0.0.1:$port)"
fi
/usr/bin/python3 "$HERE/notify_listen.py" "$WORK/notify.sock" "$WORK/notify.log" & PIDS+=($!)
wait_for 60 grep -q listening "$WORK/notify.log" 2>/dev/null || die "notify socket did not start"
# As sealpost.service would run it: user sealpost, UMask=0077, NOTIFY_SOCKET.
(umask 077; NOTIFY_SOCKET="$WORK/notify.sock" exec runuser -u sealpost -- \
  /usr/bin/sealpost serve --config /etc/sealpost/sealpost.ini "${listen[@]}") >"$WORK/serve.out" 2>&1 &
serve_pid=$!; PIDS+=($serve_pid)
wait_for 60 grep -q 'READY=1' "$WORK/notify.log" || { cat "$WORK/serve.out"; die "no READY=1 from serve"; }
logs=(/var/log/sealpost/sealpost_*.log)  # daily files: sealpost_YYYY-MM-DD.log
assert_exists "${logs[0]}"
grep -q 'serve: ready' "${logs[0]}" || die "the shipped log file has no ready line"
assert_eq "sealpost 600" "$(stat -c '%U %a' "${logs[0]}")" "owner and mode of the log file"

case_ "one message over SMTP lands in the shipped outbox"
reply=$(/usr/bin/python3 "$HERE/inject.py" 127.0.0.1 "$port" app@example.org customer@example.net) || { cat "$WORK/serve.out"; die "SMTP: $reply"; }
assert_text_contains "$reply" '^250 '
files=(/var/lib/sealpost/outbox/*.eml)
assert_eq 1 "${#files[@]}" "files in the outbox"
assert_exists "${files[0]}"
grep -q '^X-Receiver: <customer@example.net>' "${files[0]}" || die "outbox file lacks the envelope recipient"
grep -q 'Hello from the installed package' "${files[0]}" || die "outbox file lacks the body"
assert_eq "sealpost 600" "$(stat -c '%U %a' "${files[0]}")" "owner and mode of the outbox file"

case_ "SIGTERM: STOPPING=1, exit 0"
term_serve $serve_pid
set +e; wait $serve_pid; rc=$?; set -e
assert_eq 0 $rc "exit code of serve after SIGTERM"
grep -q 'STOPPING=1' "$WORK/notify.log" || die "no STOPPING=1"

case_ "under the unit's syscall filter (seccomp, kill on any other call): the collector plugin from /usr/lib/sealpost"
wport=$(free_port); sport=$(free_port)
{ sed -e 's/^load =.*/load = collector/' /etc/sealpost/sealpost.ini
  printf '[collector]\nlisten = 127.0.0.1:%s\ntoken = package-test\n' "$wport"; } >"$WORK/collector.ini"
chmod 644 "$WORK/collector.ini"
/usr/bin/python3 "$HERE/notify_listen.py" "$WORK/notify2.sock" "$WORK/notify2.log" & PIDS+=($!)
wait_for 60 grep -q listening "$WORK/notify2.log" 2>/dev/null || die "notify socket did not start"
NOTIFY_SOCKET="$WORK/notify2.sock" /usr/bin/python3 "$HERE/unit_sandbox_exec.py" /lib/systemd/system/sealpost.service \
  sealpost kill -- /usr/bin/sealpost serve --config "$WORK/collector.ini" --listen "127.0.0.1:$sport" >"$WORK/serve2.out" 2>&1 &
serve_pid=$!; PIDS+=($serve_pid)
wait_for 60 grep -q 'READY=1' "$WORK/notify2.log" || { cat "$WORK/serve2.out"; die "serve with the collector sent no READY=1"; }
# READY=1 means both listeners accept: no waiting for the webhook from here on.
grep -q 'loaded .* from /usr/lib/sealpost/libsealpost_collector_plugin.so' "$WORK/serve2.out" || die "plugin not from /usr/lib/sealpost"
assert_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$wport/healthz")" "GET /healthz"
reply=$(/usr/bin/python3 "$HERE/inject.py" 127.0.0.1 "$sport" app@example.org other@example.net) || { cat "$WORK/serve2.out"; die "SMTP: $reply"; }
assert_eq 2 "$(ls /var/lib/sealpost/outbox/*.eml | wc -l)" "files in the outbox"
kill -TERM $serve_pid  # the wrapper exec'd sealpost: same pid
set +e; wait $serve_pid; rc=$?; set -e
assert_eq 0 $rc "exit code of serve with the collector"

case_ "dpkg -r keeps the configuration and the data"
dpkg_ -r sealpost
assert_eq "deinstall ok config-files" "$(dpkg-query -W -f='${Status}' sealpost)" "status after -r"
assert_missing /usr/bin/sealpost
assert_missing /usr/lib/sealpost
assert_missing /lib/systemd/system/sealpost.service
assert_exists /etc/sealpost/sealpost.ini
assert_exists "${files[0]}"

case_ "dpkg --purge removes them"
dpkg_ --purge sealpost
dpkg-query -W -f='${Status}' sealpost 2>/dev/null | grep installed >/dev/null && die "still known to dpkg"
assert_missing /etc/sealpost
assert_missing /var/lib/sealpost
assert_missing /var/log/sealpost
assert_missing /etc/systemd/system/multi-user.target.wants/sealpost.service

echo "PASS: package_test.sh ($(basename "$DEB"), exposure $exposure)"
