"""The `brainsim` console script: `brainsim.cli.console`, with a Ctrl-C while `brainsim` is still
being imported (about a second: numpy, Lark, the language's tables) turned into one line and
status 130 like any other. It lives outside the package because importing `brainsim.cli`
imports the whole package first, before any function of it could catch anything."""

import os
import sys


def console() -> None:
    """Import the command line and run it; Ctrl-C during the import exits 130 without a traceback."""
    try:
        from brainsim.cli import console as command_line
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        sys.stderr.flush()
        os._exit(130)
    command_line()
