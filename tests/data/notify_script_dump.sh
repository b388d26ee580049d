#!/bin/sh
# Test event script for tests/integ/notify/test_script: prints its environment
# and its stdin to stdout, a line to stderr, and exits 3 for "fired" events.
env | sort
echo "--- stdin ---"
cat
echo
echo "to stderr" >&2
[ "$ARAS_EVENT_KIND" = fired ] && exit 3
exit 0
