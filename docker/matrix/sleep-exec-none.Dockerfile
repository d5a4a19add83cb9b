# sleep (no signal handler); exec form; init: none.
FROM tsinit-test
CMD ["sleep", "1000"]
