"""collector_paused: the cyclic collector off for a block, back as it was after the last one."""

from __future__ import annotations

import gc
import threading

import pytest

from jira_pm.gcpause import collector_paused


@pytest.fixture(autouse=True)
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_the_collector_is_off_inside_and_back_on_after_even_when_the_block_fails():
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_nested_pauses_turn_it_back_on_only_when_the_outer_one_ends():
    with collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_the_caller_had_turned_off_stays_off():
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_pauses_in_two_threads_overlap_without_one_ending_the_others():
    first_in, second_done = threading.Event(), threading.Event()
    seen: list[bool] = []

    def first():
        with collector_paused():
            first_in.set()
            second_done.wait(5)
            seen.append(gc.isenabled())  # the other thread's pause has ended meanwhile

    worker = threading.Thread(target=first)
    worker.start()
    first_in.wait(5)
    with collector_paused():
        pass
    second_done.set()
    worker.join(5)
    assert seen == [False]
    assert gc.isenabled()
