# Recommended: Uvicorn's own process manager (--workers 4) under tsinit -c, exec form: the
# master stops its workers itself on TERM.
ARG BASE=tsinit-test
FROM ${BASE}
ENTRYPOINT ["/tsinit", "-c", "--"]
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000", "--workers", "4"]
