"""Crash at every side-effect boundary of every use case; after recovery, everything
converges (tests/faults/converge.py says what that means)."""
from __future__ import annotations

import pytest

from tests.faults.matrix import run_matrix
from tests.faults.usecases import USE_CASES, UseCase


@pytest.mark.parametrize("use_case", [
    pytest.param(u, marks=pytest.mark.settings(**u.settings), id=u.name) for u in USE_CASES])
def test_every_crash_point_converges(world, origin, use_case: UseCase) -> None:
    cells = run_matrix(world, use_case, origin)
    assert len(cells) > 1, "the dry run crossed no boundary"
    failed = [f"#{c.index} {c.point}: {'; '.join(c.problems)}" for c in cells if c.problems]
    assert not failed, f"{len(failed)}/{len(cells)} crash points did not converge:\n" + \
        "\n".join(failed)
