#!/usr/bin/python3
# The application of the matrix: traps SIGTERM, says so, needs about a second to finish its
# work (no child process, so nothing else can cut it short), then exits 0. Each line is
# flushed at once so `docker logs` shows exactly how far the handler got, and the last one
# says how long the handler's work took.
import signal
import sys
import time

def on_term(signum, frame):
    start = time.monotonic()
    print("app: got SIGTERM, finishing", flush=True)
    time.sleep(1)
    # The time the work took: a test asserts it is the whole second, not just that we got here.
    print(f"app: finished cleanly after {time.monotonic() - start:.3f} s", flush=True)
    sys.exit(0)

signal.signal(signal.SIGTERM, on_term)
print("app: ready", flush=True)
while True:
    time.sleep(3600)
