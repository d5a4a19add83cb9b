#!/usr/bin/python3
# The application of the matrix: traps SIGTERM, says so, needs about a second to finish its
# work (no child process, so nothing else can cut it short), then exits 0. Each line is
# flushed at once so `docker logs` shows exactly how far the handler got.
import signal
import sys
import time

def on_term(signum, frame):
    print("app: got SIGTERM, finishing", flush=True)
    time.sleep(1)
    print("app: finished cleanly", flush=True)
    sys.exit(0)

signal.signal(signal.SIGTERM, on_term)
print("app: ready", flush=True)
while True:
    time.sleep(3600)
