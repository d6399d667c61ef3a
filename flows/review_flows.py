"""Prefect flows of the review: apply a review file, group campaigns, write the summary, export
for publication. Thin: each flow is one or two storage transactions in a task, and
reports what it did as an artifact. Every flow is safe to run again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.artifacts import acreate_table_artifact
from prefect.cache_policies import NO_CACHE

from domain.decisions import parse_decisions
from domain.stance import STANCE_ORDER
from flows.params import AsOf, iso
from services import campaigns, publication, review, runtime, summary
from services.files import read_text_file
from services.intake_parsing import worker_count
from storage.blobs import BlobStore
from storage.db import read_session, write_session


def _letters_dir() -> Path:
    return runtime.settings().data_dir / "letters"


def _blob_store() -> BlobStore:
    return BlobStore(runtime.settings().data_dir / "blobs")


# --- review ----------------------------------------------------------------------------------


@task(name="apply-review-file", cache_policy=NO_CACHE)
def apply_review_file_task(case: str, path: str, actor: str, as_of: str | None) -> dict:
    text = read_text_file(path, "review")
    now = runtime.as_of_moment(as_of)
    with write_session(runtime.engine()) as session:
        return review.apply_review_file(session, case, text, path, actor=actor, now=now)


@flow(name="apply-review-file", flow_run_name="apply review file {case}")
async def apply_review_file(
    case: str, path: str, actor: str = "prefect", as_of: AsOf = None
) -> dict:
    """Apply a review file (YAML or CSV): every row, or none when one is wrong."""
    result = apply_review_file_task(case, path, actor, iso(as_of))
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


@task(name="group-campaigns", cache_policy=NO_CACHE)
def group_campaigns_task(case: str, actor: str, as_of: str | None) -> list[dict]:
    now = runtime.as_of_moment(as_of)
    with write_session(runtime.engine()) as session:
        return review.group_campaigns(session, case, actor=actor, now=now)


@task(name="group-new-responses", cache_policy=NO_CACHE)
def group_new_responses_task(as_of: str | None, actor: str = "prefect") -> dict:
    """Group the responses filed since the last grouping, in every hearing, without
    regrouping the rest (`services.campaigns.group_new_responses`). The import calls
    it after its batches."""
    now = runtime.as_of_moment(as_of)
    return campaigns.group_all_new_responses(runtime.engine(), actor=actor, now=now)


@flow(name="group-campaigns", flow_run_name="group campaigns {case}")
async def group_campaigns(case: str, actor: str = "prefect", as_of: AsOf = None) -> list[dict]:
    """Find the hearing's campaigns (near-identical responses) and store the groups."""
    groups = group_campaigns_task(case, actor, iso(as_of))
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


@flow(name="hearing-summary", flow_run_name="summary {case}")
async def hearing_summary(case: str, as_of: AsOf = None, decisions_path: str | None = None) -> dict:
    """Write the høringsoppsummering (.docx with chart, and .xlsx) of a hearing."""
    result = write_summary_task(case, iso(as_of), decisions_path)
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
        workers = worker_count(runtime.settings().publication_workers)
        exported = publication.export_publication(
            session, _blob_store(), case, Path(outdir), now, workers=workers
        )
    return exported.as_json()


@flow(name="publish-hearing", flow_run_name="publish {case}")
async def publish_hearing(case: str, outdir: str, as_of: AsOf = None) -> dict:
    """Export every response of the hearing for publication, private persons masked."""
    result = export_publication_task(case, outdir, iso(as_of))
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
