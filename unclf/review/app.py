"""The review web app: pages for people, a JSON API for platforms, over one ReviewSession.

Routes only translate between HTTP and the session. Safety lives here: only the collection's
documents are served (looked up by id, never opened by a path from the URL), writes whose
``Origin`` is another site are refused, requests larger than ``max_upload`` bytes are refused
before they are read whole, and the ``Host`` must be this machine's (no DNS rebinding).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from unclf.formats import UnreadableFileError
from unclf.review.ordering import IN_WORDS
from unclf.review.session import ReviewSession, score_in_words

__all__ = ["create_app"]

_HERE = Path(__file__).parent
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
MAX_UPLOAD = 20 * 1024 * 1024
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
# Files a platform may post to /api/predict, by content type.
FILE_TYPES = {
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "text/html": ".html",
}
EXPORT_COLUMNS = ("document", "label", "paragraph", "number", "page", "text", "score", "reviewed")


class LabelIn(BaseModel):
    id: str = Field(description="the document's id in the collection")
    targets: list[int] | None = Field(
        None,
        description="positions (from 0) of the paragraphs that are the label's targets, all "
        "of them; empty: none here. Or, instead, add and remove",
    )
    add: list[int] = Field([], description="positions of paragraphs that are targets too")
    remove: list[int] = Field([], description="positions of paragraphs that are not targets")


class RejectIn(BaseModel):
    id: str = Field(description="the document's id in the collection")
    paragraph: int = Field(description="position (from 0) of the paragraph that is not a target")


class PredictIn(BaseModel):
    text: str = Field(description="a document's text")
    top_k: int = Field(5, ge=0, description="paragraphs returned, best first (0: all)")


class _Guard:
    """Refuses cross-site writes, oversized bodies and foreign Host headers (pure ASGI, so
    a body is counted as it arrives, never read whole first)."""

    def __init__(self, app: ASGIApp, max_upload: int, hosts: Sequence[str]) -> None:
        self.app, self.max_upload, self.hosts = app, max_upload, set(hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if host.rsplit(":", 1)[0] not in self.hosts:
            await _refuse(send, 421, f"refused: this server answers only to {sorted(self.hosts)}")
            return
        if scope["method"] in _UNSAFE:
            origin = headers.get("origin")
            own = f"{scope.get('scheme', 'http')}://{host}"
            if (origin is not None and origin != own) or (
                origin is None and headers.get("sec-fetch-site") in ("cross-site", "same-site")
            ):
                await _refuse(send, 403, f"refused: a write from another site ({origin})")
                return
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_upload:
            await _refuse(send, 413, f"refused: larger than {self.max_upload} bytes")
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_upload:
                raise HTTPException(413, f"refused: larger than {self.max_upload} bytes")
            return message

        await self.app(scope, counted, send)


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"detail": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def create_app(
    session: ReviewSession,
    *,
    max_upload: int = MAX_UPLOAD,
    hosts: Sequence[str] = LOCAL_HOSTS,
    rank_on_start: bool = True,
) -> FastAPI:
    """The app over ``session``; ``hosts``: the names this server may be reached by."""

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        if rank_on_start:
            session.rank_collection()
        yield
        session.close()
        session.store.tidy()

    app = FastAPI(
        title="unclf review",
        description="Label, review and correct target paragraphs; retrain; export.",
        docs_url=None,  # the interactive docs load scripts from a CDN; the description is served
        redoc_url=None,
        lifespan=lifespan,
    )
    app.add_middleware(_Guard, max_upload=max_upload, hosts=hosts)
    app.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")
    templates = Jinja2Templates(directory=_HERE / "templates")

    def document_or_404(doc_id: str) -> str:
        if doc_id not in session.documents:
            raise HTTPException(404, f"no document {doc_id!r} in this collection")
        return doc_id

    def page(request: Request, name: str, **context) -> HTMLResponse:
        context.update(label=session.label, has_model=session.model is not None)
        return templates.TemplateResponse(request, name, context)

    # -- pages ---------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def list_page(request: Request) -> HTMLResponse:
        rows = session.order()
        return page(
            request,
            "list.html",
            rows=rows,
            answered=sum(r["answered"] for r in rows),
            ranked=session.ranked_count(),
            total=len(rows),
            order=IN_WORDS[session.order_name],
        )

    @app.get("/documents/{doc_id:path}", response_class=HTMLResponse, include_in_schema=False)
    def document_page(request: Request, doc_id: str) -> HTMLResponse:
        view = session.view(document_or_404(doc_id))
        order = [r["id"] for r in session.order() if not r["answered"] and r["id"] != doc_id]
        return page(
            request,
            "document.html",
            view=view,
            data=view.to_dict(),
            next_id=order[0] if order else None,
        )

    @app.get("/training", response_class=HTMLResponse, include_in_schema=False)
    def training_page(request: Request) -> HTMLResponse:
        return page(
            request,
            "training.html",
            state={**session.training.to_dict(), "has_model": session.model is not None},
            answered=len(session.store.answered(session.label)),
        )

    @app.get("/export.csv", tags=["export"], summary="the suggestions of the whole collection")
    def export() -> Response:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS)
        writer.writeheader()
        for row in session.export_rows():
            writer.writerow({**row, "reviewed": "yes" if row["reviewed"] else "no"})
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": 'attachment; filename="suggestions.csv"'},
        )

    # -- API -----------------------------------------------------------------------------

    @app.get("/api/documents", tags=["documents"], summary="documents in review order")
    def api_documents() -> list[dict]:
        return session.order()

    @app.get("/api/documents/{doc_id:path}", tags=["documents"], summary="paragraphs with scores")
    def api_document(doc_id: str) -> dict:
        return session.view(document_or_404(doc_id)).to_dict()

    @app.get(
        "/api/page",
        tags=["documents"],
        summary="a page of a PDF of the collection, as a PNG image",
        response_class=Response,
        responses={200: {"content": {"image/png": {}}}},
    )
    def api_page(id: str, page: int) -> Response:
        try:
            image = session.page_image(document_or_404(id), page)
        except LookupError as e:
            raise HTTPException(404, str(e)) from None
        return Response(image, media_type="image/png", headers={"cache-control": "max-age=3600"})

    @app.get("/api/why", tags=["documents"], summary="what weighed most for a paragraph")
    def api_why(id: str, paragraph: int) -> dict:
        try:
            why = session.explain(document_or_404(id), paragraph)
        except IndexError as e:
            raise HTTPException(404, str(e)) from None
        if why is None:
            raise HTTPException(409, "no model yet: label some documents and retrain")
        return {
            "words": [{"words": w, "weight": x} for w, x in why.words],
            "features": [{"feature": f, "weight": x} for f, x in why.features],
        }

    @app.post("/api/labels", tags=["labels"], summary="answer a document (written at once)")
    def api_label(answer: LabelIn) -> dict:
        doc_id = document_or_404(answer.id)
        changes = answer.add or answer.remove
        if (answer.targets is None) == (not changes):
            raise HTTPException(422, "give targets (all of them), or add and remove")
        try:
            if answer.targets is not None:
                return session.answer(doc_id, answer.targets)
            return session.mark(doc_id, answer.add, answer.remove)
        except IndexError as e:
            raise HTTPException(422, str(e)) from None

    @app.post(
        "/api/rejections",
        tags=["labels"],
        summary="not this one: a paragraph is not a target (written at once)",
    )
    def api_reject(rejection: RejectIn) -> dict:
        try:
            return session.reject(document_or_404(rejection.id), rejection.paragraph)
        except IndexError as e:
            raise HTTPException(422, str(e)) from None

    @app.post(
        "/api/train", tags=["training"], summary="retrain from the answers, in the background"
    )
    def api_train() -> JSONResponse:
        return JSONResponse(session.start_training().to_dict(), status_code=202)

    @app.get("/api/train", tags=["training"], summary="the retraining run's progress and figures")
    def api_train_state() -> dict:
        return session.training.to_dict()

    @app.post("/api/train/use", tags=["training"], summary="replace the model by the retrained one")
    def api_train_use() -> dict:
        try:
            path = session.use_new_model()
        except ValueError as e:
            raise HTTPException(409, str(e)) from None
        except OSError as e:  # the retrained model still waits: use it again, or keep
            where = f"{e.filename}: " if e.filename else ""
            raise HTTPException(
                507, f"the model could not be saved: {where}{e.strerror or e}"
            ) from None
        return {"model": str(path), **session.training.to_dict()}

    @app.post("/api/train/keep", tags=["training"], summary="keep the current model")
    def api_train_keep() -> dict:
        session.keep_current_model()
        return session.training.to_dict()

    @app.post(
        "/api/predict",
        tags=["predict"],
        summary="rank the paragraphs of a posted text (JSON {text}), a UTF-8 text file, or a "
        "PDF, Word or HTML file (body, with its content type); a PDF's paragraphs carry their "
        "page and boxes",
    )
    async def api_predict(request: Request) -> dict:
        if session.model is None:
            raise HTTPException(409, "no model yet: label some documents and retrain")
        body = await request.body()
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        # Reading a file and ranking wait on PDFium and on the model: in a worker thread, so
        # that the server answers other requests meanwhile.
        return await run_in_threadpool(_predicted, body, content_type)

    def _predicted(body: bytes, content_type: str) -> dict:
        layout = None
        if content_type == "application/json":
            try:
                posted = PredictIn.model_validate_json(body)
            except ValidationError as e:
                problem = e.errors()[0]
                where = ".".join(map(str, problem["loc"])) or "body"
                raise HTTPException(422, f"{where}: {problem['msg']}") from None
            text, top_k = posted.text, posted.top_k
        elif content_type in FILE_TYPES or body.startswith(b"%PDF-"):
            try:
                text, layout = session.read_posted_file(body, FILE_TYPES.get(content_type, ".pdf"))
            except (UnreadableFileError, OSError) as e:
                raise HTTPException(422, f"the posted file cannot be read: {e}") from None
            top_k = 5
        else:
            try:
                text = body.decode("utf-8").removeprefix("\ufeff")
            except UnicodeDecodeError:
                raise HTTPException(415, "expected a UTF-8 text file") from None
            top_k = 5
        if not text.strip():
            raise HTTPException(422, "the text is empty")
        ranked = session.predict(text)
        keep = ranked.paragraphs if top_k == 0 else ranked.paragraphs[:top_k]
        on_pages = layout is not None and layout.has_pages
        return {
            "paragraphs": [
                {
                    **s.paragraph.to_dict(),
                    **(
                        {
                            "page": layout.page(s.paragraph.start, s.paragraph.end),
                            "boxes": layout.boxes(s.paragraph.start, s.paragraph.end),
                        }
                        if on_pages
                        else {}
                    ),
                    "score": s.score,
                    "is_target": s.is_target,
                    "score_in_words": score_in_words(s.score, session.model.abstain_threshold_),
                }
                for s in keep
            ]
        }

    return app
