"""Every error class of clvlib, under one base class a user can catch.

``except ClvlibError`` catches every error the library raises on purpose; each also derives from
the built-in class it used to be (``ValueError`` for bad input, ``RuntimeError`` for a failed
job), so code written against those keeps working. :class:`RunTerminated` is not an error: a run
stopped by a signal behaves like Ctrl-C (a ``KeyboardInterrupt``) and is not caught by
``except Exception``.

Examples
--------
>>> issubclass(ModelFileError, InputDataError) and issubclass(InputDataError, ClvlibError)
True
>>> try:
...     raise ChecksumError("features.nc does not match features.nc.sha256")
... except ClvlibError as err:
...     print(type(err).__name__, isinstance(err, ValueError))
ChecksumError True
"""

from __future__ import annotations

import signal

__all__ = [
    "ChecksumError",
    "ClvlibError",
    "CredentialsError",
    "InputDataError",
    "ModelFileError",
    "NoSpaceError",
    "RunTerminated",
    "SeedRunError",
    "StaleTableError",
]


class ClvlibError(Exception):
    """Base class of every error clvlib raises on purpose; the message says what to do."""


class InputDataError(ClvlibError, ValueError):
    """Input data that the pipeline cannot use; the message says why and what to do."""


class ModelFileError(InputDataError):
    """A saved model that cannot be used: missing, truncated, corrupted or not matching its description."""


class ChecksumError(ClvlibError, ValueError):
    """A file does not match the checksum written with it (truncated, corrupted or edited)."""


class CredentialsError(ClvlibError, RuntimeError):
    """Credentials or a client package for a data service are missing; the message says what to do."""


class StaleTableError(ClvlibError, RuntimeError):
    """A table that a claim needs is missing, or differs from what the manifest recorded."""


class NoSpaceError(ClvlibError, OSError):
    """The disk that receives the results filled up; the message names the folder and the space needed."""


class SeedRunError(ClvlibError, RuntimeError):
    """A notebook of a seed run raised, or its claims could not be evaluated.

    When a notebook raised, the message holds the failing cell and the error.
    """


class RunTerminated(KeyboardInterrupt):
    """The run was stopped by a signal; ``signum`` says which (exit status 128 + signum)."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum
