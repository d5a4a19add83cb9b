# The slim case: a plain debootstrap minbase (what debian:bookworm-slim and every
# python:*-slim image are), without libatomic1, + tsinit and a shell-form application.
FROM tsinit-minbase
COPY tsinit /tsinit
COPY handler.sh /handler.sh
ENTRYPOINT ["/tsinit", "--"]
CMD ["sleep", "1000"]
