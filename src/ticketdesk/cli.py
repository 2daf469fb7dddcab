"""The ``ticketdesk`` command: serve | worker | migrate | createuser | token | demo | openapi."""

import argparse
import asyncio
import getpass
import json
import logging
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import psycopg
import uvicorn
from psycopg.rows import dict_row

from ticketdesk import db, embedded, subscriptions
from ticketdesk.app import create_app
from ticketdesk.auth import service as auth
from ticketdesk.config import ConfigError, Settings, load_settings
from ticketdesk.demo import LOGINS, demo_accounts_exist, load_demo
from ticketdesk.errors import TicketdeskError
from ticketdesk.users import service as users
from ticketdesk.worker import run_worker

log = logging.getLogger("ticketdesk")


@contextmanager
def database(settings: Settings) -> Iterator[Settings]:
    """Settings with a reachable database: ``DATABASE_URL``, or the embedded server."""
    if settings.database_url is not None:
        yield settings
        return
    server, dsn = embedded.start(settings.data_dir)
    try:
        yield settings.model_copy(update={"database_url": dsn})
    finally:
        log.info("stopping embedded PostgreSQL")
        server.cleanup()


@asynccontextmanager
async def connect(settings: Settings) -> AsyncIterator[db.Connection]:
    """One connection in one transaction, for commands that change data."""
    assert settings.database_url is not None
    async with (
        await psycopg.AsyncConnection.connect(settings.database_url, row_factory=dict_row) as conn,
        conn.transaction(),
    ):
        yield conn


def _run(coro: Coroutine[Any, Any, None]) -> None:
    asyncio.run(coro)


def serve(settings: Settings, args: argparse.Namespace) -> None:
    """Migrate, load demo data into a new embedded database, and serve until Ctrl-C."""
    host = args.host or settings.host
    port = args.port or settings.port
    if settings.database_url is not None and settings.secret_key is None:
        # Replicas sharing a database must share the key, so it cannot be generated.
        raise ConfigError(
            "invalid configuration:\n  secret_key (TICKETDESK_SECRET_KEY): "
            "required when database_url (DATABASE_URL) is set"
        )
    demo_wanted = settings.database_url is None and not args.no_demo
    with database(settings) as ready:
        assert ready.database_url is not None
        asyncio.run(db.migrate(ready.database_url))
        show_logins = demo_wanted and asyncio.run(_ensure_demo(ready))
        _banner(ready, host, port, show_logins=show_logins)
        config = uvicorn.Config(
            create_app(ready, worker=not args.no_worker),
            host=host,
            port=port,
            log_level=ready.log_level,
            proxy_headers=True,
            server_header=False,
        )
        uvicorn.Server(config).run()


async def _load_demo(settings: Settings) -> bool:
    async with connect(settings) as conn:
        return await load_demo(conn)


async def _ensure_demo(settings: Settings) -> bool:
    """Load demo data into a new database; whether the demo logins work."""
    async with connect(settings) as conn:
        await load_demo(conn)
        return await demo_accounts_exist(conn)


def _banner(settings: Settings, host: str, port: int, *, show_logins: bool) -> None:
    url = f"http://{host}:{port}/"
    lines = ["", f"  ticketdesk is running at {url}", f"  API documentation: {url}api/v1/docs"]
    if show_logins:
        lines.append("  Demo logins:")
        lines += [f"    {login.role:<6} {login.email:<22} {login.password}" for login in LOGINS]
    lines.append("  Press Ctrl-C to stop.\n")
    print("\n".join(lines), flush=True)


def worker(settings: Settings, args: argparse.Namespace) -> None:
    """Run background jobs (GitHub sync, clean-up) until Ctrl-C."""
    with database(settings) as ready:
        assert ready.database_url is not None
        asyncio.run(db.migrate(ready.database_url))
        asyncio.run(run_worker(ready, concurrency=args.concurrency))


def migrate(settings: Settings, args: argparse.Namespace) -> None:
    """Apply pending migrations."""
    with database(settings) as ready:
        assert ready.database_url is not None
        applied = asyncio.run(db.migrate(ready.database_url))
        print(f"applied: {', '.join(applied)}" if applied else "the schema is up to date")


def createuser(settings: Settings, args: argparse.Namespace) -> None:
    """Create an account."""
    password = args.password or getpass.getpass("Password: ")

    async def create(ready: Settings) -> None:
        async with connect(ready) as conn:
            user = await users.create_user(
                conn,
                email=args.email,
                name=args.name or args.email.split("@")[0],
                role=args.role,
                password=password,
                internal_domains=ready.internal_email_domains,
            )
        print(f"created {user.role} {user.email} ({user.id})")

    with database(settings) as ready:
        _run(create(ready))


def token_create(settings: Settings, args: argparse.Namespace) -> None:
    """Print a new personal access token for a user."""

    async def create(ready: Settings) -> None:
        async with connect(ready) as conn:
            user = await users.get_user_by_email(conn, args.email)
            token = await auth.create_token(conn, user.id, args.name)
        print(token.token)

    with database(settings) as ready:
        _run(create(ready))


def demo(settings: Settings, args: argparse.Namespace) -> None:
    """Load demo data into an empty database."""
    with database(settings) as ready:
        assert ready.database_url is not None
        asyncio.run(db.migrate(ready.database_url))
        if asyncio.run(_load_demo(ready)):
            for login in LOGINS:
                print(f"{login.role:<6} {login.email:<22} {login.password}")
        else:
            print("the database already has users; demo data not loaded")


def openapi(settings: Settings, args: argparse.Namespace) -> None:
    """Print the OpenAPI document."""
    document = create_app(settings).openapi()
    print(json.dumps(document, indent=2, ensure_ascii=False))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ticketdesk", description=__doc__)
    parser.add_argument("--config", type=Path, help="YAML settings file (or TICKETDESK_CONFIG)")
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, handler: Callable[[Settings, argparse.Namespace], None]) -> Any:
        sub = commands.add_parser(name, help=(handler.__doc__ or "").strip())
        sub.set_defaults(handler=handler)
        return sub

    sub = command("serve", serve)
    sub.add_argument("--host")
    sub.add_argument("--port", type=int)
    sub.add_argument("--no-demo", action="store_true", help="do not load demo data")
    sub.add_argument("--no-worker", action="store_true", help="run no jobs in this process")
    sub = command("worker", worker)
    sub.add_argument("--concurrency", type=int, help="jobs at once (default: jobs.concurrency)")
    command("migrate", migrate)
    sub = command("createuser", createuser)
    sub.add_argument("--email", required=True)
    sub.add_argument("--password", help="prompted for when left out")
    sub.add_argument("--role", choices=["user", "agent", "admin"], default="user")
    sub.add_argument("--name")
    token = commands.add_parser("token", help="Personal access tokens.")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    sub = token_commands.add_parser("create", help="Print a new personal access token.")
    sub.set_defaults(handler=token_create)
    sub.add_argument("--email", required=True)
    sub.add_argument("--name", required=True)
    command("demo", demo)
    command("openapi", openapi)
    return parser


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``ticketdesk`` command."""
    args = _parser().parse_args(argv)
    subscriptions.install()
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        sys.exit(f"ticketdesk: {exc}")
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        args.handler(settings, args)
    except TicketdeskError as exc:
        sys.exit(f"ticketdesk: {exc.detail}")
    except ConfigError as exc:
        sys.exit(f"ticketdesk: {exc}")
    except KeyboardInterrupt:
        pass
