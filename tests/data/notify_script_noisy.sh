#!/bin/sh
# Test event script: writes 200 KiB to stdout without reading stdin, to check
# the output bound and that an unread stdin does not hang the runner.
head -c 204800 /dev/zero | tr '\0' 'x'
exit 0
