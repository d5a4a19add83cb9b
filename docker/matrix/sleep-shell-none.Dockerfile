# sleep (no signal handler); shell form; init: none.
# Docker runs /bin/sh -c "CMD" as PID 1; dash does not exec the command.
FROM tsinit-test
CMD sleep 1000
