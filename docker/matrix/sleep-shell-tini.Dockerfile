# sleep (no signal handler); shell form; init: tini.
FROM tsinit-test
ENTRYPOINT ["/usr/bin/tini-static", "--"]
CMD sleep 1000
