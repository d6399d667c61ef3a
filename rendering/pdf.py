"""PDF copies of the letters, converted by LibreOffice (`soffice --headless`).

Optional: without LibreOffice, or when a conversion fails, nothing is written and the
letters go out as .docx alone.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

PDF_TIMEOUT_S = 180.0
DOCX_SUFFIX = ".docx"


def pdf_beside(docx: Path) -> Path:
    return docx.with_suffix(".pdf")


def soffice_binary() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def ensure_pdfs(docx_files: Sequence[Path], timeout_s: float = PDF_TIMEOUT_S) -> None:
    """Convert the .docx files that have no PDF beside them, one LibreOffice run per
    folder. Optional: without LibreOffice, or when it fails, nothing happens."""
    binary = soffice_binary()
    missing = [p for p in dict.fromkeys(docx_files) if p.exists() and not pdf_beside(p).exists()]
    if binary is None or not missing:
        return
    by_folder: dict[Path, list[Path]] = {}
    for path in missing:
        by_folder.setdefault(path.parent, []).append(path)
    for folder, files in by_folder.items():
        with tempfile.TemporaryDirectory(prefix="hoering-soffice-") as profile:
            command = [
                binary,
                f"-env:UserInstallation={Path(profile).as_uri()}",
                "--headless",
                "--norestore",
                "--convert-to",
                "pdf",
                "--outdir",
                str(folder),
                *(str(p) for p in files),
            ]
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                subprocess.run(command, capture_output=True, timeout=timeout_s, check=False)
