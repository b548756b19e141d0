"""Telling the readable ballots this tool printed (PDF) from other files, without the PDF libraries: a forms
folder holds them beside the workbooks, and reading the folder should say they are for printing, not warn."""

from __future__ import annotations

from pathlib import Path

MARKER = b"(villagescore-ballots)"  # io/omr_pdf.MARKER as the PDF's Info dictionary writes it
_MAX = 64 << 20


def is_printed_ballots(path: Path) -> bool:
    """Whether ``path`` is a PDF of readable ballots written by ``villagescore template``."""
    path = Path(path)
    if path.suffix.lower() != ".pdf":
        return False
    try:
        if path.stat().st_size > _MAX:
            return False
        data = path.read_bytes()
    except OSError:
        return False
    return data.startswith(b"%PDF") and MARKER in data


__all__ = ["is_printed_ballots"]
