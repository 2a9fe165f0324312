"""The Wilson score interval: the one formula for the engine's public leaf and the console's figures."""

from __future__ import annotations

import numpy as np


def wilson_bounds(good, n, z: float):
    """Wilson score interval (low, high) of the proportion good/n (0-1) at normal quantile ``z``.

    Works on numbers and on arrays (element-wise); where n = 0 the bounds are NaN. Not clipped to [0, 1]: the
    engine reports the lower bound as computed, and the console clips what it shows.
    """
    good = np.asarray(good, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = good / n
        z2 = z * z
        centre = p + z2 / (2 * n)
        margin = z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
        denominator = 1 + z2 / n
        low, high = (centre - margin) / denominator, (centre + margin) / denominator
    return np.where(n > 0, low, np.nan), np.where(n > 0, high, np.nan)
