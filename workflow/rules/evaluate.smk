# A trained run -> results/runs/{model}/{langs}/{variant}/evaluations/{lang}.{json,tsv,counts.parquet}: all
# its test languages, the model loaded once. The reporting reads these files in place.
# Code: xner/evaluation/ (evaluate, inference, scoring); command in xner/cli/evaluation.py.


rule evaluate:
    input:
        unpack(evaluate_inputs),
    output:
        # updated in place: a language evaluated before from the same model and test split is kept
        update(directory(f"{RUN_DIR}/evaluations")),
    log:
        "results/logs/evaluate/{model}/{langs}/{variant}.log",
    benchmark:
        "results/benchmarks/evaluate/{model}/{langs}/{variant}.tsv"
    conda:
        "../../envs/train.yaml"
    threads: 2
    resources:
        slurm_account=slurm_account,
        mem_mb=8000,
        runtime=evaluate_runtime,
    params:
        tests=evaluate_tests,
        options=eval_options,
        split=config["data"]["test_split"],
    shell:
        "HF_HUB_OFFLINE=1 python -m xner evaluate --model-dir {input.model} --test {params.tests}"
        " --out-dir {output} --summary {input.summary} --model-name {wildcards.model}"
        " --train-langs {wildcards.langs} --variant {wildcards.variant}"
        " --split {params.split} {params.options} --threads {threads} > {log} 2>&1"
