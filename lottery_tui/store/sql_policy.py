"""The one policy for ad hoc SQL (`lottery sql` and the explorer's SQL view): read, never write.

Three layers, each enough for the common cases and together closing the rest:

1. Statement types: only queries (SELECT, FROM, VALUES, WITH, DESCRIBE, SHOW, SUMMARIZE,
   PIVOT/UNPIVOT) and EXPLAIN of a query pass. Everything else (PRAGMA, which is also how DuckDB
   parses IMPORT DATABASE; CALL; SET; COPY; EXPORT; ATTACH; INSTALL/LOAD; UPDATE EXTENSIONS...) is
   refused with one line naming it. EXPLAIN ANALYZE runs its statement and a dynamic PIVOT parses
   as a multi-statement that can wrap COPY or INSERT, so both are classified by what they wrap.
2. The connection (`open_console`): read-only, no extension is installed or loaded on demand
   (`CONSOLE_SETTINGS`), and its configuration is locked, so a function such as
   `enable_logging` or `enable_profiling` reached from a SELECT cannot switch on file output.
3. Tests that try each known write path and check that no file appeared and the store is unchanged.

Reading local files (`read_csv`, `read_parquet`, `read_json`) stays allowed, for joining results
with a researcher's own tables; remote URLs fail because httpfs is never installed or loaded. A
served explorer (`lottery serve`, `file_access`) turns file access off altogether.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import NoReturn

import duckdb

from lottery_tui.errors import InputError, ReadOnlyViolation
from lottery_tui.store.file_access import served_folder

ALLOWED = "queries (SELECT, FROM, WITH, VALUES), EXPLAIN, DESCRIBE, SHOW, SUMMARIZE, PIVOT/UNPIVOT"
_QUERY_TYPES = frozenset({"SELECT"})
_QUERY_KEYWORDS = frozenset({"SELECT", "FROM", "VALUES", "PIVOT", "UNPIVOT", "TABLE"})
# Words that may come between WITH and the statement a CTE list belongs to.
_CTE_WORDS = frozenset({"RECURSIVE", "AS", "MATERIALIZED", "NOT", "USING", "KEY"})
_EXPLAIN_WORDS = frozenset({"EXPLAIN", "ANALYZE", "ANALYSE"})
_WORD = re.compile(r"[A-Za-z_]+")
CONSOLE_SETTINGS = {
    "autoinstall_known_extensions": "false",
    "autoload_known_extensions": "false",
    "allow_community_extensions": "false",
}
"""No extension is installed or loaded on demand (httpfs for an https URL, say)."""
CONSOLE_TEMP_LIMIT = "4GiB"
"""What a console query may spill to disk (a big sort or join): DuckDB's default is 90 % of the
free space of the disk beside the store, which a shared file system cannot spare."""


def console_temp_directory() -> Path:
    """Where console queries spill: a folder of this user's cache (mode 0700), not beside the
    store, where other users could read the spilled rows."""
    import platformdirs

    folder = Path(platformdirs.user_cache_dir("lottery-tui")) / "sql-spill"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def open_console(
    db: str | os.PathLike[str] | None = None, **connect_options: float
) -> duckdb.DuckDBPyConnection:
    """A read-only connection for ad hoc SQL, its configuration locked (see the module doc)."""
    from lottery_tui.store.connection import connect

    con = connect(db, read_only=True, **connect_options)
    try:
        # Instance-wide: connections to the same file in this process share the settings and the
        # lock, which is harmless for readers and means a second console finds them set. Set
        # after opening, not as connect-time config, so other read-only connections in this
        # process (same default config) can share the instance.
        if not con.execute("SELECT current_setting('lock_configuration')").fetchone()[0]:
            for name, value in CONSOLE_SETTINGS.items():
                con.execute(f"SET {name} = {value}")
            con.execute("SET temp_directory = ?", [str(console_temp_directory())])
            con.execute("SET max_temp_directory_size = ?", [CONSOLE_TEMP_LIMIT])
            if served_folder() is not None:  # whoever reaches the page must not read our files
                con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


def check_sql(sql: str, console: str = "the SQL console") -> list[str]:
    """The statements of `sql`, each a string to run; raises `ReadOnlyViolation` naming the first
    statement that is not a query, and `InputError` for text that does not parse."""
    try:
        statements = [(st.type.name, st.query) for st in duckdb.extract_statements(sql)]
    except duckdb.Error as exc:
        raise InputError(f"query failed: {_first_line(exc)}") from None
    except ValueError:  # a statement type the Python API has no name for (UPDATE EXTENSIONS)
        _refuse(_unnamed_statement(sql), console, None)
    if not statements:
        raise InputError("nothing to run: the query is empty")
    for number, (kind, text) in enumerate(statements, start=1):
        refused = _refused_kind(kind, text)
        if refused is not None:
            _refuse(refused, console, number if len(statements) > 1 else None)
    return [text for _, text in statements]


def _refused_kind(kind: str, text: str) -> str | None:
    """None for a query; else a name for what the statement is (for the error message)."""
    if kind in _QUERY_TYPES:
        return None
    keyword = _main_keyword(text) if kind == "MULTI" else ""
    if kind == "EXPLAIN" or keyword == "EXPLAIN":
        inner = _after_explain(text)
        try:
            wrapped = [(st.type.name, st.query) for st in duckdb.extract_statements(inner)]
        except (duckdb.Error, ValueError):
            return f"EXPLAIN {_leading_keyword(inner)}".strip()
        if len(wrapped) != 1:
            return "EXPLAIN"
        refused = _refused_kind(*wrapped[0])
        return None if refused is None else f"EXPLAIN {refused}"
    if kind == "MULTI":  # what a dynamic PIVOT parses to, wherever it appears
        return None if keyword in _QUERY_KEYWORDS else keyword or "MULTI"
    keyword = _main_keyword(text)
    return kind if keyword in ("", kind) else f"{keyword} ({kind})"


def _refuse(what: str, console: str, number: int | None) -> NoReturn:
    where = f" (statement {number})" if number is not None else ""
    raise ReadOnlyViolation(
        f"{console} is read-only: {what} statements are not allowed{where}; allowed: {ALLOWED}"
    )


def _tokens(text: str) -> list[tuple[str, str]]:
    """(text, kind) of each token, comments left out."""
    raw = duckdb.tokenize(text)
    out = []
    for i, (start, kind) in enumerate(raw):
        end = raw[i + 1][0] if i + 1 < len(raw) else len(text)
        name = str(kind).rsplit(".", 1)[-1]
        if name != "comment":
            out.append((text[start:end].strip(), name))
    return out


def _keyword(token: tuple[str, str]) -> str:
    match = _WORD.match(token[0])
    return match.group(0).upper() if match and token[1] == "keyword" else ""


def _leading_keyword(text: str) -> str:
    for token in _tokens(text):
        if token[0].startswith("("):
            continue
        return _keyword(token)
    return ""


def _main_keyword(text: str) -> str:
    """The keyword that decides what a statement does: its first one after opening parentheses,
    or, after a WITH list, the first one outside the parentheses of the common table
    expressions (that is where INSERT or COPY would be)."""
    first = _leading_keyword(text)
    if first != "WITH":
        return first
    depth = 0
    for token, kind in _tokens(text)[1:]:
        if kind == "operator":
            depth += token.count("(") - token.count(")")
            continue
        word = _keyword((token, kind))
        if depth == 0 and word and word not in _CTE_WORDS:
            return word
    return "WITH"


def _after_explain(text: str) -> str:
    """The statement an EXPLAIN [ANALYZE] [(options)] wraps."""
    raw = duckdb.tokenize(text)
    depth = 0
    for i, (start, kind) in enumerate(raw):
        end = raw[i + 1][0] if i + 1 < len(raw) else len(text)
        token = text[start:end].strip()
        name = str(kind).rsplit(".", 1)[-1]
        if name == "comment":
            continue
        if name == "operator" and (depth or token.startswith("(")):
            depth += token.count("(") - token.count(")")
            continue
        if depth == 0 and name == "keyword" and _keyword((token, name)) in _EXPLAIN_WORDS:
            continue
        if depth:
            continue
        return text[start:]
    return ""


def _unnamed_statement(sql: str) -> str:
    """Name the statement DuckDB parsed but Python cannot classify: the first one, split on
    top-level semicolons, that fails to classify on its own."""
    pieces, start = [], 0
    raw = duckdb.tokenize(sql)
    for i, (offset, kind) in enumerate(raw):
        end = raw[i + 1][0] if i + 1 < len(raw) else len(sql)
        if str(kind).endswith("operator") and ";" in sql[offset:end]:
            pieces.append(sql[start:offset])
            start = offset + sql[offset:end].index(";") + 1
    pieces.append(sql[start:])
    for piece in pieces:
        try:
            _ = [st.type for st in duckdb.extract_statements(piece)]
        except ValueError:
            words = [_keyword(t) for t in _tokens(piece)[:2]]
            return " ".join(w for w in words if w) or "unknown"
        except duckdb.Error:
            continue
    return "unknown"


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
