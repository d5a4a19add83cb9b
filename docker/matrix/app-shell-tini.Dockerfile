# app.py (traps TERM, needs ~1 s, exits 0); shell form; init: tini.
FROM tsinit-test
ENTRYPOINT ["/usr/bin/tini-static", "--"]
CMD /app.py
