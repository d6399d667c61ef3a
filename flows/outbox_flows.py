"""Flows that deliver the outbox and queue deadline reminders.

`send_outbox` delivers what is pending; `send_reminders` (scheduled every working day
at 07:00 Europe/Oslo, see prefect.yaml) queues the påminnelser due today and then
delivers the outbox. Both are safe to re-run: queuing is idempotent per reminder
day and the sender never delivers a Message-ID twice (see services.outbox).
"""

from __future__ import annotations

from datetime import datetime
from email.headerregistry import Address

from prefect import flow, task
from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact
from prefect.cache_policies import NO_CACHE

from flows.params import AsOf
from flows.params import moment as _moment
from mail.transports import open_transport
from services import runtime
from services.outbox import SendPolicy, kind_label, send_pending
from services.reminders import default_policy, outbox_status, queue_reminders

OUTCOMES_NB = {
    "sent": "sendt",
    "already_delivered": "allerede levert",
    "retry": "prøves igjen",
    "failed": "feilet",
    "cancelled": "ikke sendt",
    "released": "ikke forsøkt",
}

REMINDER_OUTCOMES_NB = {
    "would_queue": "ville fått påminnelse",
    "queued": "lagt i utboksen nå",
    "already_queued": "lagt i utboksen tidligere",
    "answered": "har svart i mellomtiden",
    "hearing_not_circulated": "høringen er ikke lenger ute",
}


@task(name="deliver-outbox", cache_policy=NO_CACHE)
def deliver_outbox(as_of_iso: str, case: str | None, limit: int | None) -> dict:
    """Deliver pending messages through the configured transport; the report as JSON."""
    settings = runtime.settings()
    mail = settings.mail
    report = send_pending(
        runtime.engine(settings),
        open_transport(mail),
        now=datetime.fromisoformat(as_of_iso),
        data_dir=mail.data_dir,
        sender=Address(display_name=mail.mail_from_name, addr_spec=mail.mail_from),
        case=case,
        limit=limit,
        policy=SendPolicy.from_settings(settings.outbox),
        with_pdf=mail.mail_pdf,
    )
    return report.as_json()


@task(name="queue-reminders", cache_policy=NO_CACHE)
def queue_due_reminders(as_of_iso: str, dry_run: bool) -> dict:
    """Queue (or with dry_run only plan) today's reminders; the run as JSON."""
    settings = runtime.settings()
    run = queue_reminders(
        runtime.engine(settings),
        now=datetime.fromisoformat(as_of_iso),
        letters_dir=settings.data_dir / "letters",
        default=default_policy(settings.reminders),
        dry_run=dry_run,
    )
    return run.as_json()


@task(name="reminder-status", cache_policy=NO_CACHE)
def reminder_status(run: dict) -> dict:
    """`run` with each reminder's outbox status after the delivery."""
    status = outbox_status(runtime.engine(), (r["dedupe_key"] for r in run["reminders"]))
    reminders = [{**r, **status.get(r["dedupe_key"], {})} for r in run["reminders"]]
    return {**run, "reminders": reminders}


def _send_table(report: dict) -> list[dict]:
    return [
        {
            "type": kind_label(m["kind"]),
            "sak": m["case"] or "",
            "til": m["to"],
            "virksomhet": m["organisation"] or "",
            "resultat": OUTCOMES_NB.get(m["outcome"], m["outcome"]),
            "detaljer": m["detail"],
        }
        for m in report["messages"]
    ]


def _send_summary_nb(report: dict) -> str:
    counts = report["counts"]
    lines = [
        f"# Utsending {report['as_of']}",
        "",
        f"Transport: {report['transport']}",
        "",
        *(f"- {OUTCOMES_NB[name]}: {count}" for name, count in counts.items()),
    ]
    if report["stopped"]:
        lines += ["", f"Stoppet: {report['stopped']}"]
    return "\n".join(lines)


@flow(name="send-outbox", flow_run_name="send outbox", log_prints=False)
async def send_outbox(
    as_of: AsOf = None, case: str | None = None, limit: int | None = None
) -> dict:
    """Deliver the pending outbox at `as_of` (default now), optionally one case, at most
    `limit` messages. Returns the send report (counts and one entry per message)."""
    moment = _moment(as_of)
    report = deliver_outbox(moment.isoformat(), case, limit)
    await acreate_markdown_artifact(
        markdown=_send_summary_nb(report),
        key="utsending-oppsummering",
        description="Utsending fra utboksen",
    )
    if report["messages"]:
        await acreate_table_artifact(
            table=_send_table(report),
            key="utsending",
            description=f"Meldinger behandlet {moment.date().isoformat()}",
        )
    return report


def _reminder_table(run: dict) -> list[dict]:
    return [
        {
            "sak": r["case"],
            "virksomhet": r["organisation"],
            "til": r["to"],
            "påminnelse": r["reminder"],
            "dato": r["reminder_date"],
            "utfall": REMINDER_OUTCOMES_NB.get(r["outcome"], r["outcome"]),
            "status": r["status"] or "",
        }
        for r in run["reminders"]
    ]


@flow(name="send-reminders", flow_run_name="send reminders", log_prints=False)
async def send_reminders(as_of: AsOf = None, dry_run: bool = False) -> dict:
    """Queue the påminnelser due at `as_of` (default now), then deliver the outbox.

    With `dry_run` nothing is queued or sent; the result says who would get what.
    Returns {"reminders": <run>, "send": <send report or None>}.
    """
    moment = _moment(as_of)
    run = queue_due_reminders(moment.isoformat(), dry_run)
    send = None
    if not dry_run:
        send = deliver_outbox(moment.isoformat(), None, None)
        run = reminder_status(run)
    counts = run["counts"]
    await acreate_markdown_artifact(
        markdown="\n".join(
            [
                f"# Påminnelser {moment.date().isoformat()}"
                + (" (prøvekjøring)" if dry_run else ""),
                "",
                f"- nye: {counts['queued'] if not dry_run else counts['would_queue']}",
                f"- allerede lagt i utboksen: {counts['already_queued']}",
                f"- svart i mellomtiden: {counts['answered']}",
                *(
                    [
                        f"- sendt nå: {send['counts']['sent']}",
                        f"- feilet: {send['counts']['failed']}",
                    ]
                    if send
                    else []
                ),
            ]
        ),
        key="paaminnelser-oppsummering",
        description="Påminnelser før høringsfristen",
    )
    if run["reminders"]:
        await acreate_table_artifact(
            table=_reminder_table(run),
            key="paaminnelser",
            description=f"Påminnelser {moment.date().isoformat()}",
        )
    return {"reminders": run, "send": send}
