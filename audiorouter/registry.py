"""One registry type for every kind of plug-in: tools, reasoner back-ends, rewards,
learners, task families and study methods are added and looked up the same way.

    REWARDS: Registry[RewardFn] = Registry("reward")

    @REWARDS.register("relative")
    def relative_reward(correct_with, correct_without): ...

    REWARDS.get("relative")   # the entry; an unknown name is an error naming the valid ones
    REWARDS.names()           # every name, in registration order

Each kind wraps its registry in the same three names: ``register_<kind>`` (the decorator),
``get_<kind>`` (the lookup) and ``<kind>_names()``. A registry whose entries live in
modules too heavy to import up front takes ``load``: it runs once, before the first read,
and imports them (their decorators register them).

Imports nothing of the package.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Name -> entry of one kind; ``error`` is what an unknown name raises (a ConfigError for
    names that come from a config)."""

    def __init__(self, kind: str, error: type[Exception] = ValueError, load: Callable[[], object] | None = None) -> None:
        self.kind = kind
        self.error = error
        self._entries: dict[str, T] = {}
        self._load = load

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: the decorated object becomes the entry ``name``. The same object again
        is a no-op; another object under a taken name is an error."""

        def add(entry: T) -> T:
            known = self._entries.setdefault(name, entry)
            if known is not entry:
                raise ValueError(f"{self.kind} {name!r} is already registered by "
                                 f"{getattr(known, '__name__', type(known).__name__)}")
            return entry

        return add

    def get(self, name: str) -> T:
        self.load()
        if name not in self._entries:
            raise self.error(f"unknown {self.kind} {name!r}; valid: {', '.join(self._entries)}")
        return self._entries[name]

    def names(self) -> list[str]:
        self.load()
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        self.load()
        return name in self._entries

    def unregister(self, name: str) -> None:
        """Remove an entry (a test removes what it registered)."""
        del self._entries[name]

    def load(self) -> None:
        """Import the heavy entries' modules, once; every read does it first."""
        if self._load is not None:
            load, self._load = self._load, None  # first: the modules' registrations come back here
            load()
