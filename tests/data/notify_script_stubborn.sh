#!/bin/sh
# Test event script: ignores SIGTERM, so the runner must escalate to SIGKILL.
trap '' TERM
echo started
while :; do sleep 1; done
