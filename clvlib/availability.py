"""Results a data set cannot give: the reference they need is absent.

Functions that need a reference (the injected events of the embedded default, a melt record)
return a :class:`NotAvailable` instead of a table when it is absent, so that the notebooks show
the same cells on every kind of data and :class:`clvlib.publish.registry.Registry` saves nothing.
Standard library only: every notebook imports it through the registry.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NotAvailable"]


@dataclass(frozen=True)
class NotAvailable:
    """A result this data set cannot give, and why; shown by a notebook in place of the table or figure.

    :meth:`clvlib.publish.registry.Registry.table` and ``.figure`` print it and save nothing.

    Examples
    --------
    >>> NotAvailable("no injected events")
    Not available on this data: no injected events.
    """

    reason: str

    def __repr__(self) -> str:
        return f"Not available on this data: {self.reason}."

    def _repr_markdown_(self) -> str:
        return f"*Not available on this data:* {self.reason}."
