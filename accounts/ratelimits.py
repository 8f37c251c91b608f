"""Fixed-window counters in Django's shared cache (every portal process sees the same counts).

A window is `window` seconds aligned to the epoch; a counter lives one window. `add` returns the
count after adding, `retry_after` the whole seconds until the current window ends. Redis makes
the increment atomic; the demo's database cache may lose a count under a race, which only makes
a limit slightly lenient.
"""

import hashlib
import math
import time

from django.core.cache import cache


def _bucket(scope: str, key: str, window: int, now: float) -> str:
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"atrium:ratelimit:{scope}:{digest}:{int(now // window)}"


def count(scope: str, key: str, *, window: int) -> int:
    return cache.get(_bucket(scope, key, window, time.time()), 0)


def add(scope: str, key: str, *, window: int, cost: int = 1) -> int:
    name = _bucket(scope, key, window, time.time())
    if cache.add(name, cost, timeout=window + 1):
        return cost
    try:
        return cache.incr(name, cost)
    except ValueError:  # expired between add and incr
        cache.set(name, cost, timeout=window + 1)
        return cost


def retry_after(*, window: int) -> int:
    now = time.time()
    return max(1, math.ceil((int(now // window) + 1) * window - now))
