"""Crash at every side-effect boundary of every use case; after recovery, everything
converges (tests/faults/converge.py says what that means)."""
from __future__ import annotations

import pytest

from tests.faults.matrix import run_matrix
from tests.faults.usecases import USE_CASES, UseCase


# Use cases that still fail for want of a fix issue #10 asks for (strict: one that starts
# passing fails until its mark goes).
GAPS: dict[str, str] = {}


def _marks(use_case: UseCase) -> list[pytest.MarkDecorator]:
    marks = [pytest.mark.settings(**use_case.settings)]
    if use_case.name in GAPS:
        marks.append(pytest.mark.xfail(strict=True, reason=GAPS[use_case.name]))
    return marks


@pytest.mark.parametrize("use_case", [
    pytest.param(u, marks=_marks(u), id=u.name) for u in USE_CASES])
def test_every_crash_point_converges(world, origin, use_case: UseCase) -> None:
    cells = run_matrix(world, use_case, origin)
    assert len(cells) > 1, "the dry run crossed no boundary"
    failed = [f"#{c.index} {c.point}: {'; '.join(c.problems)}" for c in cells if c.problems]
    assert not failed, f"{len(failed)}/{len(cells)} crash points did not converge:\n" + \
        "\n".join(failed)
