"""Reading SONATA's HDF5 files with h5py: opening them, their datasets, and their groups.

Nodes and edges files share one layout for per-element attributes: each element
(node or edge) of a population names a group (`node_group_id`, `edge_group_id`)
and its row in that group (`node_group_index`, `edge_group_index`); the group
`/<kind>/<population>/<group id>/` holds one dataset per attribute, one value per
row. `grouped` turns that layout into one array per attribute, one value per
element, so the readers of nodes and edges see plain columns.

h5py is the optional extra `sonata`; it is imported here, when a file is read.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np

from brainsim.errors import SonataError
from brainsim.extras import require


@contextmanager
def open_hdf5(path: Path, what: str) -> Iterator[object]:
    """The HDF5 file at `path` (a SONATA `what`: "nodes file", ...), open for reading.

    Raises:
        MissingExtraError: h5py is not installed.
        SonataError: the file is not an HDF5 file h5py can read.
    """
    h5py = require("h5py", "sonata", "reading SONATA files")
    try:
        handle = h5py.File(path, "r")
    except OSError as problem:
        raise SonataError(f"cannot read the {what} {path}: {problem}") from None
    with handle:
        yield handle


def is_dataset(node: object) -> bool:
    """Whether an h5py object is a dataset (and not a group)."""
    return hasattr(node, "shape") and hasattr(node, "dtype")


def column(group, name: str, path: Path, integer: bool = False) -> np.ndarray:
    """Dataset `name` of `group` as a one-dimensional array (int64 if `integer`, else float64).

    Raises SonataError naming the file and dataset if it is missing, not
    one-dimensional, or not of numbers.
    """
    where = f"{group.name.rstrip('/')}/{name}"
    if name not in group or not is_dataset(group[name]):
        raise SonataError(f"{path.name} has no dataset {where}")
    values = group[name][()]
    if values.ndim != 1 or not (np.issubdtype(values.dtype, np.number) or values.dtype == bool):
        raise SonataError(f"{where} of {path.name} must be a one-dimensional dataset of numbers, "
                          f"but it has shape {values.shape} and type {values.dtype}")
    if integer:
        if not np.issubdtype(values.dtype, np.integer):
            raise SonataError(f"{where} of {path.name} must hold integers, but its type is {values.dtype}")
        return values.astype(np.int64)
    return values.astype(np.float64)


def same_lengths(columns: dict[str, np.ndarray], where: str, path: Path) -> int:
    """The common length of `columns` (datasets of one population or group).

    Raises SonataError listing each length if they differ.
    """
    lengths = {name: len(values) for name, values in columns.items()}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{name} {length}" for name, length in lengths.items())
        raise SonataError(f"the datasets of {where} in {path.name} have different lengths: {listed}")
    return next(iter(lengths.values()), 0)


def grouped(population, group_ids: np.ndarray, group_index: np.ndarray, path: Path,
            sub: str | None = None) -> dict[str, np.ndarray]:
    """Every numeric attribute stored in the groups of `population` (/nodes/<name> or
    /edges/<name>), one float per node or edge (NaN where its group does not hold the attribute).

    `sub` reads a subgroup of each group instead (`dynamics_params`). Attributes that are
    not numbers (names, labels) are not model values and are left out.

    Raises SonataError if a node or edge names a group the population does not have, a row
    past the end of its group, or if the datasets of one group differ in length.
    """
    n = len(group_ids)
    kind = "edge" if population.name.startswith("/edges") else "node"
    found: dict[str, np.ndarray] = {}
    for group_id in np.unique(group_ids):
        name = str(int(group_id))
        if name not in population or is_dataset(population[name]):
            first = int(np.argmax(group_ids == group_id))
            raise SonataError(
                f"{kind} {first} of {population.name} in {path.name} is in group {name} "
                f"(its {kind}_group_id), but {population.name}/{name} does not exist"
            )
        group = population[name]
        if sub is not None:
            if sub not in group:
                continue
            group = group[sub]
        datasets = {key: group[key][()] for key in group if is_dataset(group[key])}
        numeric = {key: values for key, values in datasets.items()
                   if values.ndim == 1 and (np.issubdtype(values.dtype, np.number) or values.dtype == bool)}
        rows = same_lengths({key: values for key, values in datasets.items() if values.ndim >= 1},
                            group.name, path)
        members = np.flatnonzero(group_ids == group_id)
        index = group_index[members]
        if datasets and len(index) and (index.min() < 0 or index.max() >= rows):
            bad = members[np.argmax((index < 0) | (index >= rows))]
            raise SonataError(
                f"{kind} {bad} of {population.name} in {path.name} is row {int(group_index[bad])} "
                f"of group {group.name} (its {kind}_group_index), but that group has {rows} rows"
            )
        for key, values in numeric.items():
            found.setdefault(key, np.full(n, np.nan))[members] = values[index].astype(np.float64)
    return found
