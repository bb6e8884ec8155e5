"""What the report says about where it was measured: the CPU, its cores and memory, the
operating system, and the versions of everything that ran (brainsim's commit included)."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def cpu() -> str:
    """The CPU's model name, from /proc/cpuinfo where there is one."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def memory_gb() -> float | None:
    """The machine's memory in GB (MemTotal), None where it cannot be read."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024 / 1e9
    except (OSError, ValueError):
        pass
    return None


def commit() -> str:
    """brainsim's git commit, with "+changes" when the working tree differs from it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + (" + uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def compiler() -> str:
    """The first line of `gcc --version` (Brian2's cython and cpp_standalone targets compile with it)."""
    try:
        return subprocess.run(["gcc", "--version"], capture_output=True, text=True, check=False).stdout.splitlines()[0]
    except (OSError, IndexError):
        return "no gcc"


def describe(peer_versions: dict[str, str]) -> list[str]:
    """The report's lines about the machine and the versions; `peer_versions` maps a peer
    simulator's name to the version its runs reported."""
    memory = memory_gb()
    lines = [
        f"- machine: {cpu()}, {os.cpu_count()} cores, "
        + (f"{memory:.1f} GB of memory" if memory else "memory unknown") + f", {platform.system()} {platform.release()}",
        "- every run in a fresh process pinned to one core (`sched_setaffinity`), one at a time, "
        "OMP/OpenBLAS threads 1",
        f"- brainsim {metadata.version('brainsim-lang')} at commit {commit()}, Python {platform.python_version()}, "
        f"numpy {metadata.version('numpy')}, jax {_version('jax')}, jaxlib {_version('jaxlib')}, float64",
    ]
    lines += [f"- {name} {peer_version}" for name, peer_version in sorted(peer_versions.items())]
    lines.append(f"- compiler: {compiler()}")
    return lines


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"
