# app.py (traps TERM, needs ~1 s, exits 0); entrypoint form; init: tsinit.
# The entrypoint script ends in exec "$@", so the command replaces it.
FROM tsinit-test
ENTRYPOINT ["/tsinit", "--", "/entrypoint.sh"]
CMD ["/app.py"]
