"""The matrix exponential on the host, in float64, for the exact method's propagators."""

from __future__ import annotations

import math

import numpy as np

# Padé (13, 13) coefficients and the norm bound below which it is accurate to
# double precision without scaling (Higham 2005, "The scaling and squaring method
# for the matrix exponential revisited").
_PADE13 = (
    64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
    129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0,
    1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0,
)
_THETA13 = 5.371920351148152


def expm(matrix: np.ndarray) -> np.ndarray:
    """The matrix exponential, by Padé (13, 13) with scaling and squaring, in float64.

    The matrix is first balanced (see `_balance`), which keeps systems that mix
    quantities of very different magnitudes (volts and nanoamperes) from being
    squared needlessly many times.
    """
    a, scale = _balance(np.array(matrix, dtype=np.float64))
    return _pade_expm(a) * scale[:, None] / scale[None, :]


def _balance(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(D^-1 A D, diag D), D powers of two chosen so that each variable's coupling
    in and out have comparable size (Parlett and Reinsch); exact, since
    multiplying by a power of two does not round."""
    scale = np.ones(len(a))
    diagonal = np.abs(np.diag(a)).max(initial=0.0)
    balanced = False
    while not balanced:
        balanced = True
        for i in range(len(a)):
            column = np.abs(a[:, i]).sum() - abs(a[i, i])
            row = np.abs(a[i, :]).sum() - abs(a[i, i])
            if column == 0.0 and row == 0.0:
                continue
            if column == 0.0 or row == 0.0:
                # A one-way coupling: shrink it to the size of the diagonal.
                if column + row <= diagonal:
                    continue
                factor = 2.0 ** math.floor(math.log2(diagonal / (column + row))) if diagonal else 1.0
                factor = factor if row == 0.0 else 1.0 / factor
            else:
                factor = 2.0 ** round(0.5 * math.log2(row / column))
            if factor != 1.0 and column * factor + row / factor < 0.95 * (column + row):
                a[:, i] *= factor
                a[i, :] /= factor
                scale[i] *= factor
                balanced = False
    return a, scale


def _pade_expm(a: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(a, 1)
    if norm == 0.0:
        return np.eye(len(a))  # exactly; the solve below would round
    squarings = max(0, math.ceil(math.log2(norm / _THETA13))) if norm > _THETA13 else 0
    a = a / 2.0**squarings
    b = _PADE13
    identity = np.eye(len(a))
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * identity)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * identity
    result = np.linalg.solve(v - u, v + u)
    for _ in range(squarings):
        result = result @ result
    return result
