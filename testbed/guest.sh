# shellcheck shell=bash
# testbed/guest.sh: the guest commands of testbed.sh (sourced by it, not run on its own):
# guest-create, console, heartbeat, guest-ok.
#
# Guests are transient libvirt domains (type qemu = TCG) booting Debian's cloud kernel
# with the initramfs of testbed/guest/build.sh. The serial console goes to
# /var/lib/libvirt/console/NAME.log inside each host (per host: output before a migration
# is on the source, after it on the destination); /init prints "ARAS-HB <n> ..." there
# every second.

GUEST_CONSOLE_DIR=/var/lib/libvirt/console
GUEST_BAD='Oops|BUG:|Kernel panic|general protection fault|invalid opcode:|double fault'

guest_uri() { echo "qemu+tcp://$LAN.$1/system"; }

# "hI STATE" for every host where NAME is defined (running, paused, ...).
guest_where() {
    local name=$1 i st
    for i in $(hosts_up); do
        st=$(virsh -q -c "$(guest_uri "$i")" domstate "$name" 2>/dev/null | head -1) || continue
        [[ -n $st ]] && echo "h$i $st"
    done
    return 0
}

# The host index that runs NAME now, or (if none) the one whose console was written last.
guest_host() {
    local name=$1 w f best="" bt=0 t i
    # (awk reads all input: an early exit would SIGPIPE guest_where under pipefail)
    w=$(guest_where "$name" | awk '$2 == "running" && !found { print $1; found = 1 }')
    if [[ -n $w ]]; then
        echo "${w#h}"
        return 0
    fi
    for i in $(hosts_up); do
        f=$RUN/hosts/h$i/var/lib/libvirt/console/$name.log
        [[ -f $f ]] || continue
        t=$(stat -c %Y "$f")
        ((t >= bt)) && bt=$t && best=$i
    done
    [[ -n $best ]] || die "no guest '$name' on any host"
    echo "$best"
}

guest_console_path() { echo "$RUN/hosts/h$1/var/lib/libvirt/console/$2.log"; }

# Last heartbeat counter in console file $1 (-1 if none yet).
guest_counter() {
    local c
    c=$(grep -a '^ARAS-HB ' "$1" 2>/dev/null | tail -1 | awk '{ print $2 }')
    echo "${c:--1}"
}

guest_xml() {
    local name=$1 mem=$2 vcpus=$3 maxv=$4 maxmem=$5 slots=$6 wl=$7 ip=$8 disk=$9 gdir=${10}
    local cur="" cpu
    ((maxv > vcpus)) && cur=" current='$vcpus'"
    cpu="<model fallback='forbid'>qemu64</model>"
    [[ -n $slots ]] &&
        cpu="$cpu<numa><cell id='0' cpus='0-$((maxv - 1))' memory='$mem' unit='MiB'/></numa>"
    cat <<EOF
<domain type='qemu'>
  <name>$name</name>
  $([[ -n $slots ]] && echo "<maxMemory slots='$slots' unit='MiB'>$maxmem</maxMemory>")
  <memory unit='MiB'>$mem</memory>
  <currentMemory unit='MiB'>$mem</currentMemory>
  <vcpu placement='static'$cur>$maxv</vcpu>
  <cpu mode='custom' match='exact' check='none'>$cpu</cpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$gdir/vmlinuz</kernel>
    <initrd>$gdir/initramfs.cpio.gz</initrd>
    <cmdline>console=ttyS0 loglevel=5 panic=0 memhp_default_state=online aras.workload=$wl aras.ip=$ip aras.gw=$GNET.1</cmdline>
  </os>
  <features><acpi/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    $([[ -n $disk ]] && echo "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/var/lib/libvirt/images/$name.qcow2'/><target dev='vda' bus='virtio'/></disk>")
    <interface type='bridge'><source bridge='gbr0'/><model type='virtio'/></interface>
    <serial type='file'><source path='$GUEST_CONSOLE_DIR/$name.log' append='on'/><target port='0'/></serial>
    <memballoon model='virtio' autodeflate='on'><stats period='2'/></memballoon>
  </devices>
</domain>
EOF
}

guest_cmd_guest_create() {
    [[ $# -ge 2 ]] || die "usage: guest-create HOST NAME [options] (see help)"
    local i name=$2 mem=256 vcpus=1 maxv="" maxmem="" slots="" wl=idle disk="" wait=""
    i=$(host_index "$1")
    shift 2
    [[ $name =~ ^[A-Za-z0-9_.-]+$ ]] || die "bad guest name '$name'"
    while [[ $# -gt 0 ]]; do
        [[ $# -ge 2 ]] || die "option $1 needs a value"
        case $1 in
        --mem) mem=$2 ;;
        --vcpus) vcpus=$2 ;;
        --max-vcpus) maxv=$2 ;;
        --max-mem) maxmem=$2 ;;
        --slots) slots=$2 ;;
        --workload) wl=$2 ;;
        --disk) disk=$2 ;;
        --wait) wait=$2 ;;
        *) die "unknown option '$1'" ;;
        esac
        shift 2
    done
    maxv=${maxv:-$vcpus}
    for v in "$mem" "$vcpus" "$maxv" ${maxmem:+"$maxmem"} ${slots:+"$slots"} ${disk:+"$disk"} ${wait:+"$wait"}; do
        [[ $v =~ ^[0-9]+$ ]] || die "not a number: '$v'"
    done
    ((maxv >= vcpus)) || die "--max-vcpus $maxv < --vcpus $vcpus"
    [[ -n $slots && -z $maxmem ]] && maxmem=$((mem * 2))
    [[ -n $maxmem && -z $slots ]] && slots=4
    [[ $wl =~ ^(idle|cpu(:[0-9]+)?|mem:[0-9]+(:[0-9]+)?|disk(:[0-9]+)?|net(:[0-9]+)?)$ ]] ||
        die "bad workload '$wl' (cpu[:PROCS] mem:MBPS[:MiB] disk[:MBPS] net[:MBPS] idle)"
    [[ $wl == disk* && -z $disk ]] && disk=64
    [[ -z $(guest_where "$name") ]] || die "guest '$name' exists: $(guest_where "$name" | xargs)"

    local gdir ip uri f t0
    gdir=$("$HERE/guest/build.sh")
    ip=$(
        exec 9>"$RUN/guests/.lock"
        flock 9
        n=$(cat "$RUN/guests/next-ip" 2>/dev/null || echo 10)
        ((n <= 250)) || die "out of guest addresses"
        echo $((n + 1)) >"$RUN/guests/next-ip"
        echo "$GNET.$n"
    )
    uri=$(guest_uri "$i")
    for f in "$RUN"/hosts/h*/var/lib/libvirt/console/"$name.log"; do rm -f "$f"; done
    if [[ -n $disk ]]; then
        virsh -q -c "$uri" vol-delete --pool default "$name.qcow2" >/dev/null 2>&1 || true
        virsh -q -c "$uri" vol-create-as default "$name.qcow2" "${disk}M" --format qcow2 >/dev/null
    fi
    guest_xml "$name" "$mem" "$vcpus" "$maxv" "$maxmem" "$slots" "$wl" "$ip" "$disk" "$gdir" \
        >"$RUN/guests/$name.xml"
    t0=$(now_ms)
    virsh -q -c "$uri" create "$RUN/guests/$name.xml" >/dev/null ||
        die "virsh create $name on h$i failed"
    [[ -n $wait ]] || return 0
    f=$(guest_console_path "$i" "$name")
    while (($(now_ms) - t0 < wait * 1000)); do
        if [[ $(guest_counter "$f") -ge 0 ]]; then
            say "guest $name on h$i: first heartbeat after $(($(now_ms) - t0)) ms"
            return 0
        fi
        sleep 0.2
    done
    die "guest $name on h$i: no heartbeat within $wait s; console: $(tail -3 "$f" 2>/dev/null)"
}

guest_cmd_console() {
    [[ $# -eq 1 ]] || die "usage: console NAME"
    local i
    i=$(guest_host "$1")
    guest_console_path "$i" "$1"
}

guest_cmd_heartbeat() {
    [[ $# -eq 1 ]] || die "usage: heartbeat NAME"
    local i f line age
    i=$(guest_host "$1")
    f=$(guest_console_path "$i" "$1")
    line=$(grep -a '^ARAS-HB ' "$f" 2>/dev/null | tail -1)
    [[ -n $line ]] || die "guest $1 on h$i: no heartbeat yet"
    age=$(($(date +%s) - $(stat -c %Y "$f")))
    echo "${line#ARAS-HB } host=h$i age_s=$((age < 0 ? 0 : age))"
}

guest_cmd_guest_ok() {
    [[ $# -eq 1 ]] || die "usage: guest-ok NAME"
    local name=$1 where nrun i f c1 c2 t bad
    where=$(guest_where "$name")
    nrun=$(echo "$where" | grep -c . || true)
    if [[ $nrun -ne 1 ]] || [[ $(echo "$where" | awk '{ print $2 }') != running ]]; then
        echo "guest-ok: $name: FAIL: expected one running copy, found: ${where:-none}" | xargs
        return 1
    fi
    i=$(echo "$where" | awk '{ print substr($1, 2) }')
    bad=$(grep -a -h -E "$GUEST_BAD" "$RUN"/hosts/h*/var/lib/libvirt/console/"$name.log" 2>/dev/null |
        head -3 || true)
    if [[ -n $bad ]]; then
        echo "guest-ok: $name: FAIL: console shows a kernel error: $bad"
        return 1
    fi
    f=$(guest_console_path "$i" "$name")
    c1=$(guest_counter "$f")
    for t in $(seq 40); do
        sleep 0.25
        c2=$(guest_counter "$f")
        ((c2 > c1)) && break
    done
    if ((c2 <= c1)); then
        echo "guest-ok: $name: FAIL: heartbeat on h$i stuck at $c1 for 10 s; console tail: $(tail -2 "$f" | tr '\n' ' ')"
        return 1
    fi
    bad=$(grep -a -h -E "$GUEST_BAD" "$f" | head -3 || true)
    if [[ -n $bad ]]; then
        echo "guest-ok: $name: FAIL: console shows a kernel error: $bad"
        return 1
    fi
    echo "guest-ok: $name on h$i: heartbeat $c1 -> $c2, console clean"
}
