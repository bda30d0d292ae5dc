# results/splits/{lang}/ -> results/speed/{model}.json -> results/tables/speed.{csv,md}:
# the study's speed table (one training epoch with validation, and inference), per model.
# Code: xner/training/speed.py; commands in xner/cli/training.py.


rule speed_model:
    input:
        unpack(speed_inputs),
    output:
        "results/speed/{model}.json",
    log:
        "results/logs/speed/{model}.log",
    benchmark:
        "results/benchmarks/speed/{model}.tsv"
    conda:
        "../../envs/train.yaml"
    threads: 2
    resources:
        slurm_account=slurm_account,
        mem_mb=32000,
        runtime=60,
    params:
        run=speed_params,
        sentences=config["speed"]["sentences"],
    shell:
        "HF_HUB_OFFLINE=1 python -m xner speed --model-path {params.run[model_path]} {params.run[model]}"
        " --model-name {wildcards.model}"
        " --train {input.train} --val {input.val} --sentences {params.sentences}"
        " {params.run[options]} --out {output} --threads {threads} > {log} 2>&1"


rule speed_table:
    input:
        expand("results/speed/{model}.json", model=SPEED_MODELS),
    output:
        csv=report(
            "results/tables/speed.csv",
            caption="../report/speed.rst",
            category="Speed",
        ),
        md="results/tables/speed.md",
    log:
        "results/logs/speed_table.log",
    localrule: True
    conda:
        "../../envs/report.yaml"
    resources:
        slurm_account=slurm_account,
        mem_mb=2000,
        runtime=10,
    shell:
        "python -m xner speed-table {input} --csv {output.csv} --md {output.md} > {log} 2>&1"
