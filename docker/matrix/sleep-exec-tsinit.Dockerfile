# sleep (no signal handler); exec form; init: tsinit.
# The CMD becomes the arguments of the ENTRYPOINT: /tsinit -- CMD.
FROM tsinit-test
ENTRYPOINT ["/tsinit", "--"]
CMD ["sleep", "1000"]
