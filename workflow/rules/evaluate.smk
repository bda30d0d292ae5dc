# A trained run x a test language -> results/eval/{model}/{langs}/{variant}/{lang}.{json,tsv}


rule evaluate:
    input:
        model=f"{RUN_DIR}/model",
        test="results/splits/{lang}/test.parquet",
    output:
        json=f"{EVAL_DIR}/{{lang}}.json",
        tsv=f"{EVAL_DIR}/{{lang}}.tsv",
    log:
        "results/logs/evaluate/{model}/{langs}/{variant}/{lang}.log",
    benchmark:
        "results/benchmarks/evaluate/{model}/{langs}/{variant}/{lang}.tsv"
    conda:
        "../../envs/train.yaml"
    threads: 2
    resources:
        slurm_account=slurm_account,
        mem_mb=8000,
        runtime=60,
    params:
        options=eval_options,
        split=config["data"]["test_split"],
    shell:
        "python -m xner evaluate --model-dir {input.model} --test {input.test}"
        " --json {output.json} --tsv {output.tsv} --model-name {wildcards.model}"
        " --train-langs {wildcards.langs} --variant {wildcards.variant}"
        " --test-lang {wildcards.lang} --split {params.split} {params.options}"
        " --threads {threads} > {log} 2>&1"
