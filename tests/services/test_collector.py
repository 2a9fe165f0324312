"""The cycle collector paused for bulk jobs (services/collector.py)."""

import gc
import threading

from assessment.services import collector


def test_paused_nests_and_resumes_only_what_was_running():
    """Is the collector off inside nested pauses, back on after the last, and left off when it was off?"""
    assert gc.isenabled()
    with collector.paused():
        assert not gc.isenabled()
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer job is still running
    assert gc.isenabled()
    gc.disable()
    try:
        with collector.paused():
            pass
        assert not gc.isenabled()  # someone else had turned it off: left as it was
    finally:
        gc.enable()


def test_two_threads_overlapping_pauses_resume_once_both_are_done():
    """With two imports in two threads, does the collector stay off until the later one ends?"""
    inside, release = threading.Event(), threading.Event()

    def job():
        with collector.paused():
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=job)
    thread.start()
    inside.wait(10)
    with collector.paused():
        pass
    assert not gc.isenabled()  # the other job is still inside
    release.set()
    thread.join(10)
    assert gc.isenabled()
