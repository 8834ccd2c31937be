"""`lottery cache [list|prune]`: what the probe caches hold (size, last use, claims), and pruning.

The listing and the rules of pruning are `lottery_tui/runs/caches.py`; this only prints.
"""

from __future__ import annotations

import argparse
import time

from lottery_tui.cli.main import add_db_option


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "cache",
        help="list and prune the probe's feature caches and trained heads",
        description="The feature caches of probe runs: what each entry is, its size, its last "
        "use and any claim on it; prune old entries (never one a live claim holds).",
    )
    _options(parser)
    parser.set_defaults(func=_list, cache_command="list")
    sub = parser.add_subparsers(dest="cache_command", metavar="ACTION")

    p = sub.add_parser("list", help="every cache entry with its size, last use and claim (default)")
    _options(p, suppress=True)
    p.set_defaults(func=_list)

    p = sub.add_parser("prune", help="delete cache entries not used recently")
    _options(p, suppress=True)
    p.add_argument(
        "--older-than",
        metavar="D",
        default=None,
        help="only entries last used more than D ago (30d, 12h, 90m, 45s; default: every entry "
        "not in use)",
    )
    p.add_argument("--dry-run", action="store_true", help="say what would go, delete nothing")
    p.set_defaults(func=_prune)


def _options(parser: argparse.ArgumentParser, *, suppress: bool = False) -> None:
    default = argparse.SUPPRESS if suppress else None
    add_db_option(parser)
    parser.add_argument(
        "--results-dir",
        metavar="DIR",
        default=default,
        help="folder of run directories (default: $LOTTERY_RESULTS, else <store dir>/runs)",
    )
    parser.add_argument(
        "--cache-dir",
        metavar="DIR",
        default=default,
        help="one cache folder (default: <results>/feature-cache and those its runs used)",
    )


NO_CACHE = "no feature cache yet (probe runs create <results>/feature-cache)"


def _entries(args: argparse.Namespace):
    from pathlib import Path

    from lottery_tui.runs.caches import cache_roots, scan_cache
    from lottery_tui.runs.locations import resolve_results_dir

    results = resolve_results_dir(args.results_dir, args.db)
    explicit = None if args.cache_dir is None else Path(args.cache_dir).expanduser()
    return [(root, scan_cache(root, results)) for root in cache_roots(results, explicit)]


def _list(args: argparse.Namespace) -> int:
    from lottery_tui.runs.caches import format_age, format_size

    found = _entries(args)
    if not found:
        print(NO_CACHE)
    now = time.time()
    for root, entries in found:
        total = sum(e.size for e in entries)
        print(f"{root}: {_count(len(entries))}, {format_size(total)}")
        rows = [("ENTRY", "SIZE", "CHUNKS", "LAST USE", "CLAIM", "WHAT")]
        rows += [
            (
                str(e.path.relative_to(root)),
                format_size(e.size),
                str(e.chunks) if e.kind == "features" else "-",
                format_age(now - e.last_use),
                e.claim or "-",
                e.what,
            )
            for e in entries
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        for row in rows:
            cells = [c.ljust(w) for c, w in zip(row[:5], widths, strict=True)]
            print("  " + "  ".join(cells) + "  " + row[5])
    return 0


def _prune(args: argparse.Namespace) -> int:
    from lottery_tui.runs.caches import format_age, format_size, parse_duration, prune

    older_than = None if args.older_than is None else parse_duration(args.older_than)
    now = time.time()
    found = _entries(args)
    if not found:
        print(NO_CACHE)
    for root, entries in found:
        report = prune(entries, older_than, dry_run=args.dry_run, now=now)
        verb = "would remove" if args.dry_run else "removed"
        print(f"{root}: {verb} {_count(len(report.removed))}, {format_size(report.freed)}")
        for e in report.removed:
            where = e.path.relative_to(root)
            print(
                f"  {where}: {format_size(e.size)}, used {format_age(now - e.last_use)}, {e.what}"
            )
        for e, why in report.kept:
            print(f"  kept {e.path.relative_to(root)}: {why}")
    return 0


def _count(n: int) -> str:
    return f"{n} entry" if n == 1 else f"{n} entries"
