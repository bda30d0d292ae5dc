"""xner: cross-lingual named-entity recognition on PAN-X, as a Snakemake pipeline.

The package holds one module per stage of the pipeline (download, data, splits,
stats, ...). Each module offers pure functions over plain data; ``xner.cli`` is
the only place that parses arguments, sets up logging and touches the process.
"""

__version__ = "0.1.0"
