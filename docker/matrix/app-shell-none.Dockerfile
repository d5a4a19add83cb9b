# app.py (traps TERM, needs ~1 s, exits 0); shell form; init: none.
# Docker runs /bin/sh -c "CMD" as PID 1; dash does not exec the command.
FROM tsinit-test
CMD /app.py
