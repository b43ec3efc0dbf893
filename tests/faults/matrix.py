"""The crash matrix: a dry run counts a use case's boundaries, then the use case runs again
once per crash point, crashing there; recovery runs after each, and convergence is checked.

A crash after one call and a crash before the next leave the world in the same state (only
the dead process's memory differs), so each such pair is one crash point: before the first
call, then after each call (the table names both boundaries)."""
from __future__ import annotations

from dataclasses import dataclass

from tests.faults import converge
from tests.faults.crash import Injector
from tests.faults.usecases import EXPECTED_EVENTS, ClientGaveUp, Script, UseCase
from tests.faults.world import Abandoned, World


@dataclass(frozen=True, slots=True)
class Cell:
    """One crash point of one use case and what recovery made of it."""

    use_case: str
    index: int | None
    point: str
    outcome: str
    problems: tuple[str, ...]


# Every cell of the run, for the table the tier prints at the end.
CELLS: list[Cell] = []


def run_once(world: World, use_case: UseCase, project: str, crash_at: int | None,
             origin: str) -> tuple[Script, list[str]]:
    """Set up, run the script (crashing at `crash_at`), recover; returns the script and the
    labels of the boundaries the armed steps passed."""
    injector = world.injector
    injector.crash_at, injector.trace, world.crashed_at = crash_at, [], None
    script = Script(world, project, origin)
    if use_case.setup is not None:
        use_case.setup(script)
    try:
        use_case.run(script)
    except Abandoned:
        pass
    except ClientGaveUp as stop:  # after a crash, a later step may find nothing to act on
        if crash_at is None:
            raise
        script.notes["gave_up"] = str(stop)
    injector.crash_at = None
    world.recover()
    return script, [b.label for b in injector.trace]


def run_matrix(world: World, use_case: UseCase, origin: str) -> list[Cell]:
    """Every crash point of the use case; the dry run first (it must converge too)."""
    _, labels = run_once(world, use_case, f"{use_case.name}-dry", None, origin)
    cells = [_cell(world.injector, use_case, None, "(no crash)", f"{use_case.name}-dry")]
    for index, label in enumerate(labels):
        if index and not label.startswith("after"):
            continue  # the same crash point as the boundary before it
        point = " | ".join(labels[index:index + 2]) if index else label
        project = f"{use_case.name}-{index}"
        run_once(world, use_case, project, index, origin)
        cells.append(_cell(world.injector, use_case, index, point, project))
    CELLS.extend(cells)
    return cells


def _cell(injector: Injector, use_case: UseCase, index: int | None, label: str,
          project: str) -> Cell:
    outcome, problems = converge.check(project, injector.published, EXPECTED_EVENTS,
                                       use_case.stores)
    return Cell(use_case.name, index, label, outcome, tuple(problems))
