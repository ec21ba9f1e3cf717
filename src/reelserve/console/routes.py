"""The console's endpoints under `/console` (pages, their forms, and two JSON reads).

Pages need the session cookie (else 303 to the login); the JSON reads answer
401 without it. Every POST checks its form's CSRF token (403 without). With no
`REELSERVE_ADMIN_TOKEN` every path answers 404 with how to turn it on.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from reelserve.console import auth, pages, queries
from reelserve.console.auth import BadCsrf, NotLoggedIn, Session
from reelserve.errors import ReelserveError
from reelserve.security.apikeys import display_prefix, generate_key, hash_key
from reelserve.store.keys import ApiKey, DuplicateKeyName
from reelserve.store.store import Store
from reelserve.tasks.models import Dialect, Status

router = APIRouter(prefix="/console", include_in_schema=False)
STATIC = Path(__file__).parent / "static"
TEMPLATES = Environment(
    loader=PackageLoader("reelserve.console", "templates"),
    autoescape=select_autoescape(default=True),
)
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        "img-src 'self' data: http: https:; media-src 'self' http: https:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
LIMIT_FIELDS = ("rate_limit", "max_concurrent", "max_queued")


def _page(
    request: Request,
    template: str,
    status: int = 200,
    session: Session | None = None,
    **values: Any,
) -> HTMLResponse:
    html = TEMPLATES.get_template(template).render(
        csrf=session.csrf if session else "", page=template.removesuffix(".html"), **values
    )
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _session(request: Request) -> Session:
    if not auth.enabled(request.app.state.settings):
        raise NotLoggedIn()
    return auth.session_of(request)


async def _form(request: Request, session: Session) -> dict[str, str]:
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    auth.check_csrf(session, values.get("csrf"))
    return values


def _back(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303, headers=SECURITY_HEADERS)


async def _key_names(store: Store) -> dict[str, str]:
    return {k.id: k.name for k in await store.keys.list()}


@router.get("")
async def home(request: Request) -> Response:
    _session(request)
    return _back("/console/tasks")


def _next(value: str | None) -> str:
    """Where a login goes on to: a console page, never another site."""
    if value and value.startswith("/console/") and not value.startswith("/console//"):
        return value
    return "/console/tasks"


@router.get("/login")
async def login_form(request: Request, error: str = "", next: str = "") -> Response:
    if not auth.enabled(request.app.state.settings):
        return _page(request, "off.html", 404)
    nonce = auth.login_nonce()
    status = 401 if error else 200
    response = _page(request, "login.html", status, nonce=nonce, error=error, next=_next(next))
    flags = auth.cookie_flags(request.app.state.settings)
    response.set_cookie(auth.LOGIN_COOKIE, nonce, max_age=auth.LOGIN_S, **flags)  # type: ignore[arg-type]
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    settings = request.app.state.settings
    if not auth.enabled(settings):
        return _page(request, "off.html", 404)
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    auth.check_login_nonce(request, values.get("nonce"))
    if not auth.token_matches(settings, values.get("token", "")):
        return await login_form(request, "That is not the admin token.", values.get("next", ""))
    response = _back(_next(values.get("next")))
    flags = auth.cookie_flags(settings)
    response.set_cookie(auth.COOKIE, auth.new_session(settings), max_age=auth.SESSION_S, **flags)  # type: ignore[arg-type]
    response.delete_cookie(auth.LOGIN_COOKIE, path="/console")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    await _form(request, _session(request))
    response = _back("/console/login")
    response.delete_cookie(auth.COOKIE, path="/console")
    return response


@router.get("/tasks")
async def task_list(request: Request) -> Response:
    session = _session(request)
    store = _store(request)
    q = request.query_params
    status = q.get("status", "")
    family = q.get("family", "")
    chosen = queries.TaskFilter(
        status=status if status in {s.value for s in Status} else "",
        family=family if family in {d.value for d in Dialect} else "",
        model=q.get("model", "").strip(),
        key_id=q.get("key", ""),
        since=pages.parse_when(q.get("since")),
        until=pages.parse_when(q.get("until")),
        before=int(q["before"]) if q.get("before", "").isdigit() else None,
    )
    found = await queries.task_page(store, chosen)
    more = len(found) > queries.PAGE
    found = found[: queries.PAGE]
    names = await _key_names(store)
    params = {k: v for k, v in q.items() if k != "before" and v}
    older = "&".join(f"{k}={quote(v)}" for k, v in params.items())
    return _page(
        request,
        "tasks.html",
        session=session,
        rows=[pages.row(t, names) for t in found],
        statuses=[s.value for s in Status],
        families=[d.value for d in Dialect],
        keys=sorted(names.items(), key=lambda kv: kv[1]),
        chosen=q,
        older=(f"?{older}&before={found[-1].seq}" if older else f"?before={found[-1].seq}")
        if more
        else "",
        queue=await queries.queue(store),
    )


@router.get("/tasks/{task_id}")
async def task_page(request: Request, task_id: str) -> Response:
    session = _session(request)
    store = _store(request)
    task = await store.tasks.get(task_id, fresh=True)
    if task is None:
        return _page(request, "missing.html", 404, session=session, what=f"task {task_id}")
    keys = {k.id: k for k in await store.keys.list()}
    history = await store.deliveries.for_task(task.id)
    handoffs = await store.handoffs.of_task(task.id)
    attempts = await store.attempts.of_task(task.id)
    shown = pages.detail(
        task, keys.get(task.api_key_id), request.app.state.links, history, handoffs, attempts
    )
    return _page(request, "task.html", session=session, task=shown)


@router.post("/tasks/{task_id}/redeliver")
async def redeliver(request: Request, task_id: str) -> Response:
    form = await _form(request, _session(request))
    task = await _store(request).tasks.get(task_id, fresh=True)
    if task is None:
        return _back("/console/tasks")
    try:
        await request.app.state.callbacks.redeliver(task, form.get("delivery") or None)
    except ReelserveError as exc:
        return _back(f"/console/tasks/{quote(task_id)}?error={quote(exc.message)}#callbacks")
    return _back(f"/console/tasks/{quote(task_id)}#callbacks")


@router.post("/tasks/{task_id}/cancel")
async def cancel(request: Request, task_id: str) -> Response:
    await _form(request, _session(request))
    store = _store(request)
    task = await store.tasks.get(task_id, fresh=True)
    if task is not None and not task.status.finished:
        service = request.app.state.service
        keys = {k.id: k for k in await store.keys.list()}
        owner = keys.get(task.api_key_id)
        if owner is not None:
            await service.cancel(owner, task.id, tuple(Dialect))
    return _back(f"/console/tasks/{quote(task_id)}")


@router.get("/api/tasks")
async def live_tasks(request: Request) -> Response:
    """Status and progress of the tasks named in `ids` (comma-separated, at most 200)."""
    _session(request)
    ids = [i for i in request.query_params.get("ids", "").split(",") if i][:200]
    found = await queries.tasks_by_id(_store(request), ids)
    return JSONResponse([pages.live(t) for t in found], headers={"Cache-Control": "no-store"})


def _limits(form: dict[str, str]) -> tuple[dict[str, object], str]:
    """The limit and credit fields of a key form; an error message when one is bad."""
    values: dict[str, object] = {}
    for field in LIMIT_FIELDS:
        text = form.get(field, "").strip()
        if text:
            if not text.isdigit():
                return {}, f"{field} must be a whole number (0 is unlimited)"
            values[field] = int(text)
    credits = form.get("credits", "").strip()
    if credits:
        if credits.lower() == "unlimited":
            values["credits"] = None
        elif credits.isdigit():
            values["credits"] = int(credits)
        else:
            return {}, 'credits must be a whole number or "unlimited"'
    return values, ""


async def _keys_page(
    request: Request, session: Session, status: int = 200, **extra: Any
) -> HTMLResponse:
    store = _store(request)
    usage = await queries.key_usage(store)
    keys: list[ApiKey] = await store.keys.list()
    rows = [
        {
            "name": k.name,
            "prefix": k.key_prefix,
            "active": k.active,
            "created": pages.when(k.created_at),
            "rate_limit": k.rate_limit,
            "max_concurrent": k.max_concurrent,
            "max_queued": k.max_queued,
            "credits": "unlimited" if k.credits is None else k.credits,
            "usage": usage.get(k.id, queries.Usage()),
            "id": k.id,
        }
        for k in keys
    ]
    return _page(request, "keys.html", status, session=session, keys=rows, **extra)


@router.get("/keys")
async def key_list(request: Request) -> Response:
    return await _keys_page(request, _session(request))


@router.post("/keys")
async def key_create(request: Request) -> Response:
    session = _session(request)
    form = await _form(request, session)
    name = form.get("name", "").strip()
    values, error = _limits(form)
    if not name or len(name) > 64:
        error = error or "name is required (at most 64 characters)"
    if error:
        return await _keys_page(request, session, 422, error=error)
    secret = generate_key()
    limits = {f: int(str(values[f])) for f in LIMIT_FIELDS if f in values}
    credits = values.get("credits")
    try:
        await _store(request).keys.create(
            name,
            hash_key(secret),
            display_prefix(secret),
            rate_limit=limits.get("rate_limit", 20),
            max_concurrent=limits.get("max_concurrent", 0),
            max_queued=limits.get("max_queued", 0),
            credits=int(str(credits)) if credits is not None else None,
        )
    except DuplicateKeyName:
        return await _keys_page(request, session, 409, error=f"a key named {name} exists")
    # The one time the key is shown: the page is not cached and never rendered again.
    return await _keys_page(request, session, created={"name": name, "key": secret})


@router.post("/keys/{name}/update")
async def key_update(request: Request, name: str) -> Response:
    session = _session(request)
    values, error = _limits(await _form(request, session))
    if error:
        return await _keys_page(request, session, 422, error=error)
    if values:
        await _store(request).keys.update(name, **values)
        request.app.state.key_cache.clear()
    return _back("/console/keys")


@router.post("/keys/{name}/disable")
async def key_disable(request: Request, name: str) -> Response:
    await _form(request, _session(request))
    await _store(request).keys.revoke(name)
    request.app.state.key_cache.clear()
    return _back("/console/keys")


@router.get("/system")
async def system(request: Request) -> Response:
    session = _session(request)
    store = _store(request)
    settings = request.app.state.settings
    registry = request.app.state.registry
    engines = sorted(settings.routed_engines())
    workers = await store.workers.list()
    depth = await queries.queue(store)
    now = time.time()
    oldest = depth.oldest_created_at
    return _page(
        request,
        "system.html",
        session=session,
        engines=[{"name": e, "loaded": registry.loaded(e) is not None} for e in engines],
        routes=[r.text() for r in settings.route_table()],
        workers=[
            {
                "id": w.id,
                "host": w.host,
                "pid": w.pid,
                "engines": ", ".join(w.engines),
                "concurrency": w.concurrency,
                "seen_s": round(now - w.heartbeat_at, 1),
                "tasks": len(w.tasks),
            }
            for w in workers
        ],
        queue=depth,
        oldest_s=round(now - oldest, 1) if oldest is not None else None,
    )


@router.get("/static/{name}")
async def static(name: str) -> Response:
    path = STATIC / name
    if "/" in name or not path.is_file():
        return Response(status_code=404)
    return FileResponse(path, headers={"Cache-Control": "max-age=300"})


def install(app: FastAPI) -> None:
    """The router and the two answers for requests without a session or a CSRF token."""
    app.include_router(router)

    async def not_logged_in(request: Request, exc: Exception) -> Response:
        if not auth.enabled(request.app.state.settings):
            return _page(request, "off.html", 404)
        if request.url.path.startswith("/console/api/"):
            return JSONResponse({"error": "log in to the console first"}, status_code=401)
        target = quote(request.url.path)
        return RedirectResponse(f"/console/login?next={target}", status_code=303)

    async def bad_csrf(request: Request, exc: Exception) -> Response:
        return _page(request, "csrf.html", 403)

    app.add_exception_handler(NotLoggedIn, not_logged_in)
    app.add_exception_handler(BadCsrf, bad_csrf)
