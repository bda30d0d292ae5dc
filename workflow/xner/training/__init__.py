"""Training: one run fine-tuned on a mixture of languages (``train``, with its checkpoints and early stopping), and the speed table's timings (``speed``). Rules: train.smk, speed.smk."""
