"""A FastAPI app behind Mangum: what a typical Python web function costs."""

from fastapi import FastAPI
from mangum import Mangum

app = FastAPI()


@app.get("/fastapi")
async def hello() -> dict[str, str]:
    return {"message": "ok"}


handler = Mangum(app, lifespan="off")
