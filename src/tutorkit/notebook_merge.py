"""Three-way merge of notebooks, cell by cell, that always leaves a valid notebook.

A textual merge of notebook JSON puts ``<<<<<<<`` lines between JSON lines: the file stops being
JSON and Jupyter cannot open it to resolve anything. Here the three versions are merged as
notebooks with nbdime:

- cells are matched between the versions and merged independently;
- a cell the author deleted (or rewrote beyond recognition) stays theirs: the template's change
  to it is not applied, and the author is told;
- a cell both sides changed is a conflict marked *inside the cell's source* (``<<<<<<< before
  updating`` … ``>>>>>>> after updating``), so the notebook stays valid nbformat and opens in
  Jupyter, and the conflict is reported with the cell's position.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

MARKERS = {
    "<<<<<<< local": "<<<<<<< before updating",
    ">>>>>>> remote": ">>>>>>> after updating",
    "<<<<<<< REMOTE CELL DELETED >>>>>>>": "<<<<<<< THE TEMPLATE DELETES THIS CELL >>>>>>>",
    "<<<<<<< LOCAL CELL DELETED >>>>>>>": "<<<<<<< YOU DELETED THIS CELL >>>>>>>",
}


@dataclass
class NotebookMerge:
    """The merged notebook, where it conflicts, and which template changes were not applied."""

    content: bytes
    conflicts: list[str] = field(default_factory=list)  # "cell 3 ('# My title')"
    dropped: list[str] = field(default_factory=list)  # template changes to cells the author removed

    def describe(self) -> str:
        parts = []
        if self.conflicts:
            parts.append("conflicts in " + ", ".join(self.conflicts))
        if self.dropped:
            parts.append(
                "not applied (you removed these cells): the template's change to "
                + ", ".join(self.dropped)
            )
        return "; ".join(parts)


def _cell_label(index: int, cell) -> str:
    lines = [
        line.strip()
        for line in "".join(cell.get("source", "")).splitlines()
        if line.strip() and not line.startswith(("<<<<<<<", "=======", ">>>>>>>", "|||||||"))
    ]
    first = lines[0] if lines else ""
    if len(first) > 40:
        first = first[:37] + "..."
    return f"cell {index + 1} ({first!r})" if first else f"cell {index + 1}"


def _cells_entry(diff):
    return next((entry for entry in diff if entry.key == "cells"), None)


def _removed_base_cells(local_diff) -> set[int]:
    """Indices of the base cells the author's version no longer has (deleted or rewritten)."""
    from nbdime.diff_format import DiffOp

    entry = _cells_entry(local_diff)
    removed: set[int] = set()
    for op in entry.diff if entry is not None else []:
        if op.op == DiffOp.REMOVERANGE:
            removed.update(range(op.key, op.key + op.length))
    return removed


def _without_changes_to(remote_diff, removed: set[int], base) -> tuple[list, list[str]]:
    """The template's diff without its patches to cells the author removed; and those cells."""
    from nbdime.diff_format import DiffOp, op_patch

    entry = _cells_entry(remote_diff)
    if entry is None or not removed:
        return list(remote_diff), []
    kept, dropped = [], []
    for op in entry.diff:
        if op.op == DiffOp.PATCH and op.key in removed:
            dropped.append(_cell_label(op.key, base.cells[op.key]))
        else:
            kept.append(op)
    others = [e for e in remote_diff if e.key != "cells"]
    return [*others, op_patch("cells", kept)] if kept else others, dropped


def _relabel(nb) -> None:
    for cell in nb.cells:
        source = cell.get("source", "")
        if "<<<<<<<" in source or ">>>>>>>" in source:
            for old, new in MARKERS.items():
                source = source.replace(old, new)
            cell["source"] = source


def _without_ids(nb) -> list[str]:
    """Drop the cell ids (and return them): cells are matched by content, not by id.

    Notebooks stripped by nbstripout number their cells "0", "1", …, so the template's cell "3"
    and the author's cell "3" are unrelated cells with the same id.
    """
    return [cell.pop("id", "") for cell in nb.cells]


def _restore_ids(merged, *sources) -> None:
    """Give each merged cell the id it had in the first version holding the same cell."""
    known: dict[tuple, list[str]] = {}
    for nb, ids in sources:
        for cell, cell_id in zip(nb.cells, ids, strict=True):
            known.setdefault((cell.cell_type, "".join(cell.source)), []).append(cell_id)
    used: set[str] = set()
    for cell in merged.cells:
        for cell_id in known.get((cell.cell_type, "".join(cell.source)), []):
            if cell_id and cell_id not in used:
                cell["id"] = cell_id
                break
        used.add(cell.get("id", ""))
    counter = 0
    for cell in merged.cells:
        if not cell.get("id"):
            while str(counter) in used:
                counter += 1
            cell["id"] = str(counter)
            used.add(cell["id"])


def _notebook(content: bytes):
    """``content`` as an nbformat 4 notebook, when it is one as it says (None otherwise).

    Nothing is converted: a notebook whose header says another version (or none) while its
    cells say 4 would convert to an empty notebook, and a merge must never empty one.
    """
    import nbformat

    from tutorkit.untrusted import UntrustedInput, load_json

    try:
        raw = load_json(content, "the notebook")
    except UntrustedInput:
        return None
    if (
        not isinstance(raw, dict)
        or raw.get("nbformat") != 4
        or not isinstance(raw.get("cells"), list)
    ):
        return None
    try:
        notebook = nbformat.reads(content.decode("utf-8"), as_version=4)  # 4 as it says: as is
        nbformat.validate(notebook)
    except Exception:  # noqa: BLE001  (nbformat's validation errors have no common base)
        return None
    return notebook


def merge_notebooks(base: bytes, ours: bytes, theirs: bytes) -> NotebookMerge | None:
    """Merge three versions of a notebook; None when one of them is not a valid nbformat 4
    notebook (the caller keeps the author's version and reports a conflict)."""
    import nbformat
    from nbdime.diffing.notebooks import diff_notebooks
    from nbdime.merging import merge_notebooks as nbdime_merge
    from nbdime.patching import patch

    versions = [_notebook(v) for v in (base, ours, theirs)]
    if any(nb is None for nb in versions):
        return None
    base_nb, ours_nb, theirs_nb = versions
    ids = [_without_ids(nb) for nb in versions]
    removed = _removed_base_cells(diff_notebooks(base_nb, ours_nb))
    remote_diff, dropped = _without_changes_to(diff_notebooks(base_nb, theirs_nb), removed, base_nb)
    theirs_kept = nbformat.from_dict(patch(copy.deepcopy(base_nb), remote_diff))
    merged, _decisions = nbdime_merge(base_nb, ours_nb, theirs_kept)
    merged = nbformat.from_dict(merged)
    _relabel(merged)
    _restore_ids(merged, (ours_nb, ids[1]), (theirs_nb, ids[2]), (base_nb, ids[0]))
    nbformat.validate(merged)
    conflicts = [
        _cell_label(i, cell)
        for i, cell in enumerate(merged.cells)
        if any(line.startswith("<<<<<<<") for line in "".join(cell.source).splitlines())
    ]
    text = nbformat.writes(merged)
    if ours.endswith(b"\n") and not text.endswith("\n"):
        text += "\n"
    return NotebookMerge(text.encode("utf-8"), conflicts, dropped)
