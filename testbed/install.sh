#!/usr/bin/env bash
# Install what the ARAS testbed needs, from Debian packages only; quiet when all is present.
#
# Usage: testbed/install.sh            (as root)
#
# - libvirt 9.0 (monolithic libvirtd, runs without systemd), libvirt clients;
# - QEMU 10.0 from bookworm-backports, pinned so that only the qemu packages named
#   below (and the seabios they need) come from that suite: Debian 12's QEMU 7.2
#   corrupts TCG guests after live migration. If backports is unreachable, falls
#   back to 7.2 and says so loudly (migration tests then flag corrupted guests);
# - busybox-static, iproute2, iperf3, util-linux (nsenter/unshare), gcc for the
#   guest's static helpers;
# - the guest kernel: linux-image-cloud-amd64 is NOT installed; its .deb is
#   downloaded and unpacked into $ARAS_TESTBED_CACHE/kernel (vmlinuz + modules).
set -euo pipefail

cache=${ARAS_TESTBED_CACHE:-/var/tmp/aras-testbed/cache}
bpo_list=/etc/apt/sources.list.d/aras-bookworm-backports.list
bpo_pin=/etc/apt/preferences.d/aras-bookworm-backports
# seabios too: QEMU 10's qemu-system-x86 needs seabios > 1.16.3 (bookworm has 1.16.2).
qemu_bpo_pkgs=(qemu-system-x86 qemu-system-common qemu-system-data qemu-utils seabios)
plain_pkgs=(libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients busybox-static
    iproute2 iperf3 util-linux gcc libc6-dev procps python3)
apt_opts=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=600)
log=/tmp/aras-testbed-apt.log

say() { echo "testbed/install: $*" >&2; }
die() { say "$*"; exit 1; }

[[ $(id -u) -eq 0 ]] || die "run as root"
export DEBIAN_FRONTEND=noninteractive

installed_version() {
    dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null |
        sed -n 's/^install ok installed //p'
}

updated=0
apt_update() {
    [[ $updated -eq 1 ]] && return 0
    apt-get update -q -o DPkg::Lock::Timeout=600 >>"$log" 2>&1 || {
        say "apt-get update failed; see $log"
        return 1
    }
    updated=1
}

# The backports suite, pinned: everything from it at priority 1 (never chosen on its
# own) except the qemu packages (and seabios), which are preferred at 990.
setup_backports() {
    local want_list want_pin
    want_list='deb http://deb.debian.org/debian bookworm-backports main'
    want_pin="Package: *
Pin: release n=bookworm-backports
Pin-Priority: 1

Package: ${qemu_bpo_pkgs[*]}
Pin: release n=bookworm-backports
Pin-Priority: 990"
    if [[ "$(cat "$bpo_list" 2>/dev/null)" != "$want_list" ||
          "$(cat "$bpo_pin" 2>/dev/null)" != "$want_pin" ]]; then
        echo "$want_list" >"$bpo_list"
        echo "$want_pin" >"$bpo_pin"
        updated=0
        apt_update || true
    fi
}

qemu_is_10() {
    local v
    v=$(installed_version qemu-system-x86)
    [[ "$v" == 1:10.* ]]
}

install_qemu() {
    qemu_is_10 && return 0
    setup_backports
    local cand
    cand=$(apt-cache policy qemu-system-x86 2>/dev/null | sed -n 's/^ *Candidate: //p')
    if [[ "$cand" != 1:10.* ]]; then
        apt_update || true
        cand=$(apt-cache policy qemu-system-x86 2>/dev/null | sed -n 's/^ *Candidate: //p')
    fi
    if [[ "$cand" == 1:10.* ]]; then
        say "installing QEMU $cand from bookworm-backports"
        apt-get install "${apt_opts[@]}" "${qemu_bpo_pkgs[@]}" >>"$log" 2>&1 ||
            die "installing QEMU from backports failed; see $log"
        return 0
    fi
    say "******************************************************************"
    say "WARNING: bookworm-backports offers no QEMU 10 (candidate: ${cand:-none})."
    say "Falling back to Debian 12's QEMU 7.2, which corrupts TCG guests after"
    say "live migration: migration tests will flag such guests as failed."
    say "******************************************************************"
    [[ -n "$(installed_version qemu-system-x86)" ]] && return 0
    apt-get install "${apt_opts[@]}" -t bookworm "${qemu_bpo_pkgs[@]}" >>"$log" 2>&1 ||
        die "installing QEMU failed; see $log"
}

install_plain() {
    local missing=() p
    for p in "${plain_pkgs[@]}"; do
        [[ -n "$(installed_version "$p")" ]] || missing+=("$p")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    say "installing ${missing[*]}"
    if ! apt-get install "${apt_opts[@]}" "${missing[@]}" >>"$log" 2>&1; then
        apt_update
        apt-get install "${apt_opts[@]}" "${missing[@]}" >>"$log" 2>&1 ||
            die "apt-get install failed; see $log"
    fi
}

# Unpack the cloud kernel's .deb (not installed: it must never become a boot kernel
# of this machine) into $cache/kernel/<version>; $cache/kernel/current names it.
fetch_kernel() {
    local dir=$cache/kernel pkg ver deb
    if [[ -f $dir/current ]] && [[ -f $dir/$(cat "$dir/current")/vmlinuz ]]; then
        return 0
    fi
    pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -1)
    if [[ -z "$pkg" ]]; then
        apt_update
        pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
            sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -1)
    fi
    [[ -n "$pkg" ]] || die "cannot resolve linux-image-cloud-amd64 to a kernel package"
    ver=${pkg#linux-image-}
    say "fetching guest kernel $pkg (unpacked into $dir, not installed)"
    mkdir -p "$dir/dl"
    (cd "$dir/dl" && apt-get download -q "$pkg" >>"$log" 2>&1) ||
        die "apt-get download $pkg failed; see $log"
    deb=$(ls -t "$dir"/dl/"${pkg}"_*.deb | head -1)
    rm -rf "$dir/$ver.tmp"
    mkdir -p "$dir/$ver.tmp/root"
    dpkg-deb -x "$deb" "$dir/$ver.tmp/root"
    cp "$dir/$ver.tmp/root/boot/vmlinuz-$ver" "$dir/$ver.tmp/vmlinuz"
    rm -rf "${dir:?}/${ver:?}"
    mv "$dir/$ver.tmp" "$dir/$ver"
    rm -f "$deb"
    echo "$ver" >"$dir/current"
}

# Several testbed instances may start at once: one installer at a time.
mkdir -p "$cache"
exec 9>"$cache/.install.lock"
flock 9
install_plain
install_qemu
fetch_kernel
