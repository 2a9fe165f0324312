"""CPU time of the processes a bench measures (gunicorn's workers, PostgreSQL's backends), read from /proc.

Linux only: where /proc is missing nothing is read (no process, or None).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import NamedTuple


class ProcessCPU(NamedTuple):
    pid: int
    name: str  # the command name, e.g. "postgres"
    group: int  # the process group (a gunicorn started in a new session: its pid)
    seconds: float  # user + system CPU so far


def process(pid: int | None) -> ProcessCPU | None:
    """One process's CPU so far, or None when it cannot be read (gone, no /proc, no pid)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            head, tail = fh.read().rsplit(")", 1)
        fields = tail.split()
        ticks = int(fields[11]) + int(fields[12])  # utime + stime
        return ProcessCPU(int(pid), head.split("(", 1)[1], int(fields[2]), ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError, TypeError):
        return None


def processes() -> Iterator[ProcessCPU]:
    """Every live process's CPU so far."""
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit():
            found = process(int(entry))
            if found is not None:
                yield found
