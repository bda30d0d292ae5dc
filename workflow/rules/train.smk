# results/splits/ -> results/runs/{model}/{langs}/{variant}/: one fine-tuning job per run.
# Code: xner/training/train.py; command in xner/cli/training.py.


rule train:
    input:
        unpack(train_inputs),
    output:
        model=model_output(f"{RUN_DIR}/model"),
        history=f"{RUN_DIR}/history.csv",
        summary=f"{RUN_DIR}/summary.json",
    log:
        f"{RUN_DIR}/train.log",
    benchmark:
        "results/benchmarks/train/{model}/{langs}/{variant}.tsv"
    conda:
        "../../envs/train.yaml"
    threads: 2
    resources:
        slurm_account=slurm_account,
        mem_mb=32000,
        runtime=train_runtime,
    params:
        run=lambda wildcards: train_params(wildcards),
        run_dir=RUN_DIR,
    shell:
        "HF_HUB_OFFLINE=1 python -m xner train --model-path {params.run[model_path]} {params.run[model]}"
        " --train {input.train} --val {input.val} {params.run[track]}"
        " --out-dir {params.run_dir} --model-name {wildcards.model}"
        " --train-langs {wildcards.langs} --variant {wildcards.variant}"
        " {params.run[options]} --threads {threads} > {log} 2>&1"
