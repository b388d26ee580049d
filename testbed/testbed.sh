#!/usr/bin/env bash
# ARAS testbed: N libvirt hosts on one machine (network + mount + UTS + cgroup namespaces,
# one libvirtd each), QEMU/TCG guests running the busybox workload initramfs.
#
# Usage: testbed/testbed.sh COMMAND [ARGS]   (as root; `testbed.sh help` lists commands)
#
# Layout: LAN 198.18.0.0/24 on bridge arasbr0 (controller .254, host hI = .I); with --wan,
# a second network 198.19.0.0/24 on bridge arasbrw where each host's wan0 goes through
# its own linkemu process (one-way delay RTT/4 and RATE per direction, fair per flow), so
# host-to-host RTT is RTT_MS and the bottleneck RATE. Guests of every host sit on the
# host's bridge gbr0 (198.18.128.1/24), the same on every host so a migrated guest keeps
# its address. All state under $ARAS_TESTBED_DIR (default /var/tmp/aras-testbed):
# cache/ (kernel, guest build, QEMU capabilities) survives `down`, run/ does not.
set -euo pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}")
HERE=$(dirname "$SELF")
# Instance K (ARAS_TESTBED_ID, 0-9) lets several testbeds run side by side: its own
# subnets 198.18.K/24 and 198.19.K/24, bridges, links, cgroup and run state.
ID=${ARAS_TESTBED_ID:-0}
[[ "$ID" =~ ^[0-9]$ ]] || { echo "testbed: ARAS_TESTBED_ID must be 0-9, not '$ID'" >&2; exit 2; }
SFX=${ID/#0/}
TB=${ARAS_TESTBED_DIR:-/var/tmp/aras-testbed${SFX:+-$SFX}}
export ARAS_TESTBED_CACHE=${ARAS_TESTBED_CACHE:-/var/tmp/aras-testbed/cache}
CACHE=$ARAS_TESTBED_CACHE
RUN=$TB/run
CG=aras-testbed$SFX
LAN=198.18.$ID
WAN=198.19.$ID
GNET=198.18.128
BR=arasbr$ID
BRW=arasbrw$SFX
VETH=arasv$SFX   # + host index; with K>0 "arasvK_I"
WETH=arasw$SFX
[[ -z $SFX ]] || { VETH=${VETH}_; WETH=${WETH}_; }
# libvirt keepalive of every host daemon and of its migration connections: a peer that
# stops answering is given up after about INTERVAL x (COUNT + 1) seconds.
KEEPALIVE=${ARAS_TESTBED_KEEPALIVE:-5:10}
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LIBVIRT_DEFAULT_URI=

say() { echo "testbed: $*" >&2; }
die() {
    say "$*"
    exit 1
}
now_ms() { date +%s%3N; }

# ---------------------------------------------------------------- hosts and cgroups

# "h3" or "3" -> 3, checked against the number of hosts that are up.
host_index() {
    local i=${1#h} n
    n=$(cat "$RUN/n" 2>/dev/null || echo 0)
    [[ "$i" =~ ^[0-9]+$ ]] && ((i >= 1 && i <= n)) || die "no host '$1' (hosts up: $n)"
    echo "$i"
}
host_pid() { cat "$RUN/hosts/h$1/holder.pid"; }
hosts_up() { seq 1 "$(cat "$RUN/n" 2>/dev/null || echo 0)"; }

# The cgroup v1 hierarchies (and the v2 one) of the machine: "mountpoint fstype options".
cgroup_mounts() {
    # mountinfo: optional fields end at " - ", then fstype, source, super options.
    awk '{ for (f = 7; $f != "-"; f++) ; t = $(f + 1)
           if (t == "cgroup" || t == "cgroup2") print $5, t, $(f + 3) }' /proc/self/mountinfo
}

# Create cgroup $CG/$1 in every hierarchy (cpuset needs cpus/mems copied from its parent).
cgroup_make() {
    local mp fs opts dir
    while read -r mp fs opts; do
        dir=$mp
        for part in $CG $1; do
            dir=$dir/$part
            [[ -d $dir ]] && continue
            mkdir "$dir"
            if [[ -f $dir/cpuset.cpus ]]; then
                cat "$(dirname "$dir")/cpuset.cpus" >"$dir/cpuset.cpus"
                cat "$(dirname "$dir")/cpuset.mems" >"$dir/cpuset.mems"
                echo 1 >"$dir/cgroup.clone_children"
            fi
        done
    done < <(cgroup_mounts)
}

# Move process $2 into cgroup $CG/$1 of every hierarchy.
cgroup_join() {
    local mp fs opts
    while read -r mp fs opts; do
        echo "$2" >"$mp/$CG/$1/cgroup.procs"
    done < <(cgroup_mounts)
}

# Every process in the testbed's cgroups (hosts, their guests, linkemu, exec'd commands).
cgroup_pids() {
    local mp
    # Any v1 hierarchy holds every process; on a v2-only machine the unified one does.
    mp=$(cgroup_mounts | awk '!any { any = $1 } $2 == "cgroup" && !mp { mp = $1 }
        END { print mp ? mp : any }')
    [[ -d $mp/$CG ]] || return 0
    find "$mp/$CG" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u
}

cgroup_remove() {
    local mp fs opts
    while read -r mp fs opts; do
        [[ -d $mp/$CG ]] && find "$mp/$CG" -depth -type d -exec rmdir {} + 2>/dev/null
    done < <(cgroup_mounts)
    return 0
}

# Run a command in host $1's namespaces and cgroup (stdin/stdout passed through).
in_host() {
    local i=$1
    shift
    local pid
    pid=$(host_pid "$i")
    # shellcheck disable=SC2016
    bash -c '"$0" _join "$1" $$ && exec nsenter -t "$2" -n -m -u -C -- "${@:3}"' \
        "$SELF" "h$i" "$pid" "$@"
}

# ---------------------------------------------------------------- per-host files

write_host_files() {
    local i=$1 n=$2 d=$RUN/hosts/h$1 j KA
    KA=$(cat "$RUN/keepalive")
    mkdir -p "$d"/{etc/libvirt,run,var/lib/libvirt/images,var/lib/libvirt/console}
    mkdir -p "$d"/{var/log/libvirt,var/cache/libvirt/qemu/capabilities}
    echo "h$i" >"$d/etc/hostname"
    {
        echo "127.0.0.1 localhost"
        echo "$LAN.254 controller"
        for j in $(seq 1 "$n"); do
            echo "$LAN.$j h$j"
            [[ -f $RUN/wan ]] && echo "$WAN.$j h$j-wan"
        done
    } >"$d/etc/hosts"
    cp /etc/passwd "$d/etc/passwd"
    cp /etc/group "$d/etc/group"
    grep -q '^libvirt-qemu:' "$d/etc/passwd" ||
        echo 'libvirt-qemu:x:64055:64055:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin' \
            >>"$d/etc/passwd"
    for g in libvirt-qemu:64055 kvm:64056 libvirt:64057; do
        grep -q "^${g%%:*}:" "$d/etc/group" || echo "${g%%:*}:x:${g#*:}:" >>"$d/etc/group"
    done
    cat >"$d/etc/libvirt/libvirtd.conf" <<EOF
# ARAS testbed host h$i
listen_tls = 0
listen_tcp = 1
listen_addr = "0.0.0.0"
tcp_port = "16509"
auth_tcp = "none"
auth_unix_ro = "none"
auth_unix_rw = "none"
host_uuid = "$(printf 'a4a5a000-7e57-4bed-8000-%012x' $((ID * 256 + i)))"
keepalive_interval = ${KA%:*}
keepalive_count = ${KA#*:}
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
EOF
    cat >"$d/etc/libvirt/qemu.conf" <<EOF
# ARAS testbed host h$i: QEMU as root, no sandboxing (one machine, many "hosts")
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
stdio_handler = "file"
namespaces = [ ]
migration_host = "$LAN.$i"
migration_port_min = 49152
migration_port_max = 49215
keepalive_interval = ${KA%:*}
keepalive_count = ${KA#*:}
EOF
}

# Runs as the namespace holder of host $1, already inside its new namespaces (see
# start_host): private /sys (this netns), cgroup v1 hierarchies as seen from the cgroup
# namespace, /dev without kvm (so libvirt uses TCG), /run, libvirt's /var and /etc dirs.
host_init() {
    local i=$1 d=$RUN/hosts/h$1 mp fs opts uffd
    uffd=$(stat -c '%t %T' /dev/userfaultfd 2>/dev/null || true)
    hostname "h$i"
    mount -t sysfs sysfs /sys
    mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup
    while read -r mp fs opts; do
        mkdir -p "$mp"
        if [[ $fs == cgroup2 ]]; then
            mount -t cgroup2 cgroup2 "$mp"
        else
            opts=$(echo "$opts" | sed 's/^rw,//; s/^ro,//')
            mount -t cgroup -o "$opts" cgroup "$mp"
        fi
    done <"$RUN/cgroup-mounts"
    mount -t tmpfs -o mode=755,size=1m tbdev /dev
    mknod -m 666 /dev/null c 1 3
    mknod -m 666 /dev/zero c 1 5
    mknod -m 666 /dev/full c 1 7
    mknod -m 666 /dev/random c 1 8
    mknod -m 666 /dev/urandom c 1 9
    mknod -m 666 /dev/tty c 5 0
    mkdir /dev/net /dev/pts /dev/shm
    mknod -m 666 /dev/net/tun c 10 200
    [[ -n $uffd ]] && mknod -m 600 /dev/userfaultfd c $((16#${uffd% *})) $((16#${uffd#* }))
    mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts /dev/pts
    ln -s pts/ptmx /dev/ptmx
    mount -t tmpfs -o mode=1777 shm /dev/shm
    ln -s /proc/self/fd /dev/fd
    ln -s /proc/self/fd/0 /dev/stdin
    ln -s /proc/self/fd/1 /dev/stdout
    ln -s /proc/self/fd/2 /dev/stderr
    mount -t tmpfs -o mode=755 run /run
    mkdir -p /run/libvirt /run/lock
    mount --bind "$d/run" /run/libvirt
    for x in lib/libvirt log/libvirt cache/libvirt; do
        mkdir -p "/var/$x"
        mount --bind "$d/var/$x" "/var/$x"
    done
    mkdir -p /etc/libvirt
    mount --bind "$d/etc/libvirt" /etc/libvirt
    for f in hosts hostname passwd group; do
        mount --bind "$d/etc/$f" "/etc/$f"
    done
    touch "$d/ready"
    exec sleep infinity
}

# Namespaces + network for host $1 (of $2); does not start libvirtd.
start_host() {
    local i=$1 n=$2 d=$RUN/hosts/h$1 pid t
    write_host_files "$i" "$n"
    cgroup_make "h$i"
    # shellcheck disable=SC2016
    setsid bash -c '"$0" _join "$1" $$ && exec unshare --net --mount --uts --cgroup \
        --propagation private -- "$0" _hostinit "$2"' "$SELF" "h$i" "$i" \
        </dev/null >"$d/holder.log" 2>&1 &
    echo $! >"$d/holder.pid"
    disown
    for t in $(seq 100); do
        [[ -f $d/ready ]] && break
        kill -0 "$(cat "$d/holder.pid")" 2>/dev/null || die "h$i: namespace set-up failed: $(cat "$d/holder.log")"
        sleep 0.05
    done
    [[ -f $d/ready ]] || die "h$i: namespace set-up timed out: $(cat "$d/holder.log")"
    pid=$(cat "$d/holder.pid")
    ip link add "$VETH$i" type veth peer name eth0 netns "$pid"
    ip link set "$VETH$i" master "$BR" up
    nsenter -t "$pid" -n sh -c "ip link set lo up && ip addr add $LAN.$i/24 dev eth0 &&
        ip link set eth0 up && ip link add gbr0 type bridge && ip addr add $GNET.1/24 dev gbr0 &&
        ip link set gbr0 up"
    [[ -f $RUN/wan ]] && start_wan_link "$i"
    return 0
}

linkemu_bin() {
    local c
    for c in "${ARAS_LINKEMU:-}" "${ARAS_BUILD_DIR:-/nonexistent}/testbed/linkemu/linkemu" \
        "$HERE"/../build*/testbed/linkemu/linkemu; do
        [[ -n $c && -x $c ]] && {
            echo "$c"
            return 0
        }
    done
    die "linkemu not built (ninja -C BUILD, then ARAS_LINKEMU=BUILD/testbed/linkemu/linkemu)"
}

# Host $1's WAN link: wan0 in the host <-> linkemu <-> araswI on bridge $BRW.
start_wan_link() {
    local i=$1 d=$RUN/hosts/h$1 rtt rate pid bin t
    read -r rtt rate <"$RUN/wan"
    pid=$(host_pid "$i")
    bin=$(linkemu_bin)
    cgroup_make links
    # shellcheck disable=SC2016
    # nice -10: the link must not be starved by the TCG guests it carries traffic for.
    setsid nice -n -10 bash -c '"$0" _join links $$ && exec "$1" "${@:2}"' "$SELF" "$bin" \
        --delay-ms "$(awk -v r="$rtt" 'BEGIN { printf "%.3f", r / 4 }')" --rate "$rate" \
        --ready-file "$d/linkemu.ready" "/proc/$pid/ns/net:wan0" "$WETH$i" \
        </dev/null >"$d/linkemu.log" 2>&1 &
    echo $! >"$d/linkemu.pid"
    disown
    for t in $(seq 100); do
        [[ -f $d/linkemu.ready ]] && break
        kill -0 "$(cat "$d/linkemu.pid")" 2>/dev/null || die "h$i: linkemu failed: $(cat "$d/linkemu.log")"
        sleep 0.05
    done
    [[ -f $d/linkemu.ready ]] || die "h$i: linkemu did not start"
    ip link set "$WETH$i" master "$BRW" up
    nsenter -t "$pid" -n sh -c "ip addr add $WAN.$i/24 dev wan0 && ip link set wan0 up"
}

start_libvirtd() {
    local i=$1 d=$RUN/hosts/h$1
    in_host "$i" setsid libvirtd --listen -f /etc/libvirt/libvirtd.conf \
        </dev/null >"$d/libvirtd.out" 2>&1 &
    disown
}

wait_libvirtd() {
    local i=$1 t
    for t in $(seq 240); do
        virsh -q -c "qemu+tcp://$LAN.$i/system" version >/dev/null 2>&1 && return 0
        sleep 0.25
    done
    die "h$i: libvirtd did not answer on $LAN.$i:16509 within 60 s: $(tail -5 "$RUN/hosts/h$i/libvirtd.out" "$RUN/hosts/h$i/var/log/libvirt/libvirtd.log" 2>/dev/null)"
}

# After host 1 probed QEMU: keep its capabilities cache for the other hosts and later runs.
save_caps() {
    local src=$RUN/hosts/h1/var/cache/libvirt/qemu/capabilities
    virsh -q -c "qemu+tcp://$LAN.1/system" domcapabilities --virttype qemu >/dev/null
    compgen -G "$src/*.xml" >/dev/null || return 0
    mkdir -p "$CACHE/qemucaps"
    cp "$src"/*.xml "$CACHE/qemucaps/"
}

host_pool() {
    virsh -q -c "qemu+tcp://$LAN.$1/system" pool-create-as default dir \
        --target /var/lib/libvirt/images >/dev/null
}

cmd_up() {
    local n=${1:-}
    shift || true
    [[ "$n" =~ ^[0-9]+$ ]] && ((n >= 1 && n <= 32)) || die "usage: up N [--wan RTT_MS RATE] (1 <= N <= 32)"
    local wan=""
    if [[ ${1:-} == --wan ]]; then
        [[ $# -ge 3 && $2 =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "usage: up N --wan RTT_MS RATE (e.g. --wan 64 100mbit)"
        wan="$2 $3"
        linkemu_bin >/dev/null
    fi
    local t0
    t0=$(now_ms)
    [[ $(id -u) -eq 0 ]] || die "run as root"
    [[ $KEEPALIVE =~ ^[1-9][0-9]*:[1-9][0-9]*$ ]] ||
        die "ARAS_TESTBED_KEEPALIVE must be INTERVAL_S:COUNT (e.g. 5:10), not '$KEEPALIVE'"
    cmd_down quiet
    "$HERE/install.sh"
    # A half-built testbed is worse than none: any failure from here on tears it down.
    trap 'say "up failed: tearing down"; cmd_down quiet' EXIT
    mkdir -p "$RUN/hosts" "$RUN/guests"
    echo "$n" >"$RUN/n"
    echo "$KEEPALIVE" >"$RUN/keepalive"
    [[ -n $wan ]] && echo "$wan" >"$RUN/wan"
    cgroup_mounts >"$RUN/cgroup-mounts"
    ip link add "$BR" type bridge
    ip addr add "$LAN.254/24" dev "$BR"
    ip link set "$BR" up
    if [[ -n $wan ]]; then
        ip link add "$BRW" type bridge
        ip addr add "$WAN.254/24" dev "$BRW"
        ip link set "$BRW" up
    fi
    local i
    for i in $(seq 1 "$n"); do
        start_host "$i" "$n"
        compgen -G "$CACHE/qemucaps/*.xml" >/dev/null &&
            cp "$CACHE"/qemucaps/*.xml "$RUN/hosts/h$i/var/cache/libvirt/qemu/capabilities/"
    done
    start_libvirtd 1
    wait_libvirtd 1
    save_caps
    for i in $(seq 2 "$n"); do
        cp "$CACHE"/qemucaps/*.xml "$RUN/hosts/h$i/var/cache/libvirt/qemu/capabilities/" 2>/dev/null || true
        start_libvirtd "$i"
    done
    for i in $(seq 1 "$n"); do
        [[ $i -gt 1 ]] && wait_libvirtd "$i"
        host_pool "$i"
    done
    trap - EXIT
    say "up: $n hosts in $(($(now_ms) - t0)) ms${wan:+ (WAN: RTT ${wan% *} ms, ${wan#* } per host link)}"
}

# Kill every testbed process, remove links, cgroups and run state. Safe when nothing is up.
cmd_down() {
    local quiet=${1:-} t pids i
    for t in $(seq 50); do
        pids=$(cgroup_pids)
        [[ -z $pids ]] && break
        # shellcheck disable=SC2086
        kill -KILL $pids 2>/dev/null || true
        sleep 0.1
    done
    [[ -z $(cgroup_pids) ]] || say "down: processes survive in cgroup $CG: $(cgroup_pids | tr '\n' ' ')"
    for i in $(ip -o link show 2>/dev/null | awk -F': ' '{ print $2 }' | sed 's/@.*//' |
        grep -E "^($VETH[0-9]+|$WETH[0-9]+|$BR|$BRW)$" || true); do
        ip link del "$i" 2>/dev/null || true
    done
    cgroup_remove
    rm -rf "$RUN"
    [[ -n $quiet ]] || say "down: done"
}

cmd_status() {
    local i d pid state
    [[ -f $RUN/n ]] || {
        echo "testbed: down"
        return 0
    }
    echo "testbed: $(cat "$RUN/n") hosts$([[ -f $RUN/wan ]] && echo ", WAN $(cat "$RUN/wan")")"
    for i in $(hosts_up); do
        d=$RUN/hosts/h$i
        pid=$(host_pid "$i")
        state=down
        kill -0 "$pid" 2>/dev/null && state=namespaces
        virsh -q -c "qemu+tcp://$LAN.$i/system" version >/dev/null 2>&1 && state=libvirtd
        printf 'h%s  %s  %-10s  guests: %s\n' "$i" "qemu+tcp://$LAN.$i/system" "$state" \
            "$(virsh -q -c "qemu+tcp://$LAN.$i/system" list --name 2>/dev/null | xargs)"
    done
}

cmd_uri() {
    local i
    i=$(host_index "${1:-}")
    if [[ ${2:-} == --wan ]]; then
        [[ -f $RUN/wan ]] || die "testbed is up without --wan"
        echo "qemu+tcp://$WAN.$i/system"
    else
        echo "qemu+tcp://$LAN.$i/system"
    fi
}

cmd_addr() {
    local i
    i=$(host_index "${1:-}")
    if [[ ${2:-} == --wan ]]; then
        [[ -f $RUN/wan ]] || die "testbed is up without --wan"
        echo "$WAN.$i"
    else
        echo "$LAN.$i"
    fi
}

# The pid of host $1's libvirtd, found in the host's own cgroup (pids are not
# namespaced: another testbed's libvirtd must never be mistaken for it); "" if none.
libvirtd_pid() {
    local mp p
    mp=$(cgroup_mounts | awk '$2 == "cgroup" && !mp { mp = $1 } END { print mp }')
    [[ -n $mp && -f $mp/$CG/h$1/cgroup.procs ]] || return 0
    while read -r p; do
        [[ $(cat "/proc/$p/comm" 2>/dev/null) == libvirtd ]] && { echo "$p"; return 0; }
    done < <(find "$mp/$CG/h$1" -name cgroup.procs -exec cat {} + 2>/dev/null)
    return 0
}

cmd_libvirtd() {
    local i pid t
    i=$(host_index "${1:-}")
    case ${2:-} in
    kill)
        pid=$(libvirtd_pid "$i")
        [[ -n $pid ]] || die "h$i: libvirtd is not running"
        kill -KILL "$pid"
        for t in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || { say "h$i: libvirtd (pid $pid) killed"; return 0; }
            sleep 0.1
        done
        die "h$i: libvirtd (pid $pid) survived SIGKILL"
        ;;
    start)
        [[ -z $(libvirtd_pid "$i") ]] || die "h$i: libvirtd is already running"
        start_libvirtd "$i"
        wait_libvirtd "$i"
        say "h$i: libvirtd started"
        ;;
    *) die "usage: libvirtd HOST kill|start" ;;
    esac
}

cmd_link() {
    local i dev
    i=$(host_index "${1:-}")
    dev=$VETH$i
    [[ ${3:-} == --wan ]] && { [[ -f $RUN/wan ]] || die "testbed is up without --wan"; dev=$WETH$i; }
    case ${2:-} in
    down | up) ip link set "$dev" "$2" && say "h$i: link $dev $2" ;;
    *) die "usage: link HOST down|up [--wan]" ;;
    esac
}

cmd_exec() {
    local i
    i=$(host_index "${1:-}")
    shift
    [[ $# -gt 0 ]] || die "usage: exec HOST CMD..."
    in_host "$i" "$@"
}

usage() {
    cat <<'EOF'
Usage: testbed/testbed.sh COMMAND [ARGS]     (as root)

  up N [--wan RTT_MS RATE]  bring up hosts h1..hN (down first if anything is up); with
                            --wan, each host also gets wan0 (198.19.K.I) through linkemu:
                            host-to-host round trip RTT_MS, RATE (e.g. 100mbit) per link
  down                      kill everything, remove links, cgroups and run state (idempotent)
  status                    hosts, daemons and their guests
  exec HOST CMD...          run CMD in HOST's namespaces (HOST: h1 or 1)
  libvirtd HOST kill|start  SIGKILL HOST's libvirtd (its guests' QEMUs keep running), or
                            start it again and wait until it answers (fault tests)
  link HOST down|up [--wan] take HOST's LAN (or WAN) link down or up on the controller side:
                            HOST is cut off from every other host and the controller
  uri HOST [--wan]          qemu+tcp://ADDR/system of HOST's libvirtd
  addr HOST [--wan]         HOST's address (for --migrateuri tcp://ADDR over the WAN)
  guest-create HOST NAME [--mem MiB] [--vcpus N] [--max-vcpus M] [--max-mem MiB --slots N]
               [--workload cpu[:PROCS]|mem:MBPS[:MiB]|disk[:MBPS]|net[:MBPS]|idle]
               [--disk MiB] [--wait SECONDS]
                            start a transient guest (TCG, direct kernel boot); --wait waits
                            for its first heartbeat and prints the boot time
  console NAME              path of NAME's serial log on the host that runs it
  heartbeat NAME            last heartbeat: "COUNTER up=S cpus=N mem_kib=K wl=W disks=D host=hI age_s=S"
  guest-ok NAME             exit 0 if NAME runs on exactly one host, its heartbeat advances
                            and no console shows Oops/BUG/panic; else exit 1 with the reason

Environment: ARAS_TESTBED_ID (0-9, default 0: instance K uses 198.18.K.0/24, 198.19.K.0/24,
             so several testbeds can run at once), ARAS_TESTBED_DIR (default
             /var/tmp/aras-testbed, or /var/tmp/aras-testbed-K), ARAS_TESTBED_CACHE (kernel,
             guest build; default /var/tmp/aras-testbed/cache, shared), ARAS_LINKEMU,
             ARAS_TESTBED_KEEPALIVE (INTERVAL_S:COUNT of every libvirtd and its migration
             connections, default 5:10: a dead peer shows after ~55 s; at `up`).
EOF
}

main() {
    local cmd=${1:-help}
    shift || true
    case $cmd in
    _hostinit) host_init "$@" ;;
    _join) cgroup_join "$1" "$2" ;;
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status ;;
    uri) cmd_uri "$@" ;;
    addr) cmd_addr "$@" ;;
    exec) cmd_exec "$@" ;;
    libvirtd) cmd_libvirtd "$@" ;;
    link) cmd_link "$@" ;;
    guest-create | console | heartbeat | guest-ok)
        # shellcheck source=testbed/guest.sh
        source "$HERE/guest.sh"
        "guest_cmd_${cmd//-/_}" "$@"
        ;;
    help | -h | --help) usage ;;
    *)
        usage >&2
        exit 2
        ;;
    esac
}

main "$@"
