"""The desk's Starlette application: session middleware, routes, static files.

`hoering web` serves it with uvicorn's factory (`web.app:app_from_environment`), so the
CLI starts it without importing the web package.
"""

from __future__ import annotations

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from config.settings import Settings
from services import runtime
from web import actions, pages
from web.security import UserDirectory, session_secret
from web.view import HERE


def create_app(settings: Settings, engine: Engine) -> Starlette:
    routes = [
        Route("/login", pages.login_page, methods=["GET"]),
        Route("/login", actions.login, methods=["POST"]),
        Route("/logout", actions.logout, methods=["POST"]),
        *pages.routes(),
        *actions.routes(),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    middleware = [
        Middleware(
            SessionMiddleware,
            secret_key=session_secret(settings),
            session_cookie="hoering_desk",
            same_site="strict",
            https_only=False,
        )
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.settings = settings
    app.state.engine = engine
    app.state.users = UserDirectory.for_settings(settings)
    return app


def app_from_environment() -> Starlette:
    """The desk for the settings of the environment (uvicorn's factory)."""
    settings = runtime.settings()
    return create_app(settings, runtime.engine(settings))
