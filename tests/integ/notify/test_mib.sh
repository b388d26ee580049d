#!/bin/sh
# test_mib: net-snmp's snmptranslate accepts mibs/ARAS-MIB.txt and maps every
# name to the numeric OID the C code sends (src/notify/notify.h).
# Usage: test_mib.sh SOURCE_DIR
set -eu
src=${1:?usage: test_mib.sh SOURCE_DIR}
command -v snmptranslate >/dev/null || { echo "SKIP: snmptranslate missing"; exit 77; }
tmp=$(mktemp -d /tmp/aras-mib-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP PIPE
cd "$src"
export SNMPCONFPATH="$tmp" SNMP_PERSISTENT_DIR="$tmp"  # no system or user snmp.conf
unset MIBS MIBDIRS 2>/dev/null || true
fail=0

# 1. The command from the issue: stock MIB path plus ours, stock modules plus ours.
snmptranslate -M +:mibs -m +ARAS-MIB -Tp ARAS-MIB::arasMIB >"$tmp/tree" 2>"$tmp/err1" ||
    { echo "FAIL: snmptranslate -M +:mibs -m +ARAS-MIB -Tp exited $?"; fail=1; }
for n in arasSlaFired arasSlaCleared arasSlaGone arasEvent arasEventRule arasEventObject \
         arasEventKind arasEventSeverity arasEventMetric arasEventValue arasEventThreshold \
         arasEventEpisode arasEventMessage arasEventId arasEventTime arasEventObjectKind; do
    grep -q "$n(" "$tmp/tree" || { echo "FAIL: $n missing from the -Tp tree"; fail=1; }
done
# The stock modules Debian cannot find may complain; ours must not.
if grep -E 'ARAS-MIB|SNMPv2-(SMI|TC|CONF)\.txt' "$tmp/err1"; then
    echo "FAIL: snmptranslate reported problems in our MIB files"; fail=1
fi

# 2. Only our directory and module: not a single warning.
snmptranslate -M mibs -m ARAS-MIB -Tp ARAS-MIB::arasMIB >/dev/null 2>"$tmp/err2" ||
    { echo "FAIL: snmptranslate -M mibs -m ARAS-MIB -Tp exited $?"; fail=1; }
if [ -s "$tmp/err2" ]; then
    echo "FAIL: warnings loading ARAS-MIB alone:"; cat "$tmp/err2"; fail=1
fi

# 3. Names -> numbers, as sent by src/notify/snmp.c.
check() {
    got=$(snmptranslate -M mibs -m ARAS-MIB -On "ARAS-MIB::$1" 2>&1) || true
    [ "$got" = "$2" ] || { echo "FAIL: $1 is $got, want $2"; fail=1; }
}
e=.1.3.6.1.4.1.99999
check arasSlaFired $e.0.1
check arasSlaCleared $e.0.2
check arasSlaGone $e.0.3
check arasEvent $e.0.4
i=1
for n in arasEventId arasEventTime arasEventKind arasEventSeverity arasEventRule \
         arasEventObject arasEventObjectKind arasEventMetric arasEventValue \
         arasEventThreshold arasEventEpisode arasEventMessage; do
    check "$n" "$e.1.1.$i"
    i=$((i + 1))
done
# The header's constants are the same numbers.
grep -q '#define NOTIFY_OID_ARAS *"1.3.6.1.4.1.99999"' src/notify/notify.h ||
    { echo "FAIL: NOTIFY_OID_ARAS in notify.h differs from the MIB"; fail=1; }

[ $fail -eq 0 ] && echo "ARAS-MIB OK"
exit $fail
