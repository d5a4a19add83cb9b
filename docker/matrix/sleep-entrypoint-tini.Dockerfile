# sleep (no signal handler); entrypoint form; init: tini.
# The entrypoint script ends in exec "$@", so the command replaces it.
FROM tsinit-test
ENTRYPOINT ["/usr/bin/tini-static", "--", "/entrypoint.sh"]
CMD ["sleep", "1000"]
