# sleep (no signal handler); entrypoint form; init: none.
# The entrypoint script ends in exec "$@", so the command replaces it.
FROM tsinit-test
ENTRYPOINT ["/entrypoint.sh"]
CMD ["sleep", "1000"]
