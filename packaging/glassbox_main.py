"""Entry point of the bundled app (PyInstaller): the same as the ``glassbox`` command.

``multiprocessing.freeze_support()`` must run first: the engine and the document
parser run in child processes started with "spawn", and in a frozen app such a
child is this same executable, told by its arguments to run the child's code
instead of the command line.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from desktop_app.cli import main

    sys.exit(main())
