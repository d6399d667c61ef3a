"""Prefect flows of the review: record reviews, group campaigns, write the summary, export
for publication. Thin: each flow is one or two storage transactions in a task, and
reports what it did as an artifact. Every flow is safe to run again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact
from prefect.cache_policies import NO_CACHE

from domain.decisions import parse_decisions
from domain.stance import STANCE_ORDER
from services import publication, review, runtime, summary
from services.files import read_text_file
from storage.blobs import BlobStore
from storage.db import read_session, write_session


def _letters_dir() -> Path:
    return runtime.settings().data_dir / "letters"


def _blob_store() -> BlobStore:
    return BlobStore(runtime.settings().data_dir / "blobs")


# --- review ----------------------------------------------------------------------------------


@task(name="record-review", cache_policy=NO_CACHE)
def record_review_task(
    response: str,
    stance: str | None,
    items: list[str],
    note: str | None,
    accept_suggestion: bool,
    campaign: bool,
    actor: str,
    as_of: str | None,
) -> dict[str, Any]:
    now = runtime.as_of_moment(as_of)
    with write_session(runtime.engine()) as session:
        return review.record_review(
            session,
            response,
            stance=stance,
            items=items,
            note=note,
            accept_suggestion=accept_suggestion,
            campaign=campaign,
            actor=actor,
            now=now,
        )


@flow(name="review-response")
async def review_response(
    response: str,
    actor: str,
    stance: str | None = None,
    items: list[str] | None = None,
    note: str | None = None,
    accept_suggestion: bool = False,
    campaign: bool = False,
    as_of: str | None = None,
) -> dict:
    """Record a person's review of one response (or of its whole campaign group)."""
    result = record_review_task(
        response, stance, items or [], note, accept_suggestion, campaign, actor, as_of
    )
    await acreate_markdown_artifact(
        f"# Vurdering registrert\n\n- svar: {', '.join(result['responses'])}\n"
        f"- standpunkt: {result['stance_nb']}\n- endringer: {', '.join(result['items']) or '–'}",
        description=f"Vurdering i sak {result['case']}",
    )
    return result


@task(name="apply-review-file", cache_policy=NO_CACHE)
def apply_review_file_task(case: str, path: str, actor: str, as_of: str | None) -> dict:
    text = read_text_file(path, "review")
    now = runtime.as_of_moment(as_of)
    with write_session(runtime.engine()) as session:
        return review.apply_review_file(session, case, text, path, actor=actor, now=now)


@flow(name="apply-review-file")
async def apply_review_file(case: str, path: str, actor: str, as_of: str | None = None) -> dict:
    """Apply a review file (YAML or CSV): every row, or none when one is wrong."""
    result = apply_review_file_task(case, path, actor, as_of)
    await acreate_table_artifact(
        [
            {"hva": "rader", "antall": result["rows"]},
            {"hva": "svar vurdert", "antall": result["responses_reviewed"]},
            {"hva": "utdrag lagt til", "antall": result["excerpts_added"]},
            {"hva": "svar uten standpunkt", "antall": result["unreviewed"]},
        ],
        description=f"Vurderingsfil {Path(path).name} for sak {case}",
    )
    return result


@task(name="add-excerpt", cache_policy=NO_CACHE)
def add_excerpt_task(
    response: str,
    quote: str,
    item: str | None,
    attachment: str | None,
    actor: str,
    as_of: str | None,
) -> dict:
    now = runtime.as_of_moment(as_of)
    with write_session(runtime.engine()) as session:
        return review.add_excerpt(
            session, response, quote=quote, item=item, attachment=attachment, actor=actor, now=now
        )


@flow(name="add-excerpt")
async def add_excerpt(
    response: str,
    quote: str,
    actor: str,
    item: str | None = None,
    attachment: str | None = None,
    as_of: str | None = None,
) -> dict:
    """Tie a passage of a response to a change item."""
    return add_excerpt_task(response, quote, item, attachment, actor, as_of)


@task(name="group-campaigns", cache_policy=NO_CACHE)
def group_campaigns_task(case: str, actor: str, as_of: str | None) -> list[dict]:
    now = runtime.as_of_moment(as_of)
    with write_session(runtime.engine()) as session:
        return review.group_campaigns(session, case, actor=actor, now=now)


@flow(name="group-campaigns")
async def group_campaigns(case: str, actor: str, as_of: str | None = None) -> list[dict]:
    """Find the hearing's campaigns (near-identical responses) and store the groups."""
    groups = group_campaigns_task(case, actor, as_of)
    await acreate_table_artifact(
        [
            {"kampanje": g["campaign"], "svar": g["size"], "standpunkt": g["stance_nb"]}
            for g in groups
        ]
        or [{"kampanje": "ingen", "svar": 0, "standpunkt": None}],
        description=f"Kampanjer i sak {case}",
    )
    return groups


# --- summary and publication --------------------------------------------------------------------


@task(name="write-summary", cache_policy=NO_CACHE)
def write_summary_task(case: str, as_of: str | None, decisions_path: str | None) -> dict:
    decisions = None
    if decisions_path is not None:
        decisions = parse_decisions(read_text_file(decisions_path, "decisions"), decisions_path)
    now = runtime.as_of_moment(as_of)
    with write_session(runtime.engine()) as session:
        return summary.write_summary(session, case, now, _letters_dir(), decisions).as_json()


@flow(name="hearing-summary")
async def hearing_summary(
    case: str, as_of: str | None = None, decisions_path: str | None = None
) -> dict:
    """Write the høringsoppsummering (.docx with chart, and .xlsx) of a hearing."""
    result = write_summary_task(case, as_of, decisions_path)
    labels = {s.value: s.label_nb for s in STANCE_ORDER}
    rows: list[dict[str, Any]] = [
        {"standpunkt": labels[key], "antall": count} for key, count in result["stances"].items()
    ]
    rows.append({"standpunkt": "svar i alt", "antall": result["responses"]})
    rows.append({"standpunkt": "etter fristen", "antall": result["late"]})
    rows.extend(
        {"standpunkt": f"{g['label']} (kampanje)", "antall": g["size"]} for g in result["campaigns"]
    )
    await acreate_table_artifact(rows, description=f"Høringsoppsummering for sak {case}")
    return result


@task(name="export-publication", cache_policy=NO_CACHE)
def export_publication_task(case: str, outdir: str, as_of: str | None) -> dict:
    now = runtime.as_of_moment(as_of)
    with read_session(runtime.engine()) as session:
        exported = publication.export_publication(session, _blob_store(), case, Path(outdir), now)
    return exported.as_json()


@flow(name="publish-hearing")
async def publish_hearing(case: str, outdir: str, as_of: str | None = None) -> dict:
    """Export every response of the hearing for publication, private persons masked."""
    result = export_publication_task(case, outdir, as_of)
    await acreate_table_artifact(
        [
            {"hva": "svar eksportert", "antall": result["responses"]},
            {"hva": "fra privatpersoner (skjermet)", "antall": result["private"]},
            {"hva": "fra organisasjoner", "antall": result["organisations"]},
            {"hva": "automatiske svar utelatt", "antall": result["excluded"]["automatic_replies"]},
            {"hva": "i karantene, utelatt", "antall": result["excluded"]["quarantined"]},
        ],
        description=f"Publisering av høringssvar i sak {case} til {outdir}",
    )
    return result
