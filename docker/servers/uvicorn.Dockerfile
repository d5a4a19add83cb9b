# Recommended: Uvicorn under tsinit, exec form. One process: the default (group) and -c
# behave the same; with --workers, use -c as for Gunicorn (see uvicorn-workers.Dockerfile).
# -e 143: Uvicorn 0.29 and later (Debian 13's 0.32, forky's 0.53) re-raise the SIGTERM they
# shut down on, so a clean stop ends in 143; tsinit reports it as 0. Uvicorn 0.17-0.28 exit 0
# by themselves, and the flag changes nothing there.
ARG BASE=tsinit-test
FROM ${BASE}
ENTRYPOINT ["/tsinit", "-e", "143", "--"]
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
