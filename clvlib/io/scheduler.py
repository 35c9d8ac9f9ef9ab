"""Where dask work runs: locally by default, on an existing dask distributed cluster on request.

Setting the environment variable ``DASK_SCHEDULER_ADDRESS`` (for example
``tcp://10.0.0.5:8786``) makes :func:`dask_scheduler` connect a ``distributed.Client`` to that
scheduler for the duration of the block, so the same reduction runs on the cluster; the workers
must see the input files under the same paths (a shared file system). Without the variable,
dask's local threaded scheduler is used and ``distributed`` is never imported (it need not be
installed).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import dask

__all__ = ["ENV_VARIABLE", "dask_scheduler", "scheduler_address"]

ENV_VARIABLE = "DASK_SCHEDULER_ADDRESS"


def scheduler_address(environ: Mapping[str, str] | None = None) -> str | None:
    """The distributed scheduler address from the environment, or None for local execution.

    Examples
    --------
    >>> scheduler_address({}), scheduler_address({"DASK_SCHEDULER_ADDRESS": "tcp://h:8786"})
    (None, 'tcp://h:8786')
    """
    environ = os.environ if environ is None else environ
    address = environ.get(ENV_VARIABLE, "").strip()
    return address or None


@contextmanager
def dask_scheduler(address: str | None = None) -> Iterator[object | None]:
    """Run the dask computations of the block on ``address`` (default: ``$DASK_SCHEDULER_ADDRESS``).

    Yields the connected ``distributed.Client``, or None when running locally.

    Raises
    ------
    RuntimeError
        When an address is set but the ``distributed`` package is not installed.
    """
    address = address or scheduler_address()
    if address is None:
        with dask.config.set(scheduler="threads"):
            yield None
        return
    try:
        from distributed import Client  # lazy: only needed for a cluster
    except ImportError as err:
        raise RuntimeError(
            f"{ENV_VARIABLE}={address} asks for a dask distributed cluster, but the 'distributed' package is not "
            f"installed. Install it with 'pip install distributed=={dask.__version__}' (same version as dask), "
            f"or unset {ENV_VARIABLE} to run locally."
        ) from err
    with Client(address) as client:
        yield client
