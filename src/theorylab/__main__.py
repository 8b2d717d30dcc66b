"""``python -m theorylab`` is the ``theorylab`` command (also its console-script entry point).

The CLI is imported inside :func:`entry` so that a Ctrl-C during the first fraction of a second
(while Python is still importing it) ends with the same one line and exit code 130, not a
traceback.
"""

from __future__ import annotations

import sys


def entry() -> None:
    try:
        from theorylab.cli import main
    except KeyboardInterrupt:
        print("interrupted before anything ran", file=sys.stderr)
        sys.exit(130)
    main()


if __name__ == "__main__":
    entry()
