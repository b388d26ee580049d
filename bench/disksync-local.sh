#!/usr/bin/env bash
# disksync-local: wire bytes of `arasctl disk-sync` against rsync -B 4096 for
# two synthetic images that share most blocks (a base and a later version).
# Usage: bench/disksync-local.sh [BUILD_DIR] [SIZE_MIB]   (default build, 128)
# Prints one table; everything lives in a temp dir removed at exit.
set -eu  # no pipefail: the generators end pipes with head on purpose

build=${1:-build}
size_mib=${2:-128}
arasctl=$(realpath "$build/src/cli/arasctl")
[[ -x $arasctl ]] || { echo "disksync-local: $arasctl not built" >&2; exit 1; }
command -v rsync >/dev/null || { echo "disksync-local: rsync not installed" >&2; exit 1; }
work=$(mktemp -d /tmp/aras-dsbench-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

mib=$((1024 * 1024))
q=$((size_mib / 8)) # one eighth, in MiB
# Deterministic pseudo-random bytes (openssl's AES-CTR keystream from a fixed key).
rand() { # rand MIB SEED
    openssl enc -aes-128-ctr -nosalt -pass "pass:$2" -pbkdf2 -in /dev/zero 2>/dev/null |
        head -c $(($1 * mib)) || true
}
text() { # compressible, not repetitive at 4 KiB: numbered lines
    seq -f "line %.0f of the guest's log: status ok, value $2" 1 100000000 | head -c $(($1 * mib)) || true
}

# base.img: 3/8 random (binaries), 1/8 text (logs, configs), 1/2 never written.
{ rand $((3 * q)) base; text "$q" base; } > base.img
truncate -s "${size_mib}M" base.img
# new.img: the next version — 2 MiB rewritten, 64 KiB inserted (the rest shifts
# by 16 blocks), q MiB of new text where the disk was empty.
{
    head -c $((q * mib)) base.img
    rand 2 new
    tail -c +$(((q + 2) * mib + 1)) base.img | head -c $((q * mib))
    rand 1 ins | head -c 65536 || true
    tail -c +$(((2 * q + 2) * mib + 1)) base.img | head -c $(((2 * q - 2) * mib))
    text "$q" new
} > new.img
truncate -s "${size_mib}M" new.img

t0=$(date +%s.%N)
index_json=$("$arasctl" disk-index --json --out idx base.img)
t1=$(date +%s.%N)
sync_json=$("$arasctl" disk-sync --json --index idx new.img out.img)
cmp new.img out.img
getj() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(eval('d' + sys.argv[2]))" "$1" "$2"; }

mkdir -p r1 r2
cp --sparse=always base.img r1/new.img
cp --sparse=always base.img r2/new.img
rsync_bytes() { # rsync_bytes DEST [extra options...]: sent + received
    local d=$1
    shift
    rsync --no-whole-file -B 4096 --stats "$@" new.img "$d/new.img" |
        awk '/^Total bytes sent:/ {gsub(",", "", $4); s=$4} /^Total bytes received:/ {gsub(",", "", $4); r=$4} END {print s + r}'
}
rs_plain=$(rsync_bytes r1)
rs_zstd=$(rsync_bytes r2 --compress --compress-choice=zstd)
cmp new.img r1/new.img
cmp new.img r2/new.img

img=$(getj "$sync_json" "['image_bytes']")
wire=$(getj "$sync_json" "['wire_bytes']")
printf '%-34s %14s %9s\n' "method" "wire bytes" "of image"
printf '%-34s %14d %8.2f%%\n' "image (guest-visible)" "$img" 100
printf '%-34s %14d %8.2f%%\n' "arasctl disk-sync (dedup + zstd)" "$wire" "$(echo "100*$wire/$img" | bc -l)"
printf '%-34s %14d %8.2f%%\n' "rsync -B 4096" "$rs_plain" "$(echo "100*$rs_plain/$img" | bc -l)"
printf '%-34s %14d %8.2f%%\n' "rsync -B 4096 --compress zstd" "$rs_zstd" "$(echo "100*$rs_zstd/$img" | bc -l)"
echo
echo "disk-sync: missing $(getj "$sync_json" "['missing_blocks']"), matched $(getj "$sync_json" "['matched_blocks']"), zero $(getj "$sync_json" "['zero_blocks']"), duplicate $(getj "$sync_json" "['duplicate_blocks']") blocks, $(getj "$sync_json" "['seconds']") s"
echo "disk-index: $(echo "$t1 - $t0" | bc -l | cut -c1-5) s; sampled table $(getj "$index_json" "['index']['table_bytes']") B vs full $(getj "$index_json" "['index']['full_table_bytes']") B ($(getj "$index_json" "['index']['sampled_entries']") of $(getj "$index_json" "['index']['blocks']") blocks)"
