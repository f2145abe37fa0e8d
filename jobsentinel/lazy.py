"""One shared instance per process, made on first use."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def per_process(factory: Callable[[], T]) -> Callable[[], T]:
    """`factory()`, made the first time it is asked for and shared after that by every thread:
    only one is ever made, however many threads ask at once (each starts a thread or a
    connection pool of its own, so two would be a leak)."""
    lock = threading.Lock()
    made: list[T] = []

    @functools.wraps(factory)
    def get() -> T:
        with lock:
            if not made:
                made.append(factory())
            return made[0]

    return get
