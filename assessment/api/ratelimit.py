"""A per-device token bucket, kept in each server process.

Why in the process and not in the database: the limit exists so that one broken device cannot crowd out the
others, and the cheapest way to refuse a flood is before it touches the database at all — a bucket in the
database would add a write (and a lock on the device's row) to every request, including the ones it refuses.
The price is that each server process keeps its own buckets: with N gunicorn workers a device may get up to N
times the rate, and a restart refills the buckets. That bounds a flood well enough; exact metering is not the
goal.

A request costs 1 + (n - 1)/100 tokens for n ratings, so a device that comes back online with a buffer of
several thousand ratings can send its 1000-rating batches quickly, while one that resends single ratings in a
loop is stopped. Buckets of devices idle for a while are dropped, to keep memory bounded.
"""

import math
import threading
import time


class TokenBuckets:
    """Token buckets per key: `rate` tokens a second up to `burst`."""

    def __init__(self, rate: float, burst: float, clock=time.monotonic):
        self.rate = float(rate)
        self.burst = float(burst)
        self._clock = clock
        self._lock = threading.Lock()
        self._state: dict = {}
        self._last_sweep = clock()

    def _refill(self, key, now):
        tokens, at = self._state.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - at) * self.rate)

    def retry_after(self, key, cost: float = 1.0) -> int:
        """0 when `cost` tokens are available now, else whole seconds to wait (nothing is taken)."""
        with self._lock:
            tokens = self._refill(key, self._clock())
        return self._wait(tokens, cost)

    def take(self, key, cost: float = 1.0) -> int:
        """Take `cost` tokens and return 0, or take nothing and return whole seconds to wait."""
        cost = min(cost, self.burst)
        with self._lock:
            now = self._clock()
            tokens = self._refill(key, now)
            wait = self._wait(tokens, cost)
            if wait == 0:
                tokens -= cost
            self._state[key] = (tokens, now)
            if now - self._last_sweep > 300:
                self._sweep(now)
        return wait

    def _wait(self, tokens, cost):
        if tokens >= cost:
            return 0
        if self.rate <= 0:
            return 3600
        return max(1, math.ceil((cost - tokens) / self.rate))

    def _sweep(self, now):
        full = self.burst / self.rate if self.rate > 0 else math.inf
        self._state = {k: v for k, v in self._state.items() if now - v[1] < full}
        self._last_sweep = now
