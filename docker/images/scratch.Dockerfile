# FROM scratch: the static tsinit and Debian's static busybox, nothing else (no libc, no
# /bin/sh, no /proc content but what the engine mounts).
FROM scratch
COPY tsinit /tsinit
COPY busybox /bin/busybox
ENTRYPOINT ["/tsinit", "--"]
CMD ["/bin/busybox", "sleep", "1000"]
