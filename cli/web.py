"""`hoering web`: the review desk in the foreground (uvicorn), and `hoering web add-user`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cli import output
from services import runtime

web_app = typer.Typer(
    help="The review desk: 'hoering web' serves it (default http://127.0.0.1:8000).",
    invoke_without_command=True,
)


@web_app.callback()
def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Listen on this address (default HOERING_WEB_HOST).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Listen on this port (default HOERING_WEB_PORT).")
    ] = None,
) -> None:
    """Serve the review desk until Ctrl-C."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    settings = runtime.settings()
    runtime.engine(settings)  # no database, or no 'hoering init': one line, before serving
    where = f"http://{host or settings.web.host}:{port or settings.web.port}/"
    from services.desk_users import load_users, users_file

    output.stdout.print(f"Høringsdesk: {where} (stop with Ctrl-C)")
    if not load_users(users_file(settings)).users:  # a bad users file: one line, here
        output.stdout.print(
            f"No users in {users_file(settings)} yet: "
            "hoering web add-user NAME --role saksbehandler"
        )
    uvicorn.run(
        "web.app:app_from_environment",  # by name: the CLI does not import the web layer
        factory=True,
        host=host or settings.web.host,
        port=port or settings.web.port,
        log_level="warning",
    )


@web_app.command("add-user")
def add_user_command(
    name: Annotated[str, typer.Argument(help="The user name to sign in with.")],
    role: Annotated[
        str, typer.Option(help="saksbehandler (review and assign) or leser (read only).")
    ] = "leser",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    no_password: Annotated[
        bool,
        typer.Option("--no-password", help="Sign-in only through the trusted proxy header."),
    ] = False,
) -> None:
    """Add a desk user (or change one) with the argon2 hash of the password."""
    from domain.errors import UserError
    from domain.web_users import Role
    from services.desk_users import add_user, users_file

    try:
        chosen = Role(role)
    except ValueError:
        raise UserError(f"--role: '{role}' is no role; use saksbehandler or leser") from None
    password: str | None = None
    if not no_password:
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = typer.prompt("Passord", hide_input=True, confirmation_prompt=True)
        if len(password) < 8:
            raise UserError("password: shorter than 8 characters; choose a longer one")
    path = users_file(runtime.settings())
    add_user(path, name, chosen, password)
    output.stdout.print(f"{name} ({chosen.value}) written to {path}")
