#!/usr/bin/python3
# Reads /proc inside the container: prints `procs: total=N zombies=Z sleeps=S` where Z counts
# state Z (dead, not yet reaped by their parent) and S the orphans of orphans.sh still running
# (`sleep 0.5`).
import os

total = zombies = sleeps = 0
for d in os.listdir("/proc"):
    if not d.isdigit():
        continue
    try:
        with open(f"/proc/{d}/stat") as f:
            stat = f.read()
    except OSError:
        continue  # ended while we looked
    state = stat[stat.rindex(")") + 2]
    total += 1
    zombies += state == "Z"
    try:
        with open(f"/proc/{d}/cmdline", "rb") as f:
            sleeps += f.read() == b"sleep\x000.5\x00"
    except OSError:
        pass
print(f"procs: total={total} zombies={zombies} sleeps={sleeps}", flush=True)
