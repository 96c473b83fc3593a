"""The ``peerbridge`` command: serve, migrate, load demo data, import members, run jobs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from backend.settings import DEFAULT_HOST, DEFAULT_PORT, get_settings

app = typer.Typer(help="peerbridge: the peer network and mentoring platform for NHS managers.")
db_app = typer.Typer(help="Database schema commands.")
app.add_typer(db_app, name="db")
console = Console(stderr=True)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply the migrations up to REVISION (the latest by default)."""
    from backend import migrate
    from backend.db import get_engine

    migrate.upgrade(get_engine(), revision)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = DEFAULT_PORT,
    workers: Annotated[int, typer.Option(help="Worker processes (production).")] = 1,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development).")] = False,
) -> None:
    """Serve the pages and the GraphQL API."""
    import os

    import uvicorn

    from backend import observability
    from backend.settings import serving_base_url

    # The worker processes read their settings afresh; they share PEERBRIDGE_DB_CONNECTIONS,
    # and links in emails follow the address served here unless PEERBRIDGE_BASE_URL is set.
    os.environ["PEERBRIDGE_PROCESSES"] = str(max(workers, 1))
    os.environ["PEERBRIDGE_SERVE_HOST"] = host
    os.environ["PEERBRIDGE_SERVE_PORT"] = str(port)
    get_settings.cache_clear()
    settings = get_settings()
    # Before anything imports prometheus-client: every worker process writes its metrics here
    # and a scrape of any one of them adds them all up.
    metrics_dir = observability.prepare_metrics_dir()
    observability.configure_logging(settings)
    address = serving_base_url(host, port)
    console.print(f"peerbridge ({settings.environment}) on {address}/")
    if settings.base_url.rstrip("/") != address:
        console.print(f"Links in emails: {settings.base_url}")
    if settings.is_development:
        console.print(f"GraphiQL: {address}/graphql")
    try:
        uvicorn.run(
            "peerbridge.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            reload=reload,
            proxy_headers=True,
            log_level=settings.log_level.lower(),
            # The app writes the logs (one format, with request ids) and its own access lines.
            log_config=None,
            access_log=False,
            # A worker that has not answered the supervisor's ping in time is killed and
            # replaced; importing the app takes longer than uvicorn's 5 s on a busy machine.
            timeout_worker_healthcheck=60,
        )
    finally:
        metrics_dir.remove()


@app.command("demo-data")
def demo_data(
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed gives the same network.")
    ] = 2024,
    members: Annotated[int, typer.Option(help="How many members to create.")] = 320,
    if_empty: Annotated[bool, typer.Option(help="Do nothing if members already exist.")] = False,
    history: Annotated[
        bool,
        typer.Option(help="Add twelve months of history: requests, rounds, mentorships, answers."),
    ] = True,
) -> None:
    """Load a believable demo network with a year of history and print the demo accounts."""
    from backend import demo
    from backend.db import session_scope

    with session_scope() as session:
        result = demo.load(
            session=session, seed=seed, members=members, if_empty=if_empty, history=history
        )
    console.print(demo.describe(result), soft_wrap=True)


@app.command("create-user")
def create_user(
    email: str,
    name: str,
    organisation: Annotated[str, typer.Option(help="Organisation name.")] = "NHS England",
    region: Annotated[str, typer.Option(help="NHS England region.")] = "London",
    band: Annotated[str, typer.Option(help="Agenda for Change band.")] = "8a",
    role_family: Annotated[str, typer.Option(help="Role family.")] = "operational-management",
    profession: Annotated[str, typer.Option(help="Profession.")] = "non-clinical",
    role: Annotated[list[str], typer.Option(help="Extra role: organiser or admin.")] = [],  # noqa: B006
    password: Annotated[
        str | None, typer.Option(help="Password (asked for when not given).", hidden=True)
    ] = None,
) -> None:
    """Create a verified account, for example the first admin."""
    from backend.accounts import service as accounts
    from backend.db import session_scope, utcnow
    from backend.errors import Conflict, DomainError, FieldErrors
    from backend.members import service as member_service

    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with session_scope() as session:
            member = accounts.sign_up(
                session=session,
                data=accounts.SignUp(
                    email=email,
                    password=password,
                    name=name,
                    organisation=organisation,
                    region=region,
                    role_family=role_family,
                    band=band,
                    profession=profession,
                ),
            )
            if member is None:  # an operator may be told (sign-up answers alike for others)
                raise Conflict("An account with this email address already exists.")
            member.email_verified_at = utcnow()
            session.add(member)
            for extra in role:
                if extra not in ("organiser", "admin"):
                    raise FieldErrors({"role": f"'{extra}' is not a role; use organiser or admin."})
                member_service.grant_role(session=session, member_id=member.id, role=extra)
    except FieldErrors as error:
        for field, message in error.errors.items():
            console.print(f"[red]{field}[/red]: {message}")
        raise typer.Exit(2) from error
    except DomainError as error:
        console.print(f"[red]{error.message}[/red]")
        raise typer.Exit(2) from error
    console.print(f"Created {email}")


@app.command("role")
def role(
    email: str,
    name: Annotated[str, typer.Argument(help="organiser or admin.")],
    remove: Annotated[bool, typer.Option("--remove", help="Take the role away.")] = False,
) -> None:
    """Give a member the organiser or admin role, or take it away; written to the audit log."""
    from sqlmodel import select

    from backend.db import session_scope
    from backend.members import service as member_service
    from backend.members.models import Member, MemberRole

    if name not in ("organiser", "admin"):
        console.print(f"[red]role[/red]: '{name}' is not a role; use organiser or admin.")
        raise typer.Exit(2)
    with session_scope() as session:
        member = session.exec(select(Member).where(Member.email == email.strip().lower())).first()
        if member is None:
            console.print(f"[red]email[/red]: no member has the address {email}.")
            raise typer.Exit(2)
        if remove:
            changed = member_service.revoke_role(session=session, member_id=member.id, role=name)
        else:
            changed = session.get(MemberRole, (member.id, name)) is None
            member_service.grant_role(session=session, member_id=member.id, role=name)
    done = "Took the role away from" if remove else "Gave the role to"
    console.print(f"{done if changed else 'Unchanged:'} {email} ({name})")


organisations_app = typer.Typer(help="The organisation register (NHS ODS codes).")
app.add_typer(organisations_app, name="organisations")


@organisations_app.command("import-ods")
def import_ods(
    file: Annotated[Path, typer.Argument(help="An ODS CSV file as downloaded (etr.csv, ...).")],
    type: Annotated[
        str,
        typer.Option(
            "--type", help="The organisations' type (acute-trust, ...), or derive from names."
        ),
    ] = "derive",
) -> None:
    """Import or update the register from an NHS ODS CSV file (headerless: code, name,
    national grouping, ..., close date); idempotent, audited. Bad rows are listed."""
    from backend.db import session_scope
    from backend.errors import DomainError
    from backend.organisations import register

    try:
        data = file.read_bytes()
    except OSError as error:
        console.print(f"[red]Cannot read {file}: {error.strerror}[/red]")
        raise typer.Exit(2) from error
    try:
        with session_scope() as session:
            result = register.import_ods_as_system(session=session, data=data, type=type)
    except DomainError as error:
        console.print(f"[red]{error.field or 'file'}[/red]: {error.message}")
        raise typer.Exit(2) from error
    for problem in result.problems[: register.MAX_PROBLEMS_SHOWN]:
        console.print(f"line {problem.line} ({problem.code or 'no code'}): {problem.reason}")
    console.print(result.summary())
    if result.problems:
        raise typer.Exit(1)


@app.command("import-members")
def import_members(
    file: Annotated[Path, typer.Argument(help="members.csv (see docs/members-csv.md).")],
    partial: Annotated[
        bool, typer.Option(help="Import the good rows and write the rejected ones to a file.")
    ] = False,
    rejects: Annotated[
        Path | None, typer.Option(help="Where --partial writes rejected rows with reasons.")
    ] = None,
    invite: Annotated[bool, typer.Option(help="Email each new member an invitation.")] = True,
) -> None:
    """Import members from the members CSV: all-or-nothing unless --partial.

    Runs as the same job as an upload on the organiser's page: the file is checked whole,
    then written in short chunks (each its own transaction), printing progress as it goes.
    """
    from backend.db import session_scope
    from backend.errors import DomainError
    from backend.members import importing
    from backend.members.import_models import MemberImport

    try:
        data = file.read_bytes()
    except OSError as error:
        console.print(f"[red]Cannot read {file}: {error.strerror}[/red]")
        raise typer.Exit(2) from error
    try:
        with session_scope() as session:
            import_id = importing.start_command_line_import(
                session=session,
                data=data,
                mode="partial" if partial else "all-or-nothing",
                filename=file.name,
                send_invitations=invite,
            ).id
    except DomainError as error:
        console.print(f"[red]{error.message}[/red]")
        raise typer.Exit(2) from error
    del data
    outcome = _run_import_printing_progress(import_id)
    with session_scope() as session:
        done = session.get(MemberImport, import_id)
        assert done is not None
        result = importing.import_result(done)
        failure, error_count = done.failure, done.error_count
    for problem in result.errors[:200]:
        console.print(str(problem))
    if error_count > min(len(result.errors), 200):
        console.print(f"... and {error_count - min(len(result.errors), 200)} more problems")
    if result.rejects_csv and partial:
        target = rejects or file.with_name(file.stem + "-rejects.csv")
        target.write_text(result.rejects_csv, encoding="utf-8")
        console.print(f"Rejected rows, with reasons: {target}")
    if outcome != "done":
        console.print(f"[red]{failure or 'The import stopped.'}[/red]")
        raise typer.Exit(1)
    console.print(result.summary())
    if result.errors and not partial:
        raise typer.Exit(1)


IMPORT_PROGRESS_SECONDS = 0.5  # how often import-members looks at the import's progress


def _run_import_printing_progress(import_id: int) -> str:
    """Run the import job here (in a thread) and print its stage and rows as they move."""
    import threading

    from backend.db import get_engine, session_factory
    from backend.members import importing
    from backend.members.import_models import MemberImport

    reading = session_factory(get_engine().execution_options(read_only=True))  # no write lock
    outcome: list[str] = []
    job = threading.Thread(
        target=lambda: outcome.append(importing.run_import_job(import_id)), name="import"
    )
    job.start()
    shown: tuple[str, int] | None = None
    while True:
        job.join(timeout=IMPORT_PROGRESS_SECONDS)
        with reading() as session:
            row = session.get(MemberImport, import_id)
            now = (row.stage, row.rows_written) if row is not None else ("", 0)
            total = row.rows_total if row is not None else 0
            session.rollback()
        if now != shown and now[0] not in ("", "Waiting to start", "Finished"):
            written = (
                f": {now[1]:,} of {total:,} rows written" if now[0] == "Writing members" else ""
            )
            console.print(f"{now[0]}{written}")
            shown = now
        if not job.is_alive():
            return outcome[0] if outcome else "failed"


@app.command("match-round")
def match_round(
    members: Annotated[Path, typer.Option(help="The members CSV (docs/members-csv.md).")],
    out: Annotated[Path, typer.Option(help="Where to write matches.csv.")],
    priority: Annotated[
        bool, typer.Option(help="Widening-access priority for members with priority_access=yes.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same round.")] = 0,
    weights: Annotated[
        str | None,
        typer.Option(
            help="Score weights as name=number pairs, e.g. skills=2,goals=1 (names: skills, "
            "seniority, goals, organisation, background, place, role; the rest keep their "
            "defaults), as on the organisers' round page."
        ),
    ] = None,
) -> None:
    """Run a matching round straight over a members CSV, with no database."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from backend.matchmaking.offline import (
        MembersFileError,
        format_summary,
        parse_weights,
        run_offline_round,
    )

    chosen = None
    if weights is not None:
        try:
            chosen = parse_weights(weights)
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="'--weights'") from error

    if not members.is_file():
        console.print(f"[red]Cannot read {members}: no such file[/red]")
        raise typer.Exit(2)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console
    ) as bar:
        task = bar.add_task("Reading members", total=1.0)

        def progress(stage: str, fraction: float) -> None:
            bar.update(task, description=stage, completed=fraction)

        try:
            summary = run_offline_round(
                members, out, priority=priority, seed=seed, weights=chosen, progress=progress
            )
        except MembersFileError as error:
            bar.stop()
            for line in error.errors[:200]:
                console.print(line)
            if len(error.errors) > 200:
                console.print(f"... and {len(error.errors) - 200} more problems")
            console.print("[red]The members file has problems; nothing was written.[/red]")
            raise typer.Exit(1) from error
        except OSError as error:
            bar.stop()
            console.print(f"[red]{error}[/red]")
            raise typer.Exit(2) from error
    typer.echo(format_summary(summary))


@app.command()
def worker(
    once: Annotated[bool, typer.Option(help="Run one pass of the periodic work and stop.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between periodic passes.")] = 5.0,
) -> None:
    """Run background work: queued jobs (matching rounds) and the periodic pass (emails,
    expiries, nudges, digests). Several workers may run at once."""
    from backend import jobs, observability

    # Job processes RQ forks write their metrics here too (see `serve`).
    observability.prepare_metrics_dir()
    observability.configure_logging(get_settings())
    observability.serve_worker_metrics(get_settings())
    if once:
        console.print(f"done: {jobs.run_once()}")
        return
    settings = get_settings()
    if not settings.redis_url:
        console.print("peerbridge worker started")
        console.print("No PEERBRIDGE_REDIS_URL: running the periodic pass only.")
        jobs.periodic_loop(interval)
        return
    from rq import Worker

    # The periodic pass runs in a spawned process, so this one has no threads of ours when
    # RQ forks a work horse per job; each horse also gets fresh database pools after the fork.
    periodic = jobs.start_periodic_process(interval)
    jobs.preload()
    console.print("peerbridge worker started")
    queue = jobs.redis_queue()
    observed = observability.observed_worker(Worker)
    try:
        observed([queue], connection=queue.connection).work(with_scheduler=False)
    finally:
        periodic.terminate()
        periodic.join(timeout=5)


def main() -> None:  # pragma: no cover - console entry
    """Entry point."""
    app(prog_name="peerbridge", args=sys.argv[1:])
