"""The stages of a run, one module each, in the order the data flows through them:

setup (read the setup, from the files ``collect`` reads first) → collect (find, read and identify every other
file) → survey (questionnaire exports) → parse (the forms against the setup) → check (each unit's inputs, the
issues) → score → grade; validate (coverage) instead of grading; template (the blank forms) before all of them.
``villagescore/pipeline.py`` composes them. A stage imports only stages before it in the order ``collect``,
``survey``, ``setup``, ``parse``, ``check``, ``score``, ``grade``, ``validate``, ``template``
(``tests/test_layers.py``).

File I/O through ``villagescore.io``; never imports typer or rich.
"""

from __future__ import annotations

from typing import Callable

Progress = Callable[[str], None]  # called with each file's name (as shown) once it is done
