"""The scheme model: one township's rules as data, checked on load.

A scheme (考评方案) is a TOML file. It declares the forms to print and read, a tree of score
nodes (leaves aggregate a form's rows, inner nodes combine children by weight or sum), how
periods combine into a year, and one or more gradings (等次) with quota rules, tie-breakers,
vetoes and consequences. Nothing here reads files; ``load_scheme`` takes the parsed dict.

The parts, each a module of this package:

- ``common``: the error, the bounds on what a scheme may say, number and list types, the strict base model;
- ``forms``: the six kinds of form and their columns;
- ``nodes``: the score tree (leaves by ``agg``, ``Combine``);
- ``grading``: gradings, rules, consequences, vetoes and lists;
- ``model``: the scheme itself and the cross-references between its parts;
- ``load``: ``load_scheme`` and the Chinese messages for every problem.

Everything public is re-exported here: import from ``villagescore.core.scheme``.
"""

from __future__ import annotations

from villagescore.core.scheme.common import (
    EXCEL_CELL_CHARS,
    MAX_COLUMNS,
    MAX_DEPTH,
    MAX_DRAW,
    MAX_EVALUATORS,
    MAX_FORM_ROWS,
    MAX_ITEMS,
    MAX_PLACES,
    MAX_TEXT,
    NUMBER_LIMIT,
    TEXT_LIMIT,
    DecimalMap,
    Num,
    Places,
    SchemeError,
    Strict,
    Texts,
)
from villagescore.core.scheme.forms import (
    FORM_KINDS,
    RESERVED_KEYS,
    Ballots,
    CallbackForm,
    Column,
    ColumnType,
    Decide,
    Form,
    FormBase,
    FormColumns,
    Register,
    ScoreBallot,
    Survey,
    Tally,
    Track,
    UnitScores,
    VoteBallot,
)
from villagescore.core.scheme.grading import Consequence, Entered, Grading, Listing, OnlyIf, Rule, RuleKind, Streak, Veto
from villagescore.core.scheme.load import KNOWN_DEFAULTS, Locate, load_scheme
from villagescore.core.scheme.model import Annual, Criteria, Meta, Scheme
from villagescore.core.scheme.nodes import (
    LEAF_KINDS,
    BallotMean,
    Band,
    Combine,
    CountPoints,
    Deduction,
    Direct,
    Leaf,
    LeafBase,
    Node,
    RegisterSum,
    SharePoints,
)

__all__ = [
    "EXCEL_CELL_CHARS", "MAX_COLUMNS", "MAX_DEPTH", "MAX_DRAW", "MAX_EVALUATORS", "MAX_FORM_ROWS", "MAX_ITEMS",
    "MAX_PLACES", "MAX_TEXT", "NUMBER_LIMIT", "TEXT_LIMIT", "DecimalMap", "Num", "Places", "SchemeError", "Strict",
    "Texts",
    "FORM_KINDS", "RESERVED_KEYS", "Ballots", "CallbackForm", "Column", "ColumnType", "Decide", "Form", "FormBase",
    "FormColumns", "Register", "ScoreBallot", "Survey", "Tally", "Track", "UnitScores", "VoteBallot",
    "Consequence", "Entered", "Grading", "Listing", "OnlyIf", "Rule", "RuleKind", "Streak", "Veto",
    "KNOWN_DEFAULTS", "Locate", "load_scheme",
    "Annual", "Criteria", "Meta", "Scheme",
    "LEAF_KINDS", "BallotMean", "Band", "Combine", "CountPoints", "Deduction", "Direct", "Leaf", "LeafBase", "Node",
    "RegisterSum", "SharePoints",
]
