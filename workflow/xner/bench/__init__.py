"""The benchmark against the Hugging Face Trainer (``xner bench``, ``make bench``): tooling apart from the pipeline, which nothing in the product path imports."""
