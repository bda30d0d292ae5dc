"""The ``xner`` command line (:mod:`xner.cli.main`): one subcommand per pipeline stage, its options and
its call in the module of its stage (``data``, ``models``, ``training``, ``evaluation``, ``prediction``,
``reporting``), the benchmark's and the synthetic data's apart, and the options several share in
:mod:`xner.cli.options`."""
