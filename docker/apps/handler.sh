#!/bin/sh
# A shell-form application whose TERM handler does real work after the signal: it starts
# `date` and `sleep 1` (as a deregistration or a flush script would) and exits 0 once they are
# done. The test reads the two timestamps: the handler's sleep ran its whole second or not.
trap 'echo "start $(date +%s.%N)"; sleep 1 && echo "done $(date +%s.%N)"; exit 0' TERM
echo READY
while :; do sleep 100 & wait $!; done
