#!/usr/bin/python3
# The application of the matrix: traps SIGTERM, says so, and runs its clean-up as a child
# process, as real handlers do (pg_ctl stop, a deregistration curl): `sleep 1`, born after the
# TERM was sent. It reports how that child ended and how long it ran, then, only if the
# clean-up ran to its end, how long the whole handler took, and exits 0. Each line is flushed
# at once so the logs show exactly how far the handler got; an init that signals the clean-up
# cuts it short, and the lines say so.
import signal
import subprocess
import sys
import time

def on_term(signum, frame):
    start = time.monotonic()
    print("app: got SIGTERM, finishing", flush=True)
    code = subprocess.run(["sleep", "1"]).returncode
    print(f"app: clean-up (sleep 1) exited {code} after {time.monotonic() - start:.2f} s", flush=True)
    if code == 0:
        # The time the work took: a test asserts it is the whole second, not just that we got here.
        print(f"app: finished cleanly after {time.monotonic() - start:.3f} s", flush=True)
    sys.exit(0)

signal.signal(signal.SIGTERM, on_term)
print("app: ready", flush=True)
while True:
    time.sleep(3600)
