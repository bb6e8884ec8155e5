"""The peers' virtual environment: Brian2 and NEST, pinned in benchmarks/peers/requirements.txt,
installed into a venv of a Python >= 3.13 (Brian2 2.11 needs it) that the suite creates once
and reuses while the requirements stay the same."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from benchmarks.suite.cases import PEERS

REQUIREMENTS = PEERS / "requirements.txt"
MINIMUM = (3, 13)
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "brainsim-bench"


class PeerError(Exception):
    """The peers' environment cannot be made; the message says what to do instead."""


def interpreters() -> list[Path]:
    """Pythons that may be new enough: python3.13 and later on PATH, then pyenv's."""
    found = [Path(p) for v in range(20, MINIMUM[1] - 1, -1) if (p := shutil.which(f"python3.{v}"))]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found += sorted(pyenv.glob("3.1[3-9]*/bin/python"), reverse=True) + sorted(pyenv.glob("3.[2-9]?*/bin/python"))
    return found


def version(python: Path) -> tuple[int, int] | None:
    """The (major, minor) version of `python`, None if it does not run."""
    try:
        out = subprocess.run([str(python), "-c", "import sys; print(*sys.version_info[:2])"], capture_output=True,
                             text=True, timeout=30, check=True).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    return int(out[0]), int(out[1])


def base_python() -> Path:
    """The first Python >= 3.13 found.

    Raises:
        PeerError: none was found.
    """
    for python in interpreters():
        found = version(python)
        if found is not None and found >= MINIMUM:
            return python
    raise PeerError("Brian2 2.11 needs Python >= 3.13, and none was found (python3.13 or later on PATH, or under "
                    "~/.pyenv/versions); install one (e.g. `pyenv install 3.13`), pass --peer-python with a Python "
                    "that has brian2 and nest-simulator, or run brainsim alone with --no-peers")


def environment(say=print) -> Path:
    """The Python of the peers' venv under ~/.cache/brainsim-bench, made (and its requirements
    installed) if it is not there yet.

    Raises:
        PeerError: no Python >= 3.13, or the installation failed.
    """
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:12]
    venv = CACHE / f"peers-{digest}"
    python = venv / "bin" / "python"
    if (venv / "installed").exists():
        return python
    base = base_python()
    say(f"creating the peers' environment {venv} with {base} (Brian2 and NEST from {REQUIREMENTS.name})")
    try:
        subprocess.run([str(base), "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)], check=True)
    except (OSError, subprocess.CalledProcessError) as error:
        raise PeerError(f"installing the peers into {venv} failed ({error}); see pip's output above") from None
    (venv / "installed").write_text(REQUIREMENTS.read_text())
    return python
