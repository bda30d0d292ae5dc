"""``python -m xner``: the same command-line interface as the ``xner`` script."""

from xner.cli.main import main

raise SystemExit(main())
