# A trained run's model + a text of config section predict -> results/predict/{model}/{langs}/{variant}/{name}.jsonl
# Code: xner/prediction/; command in xner/cli/prediction.py.


wildcard_constraints:
    name=r"[^/]+",


rule predict_run:
    input:
        model=f"{RUN_DIR}/model",
        text=predict_input,
    output:
        "results/predict/{model}/{langs}/{variant}/{name}.jsonl",
    log:
        "results/logs/predict/{model}/{langs}/{variant}/{name}.log",
    benchmark:
        "results/benchmarks/predict/{model}/{langs}/{variant}/{name}.tsv"
    conda:
        "../../envs/train.yaml"
    threads: 2
    resources:
        slurm_account=slurm_account,
        mem_mb=8000,
        runtime=config["predict"]["minutes"],
    params:
        options=inference_options,
    shell:
        "HF_HUB_OFFLINE=1 python -m xner predict {input.model} {input.text} --output {output}"
        " {params.options} --threads {threads} > {log} 2>&1"
