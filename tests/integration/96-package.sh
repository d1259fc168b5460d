#!/bin/bash
# The Debian package and the systemd unit (`make test-package`):
#   1. `make deb` from a clean copy of the tree; lintian clean (each override explained in
#      contrib/debian/synfence.lintian-overrides); the file list, conffile, Depends from shlibs, no
#      secret; one version in --version, the .deb and the changelog;
#   2. `make install DESTDIR=... PREFIX=/usr` and `make uninstall`: every file, ExecStart on SBINDIR,
#      an existing config never overwritten, nothing outside DESTDIR;
#   3. a fresh Debian 12 root (debootstrap, cached in $BUILD/pkg): `apt-get install ./synfence_*.deb`
#      resolves from Debian alone; --version, man synfence, man synfence.conf, the completion; the
#      unit neither enabled nor started;
#   4. that root booted with systemd (systemd-nspawn -b) in the server namespace of a veth pair:
#      systemctl start with a config file, the watchdog fed, systemctl reload takes a changed port
#      list, `systemctl kill -s SIGUSR2 synfence && systemctl start synfence` and a package upgrade
#      (the postinst's SIGUSR2 hand-over; the journal names both versions) keep a live connection
#      and never leave the interface without XDP, stop detaches, a config error is not restarted
#      (RestartPreventExitStatus), removal detaches what was left attached (keep_attached) and
#      leaves no pin, purge removes the config.
# Needs the Debian mirror the first time (the root and the .debs apt fetches are cached in $BUILD/pkg).
SF_PREFIX=${SF_TAG:-}sfP
. "$(dirname "$0")/../lib.sh"

sf_init package
for t in debootstrap systemd-nspawn dpkg-buildpackage dh lintian; do
	command -v "$t" >/dev/null || die "$t is missing (make deps installs it)"
done
T0=$(date +%s)
ARCH=$(dpkg --print-architecture)
VER=$(dpkg-parsechangelog -l "$SF_SRC/contrib/debian/changelog" -S Version)
VER2=$VER+test1
DEB=$BUILD/synfence_${VER}_$ARCH.deb
B2=$TMPD/build2 # the upgrade's build dir
CACHE=$BUILD/pkg
ROOT=$TMPD/root  # overlay: the cached Debian root below, this test's changes in $TMPD/upper
NSPAWN_PID=
CT=
CGROUP_MOUNTED=

# ---- cleanup: the container and the overlay, then lib.sh's (namespaces, processes, TMPD) ----
pkg_cleanup() {
	if [ -n "$NSPAWN_PID" ] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
		kill -TERM "$NSPAWN_PID" # nspawn asks the container's systemd to halt
		for _ in $(seq 150); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$NSPAWN_PID" 2>/dev/null
		wait "$NSPAWN_PID" 2>/dev/null
	fi
	mountpoint -q "$ROOT" 2>/dev/null && umount -l "$ROOT"
	[ -n "$CGROUP_MOUNTED" ] && umount /sys/fs/cgroup
	return 0
}
trap 'rc=$?; pkg_cleanup; (exit $rc); sf_cleanup' EXIT

# ran RC MESSAGE LOG: a command's exit status is 0; the end of its log when not
ran() {
	check_eq "$1" 0 "$2"
	[ "$1" = 0 ] || tail -n 30 "$3" | sed 's/^/    | /'
}

# ---- 1. the package ----------------------------------------------------------------------------
t=$(date +%s)
make -C "$SF_SRC" --no-print-directory BUILD="$BUILD" deb >"$TMPD/deb.log" 2>&1
ran $? "make deb ($(($(date +%s) - t)) s)" "$TMPD/deb.log"
[ -r "$DEB" ] || die "no $DEB"
t=$(date +%s)
make -C "$SF_SRC" --no-print-directory BUILD="$B2" VERSION="$VER2" deb >"$TMPD/deb2.log" 2>&1
ran $? "make deb VERSION=$VER2, the upgrade ($(($(date +%s) - t)) s)" "$TMPD/deb2.log"
DEB2=$B2/synfence_${VER2}_$ARCH.deb
[ -r "$DEB2" ] || die "no $DEB2"

out=$(lintian --fail-on error,warning "$BUILD"/deb/synfence_"${VER}"_"$ARCH".changes 2>&1 | grep -v 'running with root privileges')
check_eq "$out" "" "lintian: no tag (overrides: $(grep -c '^synfence:' "$SF_SRC/contrib/debian/synfence.lintian-overrides"), each explained)"

files=$(dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ { sub(/^\.\//, "", $6); print $6 }' | sort | tr '\n' ' ')
check_eq "$files" "etc/synfence/synfence.conf lib/systemd/system/synfence.service usr/sbin/synfence usr/share/bash-completion/completions/synfence usr/share/doc/synfence/changelog.gz usr/share/doc/synfence/copyright usr/share/doc/synfence/synfence.conf usr/share/lintian/overrides/synfence usr/share/man/man5/synfence.conf.5.gz usr/share/man/man8/synfence.8.gz " \
	"the package's files"
check_eq "$(dpkg-deb --ctrl-tarfile "$DEB" | tar -xOf - ./conffiles)" /etc/synfence/synfence.conf "the config file is a conffile"
depends=$(dpkg-deb -f "$DEB" Depends)
log "Depends: $depends"
check_match "$depends" '(^|, )libbpf1 \(>= [^)]+\).*libc6 \(>= [^)]+\).*libxdp1 ' "Depends from the binary's libraries (shlibs: versioned libbpf1, libc6, libxdp1)"
check_true "contrib/debian/control writes no library by hand" grep -qx 'Depends: ${misc:Depends}, ${shlibs:Depends}' "$SF_SRC/contrib/debian/control"
conf=$(dpkg-deb --fsys-tarfile "$DEB" | tar -xOf - ./etc/synfence/synfence.conf)
check_nomatch "$conf" $'(^|\n)secret_file' "the shipped config names no secret file"
check_nomatch "$files" 'secret' "no secret file in the package"
check_nomatch "$conf" '[0-9a-fA-F]{32}' "no key (32 hex digits) in the shipped config"
check_eq "$(dpkg-deb -f "$DEB" Version)" "$VER" "the .deb's version is the changelog's ($VER)"
check_eq "$("$SYNFENCE" --version | awk '{ print $2 }')" "$VER" "synfence --version prints the changelog's version"

# ---- 2. make install / uninstall -----------------------------------------------------------------
etc_before=$(ls -d /etc/synfence 2>/dev/null)
D=$TMPD/dest
make -C "$SF_SRC" --no-print-directory BUILD="$BUILD" install DESTDIR="$D" PREFIX=/usr >"$TMPD/install.log" 2>&1
ran $? "make install DESTDIR=... PREFIX=/usr" "$TMPD/install.log"
got=$(cd "$D" && find . -type f | sed 's|^\./||' | sort | tr '\n' ' ')
check_eq "$got" "etc/synfence/synfence.conf usr/lib/systemd/system/synfence.service usr/sbin/synfence usr/share/bash-completion/completions/synfence usr/share/doc/synfence/synfence.conf usr/share/man/man5/synfence.conf.5 usr/share/man/man8/synfence.8 " \
	"make install: binary, both man pages, completion, unit, example config, config"
check_eq "$(grep '^ExecStart=' "$D/usr/lib/systemd/system/synfence.service")" \
	"ExecStart=/usr/sbin/synfence run --config /etc/synfence/synfence.conf" "the installed unit runs SBINDIR's binary"
echo "# edited" >>"$D/etc/synfence/synfence.conf"
make -C "$SF_SRC" --no-print-directory BUILD="$BUILD" install DESTDIR="$D" >"$TMPD/install2.log" 2>&1
check_eq "$?/$(tail -n 1 "$D/etc/synfence/synfence.conf")" "0/# edited" "a second make install (PREFIX /usr/local) keeps the edited config"
check_true "... and installs under /usr/local" test -x "$D/usr/local/sbin/synfence" -a -r "$D/usr/local/share/man/man5/synfence.conf.5"
check_eq "$(grep '^ExecStart=' "$D/usr/local/lib/systemd/system/synfence.service")" \
	"ExecStart=/usr/local/sbin/synfence run --config /etc/synfence/synfence.conf" "the /usr/local unit runs /usr/local/sbin/synfence"
make -C "$SF_SRC" --no-print-directory BUILD="$BUILD" uninstall DESTDIR="$D" >/dev/null 2>&1 &&
	make -C "$SF_SRC" --no-print-directory BUILD="$BUILD" uninstall DESTDIR="$D" PREFIX=/usr >/dev/null 2>&1
check_eq "$?/$(cd "$D" && find . -type f | sed 's|^\./||' | tr '\n' ' ')" "0/etc/synfence/synfence.conf " \
	"make uninstall (both prefixes) removes everything but the config"
check_eq "$(ls -d /etc/synfence 2>/dev/null)" "$etc_before" "nothing written to this machine's /etc"

# ---- 3. a fresh Debian 12 root -------------------------------------------------------------------
if [ ! -e "$CACHE/bookworm/.complete" ]; then
	t=$(date +%s)
	rm -rf "$CACHE/bookworm" "$CACHE/bookworm.tmp"
	mkdir -p "$CACHE"
	log "debootstrap bookworm into $CACHE/bookworm (cached for the next runs)"
	debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,man-db,bash-completion bookworm \
		"$CACHE/bookworm.tmp" http://deb.debian.org/debian >"$TMPD/debootstrap.log" 2>&1 ||
		{ tail -n 5 "$TMPD/debootstrap.log"; die "debootstrap failed"; }
	rm -f "$CACHE/bookworm.tmp"/var/cache/apt/archives/*.deb
	touch "$CACHE/bookworm.tmp/.complete"
	mv "$CACHE/bookworm.tmp" "$CACHE/bookworm"
	log "debootstrap: $(($(date +%s) - t)) s"
fi
# systemd-nspawn needs a cgroup hierarchy ("Failed to determine whether the unified cgroups
# hierarchy is used"): where no init mounted one (fresh-debian.sh's private mount namespace with a
# new sysfs), cgroup2, as systemd mounts it at boot
if ! mountpoint -q /sys/fs/cgroup && [ -z "$(ls -A /sys/fs/cgroup)" ]; then
	mount -t cgroup2 cgroup2 /sys/fs/cgroup || die "no cgroup hierarchy, and cannot mount cgroup2 on /sys/fs/cgroup"
	CGROUP_MOUNTED=1
	log "mounted cgroup2 on /sys/fs/cgroup (no init mounted a cgroup hierarchy here)"
fi
mkdir -p "$TMPD/upper" "$TMPD/work" "$ROOT" "$CACHE/apt-archives/partial"
mount -t overlay overlay -o "lowerdir=$CACHE/bookworm,upperdir=$TMPD/upper,workdir=$TMPD/work" "$ROOT" ||
	die "cannot mount the overlay on $ROOT"
cp "$DEB" "$DEB2" "$ROOT/root/"
# A command in the root (not booted), the host's network; apt's downloads kept in $CACHE/apt-archives.
# (--pipe: no terminal for man to page on; nspawn's note about /run/systemd/nspawn/propagate
# left out: nothing to clean there without a systemd on the host.)
in_root() {
	systemd-nspawn -q --pipe -D "$ROOT" --register=no --keep-unit \
		--bind="$CACHE/apt-archives:/var/cache/apt/archives" -E DEBIAN_FRONTEND=noninteractive \
		-E LANG=C.UTF-8 "$@" 2> >(grep -v '^Attempted to remove disk file system under' >&2)
}
t=$(date +%s)
in_root sh -c "apt-get update -qq && apt-get install -y -qq /root/$(basename "$DEB")" >"$TMPD/apt.log" 2>&1
ran $? "apt-get install ./$(basename "$DEB") in a fresh Debian 12 root ($(($(date +%s) - t)) s)" "$TMPD/apt.log"
log "apt installed: $(grep -oE 'Unpacking [^ ]+' "$TMPD/apt.log" | cut -d' ' -f2 | tr '\n' ' ')"
check_match "$(in_root synfence --version)" "^synfence $VER \(libbpf " "synfence --version in the fresh root"
# (man formats plainly when its output is no terminal)
check_match "$(in_root env MANWIDTH=80 man synfence 2>&1)" $'NAME\n +synfence - ' "man synfence"
check_match "$(in_root env MANWIDTH=80 man synfence.conf 2>&1)" $'NAME\n +synfence.conf - the config file.*\n +ports = LIST' \
	"man synfence.conf (that it has every key: 78-docs)"
comp=$(in_root bash -c '. /usr/share/bash-completion/bash_completion; _completion_loader synfence
	COMP_WORDS=(synfence sta); COMP_CWORD=1; _synfence; echo "${COMPREPLY[*]}"')
check_eq "$comp" "status stats" "bash completion loads on demand and completes 'synfence sta'"
check_eq "$(in_root systemctl is-enabled synfence.service 2>&1)" disabled "the unit is installed, not enabled"

# ---- 4. under systemd ----------------------------------------------------------------------------
sf_topo_up
sf_nginx_start 80
# conf PORTS [LINE]: the container's config file: $SRV_IF, PORTS, metrics on loopback
conf() { printf 'interfaces = %s\nports = %s\nmetrics = 127.0.0.1:9464\n%s\n' "$SRV_IF" "$1" "${2:-}" >"$ROOT/etc/synfence/synfence.conf"; }
conf 80
# systemd's own watchdog period is 30 s; 2 s here, so that a test of a few seconds shows it fed
mkdir -p "$ROOT/etc/systemd/system/synfence.service.d"
printf '[Service]\nWatchdogSec=2s\n' >"$ROOT/etc/systemd/system/synfence.service.d/test.conf"
# CAP_BPF and CAP_PERFMON, and bpf() through nspawn's seccomp filter: the container may load BPF
systemd-nspawn -D "$ROOT" --register=no --keep-unit -b --console=passive \
	--network-namespace-path="/run/netns/$SRV_NS" --capability=CAP_BPF,CAP_PERFMON,CAP_NET_ADMIN \
	--system-call-filter=bpf >"$TMPD/nspawn.log" 2>&1 &
NSPAWN_PID=$!
for _ in $(seq 100); do
	CT=$(pgrep -P "$NSPAWN_PID" -x systemd)
	[ -n "$CT" ] && break
	sleep 0.1
done
[ -n "$CT" ] || { cat "$TMPD/nspawn.log"; die "systemd-nspawn -b: no systemd in the container"; }
ct() { nsenter -t "$CT" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
for _ in $(seq 300); do ct test -S /run/systemd/private && break; sleep 0.1; done
state=$(timeout 60 nsenter -t "$CT" -a systemctl is-system-running --wait 2>&1)
check_match "$state" '^(running|degraded)$' "systemd booted in the container ($state)"
[ "$state" = degraded ] && ct systemctl --failed --no-legend | sed 's/^/    failed: /'
# as systemd does on a host (mount-setup; not in a container): a bpffs on /sys/fs/bpf
ct mount -t bpf bpf /sys/fs/bpf || die "cannot mount a bpffs in the container"

prop() { ct systemctl show -p "$1" --value synfence.service; }
status_json() { ct synfence status -j -i 0; }
journal() { ct journalctl -q -u synfence.service -o cat --no-pager; }
# wait_prop NAME VALUE: until the unit's property has the value (10 s)
wait_prop() { for _ in $(seq 100); do [ "$(prop "$1")" = "$2" ] && return 0; sleep 0.1; done; return 1; }

check_eq "$(prop ActiveState)/$(prop UnitFileState)" inactive/disabled "not started at boot: the unit is not enabled"
ct systemctl start synfence.service
check_eq "$?/$(prop ActiveState)/$(prop SubState)" 0/active/running "systemctl start synfence: active (running)"
xdp() { sf_xdp_attached && echo attached || echo detached; }
check_eq "$(xdp)" attached "XDP is attached to $SRV_IF"
check_eq "$(status_json | jq -r '[.daemon.running, .daemon.version, .daemon.ports] | join(",")')" "true,$VER,80" \
	"synfence status -j: running, daemon.version $VER, ports 80"
check_match "$(ct systemctl status --no-pager synfence.service)" 'Active: active \(running\)' "systemctl status shows it active"
build_info() { srv curl -sS --max-time 5 http://127.0.0.1:9464/metrics | grep '^synfence_build_info'; }
check_eq "$(build_info)" "synfence_build_info{version=\"$VER\"} 1" "metrics: synfence_build_info"
pid1=$(prop MainPID)
w1=$(prop WatchdogTimestampMonotonic)
sleep 3
check_eq "$(prop WatchdogUSec)/$(prop ActiveState)/$(prop MainPID)/$(prop NRestarts)" "2s/active/$pid1/0" \
	"after 3 s with WatchdogSec=2s: still active, same pid, no restart"
check_ne "$(prop WatchdogTimestampMonotonic)" "$w1" "the watchdog was fed (WatchdogTimestamp moved)"

conf 80,8080
ct systemctl reload synfence.service
check_eq "$?/$(prop ActiveState)/$(prop MainPID)" "0/active/$pid1" "systemctl reload: same daemon, active"
# (ExecReload returns once the signal is sent; the daemon then reloads)
for _ in $(seq 50); do [ "$(status_json | jq -r .daemon.ports)" = 80,8080 ] && break; sleep 0.1; done
check_eq "$(status_json | jq -r .daemon.ports)" 80,8080 "SIGHUP took the changed port list (80,8080)"

# XDP on the interface, sampled until $STOP: a line per sample, "gone" without it
STOP=$TMPD/stop
xdp_watch() {
	while [ ! -e "$STOP" ]; do
		l=$(ip -n "$SRV_NS" link show dev "$SRV_IF" 2>&1)
		if [[ $l == *prog/xdp* ]]; then echo ok; else echo "gone at $(date +%T.%N): ${l//$'\n'/ }"; fi
	done
}
xdp_watch >"$TMPD/xdp.log" 2>&1 &
WATCH=$!
sf_track_pid $WATCH
sf_keepalive "$SRV4" "$STOP" "$TMPD" 0.1
KA=$SF_KEEPALIVE_PID
sf_newconn_loop "$STOP" "$TMPD/newconn.log"
sleep 1
prog1=$(sf_xdp_prog_id)
ct sh -c 'systemctl kill -s SIGUSR2 synfence && systemctl start synfence'
check_eq "$?/$(prop ActiveState)" 0/active "systemctl kill -s SIGUSR2 synfence && systemctl start synfence"
pid2=$(prop MainPID)
check_ne "$pid2" "$pid1" "a new daemon runs"
check_ne "$(sf_xdp_prog_id)" "$prog1" "its XDP program replaced the old one"
journal >"$TMPD/journal"
check_true "the journal: a take-over, both versions" grep -qF \
	"version $VER; this run version $VER): programs replaced" "$TMPD/journal"

n0=$(cat "$TMPD/count" 2>/dev/null || echo 0)
ct apt-get install -y -qq "/root/$(basename "$DEB2")" >"$TMPD/upgrade.log" 2>&1
ran $? "upgrade: apt-get install ./$(basename "$DEB2") while it runs" "$TMPD/upgrade.log"
pid3=$(prop MainPID)
check_eq "$(prop ActiveState)/$(ct synfence --version | awk '{ print $2 }')" "active/$VER2" "upgraded to $VER2, active"
check_ne "$pid3" "$pid2" "the postinst started the new version"
journal >"$TMPD/journal"
check_true "the journal: the take-over from $VER to $VER2" grep -qF \
	"version $VER; this run version $VER2): programs replaced" "$TMPD/journal"
check_eq "$(status_json | jq -r .daemon.version)" "$VER2" "status -j: daemon.version $VER2"
check_eq "$(build_info)" "synfence_build_info{version=\"$VER2\"} 1" "metrics: synfence_build_info of $VER2"
check_eq "$(prop NRestarts)" 0 "no restart by systemd"
sleep 1
touch "$STOP"
sf_wait_pid "$KA" 15
check_eq "$SF_RC" 0 "the keep-alive connection lived through both hand-overs ($(cat "$TMPD/keepalive.log"))"
check_ge "$(cat "$TMPD/count" 2>/dev/null)" "$((n0 + 5))" "... and kept exchanging requests after the upgrade"
sf_wait_pid "$SF_NEWCONN_PID" 15
check_match "$(tail -n 1 "$TMPD/newconn.log")" '^ok=[1-9][0-9]* bad=0$' "new connections during both hand-overs"
sf_wait_pid "$WATCH" 5
gone=$(grep -vcx ok "$TMPD/xdp.log")
check_eq "$gone" 0 "XDP never left $SRV_IF during the hand-overs ($(wc -l <"$TMPD/xdp.log") samples)"
if [ "$gone" != 0 ]; then
	grep -vx ok "$TMPD/xdp.log" | head -n 5 | sed 's/^/    /'
	ct journalctl -q -u synfence.service -o short-precise --no-pager | tail -n 30 | sed 's/^/    | /'
fi


ct systemctl stop synfence.service
check_eq "$?/$(prop ActiveState)" 0/inactive "systemctl stop"
check_eq "$(xdp)" detached "stop detached XDP from $SRV_IF"
# (a bpffs holds the kernel's maps.debug and progs.debug)
pins() { ct ls -A /sys/fs/bpf | grep -v '\.debug$'; }
check_eq "$(pins)" "" "... and removed every pin"

conf 80,nope
ct systemctl start synfence.service 2>/dev/null
check_ne "$?" 0 "a config error: systemctl start fails"
sleep 3 # RestartSec=1s: time for a restart, were there one
check_eq "$(prop ActiveState)/$(prop ExecMainStatus)/$(prop NRestarts)" failed/2/0 \
	"exit status 2, failed, not restarted (RestartPreventExitStatus=2)"
check_match "$(journal)" 'ports: bad port list item "nope"' "the journal names the config error"

# removal: what keep_attached left in place goes too, and every pin
conf 80 "keep_attached = yes"
ct systemctl reset-failed synfence.service
ct systemctl start synfence.service
check_eq "$?/$(prop ActiveState)" 0/active "started with keep_attached = yes"
ct apt-get remove -y -qq synfence >"$TMPD/remove.log" 2>&1
ran $? "apt-get remove synfence" "$TMPD/remove.log"
journal >"$TMPD/journal"
check_true "removal stopped it (SIGTERM: protection left in place, keep_attached)" grep -qF "got SIGTERM, stopping (keep_attached: protection stays)" "$TMPD/journal"
check_eq "$(xdp)" detached "... and detached XDP (synfence detach --all)"
check_eq "$(pins)" "" "no pin left after removal"
check_true "remove keeps the config" test -e "$ROOT/etc/synfence/synfence.conf"
ct apt-get purge -y -qq synfence >/dev/null 2>&1
check_eq "$?/$(ls -d "$ROOT/etc/synfence" 2>/dev/null)" 0/ "purge removes the config (and /etc/synfence)"
ct apt-get install -y -qq "/root/$(basename "$DEB2")" >/dev/null 2>&1
check_eq "$?/$(prop ActiveState)/$(prop UnitFileState)" 0/inactive/disabled "installed on a running systemd: neither started nor enabled"
log "package test: $(($(date +%s) - T0)) s"
sf_finish
