# app.py (traps TERM, needs ~1 s, exits 0); exec form; init: none.
FROM tsinit-test
CMD ["/app.py"]
