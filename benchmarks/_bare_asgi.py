"""The baseline for ingest throughput: uvicorn + Starlette, reading the body and discarding it."""

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def discard(request):
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
    return JSONResponse({"size": size})


app = Starlette(routes=[Route("/api/upload", discard, methods=["POST"]), Route("/", lambda r: JSONResponse({}))])
