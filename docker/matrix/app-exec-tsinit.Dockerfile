# app.py (traps TERM, needs ~1 s, exits 0); exec form; init: tsinit.
# The CMD becomes the arguments of the ENTRYPOINT: /tsinit -- CMD.
FROM tsinit-test
ENTRYPOINT ["/tsinit", "--"]
CMD ["/app.py"]
