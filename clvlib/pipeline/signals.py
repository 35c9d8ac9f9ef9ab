"""Stopping a run cleanly: a terminated or interrupted run stops its notebook kernels too.

Papermill starts each notebook's kernel in a session of its own (so that Ctrl-C in a terminal
does not reach it), which also means that ``kill <pid of make>`` or Ctrl-C stops the Python
process that drives the notebook while the kernel goes on computing and writing files.
:func:`stop_children_on_signal` installs handlers for SIGTERM, SIGHUP and SIGINT that first
terminate every child process group (the kernels and whatever they started), then raise
:class:`RunTerminated`, so that the caller's clean-up (removing partial outputs) runs.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator

import psutil

from clvlib.errors import RunTerminated

__all__ = ["STOP_SIGNALS", "child_pids", "stop_children", "stop_children_on_signal"]

#: Signals that end a run: ``kill`` (TERM), a closed terminal (HUP), Ctrl-C (INT).
STOP_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


def child_pids(pid: int | None = None) -> list[int]:
    """Process ids of the direct children of ``pid`` (default: this process).

    psutil reads the process table portably (``/proc`` on Linux, ``sysctl`` on macOS); a process
    that is gone has no children.

    Examples
    --------
    >>> import subprocess, sys
    >>> proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    >>> proc.pid in child_pids()
    True
    >>> proc.kill(); _ = proc.wait()
    """
    try:
        return [child.pid for child in psutil.Process(pid).children()]
    except psutil.NoSuchProcess:
        return []


def stop_children(sig: int = signal.SIGTERM) -> list[int]:
    """Send ``sig`` to every child process and, where a child leads its own process group, to that group.

    Returns
    -------
    list of int
        The children signalled.
    """
    children = child_pids()
    own_group = os.getpgrp()
    for child in children:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            group = os.getpgid(child)
            if group == child and group != own_group:
                os.killpg(group, sig)  # the kernel and the processes it started
            else:
                os.kill(child, sig)
    return children


@contextlib.contextmanager
def stop_children_on_signal() -> Iterator[None]:
    """While active, SIGTERM, SIGHUP and SIGINT stop the child processes, then raise :class:`RunTerminated`.

    The previous handlers are restored on exit.

    Examples
    --------
    >>> with stop_children_on_signal():
    ...     try:
    ...         os.kill(os.getpid(), signal.SIGTERM)
    ...     except RunTerminated as err:
    ...         print(err.signum == signal.SIGTERM)
    True
    """

    def handler(signum: int, frame: object) -> None:
        stop_children(signal.SIGTERM)
        raise RunTerminated(signum)

    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
