"""Coverage of the interval over models, simulated for the procedure the report prints.

Populations of models are elliptical (bivariate normal, or Student t with `df` degrees of
freedom: heavy-tailed, tail-dependent), where the population's Kendall tau is (2/pi) arcsin(rho)
for every df (Lindskog, McNeil & Schmock 2003), so the truth needs no simulation of its own. The
fast tier runs in tests/analysis/, the full grid in `bench/bench_stats.py --tau-coverage`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.rank_agreement import models_interval


@dataclass(frozen=True)
class Coverage:
    population: str
    tau: float
    n_models: int
    reps: int
    rate: float
    mc_error: float  # binomial SE of `rate`, sqrt(rate(1 - rate)/reps)
    zero_width: int  # intervals with high <= low (must stay 0)


def draw_population(
    df: float | None, tau: float, n_models: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Two accuracy-like scores of `n_models` models whose population tau is `tau`; df None:
    bivariate normal, else multivariate t (one chi-square scale shared by both scores)."""
    rho = np.sin(np.pi * tau / 2)
    z = rng.standard_normal((n_models, 2))
    y = rho * z[:, 0] + np.sqrt(1 - rho**2) * z[:, 1]
    x = z[:, 0]
    if df is not None:
        scale = np.sqrt(df / rng.chisquare(df, size=n_models))
        x, y = x * scale, y * scale
    return x, y


def models_interval_coverage(
    df: float | None, tau: float, n_models: int, reps: int, rng: np.random.Generator
) -> Coverage:
    """How often `models_interval` covers the population tau over `reps` samples of models."""
    covered = zero = 0
    for _ in range(reps):
        ci = models_interval(*draw_population(df, tau, n_models, rng))
        covered += ci.low <= tau <= ci.high
        zero += not ci.high > ci.low
    rate = covered / reps
    name = "normal" if df is None else f"t{df:g}"
    return Coverage(name, tau, n_models, reps, rate, float(np.sqrt(rate * (1 - rate) / reps)), zero)
