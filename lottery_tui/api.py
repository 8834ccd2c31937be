"""The public Python API: `store = lottery_tui.open()`, then DataFrames and result objects.

One path for everyone: `lottery report` and `lottery compare` call `Store.report` and
`Store.compare`, so the Markdown and JSON a notebook gets are the CLI's, byte for byte. The
store is opened read-only, resolved as the CLI resolves it (`db`, then `$LOTTERY_DB`, then the
per-user data directory). Errors are `lottery_tui.errors.LotteryError` subclasses. Heavy
modules (duckdb, pandas, the statistics) load on first use, so `import lottery_tui` is light.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lottery_tui.errors import InputError, LotteryError, ReadOnlyViolation
from lottery_tui.report.selection import COMPARE_RESAMPLES, Options, Selection

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

    from lottery_tui.report.comparisons import Comparisons
    from lottery_tui.report.data import Aggregates
    from lottery_tui.report.service import Report

_SELECTION_KEYS = {f.name for f in dataclasses.fields(Selection)}
_OPTION_KEYS = {"resamples", "alpha", "seed", "adjust"}  # as the CLI flags; adjust = adjustment


def open(db: str | os.PathLike[str] | None = None) -> Store:
    """The store at `db` (None: `$LOTTERY_DB`, then the per-user default), read-only."""
    from lottery_tui.store.sql_policy import open_console

    return Store(open_console(db))


def request(
    selection: Selection | None, options: Options | None, keywords: dict[str, Any], resamples: int
) -> tuple[Selection, Options]:
    """The selection and options of a call: the objects given (or the defaults), with any
    keyword named as a CLI flag replacing its field."""
    unknown = set(keywords) - _SELECTION_KEYS - _OPTION_KEYS
    if unknown:
        raise TypeError(f"unexpected keyword argument(s): {', '.join(sorted(unknown))}")
    given = {k: v for k, v in keywords.items() if v is not None}
    chosen = dataclasses.replace(
        selection or Selection(), **{k: v for k, v in given.items() if k in _SELECTION_KEYS}
    )
    how = {("adjustment" if k == "adjust" else k): v for k, v in given.items() if k in _OPTION_KEYS}
    return chosen, dataclasses.replace(options or Options(resamples=resamples), **how)


class Store:
    """An open, read-only store. Use as a context manager or call `close()`."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    def results(
        self, *, model: str | None = None, dataset: str | None = None, source: str | None = None
    ) -> pd.DataFrame:
        """The `results` view (top-1/top-5 in percent), filtered; `model` is a glob."""
        from lottery_tui.store.public_views import read_view

        return read_view(self.con, "results", model=model, dataset=dataset, source=source)

    def predictions(
        self, *, model: str | None = None, dataset: str | None = None, source: str | None = None
    ) -> pd.DataFrame:
        """The `predictions` view (one row per model, dataset and image), filtered."""
        from lottery_tui.store.public_views import read_view

        return read_view(self.con, "predictions", model=model, dataset=dataset, source=source)

    def sql(self, query: str) -> pd.DataFrame:
        """The last result of `query`, under the read-only policy of `lottery sql`."""
        import duckdb

        from lottery_tui.store.sql_policy import check_sql

        frame = None
        for statement in check_sql(query, console="lottery_tui.open().sql"):
            try:
                result = self.con.execute(statement)
                frame = result.df() if result.description else frame
            except duckdb.Error as exc:
                first_line = str(exc).strip().splitlines()[0]
                if "read-only mode" in first_line:
                    raise ReadOnlyViolation(f"store.sql is read-only: {first_line}") from None
                raise InputError(f"query failed: {first_line}") from None
        return frame

    def report(
        self,
        selection: Selection | None = None,
        options: Options | None = None,
        *,
        top: int | None = None,
        pairs: list[tuple[str, str]] | None = None,
        **keywords: Any,
    ) -> ReportResult:
        """`lottery report`: keywords as its flags (source, reference, datasets, models,
        pretraining, protocol, resamples, alpha, seed, adjust), or the objects themselves."""
        from lottery_tui.report.context import ReportContext
        from lottery_tui.report.service import report_of

        chosen, how = request(selection, options, keywords, Options().resamples)
        if top is not None and top <= 0:
            raise InputError(f"top: must be a positive integer, got {top}")
        context = ReportContext.load(self.con, chosen, share_draws=True)
        return ReportResult(report_of(context, how, top=top, pairs=pairs), context.agg)

    def compare(
        self,
        a: str,
        b: str,
        selection: Selection | None = None,
        options: Options | None = None,
        **keywords: Any,
    ) -> CompareResult:
        """`lottery compare A B`: A against B on every dataset both have results on."""
        from lottery_tui.report.service import compare

        chosen, how = request(selection, options, keywords, COMPARE_RESAMPLES)
        return CompareResult(compare(self.con, a, b, chosen, how))


@dataclass(frozen=True)
class ReportResult:
    """A report: DataFrames for analysis, the CLI's Markdown and JSON, and figures."""

    data: Report  # the result dataclasses, as the JSON has them
    population: Aggregates  # every selected model's results (bump and scatter draw them all)

    @property
    def summary(self) -> pd.DataFrame:
        from lottery_tui.report.frames import summary_frame

        return summary_frame(self.data)

    @property
    def rank_agreement(self) -> pd.DataFrame:
        from lottery_tui.report.frames import rank_agreement_frame

        return rank_agreement_frame(self.data)

    @property
    def gains(self) -> pd.DataFrame:
        from lottery_tui.report.frames import gains_frame

        return gains_frame(self.data)

    @property
    def rank_uncertainty(self) -> pd.DataFrame:
        from lottery_tui.report.frames import rank_uncertainty_frame

        return rank_uncertainty_frame(self.data)

    def to_markdown(self) -> str:
        from lottery_tui.report.render import report_markdown

        return report_markdown(self.data)

    def to_json(self) -> str:
        from lottery_tui.report.render import report_json

        return report_json(self.data)

    def figure(self, kind: str, width: str = "single", target: str | None = None) -> Any:
        """A matplotlib Figure of this report (`lottery_tui.figures`, the [figures] extra)."""
        try:
            from lottery_tui.figures import make_figure
        except ModuleNotFoundError as exc:
            if exc.name is None or exc.name.split(".")[0] not in ("lottery_tui", "matplotlib"):
                raise
            raise MissingExtraError(
                f"figures need the [figures] extra ({exc.name} is not installed): "
                "pip install 'lottery-tui[figures]'"
            ) from None
        return make_figure(self, kind, width=width, target=target)


@dataclass(frozen=True)
class CompareResult:
    """A against B: one row per dataset, and the CLI's Markdown and JSON."""

    data: Comparisons

    @property
    def rows(self) -> pd.DataFrame:
        """One row per dataset, as the JSON has it (fractions; p adjusted over datasets)."""
        import pandas as pd

        from lottery_tui.report.render import plain

        return pd.DataFrame([plain(row) for row in self.data.rows])

    def to_markdown(self, width: int | None = None) -> str:
        """The CLI's Markdown; `width` fits the table to a terminal (None: every column)."""
        from lottery_tui.report.render import compare_markdown

        d = self.data
        return compare_markdown(
            d.model_a.qualified, d.model_b.qualified, d.rows, d.alpha, width=width
        )

    def to_json(self) -> str:
        from lottery_tui.report.render import compare_json

        d = self.data
        return compare_json(d.model_a.qualified, d.model_b.qualified, d.rows)


class MissingExtraError(LotteryError):
    """An optional extra this call needs is not installed; the message names it."""
