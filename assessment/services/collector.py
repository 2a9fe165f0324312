"""Python's cycle collector paused while a bulk job builds millions of objects (imports of ratings).

The collector runs a full pass each time the number of live container objects has grown by a quarter since the
last one; a job that keeps a million records (tuples, the file's seen ids) alive triggers pass after pass over
all of them, none of which frees anything: a million-row import spent a third of its time there. Reference
counting still frees everything the job drops; only reference cycles wait until the collector runs again.

The collector is per process, and a web process may run two imports at once in its threads: it is paused
while any job is inside `paused()` and resumed when the last one leaves, and only if it was running before.
"""

import gc
import threading
from contextlib import contextmanager

_lock = threading.Lock()
_state = {"depth": 0, "was_enabled": False}


@contextmanager
def paused():
    """Run the block with the cycle collector off (see the module's docstring)."""
    with _lock:
        if _state["depth"] == 0:
            _state["was_enabled"] = gc.isenabled()
            gc.disable()
        _state["depth"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["depth"] -= 1
            if _state["depth"] == 0 and _state["was_enabled"]:
                gc.enable()
