# The FastAPI app the server tests run under uvicorn and gunicorn: a quick endpoint to see
# which worker answers, and a slow one (2 s) that is in flight when the container is stopped
# or a signal arrives. It logs with its pid so the test can tell the workers apart.
import asyncio
import os

from fastapi import FastAPI

app = FastAPI()


@app.get("/pid")
async def pid():
    return {"pid": os.getpid()}


@app.get("/slow")
async def slow():
    print(f"slow: started in {os.getpid()}", flush=True)
    await asyncio.sleep(2)
    print(f"slow: done in {os.getpid()}", flush=True)
    return {"slow": "done", "pid": os.getpid()}
