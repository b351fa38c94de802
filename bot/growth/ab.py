"""A/B results: a two-proportion z-test on acceptance, its p-value, and the sample each arm still needs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

ALPHA = 0.05
"""A difference is significant below this p-value (two-sided)."""
POWER = 0.8
"""The chance of seeing a real difference of the size observed, used for the sample still needed."""


@dataclass(frozen=True)
class Result:
    n_a: int
    accepted_a: int
    n_b: int
    accepted_b: int
    z: float | None
    p_value: float | None
    significant: bool
    needed_per_arm: int | None
    """Patients each arm needs in all to detect the observed difference (None: no difference to detect)."""

    @property
    def rate_a(self) -> float:
        return self.accepted_a / self.n_a if self.n_a else 0.0

    @property
    def rate_b(self) -> float:
        return self.accepted_b / self.n_b if self.n_b else 0.0

    @property
    def still_needed(self) -> int | None:
        """More patients per arm before the test can tell (0 once significant; None: no difference yet)."""
        if self.significant:
            return 0
        if self.needed_per_arm is None:
            return None
        return max(0, self.needed_per_arm - min(self.n_a, self.n_b))


def two_proportion(n_a: int, accepted_a: int, n_b: int, accepted_b: int) -> Result:
    """The pooled two-proportion z-test of accepted/n in arm A against arm B."""
    if n_a <= 0 or n_b <= 0:
        return Result(n_a, accepted_a, n_b, accepted_b, None, None, False, None)
    p_a, p_b = accepted_a / n_a, accepted_b / n_b
    pooled = (accepted_a + accepted_b) / (n_a + n_b)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if spread == 0:
        return Result(n_a, accepted_a, n_b, accepted_b, None, None, False, None)
    z = (p_b - p_a) / spread
    p_value = 2 * (1 - NormalDist().cdf(abs(z)))
    return Result(n_a, accepted_a, n_b, accepted_b, z, p_value, p_value < ALPHA, sample_per_arm(p_a, p_b))


def sample_per_arm(p_a: float, p_b: float, alpha: float = ALPHA, power: float = POWER) -> int | None:
    """Patients per arm to detect p_a against p_b (two-sided alpha, the given power); None when they are equal."""
    if p_a == p_b:
        return None
    normal = NormalDist()
    z_alpha, z_beta = normal.inv_cdf(1 - alpha / 2), normal.inv_cdf(power)
    mean = (p_a + p_b) / 2
    top = z_alpha * math.sqrt(2 * mean * (1 - mean)) + z_beta * math.sqrt(p_a * (1 - p_a) + p_b * (1 - p_b))
    return math.ceil(top**2 / (p_a - p_b) ** 2)
