#!/bin/sh
# Test event script: never finishes on its own (the runner's timeout must
# stop it, child sleep included, since it runs in its own process group).
echo started
sleep 60
echo not reached
