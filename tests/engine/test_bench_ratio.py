"""The bench compares a completion with bare SpiffWorkflow instance by instance: what the
engine costs next to SpiffWorkflow under the same conditions, whatever the machine's speed."""

from __future__ import annotations

import statistics

import pytest

from bench.completion import by_instance


def test_a_machine_slower_for_part_of_the_run_does_not_move_the_ratio() -> None:
    # The engine costs 1.8 bare answers throughout; the machine is twice as slow for the
    # first 11 of 20 instances, so more than half the answers each way fall in the slow part.
    speed = [2.0] * 11 + [1.0] * 9
    bare = [[1.0 * s] * 5 for s in speed]
    engine = [[1.8 * s] * 5 for s in speed]
    assert by_instance(engine, bare) == pytest.approx(1.8)


def test_the_ratio_is_the_median_over_instances_of_each_ones_p50s() -> None:
    bare = [[1.0, 1.0, 1.1, 5.0, 1.0], [2.0, 2.0, 2.0, 2.0, 2.0], [1.0, 1.0, 1.0, 1.0, 1.0]]
    engine = [[2.0, 2.0, 2.0, 2.0, 9.0], [3.0, 3.0, 3.0, 3.0, 3.0], [3.0, 3.0, 3.0, 3.0, 3.0]]
    assert by_instance(engine, bare) == statistics.median([2.0, 1.5, 3.0])
