#!/usr/bin/python3
# Under `docker run -t`: does this process hold the terminal as its foreground group?
import os

fg = os.tcgetpgrp(0)
print(f"tty: isatty={os.isatty(0)} foreground={fg == os.getpgrp()} pgrp={os.getpgrp()} tpgid={fg}", flush=True)
