"""villagescore: half-year evaluation of village Party secretaries from spreadsheets."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    import pandas

__version__ = "0.1.0"
TEMPLATE_VERSION = "1"


def results(archive: str | os.PathLike, *, schemes: Iterable[str | os.PathLike] = ()) -> "pandas.DataFrame":
    """Every archived unit result across periods as a pandas DataFrame: one row per run × unit (docs/exports.md).

    ``archive`` is a results archive (``villagescore.db``); ``schemes`` names scheme files (TOML) the runs used
    besides the built-in ones, so that their fund changes can be derived. pandas is imported only here.
    """
    from villagescore.io.results import results as archived_results

    return archived_results(archive, schemes=schemes)


__all__ = ["results", "__version__", "TEMPLATE_VERSION"]
