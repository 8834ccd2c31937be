"""Speed and memory of the statistics on the shipped data (run by hand, not in CI).

    .venv/bin/python bench/bench_stats.py [--resamples 10000] [--db PATH]

Prints, from one run on one machine:
1. `lottery report --source analysing-relations` (the 15 per-image models, val and ReaL: the
   report whose intervals come from the joint image bootstrap), B resamples, wall time and peak
   memory; its time per interval (over the 58 intervals of part 2) against scipy's;
2. the same percentile intervals (15 models' accuracy on val and ReaL, and the 14 adjacent
   pairs' paired differences on both: 58 intervals, B resamples) from our shared weight-matrix
   bootstrap, from scipy.stats.bootstrap (percentile, batched) and from pingouin.compute_bootci
   (percentile): scipy and pingouin are timed on a few intervals and scaled per interval, since
   all 58 would take many minutes;
3. the weight-matrix bootstrap (B x n @ n x M, n = 50,000, M = 15) against one float32 matmul
   of that shape, done in row chunks so that W never exceeds the memory budget;
4. the samplers of W side by side on the same patterns, interleaved, best of --repeat: n image
   indices per resample + bincount, numpy's multinomial over every pattern, and the two-stage
   sampler as shipped (pooled picks counted per image), with the previous pooled path (picks
   gathered to their pattern first) and with candidates (a rectangle of picks per block; the
   per-image pooled path in torch, CPU, one thread: what another generator would give).
   `--samplers-only` runs 3 and 4 alone (quick).
5. `--tau-coverage` (alone): the coverage of the interval over models, the procedure the report
   prints, over normal, t3 and Cauchy (t1) populations, tau 0 to 0.95, M 6 to 1,500, with the
   Monte-Carlo SE (the figures in docs/statistics.md; --coverage-reps per cell, --large-reps at
   M = 1,500: about 30 minutes at 300 and 40 on a loaded 2-core machine).
6. `--image-coverage` (alone): the interval over test images, simulated through the joint image
   bootstrap the report runs (analysis/coverage.image_interval_samples): for the shipped
   withholding rule and each candidate in RULES, scored on the same samples, how often it is
   shown, its coverage of the true tau when shown and how often a withheld interval would have
   covered (about 15 minutes on a loaded 2-core machine).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import duckdb
import numpy as np

from analysis.bootstrap import POOL_BLOCK, ImageSet, _Sampler, compress, resample_accuracies


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def pooled_rectangle(sampler: _Sampler, totals: np.ndarray, rng) -> np.ndarray:
    """Candidate pooled path: a rectangle of max(totals) picks per row and block, the picks past
    a row's total sent to a spare bin (exact: a row's first totals[i] picks are i.i.d.), so no
    per-pick row offsets are built. Not adopted: no consistent gain (see docs/statistics.md)."""
    k = sampler.rare.size
    out = np.empty((totals.size, k), dtype=np.float32)
    for start in range(0, totals.size, POOL_BLOCK):
        block = totals[start : start + POOL_BLOCK]
        width = int(block.max())
        picks = sampler.pool[rng.integers(0, sampler.pool.size, (block.size, width), np.uint32)]
        picks += (np.arange(block.size, dtype=np.intp) * k)[:, None]
        picks[np.arange(width) >= block[:, None]] = block.size * k
        counts = np.bincount(picks.ravel(), minlength=block.size * k + 1)
        out[start : start + block.size] = counts[:-1].reshape(block.size, k)
    return out


def pooled_per_pattern(sampler: _Sampler, totals: np.ndarray, rng) -> np.ndarray:
    """The previous pooled path: each pick gathered to its rare pattern before the bincount
    (blocks of 64 rows), W over patterns. Replaced by counting per pooled image (the gather was
    a third of the sampler's time); kept here to time the two side by side."""
    k = sampler.rare.size
    out = np.empty((totals.size, k), dtype=np.float32)
    for start in range(0, totals.size, 64):
        block = totals[start : start + 64]
        picks = sampler.pool[rng.integers(0, sampler.pool.size, int(block.sum()), np.uint32)]
        offsets = np.repeat(np.arange(block.size, dtype=np.intp) * k, block)
        out[start : start + block.size] = np.bincount(
            offsets + picks, minlength=block.size * k
        ).reshape(block.size, k)
    return out


def pooled_torch(sampler: _Sampler, totals: np.ndarray, rng) -> np.ndarray:
    """Candidate pooled path in torch (CPU, one thread): the shipped per-image counting with
    torch.randint and torch.bincount in place of numpy's, seeded from `rng`; exact, a different
    random stream. Measured to see whether another library's generator would reach the 3x
    target where numpy's does not (analysis/ stays numpy: torch is the probe's dependency)."""
    import torch

    torch.set_num_threads(1)
    k = sampler.pool.size
    gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
    out = np.empty((totals.size, k), dtype=np.float32)
    for start in range(0, totals.size, POOL_BLOCK):
        block = torch.from_numpy(totals[start : start + POOL_BLOCK].astype(np.int64))
        picks = torch.repeat_interleave(torch.arange(block.numel()) * k, block)
        picks += torch.randint(0, k, (picks.numel(),), generator=gen)
        counts = torch.bincount(picks, minlength=block.numel() * k)
        out[start : start + block.numel()] = counts.reshape(-1, k).numpy()
    return out


def weight_matrix_vs_matmul(val: np.ndarray, b: int) -> None:
    """3. the weight-matrix bootstrap against one matmul of the same shape."""
    n, m = val.shape
    chunk = 1000
    w = np.random.default_rng(1).random((chunk, n), dtype=np.float32)
    c = val.astype(np.float32)

    def matmul():
        for _ in range(0, b, chunk):
            np.matmul(w, c)

    matmul()  # warm up BLAS threads
    t_mm, _ = timed(matmul)
    tracemalloc.start()
    t_boot, _ = timed(
        lambda: resample_accuracies(ImageSet({"imagenet": val}), b, np.random.default_rng(2))
    )
    _, boot_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"\nweight-matrix bootstrap B={b} x n={n} @ n x M={m}: {t_boot:.2f} s; one float32 "
        f"matmul of that shape (chunks of {chunk} rows, W made beforehand): {t_mm:.2f} s; "
        f"ratio {t_boot / t_mm:.1f}x; numpy peak {boot_peak / 2**30:.2f} GB"
    )


def samplers_side_by_side(val: np.ndarray, b: int, repeat: int) -> None:
    """W for B resamples (one thread, one chunk) by each sampler, then W @ patterns."""
    import torch  # noqa: F401 - imported before any clock starts (the torch candidate)

    patterns = compress(val)
    sampler = _Sampler.for_counts(patterns.counts)
    n = int(patterns.counts.sum())
    probs = patterns.counts / n

    def two_stage(pooled):
        def draw(rng):
            head = rng.multinomial(sampler.n, sampler.probs, size=b)
            w = np.empty((b, sampler.n_patterns), dtype=np.float32)
            w[:, sampler.frequent] = head[:, : sampler.frequent.size]
            w[:, sampler.rare] = pooled(head[:, sampler.frequent.size], rng)
            return w @ patterns.rows

        return draw

    design = sampler.design(patterns.rows)

    def per_image_columns(pooled):
        """`_Sampler.draw_columns` with another pooled path, times the same product."""

        def draw(rng):
            head = rng.multinomial(sampler.n, sampler.probs, size=b)
            w = np.empty((b, sampler.frequent.size + sampler.pool.size), dtype=np.float32)
            w[:, : sampler.frequent.size] = head[:, : sampler.frequent.size]
            w[:, sampler.frequent.size :] = pooled(head[:, sampler.frequent.size], rng)
            return w @ design

        return draw

    image_pattern = np.repeat(np.arange(patterns.counts.size, dtype=np.intp), patterns.counts)
    p_count = patterns.counts.size

    def every_image(rng):
        """n uniform image indices per resample, counted per pattern (blocks of POOL_BLOCK)."""
        w = np.empty((b, p_count), dtype=np.float32)
        for start in range(0, b, POOL_BLOCK):
            rows = min(POOL_BLOCK, b - start)
            picks = image_pattern[rng.integers(0, n, (rows, n), np.uint32)]
            picks += (np.arange(rows, dtype=np.intp) * p_count)[:, None]
            w[start : start + rows] = np.bincount(picks.ravel(), minlength=rows * p_count).reshape(
                rows, p_count
            )
        return w @ patterns.rows

    ways = {
        "n image indices + bincount": every_image,
        "numpy multinomial over all patterns": lambda rng: (
            rng.multinomial(n, probs, size=b).astype(np.float32) @ patterns.rows
        ),
        "two-stage, pooled per image (analysis/bootstrap.py)": lambda rng: (
            sampler.draw_columns(b, rng) @ design
        ),
        "two-stage, pooled per pattern (the previous one)": two_stage(
            lambda totals, rng: pooled_per_pattern(sampler, totals, rng)
        ),
        "two-stage, pooled by rectangle (candidate)": two_stage(
            lambda totals, rng: pooled_rectangle(sampler, totals, rng)
        ),
        "two-stage, pooled per image by torch.randint + torch.bincount (candidate)": (
            per_image_columns(lambda totals, rng: pooled_torch(sampler, totals, rng))
        ),
    }
    best = {name: float("inf") for name in ways}
    for r in range(repeat):
        for name, way in ways.items():
            seconds, _ = timed(lambda way=way, r=r: way(np.random.default_rng(r)))
            best[name] = min(best[name], seconds)
    print(
        f"\nsamplers of W, B={b}, {patterns.counts.size:,} patterns ({sampler.frequent.size} "
        f"apart, {sampler.pool.size:,} images pooled), one thread, best of {repeat}:"
    )
    base = best["two-stage, pooled per image (analysis/bootstrap.py)"]
    for name, seconds in best.items():
        print(f"  {name}: {seconds:.3f} s ({seconds / base:.2f}x the shipped one)")


def tau_coverage(reps: int, large_reps: int, seed: int) -> None:
    """Part 5: one independent stream per cell; `large_reps` at M = 1,500 (each sample's BCa
    bootstrap is 1,000 products of M x M). Cauchy first: the cells the interval was changed for."""
    from analysis.coverage import models_interval_coverage

    cells = [
        (df, tau, m)
        for df in (1.0, 3.0, None)
        for tau in (0.0, 0.5, 0.8, 0.91, 0.95)
        for m in (6, 10, 20, 30, 100, 400, 1500)
    ]
    streams = np.random.SeedSequence(seed).spawn(len(cells))
    print("population  tau   M     reps  coverage  MC SE   zero-width  seconds")
    for (df, tau, m), stream in zip(cells, streams, strict=True):
        n = reps if m <= 400 else large_reps
        start = time.perf_counter()
        c = models_interval_coverage(df, tau, m, n, np.random.default_rng(stream))
        print(
            f"{c.population:<10}  {c.tau:<4}  {m:<5} {n:<5} {c.rate:.3f}     "
            f"{c.mc_error:.3f}   {c.zero_width:<10}  {time.perf_counter() - start:.0f}",
            flush=True,
        )


IMAGE_REGIMES = (  # models, gap between neighbours (pp), images, shared error share
    (30, 0.1, 10_000, 0.0),
    (30, 0.05, 10_000, 0.5),
    (30, 0.03, 10_000, 0.7),
    (30, 0.5, 10_000, 0.0),
    (120, 0.13, 10_000, 0.3),
    (30, 2.0, 10_000, 0.0),
    (15, 2.0, 50_000, 0.5),
)


RULES = (  # (pair swaps, separation): the shipped rule first, then candidates
    (3, 1.0),
    (3, 0.75),
    (3, 0.5),
    (2, 1.0),
    (1, 1.0),
    (0, 1.0),
)


def image_coverage(reps: int, resamples: int, seed: int) -> None:
    """Part 6: one independent stream per regime; every rule scored on the same samples."""
    from analysis.coverage import image_interval_samples, under_rule

    streams = np.random.SeedSequence(seed).spawn(len(IMAGE_REGIMES))
    print("rule (swaps, separation); regime (models, gap pp, images, shared): shown, coverage")
    print("when shown (MC SE), withheld that would have covered")
    for regime, stream in zip(IMAGE_REGIMES, streams, strict=True):
        samples = image_interval_samples(*regime, reps, resamples, np.random.default_rng(stream))
        for rule in RULES:
            c = under_rule(regime, samples, *rule)
            print(
                f"{rule!s:<9} {regime!s:<26} {c.shown:>3}/{c.reps:<3} "
                f"{c.rate:.3f} ({c.mc_error:.3f})    {c.would_cover}/{c.reps - c.shown}",
                flush=True,
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resamples", type=int, default=10_000)
    parser.add_argument("--db", type=Path, help="store to use (default: build a fresh one)")
    parser.add_argument("--scipy-intervals", type=int, default=3)
    parser.add_argument("--pingouin-intervals", type=int, default=1, help="0: skip pingouin")
    parser.add_argument("--samplers-only", action="store_true", help="only parts 3 and 4")
    parser.add_argument("--repeat", type=int, default=5, help="part 4: best of this many")
    parser.add_argument("--sampler-resamples", type=int, default=2000, help="part 4's B")
    parser.add_argument("--tau-coverage", action="store_true", help="only part 5")
    parser.add_argument("--coverage-reps", type=int, default=1000, help="part 5: reps per cell")
    parser.add_argument("--large-reps", type=int, default=200, help="part 5: reps at M = 1,500")
    parser.add_argument("--image-coverage", action="store_true", help="only part 6")
    parser.add_argument("--image-reps", type=int, default=100, help="part 6: reps per regime")
    args = parser.parse_args()
    b = args.resamples
    if args.tau_coverage:
        tau_coverage(args.coverage_reps, args.large_reps, seed=2026)
        return 0
    if args.image_coverage:
        image_coverage(args.image_reps, resamples=200, seed=2026)
        return 0

    from lottery_tui.report import service
    from lottery_tui.report.data import load_aggregates
    from lottery_tui.report.per_image import PerImage
    from lottery_tui.report.selection import top_on_reference
    from lottery_tui.store.seed import build_store

    db = args.db
    if db is None:
        db = Path(tempfile.mkdtemp()) / "bench.duckdb"
        build_store(db)
    con = duckdb.connect(str(db), read_only=True)

    if args.samplers_only:
        agg = load_aggregates(con, datasets=["imagenet"], source="analysing-relations")
        val, _ = PerImage(con, agg).correct("imagenet", top_on_reference(agg, "imagenet", None))
        weight_matrix_vs_matmul(val, b)
        samplers_side_by_side(val, args.sampler_resamples, args.repeat)
        return 0

    # 1. the report on per-image data (the all-source report has no per-image intervals)
    selection = service.Selection(source="analysing-relations")
    t_report, report = timed(
        lambda: service.build_report(con, selection, service.Options(resamples=b))
    )
    rss_report = peak_rss_gb()
    print(
        f"`lottery report --source analysing-relations`, B={b}: {t_report:.2f} s, peak RSS "
        f"so far {rss_report:.2f} GB ({len(report.rank_agreement)} rank-agreement rows, "
        f"{len(report.marginal_gains)} marginal gains)"
    )

    # the 58 intervals
    agg = load_aggregates(con, datasets=["imagenet"], source="analysing-relations")
    models = top_on_reference(agg, "imagenet", None)
    per_image = PerImage(con, agg)
    val, _ = per_image.correct("imagenet", models)
    real, scored = per_image.correct("imagenet-real", models)
    image_set = ImageSet({"imagenet": val, "imagenet-real": real}, {"imagenet-real": scored})
    pairs = [(i, i + 1) for i in range(len(models) - 1)]

    def ours():
        draws = resample_accuracies(image_set, b, np.random.default_rng(0))
        out = []
        for d in ("imagenet", "imagenet-real"):
            out.append(np.quantile(draws[d], [0.025, 0.975], axis=0))
            diffs = np.stack([draws[d][:, i] - draws[d][:, j] for i, j in pairs], axis=1)
            out.append(np.quantile(diffs, [0.025, 0.975], axis=0))
        return out

    tracemalloc.start()
    t_ours, _ = timed(ours)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    samples = []
    for x in (val, real[scored]):
        samples += [x[:, m].astype(np.float64) for m in range(len(models))]
        samples += [x[:, i].astype(np.float64) - x[:, j] for i, j in pairs]
    n_intervals = len(samples)
    per_ours = t_ours / n_intervals
    print(f"\n{n_intervals} percentile intervals, B={b}")
    print(
        f"  ours (shared weight matrix): {t_ours:.2f} s total, {per_ours * 1e3:.1f} ms per "
        f"interval, numpy peak {traced_peak / 2**30:.2f} GB"
    )

    from scipy import stats

    def scipy_one(x):
        return stats.bootstrap(
            (x,),
            np.mean,
            method="percentile",
            n_resamples=b,
            batch=250,
            vectorized=True,
            rng=np.random.default_rng(0),
        ).confidence_interval

    k = max(1, args.scipy_intervals)
    t_scipy, _ = timed(lambda: [scipy_one(samples[i]) for i in range(k)])
    per_scipy = t_scipy / k
    print(
        f"  scipy.stats.bootstrap (percentile, batch=250): {per_scipy:.2f} s per interval "
        f"(timed on {k}) -> {per_scipy * n_intervals:.1f} s for all; "
        f"ratio {per_scipy / per_ours:.0f}x"
    )
    print(
        f"  the per-image report per interval ({t_report:.2f} s / {n_intervals}): "
        f"{t_report / n_intervals * 1e3:.1f} ms; scipy per interval / that: "
        f"{per_scipy * n_intervals / t_report:.0f}x (target >= 50x)"
    )

    try:
        import pingouin
    except ImportError:
        pingouin = None
        print("  pingouin: not installed")
    if pingouin is not None and args.pingouin_intervals > 0:  # unbatched: about 7.8 GB RSS
        k = args.pingouin_intervals
        t_pg, _ = timed(
            lambda: [
                pingouin.compute_bootci(
                    samples[i], func="mean", method="per", n_boot=b, seed=0, decimals=8
                )
                for i in range(k)
            ]
        )
        per_pg = t_pg / k
        print(
            f"  pingouin.compute_bootci (percentile): {per_pg:.2f} s per interval (timed on "
            f"{k}) -> {per_pg * n_intervals:.1f} s for all; ratio {per_pg / per_ours:.0f}x"
        )

    weight_matrix_vs_matmul(val, b)
    samplers_side_by_side(val, args.sampler_resamples, args.repeat)
    print(
        f"\npeak RSS of this process: {peak_rss_gb():.2f} GB "
        f"(after the report alone: {rss_report:.2f} GB)"
    )
    con.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
