"""xner: cross-lingual named-entity recognition on PAN-X, as a Snakemake pipeline.

The package holds one sub-package per stage of the pipeline (``data``, ``models``,
``training``, ``evaluation``, ``reporting``, ``prediction``), the benchmark and the
synthetic demo data apart (``bench``, ``synthetic``), and shared ground at the top
(``io``, ``device``, ``labels``, ``errors``, ``config``, ``runs``, ``retry``). Each
module offers pure functions over plain data; ``xner.cli`` is the only place that
parses arguments, sets up logging and touches the process. docs/architecture.md
draws the layout.
"""

__version__ = "0.1.0"
