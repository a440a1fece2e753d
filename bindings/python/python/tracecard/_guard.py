"""The panic guard: no Rust panic reaches Python as pyo3's ``PanicException``.

pyo3 turns a panic into ``pyo3_runtime.PanicException``, which derives from
``BaseException``: ``except Exception`` (and every ``except TracecardError``) misses
it and it ends the program. :func:`install` wraps every function of the native
module and every method, property and special method of its classes, once, at
import, so that such a panic is raised as :class:`tracecard.InternalError` (a
:class:`tracecard.TracecardError`) chained to the original. New entry points are
covered without a change here; ``tests/test_hostile.py`` checks that every one is.
Constructors (``__new__``) cannot be wrapped from Python: they run their body
through ``guard_new`` in Rust, which raises the same ``InternalError``.
"""

from __future__ import annotations

import functools
import types
from typing import Any, Callable

from tracecard import _tracecard

#: Marks a wrapped callable (checked by the tests).
GUARDED = "__tracecard_guarded__"

#: Class attributes left alone: not callables of ours, or the ordering slots pyo3
#: fills for a class that only defines equality (they return NotImplemented
#: without running any Rust code; wrapping them would also make them show as
#: methods the stubs do not declare).
SKIPPED = frozenset(
    ("__class__", "__doc__", "__module__", "__dict__", "__weakref__")
    + ("__lt__", "__le__", "__gt__", "__ge__")
)


def _is_panic(e: BaseException) -> bool:
    t = type(e)
    return t.__name__ == "PanicException" and t.__module__ == "pyo3_runtime"


def _guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    if getattr(fn, GUARDED, False):
        return fn

    @functools.wraps(fn)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except BaseException as e:
            if _is_panic(e):
                raise _tracecard.InternalError(
                    f"internal error in tracecard (a bug, please report it): {e}"
                ) from e
            raise

    setattr(guarded, GUARDED, True)
    return guarded


def _guard_class(cls: type) -> None:
    for name, attr in list(vars(cls).items()):
        if name in SKIPPED:
            continue
        if isinstance(attr, types.GetSetDescriptorType) or isinstance(
            attr, types.MemberDescriptorType
        ):
            setattr(cls, name, property(_guard(attr.__get__), doc=attr.__doc__))
        elif isinstance(attr, (types.MethodDescriptorType, types.WrapperDescriptorType)):
            setattr(cls, name, _guard(attr))
        elif isinstance(attr, types.ClassMethodDescriptorType):
            setattr(cls, name, classmethod(_guard(_class_call(attr))))
        elif name == "__new__":
            # CPython refuses a Python-level __new__ in front of a native one
            # ("X.__new__(X) is not safe"): constructors guard themselves in Rust
            # (`errors::guard_new`; tests/test_hostile.py checks every one)
            continue
        elif isinstance(attr, staticmethod):
            setattr(cls, name, staticmethod(_guard(attr.__func__)))
        elif isinstance(attr, types.BuiltinFunctionType):  # static methods
            setattr(cls, name, staticmethod(_guard(attr)))


def _class_call(desc: Any) -> Callable[..., Any]:
    """A function calling the classmethod descriptor `desc` for the class it gets."""

    def call(c: type, *args: Any, **kwargs: Any) -> Any:
        return desc.__get__(None, c)(*args, **kwargs)

    return functools.update_wrapper(call, desc)


_installed = False

#: Test hooks of the native module: not API, kept out of its ``__all__``.
TEST_HOOKS = frozenset(("_panic_for_tests", "_panic_in_constructors_for_tests"))


def install() -> None:
    """Wrap every function and class of the native module (idempotent)."""
    global _installed
    if _installed:
        return
    for name, obj in list(vars(_tracecard).items()):
        if isinstance(obj, types.BuiltinFunctionType):
            setattr(_tracecard, name, _guard(obj))
        elif isinstance(obj, type) and obj.__module__.startswith("tracecard") and not issubclass(
            obj, BaseException
        ):
            _guard_class(obj)
    # the test hook is not API: out of the module's exports
    exported = getattr(_tracecard, "__all__", None)
    if isinstance(exported, list):
        _tracecard.__all__ = [n for n in exported if n not in TEST_HOOKS]
    _installed = True
