# sleep (no signal handler); exec form; init: tini.
FROM tsinit-test
ENTRYPOINT ["/usr/bin/tini-static", "--"]
CMD ["sleep", "1000"]
