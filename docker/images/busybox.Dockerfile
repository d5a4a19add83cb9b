# The busybox image (docker/engine.sh: Debian's static busybox and its applet links) + tsinit.
FROM tsinit-busybox
COPY tsinit /tsinit
ENTRYPOINT ["/tsinit", "--"]
CMD ["sleep", "1000"]
