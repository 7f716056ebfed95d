"""``/``: the chat page; ``/review``: the human review page; their scripts and stylesheets
(package data, no build step)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse
from starlette.exceptions import HTTPException

router = APIRouter(include_in_schema=False)
WEB = Path(__file__).resolve().parent
ASSETS = {
    "app.js": "text/javascript",
    "style.css": "text/css",
    "review.js": "text/javascript",
    "review.css": "text/css",
}


@router.get("/", response_class=HTMLResponse)
async def index() -> FileResponse:
    return FileResponse(WEB / "index.html", media_type="text/html")


@router.get("/review", response_class=HTMLResponse)
async def review() -> FileResponse:
    """Raters score answers here; the API it calls needs the admin scope."""
    return FileResponse(WEB / "review.html", media_type="text/html")


@router.get("/static/{name}")
async def asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise HTTPException(404, f"no static file {name!r}")
    return FileResponse(WEB / name, media_type=ASSETS[name])
