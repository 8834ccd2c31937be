"""The report's questions called with the CLI's keywords, for tests: selection keys (source,
datasets, models, ...) and option keys (resamples, seed, alpha, adjustment) in one call."""

from __future__ import annotations

import dataclasses

from lottery_tui.report import service
from lottery_tui.report.context import ReportContext
from lottery_tui.report.selection import Options, Selection

_OPTION_KEYS = {f.name for f in dataclasses.fields(Options)}


def split(keywords: dict) -> tuple[Selection, Options]:
    """A Selection and Options from one set of keywords."""
    options = {k: v for k, v in keywords.items() if k in _OPTION_KEYS}
    selection = {k: v for k, v in keywords.items() if k not in _OPTION_KEYS}
    return Selection(**selection), Options(**options)


def context(con, **selection) -> ReportContext:
    return ReportContext.load(con, Selection(**selection))


def report(con, *, top=None, pairs=None, **keywords) -> service.Report:
    selection, options = split(keywords)
    return service.build_report(con, selection, options, top=top, pairs=pairs)


def gains(con, *, top=None, pairs=None, **keywords) -> list[service.MarginalGain]:
    selection, options = split(keywords)
    ctx = ReportContext.load(con, selection)
    return service.marginal_gains(ctx, options, top=top, pairs=pairs)


def agreement(con, *, top=None, **keywords) -> list[service.RankAgreementRow]:
    selection, options = split(keywords)
    return service.rank_agreement(ReportContext.load(con, selection), options, top=top)
