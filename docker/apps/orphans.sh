#!/bin/sh
# A burst of N orphans: each subshell starts a short sleep and exits at once, so the sleep is
# re-parented to PID 1, which must reap it when it ends. Prints `orphans: N` when all started.
n="${1:-1000}"
i=0
while [ "$i" -lt "$n" ]; do
  (sleep 0.5 &)
  i=$((i + 1))
done
echo "orphans: $n"
