# sleep (no signal handler); entrypoint form; init: tsinit.
# The entrypoint script ends in exec "$@", so the command replaces it.
FROM tsinit-test
ENTRYPOINT ["/tsinit", "--", "/entrypoint.sh"]
CMD ["sleep", "1000"]
