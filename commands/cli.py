"""The command line: `iisg init`, `db upgrade`, `validate`, `deploy`, `demo`, `serve`, `scheduler`
(and `scheduler status`), `user create|password|deactivate|activate|clear-failures`,
`token create`, `audit verify`, `backup`, `restore`."""

from __future__ import annotations

import getpass
import logging
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy.orm import Session, sessionmaker

from commands.serve import serve_forever
from engine import audit
from engine.diagrams.deploy import Deployed
from engine.errors import DiagramRejected, EngineError, Refused
from engine.instances.assignment import Grant
from engine.instances.unit_of_work import run_in_transaction
from engine.scheduler.passes import run_pass
from engine.scheduler.status import scheduler_status
from engine.scheduler.status_lines import status_lines
from models import make_engine, make_session_factory
from models.backup import BackupError, write_backup
from models.migrate import current_is_head, upgrade
from models.restore import RestoreRefused, restore_backup
from webui.settings import Settings, read_settings
from workflows.accounts.first_secretariat import create_first_secretariat, secretariat_accounts
from workflows.accounts.invitations import use_invitation_validity
from workflows.demo import load_demo, start_demo_procedures
from workflows.inbox.documents import use_documents_directory
from workflows.jobs.schedule import pass_jobs, periodic_jobs, procedure_scheduler
from workflows.mail.compose import use_mail_settings
from workflows.mail.sender import deliver_pending
from workflows.methodology.diagrams import (
    BPMN_DIR,
    WithoutBoardAdoption,
    deploy_directory,
    validate_files,
)
from workflows.people.accounts import AccountError, change_password, create_user
from workflows.people.login_throttle import forget_failures
from workflows.people.management import PersonChange, change_person
from workflows.people.organisations import ensure_founding_members
from workflows.people.roles import KOSOVO_FOOTNOTE
from workflows.people.tokens import TokenError, create_token_for
from workflows.people.two_factor import reset_two_factor
from workflows.refusals import NoSuchThing
from workflows.settings import ProcedureSettings, SettingsError


def _now() -> datetime:
    return datetime.now(UTC)


def _settings() -> Settings:
    """The settings, read from the environment and the settings file once, as a command starts."""
    try:
        settings = read_settings(os.environ)
    except SettingsError as err:
        raise click.ClickException(
            f"the settings cannot be used: {err}. Correct it and start again."
        ) from err
    use_mail_settings(settings.procedures.mail)
    # As the web app keeps them (DOCUMENTS_DIR unset): a step may write a document.
    use_documents_directory(settings.instance_dir / "documents")
    use_invitation_validity(settings.invitation_valid)
    return settings


def _factory(settings: Settings | None = None) -> sessionmaker[Session]:
    url = (settings or _settings()).database()
    if not current_is_head(url):
        raise click.ClickException("the database is not up to date; run `iisg db upgrade` first")
    return make_session_factory(make_engine(url))


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log what the scheduler and server do.")
def main(verbose: bool) -> None:
    """IISG Procedures: the IISG's governance procedures as BPMN, with a task inbox."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@main.group()
def db() -> None:
    """The database."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration (safe to run again)."""
    url = _settings().database()
    upgrade(url)
    click.echo(f"Database is up to date ({url.split('@')[-1]}).")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(files: tuple[Path, ...]) -> None:
    """Check diagrams: BPMN schema, roles, call activities, sandboxed expressions, forms."""
    problems = validate_files(files)
    for problem in problems:
        click.echo(str(problem))
    if problems:
        refused = len({problem.file for problem in problems})
        click.echo(
            f"{len(problems)} problem(s) found in {refused} of {len(files)} file(s).", err=True
        )
        sys.exit(1)
    click.echo(f"{len(files)} file(s) valid.")


@main.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@click.option(
    "--draft",
    is_flag=True,
    help="Store changed processes as drafts, for the Board to adopt by amendment.",
)
@click.option(
    "--replace-process",
    "replace",
    multiple=True,
    metavar="ID",
    help="Let this directory's diagram replace the process ID deployed from another file "
    "(refused otherwise). May be given more than once.",
)
@click.option(
    "--without-board-adoption",
    "bypass",
    is_flag=True,
    help="Put changed processes in force without the Board's adoption (e.g. an upgrade that "
    "needs them); give --reason. The audit trail records who and why.",
)
@click.option("--reason", help="Why the Board is bypassed (with --without-board-adoption).")
def deploy(
    directory: Path | None,
    draft: bool,
    replace: tuple[str, ...],
    bypass: bool,
    reason: str | None,
) -> None:
    """Deploy the diagrams of a directory (default: bpmn/); unchanged ones keep their version.

    A procedure deployed for the first time is put in force. A changed one is in force only
    once the Board adopts it through 'Amending a methodology': it is saved as a draft, and
    the command exits 1, unless --without-board-adoption --reason says why not."""
    source = directory or BPMN_DIR
    if not source.is_dir():
        what = "is a file, not a folder" if source.exists() else "there is no such folder"
        raise click.ClickException(f"{source}: {what}; nothing was deployed")
    without_board = _bypass(bypass, reason, draft)
    status = "draft" if draft else "active"
    factory = _factory()
    try:
        results = run_in_transaction(
            factory,
            lambda s: deploy_directory(
                s,
                source,
                actor="cli",
                now=_now(),
                status=status,
                replace=replace,
                without_board_adoption=without_board,
            ),
        )
    except DiagramRejected as err:
        for problem in err.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException("nothing was deployed") from err
    for result in results:
        click.echo(_deployed_line(result))
    if without_board is not None and any(r.created and r.status == "active" for r in results):
        click.echo(
            f"Put in force without the Board's adoption by {without_board.by}: "
            f"{without_board.reason} (recorded in the audit trail)."
        )
    if not draft and any(r.held for r in results):
        click.echo(BOARD_ADOPTS, err=True)
        sys.exit(1)


BOARD_ADOPTS = (
    'A changed methodology is in force only once the IISG Board adopts it: "The IISG '
    "Response Mapping Methodology and any modification thereof are to be adopted by the IISG "
    'Board" (Methodology for the Annual Response Mapping Report, 2022, III). To have a draft '
    "adopted, start 'Amending a methodology' for its procedure and give the draft's version "
    "number. To put these diagrams in force without the Board (an upgrade that needs them), "
    'deploy again with --without-board-adoption --reason "why": the audit trail records who '
    "and why."
)


def _bypass(bypass: bool, reason: str | None, draft: bool) -> WithoutBoardAdoption | None:
    """The operator's explicit bypass of the Board, refused unless it says why."""
    if not bypass:
        if reason is not None:
            raise click.UsageError("--reason goes with --without-board-adoption; nothing deployed")
        return None
    if draft:
        raise click.UsageError(
            "--draft saves drafts for the Board, --without-board-adoption bypasses it: "
            "give one of them; nothing was deployed"
        )
    if not (reason or "").strip():
        raise click.UsageError(
            '--without-board-adoption needs --reason "why the Board is bypassed"; '
            "nothing was deployed"
        )
    try:
        who = getpass.getuser()
    except (OSError, KeyError):
        who = "an unnamed operator"
    return WithoutBoardAdoption(by=who, reason=(reason or "").strip())


def _deployed_line(result: Deployed) -> str:
    """What deploying did to one procedure, in words."""
    key, version = result.process_key, result.version
    if result.held:
        kept = f"version {result.in_force} stays in force until the Board adopts it"
        if result.created:
            return f"{key}: changed; saved as draft version {version}, not in force ({kept})"
        return f"{key}: unchanged, still {result.status} version {version}, not in force ({kept})"
    if not result.created:
        return f"{key}: unchanged, still version {version}"
    return (
        f"{key}: {'drafted as' if result.status != 'active' else 'deployed as'} version {version}"
    )


@main.command()
@click.option("--username", help="The first Secretariat account's user name.")
@click.option("--name", "display_name", help="Its holder's name as shown.")
@click.option("--email", help="Its holder's e-mail address (the invitation goes there).")
@click.option(
    "--set-password",
    is_flag=True,
    help="Type its password here instead of mailing an invitation.",
)
def init(
    username: str | None, display_name: str | None, email: str | None, set_password: bool
) -> None:
    """Set up an empty production database: migrated, the diagrams deployed, the founding
    members on the register, and a first Secretariat account (no demo data). Safe to run
    again: what is there already is left as it is."""
    settings = _settings()
    url = settings.database()
    changes: list[str] = []
    if not current_is_head(url):
        upgrade(url)
        changes.append(f"Database migrated ({url.split('@')[-1]}).")
    factory = make_session_factory(make_engine(url))
    try:
        results = run_in_transaction(
            factory, lambda s: deploy_directory(s, BPMN_DIR, actor="cli", now=_now())
        )
    except DiagramRejected as err:
        for problem in err.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException("the diagrams were not deployed; nothing else was done") from err
    changes += [_deployed_line(r) for r in results if r.created or r.held]
    if any(r.held for r in results):
        changes.append(BOARD_ADOPTS)
    added = run_in_transaction(
        factory, lambda s: ensure_founding_members(s, actor="cli", now=_now())
    )
    if added:
        changes.append(f"Founding members put on the register: {', '.join(added)}.")
    with factory() as session:
        secretariat = secretariat_accounts(session)
    if secretariat:
        if username and username not in secretariat:
            click.echo(
                f"The Secretariat has its accounts already ({', '.join(secretariat)}); "
                f"invite {username} from the People page.",
                err=True,
            )
    else:
        changes += _first_secretariat(
            settings, factory, username, display_name, email, set_password
        )
    if not changes:
        click.echo(
            "Nothing to do: the database, the diagrams, the members and the Secretariat's "
            "account are all there already."
        )
    for change in changes:
        click.echo(change)


def _first_secretariat(
    settings: Settings,
    factory: sessionmaker[Session],
    username: str | None,
    display_name: str | None,
    email: str | None,
    set_password: bool,
) -> list[str]:
    if not (username and display_name and email):
        raise click.ClickException(
            "the database has no Secretariat account yet: give its --username, --name and "
            "--email (and --set-password to type its password instead of mailing an invitation)"
        )
    password = (
        click.prompt("Password", hide_input=True, confirmation_prompt=True)
        if set_password
        else None
    )
    now = _now()
    try:
        link = run_in_transaction(
            factory,
            lambda s: create_first_secretariat(
                s,
                username,
                name=display_name,
                email=email,
                password=password,
                now=now,
                valid=settings.invitation_valid,
            ),
        )
    except Refused as err:
        raise click.ClickException(
            "; ".join(f"{field}: {why}" for field, why in err.errors.items())
            + ". Nothing was created for the Secretariat."
        ) from err
    if link is None:
        return [f"Secretariat account {username} created: log in with the password you typed."]
    sent = deliver_pending(factory, settings.procedures.mail, _now())
    mailed = f"mailed to {email}" if sent else "waiting in the outbox (no SMTP server set)"
    return [
        f"Secretariat account {username} created; its invitation is {mailed}.",
        f"Set its password here (once, until {(now + settings.invitation_valid):%Y-%m-%d %H:%M} "
        f"UTC): {link}",
    ]


@main.command()
@click.option("--password", required=True, help="The password for every demo login.")
def demo(password: str) -> None:
    """Create the demo organisations, people and a first procedure (idempotent)."""
    factory = _factory()
    try:
        accounts = run_in_transaction(factory, lambda s: load_demo(s, password, now=_now()))
    except AccountError as err:
        raise click.ClickException(str(err)) from err
    try:
        started = run_in_transaction(factory, lambda s: start_demo_procedures(s, now=_now()))
    except EngineError as err:
        click.echo(f"No demo procedure started: {err}", err=True)
        started = []
    for instance in started:
        click.echo(f"Started '{instance.title}'.")
    click.echo("Demo logins (password for all: the one you gave):")
    for account in accounts:
        click.echo(f"  {account.username:<16} {account.display_name}")
    if any("*" in account.display_name for account in accounts):
        click.echo(f"* {KOSOVO_FOOTNOTE}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@click.option("--no-scheduler", is_flag=True, help="Serve only (run `iisg scheduler` apart).")
def serve(host: str, port: int, threads: int, no_scheduler: bool) -> None:
    """Serve the web app with a production WSGI server, and the scheduler in this process."""
    serve_forever(
        host=host, port=port, threads=threads, with_scheduler=not no_scheduler, settings=_settings()
    )


@main.group(invoke_without_command=True)
@click.option("--once", is_flag=True, help="Run one pass, print what fired, and exit.")
@click.option(
    "--interval",
    type=float,
    help="Safety-net interval in seconds between passes "
    "(default: scheduler.safety_interval_seconds in the settings, 60).",
)
@click.pass_context
def scheduler(ctx: click.Context, once: bool, interval: float | None) -> None:
    """Fire due timers at their due time (its own process in production).

    `iisg scheduler status` shows the timers waiting and the last passes.
    """
    if ctx.invoked_subcommand is not None:
        return
    settings = _settings()
    factory = _factory(settings)
    if once:
        _run_once(factory, settings.procedures)
        return
    click.echo("Scheduler running; Ctrl+C stops it.")
    procedure_scheduler(
        factory, settings.procedures, blocking=True, safety_interval=interval
    ).start()


def _run_once(factory: sessionmaker[Session], settings: ProcedureSettings) -> None:
    result = run_pass(factory, jobs=pass_jobs(settings))
    click.echo(f"Fired {result.fired_count} timer(s) in {len(result.fired)} instance(s).")
    for instance_id, reason in result.failed.items():
        click.echo(f"Instance {instance_id} stopped: {reason}", err=True)
    if result.other:
        click.echo(f"The procedures' jobs did {result.other} thing(s).")
    for error in result.errors:
        click.echo(f"A job failed: {error}", err=True)
    for periodic in periodic_jobs(settings):
        try:
            done = periodic.job(factory, _now())
        except Exception as err:  # one job failing must not hide what the others did
            click.echo(f"{periodic.name} failed: {err}", err=True)
            continue
        if done:
            click.echo(f"{periodic.name}: {done} done.")
    if result.next_due:
        click.echo(f"Next due at {result.next_due.isoformat()} (a timer, a reminder or a job).")


@scheduler.command("status")
def scheduler_status_command() -> None:
    """The next timers due, the last passes, and whether a scheduler is running.

    Exits 1 when no scheduler has finished a pass within three safety intervals.
    """
    settings = _settings()
    factory = _factory(settings)
    with factory() as session:
        status = scheduler_status(
            session, _now(), safety_interval_seconds=settings.procedures.safety_interval_seconds
        )
    for line in status_lines(status):
        click.echo(line)
    if not status.alive:
        sys.exit(1)


@main.group()
def user() -> None:
    """People and their roles."""


def _parse_role(text: str) -> Grant:
    parts = text.split(":")
    if len(parts) > 3 or not parts[0]:
        raise click.BadParameter(f"'{text}' is not ROLE[:ORGANISATION[:PILLAR]]")
    return Grant(
        parts[0],
        (parts[1] or None) if len(parts) > 1 else None,
        (parts[2] or None) if len(parts) > 2 else None,
    )


@user.command("create")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", "display_name", help="The person's name as shown.")
@click.option("--email")
@click.option(
    "--role",
    "roles",
    multiple=True,
    help="ROLE[:ORGANISATION[:PILLAR]], e.g. board_member:AL or focal_point:RS:WBBSi.",
)
def user_create(
    username: str,
    password: str,
    display_name: str | None,
    email: str | None,
    roles: tuple[str, ...],
) -> None:
    """Create a user who can log in."""
    grants = [_parse_role(r) for r in roles]
    factory = _factory()
    try:
        run_in_transaction(
            factory,
            lambda s: create_user(
                s,
                username,
                password,
                display_name=display_name or username,
                email=email,
                now=_now(),
                grants=grants,
            ),
        )
    except AccountError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"Created {username}" + (f" ({', '.join(roles)})" if roles else "") + ".")


@user.command("password")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def user_password(username: str, password: str) -> None:
    """Give USERNAME a new password; every session they have open ends (audited)."""
    factory = _factory()
    try:
        run_in_transaction(
            factory,
            lambda s: change_password(s, username, password, actor="cli", now=_now()),
        )
    except AccountError as err:
        raise click.ClickException(str(err)) from err
    except Refused as err:
        raise click.ClickException(" ".join(err.errors.values())) from err
    click.echo(f"New password for {username}; they were logged out everywhere.")


@user.command("reset-two-factor")
@click.argument("username")
def user_reset_two_factor(username: str) -> None:
    """Remove USERNAME's second factor (a lost phone and lost recovery codes); every session
    they have open ends (audited). Where their role requires one, they set it up again at
    their next sign-in."""
    factory = _factory()
    try:
        run_in_transaction(
            factory, lambda s: reset_two_factor(s, username, actor="cli", now=_now())
        )
    except AccountError as err:
        raise click.ClickException(str(err)) from err
    click.echo(
        f"{username} signs in with their password alone until they set up a second factor "
        "again; they were logged out everywhere."
    )


@user.command("deactivate")
@click.argument("username")
def user_deactivate(username: str) -> None:
    """Stop USERNAME logging in or using the API; their open sessions end and the tasks they
    had claimed return to their role (audited)."""
    factory = _factory()
    try:
        run_in_transaction(
            factory,
            lambda s: change_person(
                s, username, PersonChange(active=False), actor="cli", now=_now()
            ),
        )
    except (NoSuchThing, Refused) as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"Deactivated {username}: they were logged out everywhere and cannot log in.")


@user.command("activate")
@click.argument("username")
def user_activate(username: str) -> None:
    """Let a deactivated USERNAME log in again (audited)."""
    factory = _factory()
    try:
        run_in_transaction(
            factory,
            lambda s: change_person(
                s, username, PersonChange(active=True), actor="cli", now=_now()
            ),
        )
    except (NoSuchThing, Refused) as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"Activated {username}: they can log in again.")


@user.command("clear-failures")
@click.argument("username")
def user_clear_failures(username: str) -> None:
    """Forget the failed logins for USERNAME, so that nobody waits before trying it (audited)."""
    forgotten = run_in_transaction(
        _factory(), lambda s: forget_failures(s, username, actor="cli", now=_now())
    )
    click.echo(f"Forgot {forgotten} failed logins for {username}: nobody has to wait to try it.")


@main.group()
def token() -> None:
    """Personal access tokens for the JSON API."""


@token.command("create")
@click.argument("username")
@click.option("--name", default="command line", show_default=True, help="Where it is used.")
def token_create(username: str, name: str) -> None:
    """Create an API token for USERNAME and print it once (only its hash is kept)."""
    factory = _factory()

    try:
        _token, secret = run_in_transaction(
            factory, lambda s: create_token_for(s, username, name, now=_now())
        )
    except TokenError as err:
        raise click.ClickException(str(err)) from err
    click.echo(secret)
    click.echo(
        f"API token '{name}' for {username}: shown only this once; keep it safe. "
        "Send it as 'Authorization: Bearer <token>'.",
        err=True,
    )


@main.group("audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Check every link of the audit chain; name the first broken one."""
    factory = _factory()
    with factory() as session:
        report = audit.verify(session)
    if report.intact:
        click.echo(f"Audit chain intact: {report.checked} event(s) verified.")
        return
    click.echo(
        f"Audit chain BROKEN at event {report.broken_seq}: {report.reason}. "
        f"{report.checked} event(s) before it verified.",
        err=True,
    )
    sys.exit(1)


@main.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
def backup(file: Path) -> None:
    """Write every table to FILE, read in one transaction (safe while the system runs)."""
    factory = _factory()
    engine = factory.kw["bind"]
    began = time.monotonic()
    try:
        summary = write_backup(engine, file, created_at=_now())
    except BackupError as err:
        raise click.ClickException(str(err)) from err
    finally:
        engine.dispose()
    click.echo(
        f"Backed up {summary.total_rows} row(s) of {len(summary.rows)} tables "
        f"(database revision {summary.revision}) to {file}: "
        f"{file.stat().st_size:,} bytes in {time.monotonic() - began:.1f} s."
    )


@main.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
def restore(file: Path) -> None:
    """Restore a backup FILE into this empty database (run `iisg db upgrade` first)."""
    factory = _factory()
    engine = factory.kw["bind"]
    began = time.monotonic()
    try:
        summary = restore_backup(engine, file)
    except RestoreRefused as err:
        raise click.ClickException(f"{err}. Nothing was restored.") from err
    finally:
        engine.dispose()
    click.echo(
        f"Restored {summary.total_rows} row(s) of {len(summary.rows)} tables from {file} "
        f"(backed up {summary.created_at}) in {time.monotonic() - began:.1f} s. "
        "Run `iisg audit verify` to check the audit trail."
    )
