#!/usr/bin/env bash
# Build the testbed guest: Debian's cloud kernel (unpacked by testbed/install.sh) and a
# busybox-static initramfs carrying /init and the arasload workload program.
#
# Usage: testbed/guest/build.sh     prints the output directory (holding vmlinuz and
#                                    initramfs.cpio.gz) on stdout
# Output is cached under $ARAS_TESTBED_CACHE/guest/<hash of the inputs>; it is rebuilt
# only when the kernel, busybox, /init, arasload.c or this script change.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${ARAS_TESTBED_CACHE:-${ARAS_TESTBED_DIR:-/var/tmp/aras-testbed}/cache}
modules=(failover net_failover virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev
    virtio_pci virtio_net virtio_blk virtio_balloon virtio_console)

die() { echo "testbed/guest/build: $*" >&2; exit 1; }

[[ -f $cache/kernel/current ]] || die "no guest kernel in $cache/kernel: run testbed/install.sh"
kver=$(cat "$cache/kernel/current")
kdir=$cache/kernel/$kver
[[ -f $kdir/vmlinuz ]] || die "$kdir/vmlinuz missing: run testbed/install.sh"
bb=/bin/busybox
# (grep without -q: reading all input spares busybox a SIGPIPE under pipefail)
[[ -x $bb ]] && $bb --list 2>/dev/null | grep -x cpio >/dev/null || die "busybox-static missing"

hash=$( { echo "$kver ${modules[*]}"; sha256sum "$bb" "$here/init" "$here/arasload.c" \
    "${BASH_SOURCE[0]}"; } | sha256sum | cut -c1-16)
out=$cache/guest/$hash
if [[ -f $out/initramfs.cpio.gz && -f $out/vmlinuz ]]; then
    echo "$out"
    exit 0
fi

tmp=$(mktemp -d "$cache/guest-build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,lib/modules}
cp "$bb" "$root/bin/busybox"
cp "$here/init" "$root/init"
chmod 755 "$root/init"
gcc -static -O2 -Wall -Wextra -Werror -o "$root/bin/arasload" "$here/arasload.c"
strip "$root/bin/arasload"
mdir=$kdir/root/lib/modules/$kver
: >"$root/lib/modules/order"
for m in "${modules[@]}"; do
    f=$(find "$mdir/kernel" -name "$m.ko" -print -quit)
    [[ -n "$f" ]] || die "module $m.ko not in $mdir"
    cp "$f" "$root/lib/modules/"
    echo "$m" >>"$root/lib/modules/order"
done
(cd "$root" && find . | LC_ALL=C sort | $bb cpio -o -H newc 2>/dev/null) | gzip -9 >"$tmp/initramfs.cpio.gz"
cp "$kdir/vmlinuz" "$tmp/vmlinuz"
mkdir -p "$cache/guest"
rm -rf "$out"
mkdir "$out"
mv "$tmp/initramfs.cpio.gz" "$tmp/vmlinuz" "$out/"
echo "$out"
