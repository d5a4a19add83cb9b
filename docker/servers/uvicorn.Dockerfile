# Recommended: Uvicorn under tsinit, exec form. One process: the default (group) and -c
# behave the same; with --workers, use -c as for Gunicorn (see uvicorn-workers.Dockerfile).
ARG BASE=tsinit-test
FROM ${BASE}
ENTRYPOINT ["/tsinit", "--"]
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
