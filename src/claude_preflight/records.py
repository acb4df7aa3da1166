"""`dataclass` for the project's fact and value classes, made without compiling code per class.

`dataclasses.dataclass` writes the source of __init__, __repr__, __eq__, __hash__ (and, frozen, __setattr__ and
__delattr__) for every class and exec()s it: about 0.7 ms a class, 60-70 ms of every run for the ~90 classes the
checks import, more than pytest's own collection. This one lets dataclasses do the bookkeeping (fields(),
replace(), asdict() work as before) and installs shared, generic methods with the same behaviour: positional
and keyword arguments, defaults and default factories, __post_init__, compare/repr/hash per field, frozen
instances raising FrozenInstanceError. Instances cost a little more to make, which no check notices.
"""

from __future__ import annotations

import dataclasses
from dataclasses import MISSING, FrozenInstanceError, field, fields, replace

__all__ = ["dataclass", "field", "fields", "replace"]


def dataclass(cls=None, /, *, frozen: bool = False):
    def make(klass: type) -> type:
        if not klass.__dict__.get("__doc__"):
            klass.__doc__ = klass.__name__  # dataclasses would compute inspect.signature() for it
        explicit_hash = _explicit_hash(klass)
        own = dict(klass.__dict__)
        klass = dataclasses.dataclass(klass, init=False, repr=False, eq=False)
        _install(klass, fields(klass), frozen, own, explicit_hash)
        return klass

    return make if cls is None else make(cls)


def _explicit_hash(klass: type) -> bool:
    value = klass.__dict__.get("__hash__", MISSING)
    return not (value is MISSING or (value is None and "__eq__" in klass.__dict__))


def _install(klass: type, all_fields: tuple, frozen: bool, own: dict, explicit_hash: bool) -> None:
    def put(name: str, function) -> None:
        if name not in own:
            function.__qualname__ = f"{klass.__qualname__}.{name}"
            setattr(klass, name, function)

    put("__init__", _init(klass, all_fields, frozen))
    shown = tuple(f.name for f in all_fields if f.repr)
    put("__repr__", _repr(shown))
    compared = tuple(f.name for f in all_fields if f.compare)
    put("__eq__", _eq(compared))
    if frozen:
        names = frozenset(f.name for f in all_fields)
        put("__setattr__", _frozen_setattr(klass, names))
        put("__delattr__", _frozen_delattr(klass, names))
    if not explicit_hash:
        if frozen:
            hashed = tuple(f.name for f in all_fields if (f.compare if f.hash is None else f.hash))
            klass.__hash__ = _hash(hashed)  # type: ignore[method-assign]
        else:
            klass.__hash__ = None  # type: ignore[assignment]


def _init(klass: type, all_fields: tuple, frozen: bool):
    names = tuple(f.name for f in all_fields if f.init)
    known = frozenset(names)
    defaults = {f.name: f.default for f in all_fields if f.default is not MISSING}
    factories = {f.name: f.default_factory for f in all_fields if f.default_factory is not MISSING}
    later = tuple(f.name for f in all_fields if not f.init and (f.name in defaults or f.name in factories))
    post_init = hasattr(klass, "__post_init__")
    setter = object.__setattr__ if frozen else setattr
    title = klass.__qualname__

    def __init__(self, *args, **kwargs) -> None:
        if len(args) > len(names):
            raise TypeError(
                f"{title}.__init__() takes {len(names) + 1} positional arguments but {len(args) + 1} were given"
            )
        values = dict(zip(names, args, strict=False))  # fewer args than names: the rest by keyword
        for name, value in kwargs.items():
            if name not in known:
                raise TypeError(f"{title}.__init__() got an unexpected keyword argument '{name}'")
            if name in values:
                raise TypeError(f"{title}.__init__() got multiple values for argument '{name}'")
            values[name] = value
        for name in names:
            if name in values:
                setter(self, name, values[name])
            elif name in defaults:
                setter(self, name, defaults[name])
            elif name in factories:
                setter(self, name, factories[name]())
            else:
                raise TypeError(f"{title}.__init__() missing 1 required positional argument: '{name}'")
        for name in later:
            setter(self, name, defaults[name] if name in defaults else factories[name]())
        if post_init:
            self.__post_init__()

    return __init__


def _repr(shown: tuple):
    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)
        return f"{self.__class__.__qualname__}({inner})"

    return __repr__


def _eq(compared: tuple):
    def __eq__(self, other: object):
        if other.__class__ is not self.__class__:
            return NotImplemented
        # Tuples, as dataclasses compares: an identical value (a NaN) is equal to itself.
        return tuple(getattr(self, name) for name in compared) == tuple(getattr(other, name) for name in compared)

    return __eq__


def _hash(hashed: tuple):
    def __hash__(self) -> int:
        return hash(tuple(getattr(self, name) for name in hashed))

    return __hash__


def _frozen_setattr(klass: type, names: frozenset):
    def __setattr__(self, name: str, value) -> None:
        if type(self) is klass or name in names:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(klass, self).__setattr__(name, value)

    return __setattr__


def _frozen_delattr(klass: type, names: frozenset):
    def __delattr__(self, name: str) -> None:
        if type(self) is klass or name in names:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(klass, self).__delattr__(name)

    return __delattr__
