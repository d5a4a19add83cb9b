# Recommended: Gunicorn with Uvicorn workers under tsinit, exec form, -c (signals to the
# master only). The master passes TERM/HUP/TTIN/TTOU/USR1 on to its workers itself; group
# forwarding would also hit the workers directly, and a UvicornWorker dies of a direct HUP.
ARG BASE=tsinit-test
FROM ${BASE}
ENTRYPOINT ["/tsinit", "-c", "--"]
CMD ["gunicorn", "app.main:app", "--workers", "4", "--worker-class", "uvicorn.workers.UvicornWorker", "--graceful-timeout", "30", "--bind", "0.0.0.0:8000"]
