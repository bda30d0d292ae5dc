# Raw PAN-X files -> results/raw/{lang}/ -> results/data/{lang}/{split}.parquet
# Code: xner/data/ (sources, download, parse); commands in xner/cli/data.py; demo_data: xner/synthetic/.


rule demo_data:
    output:
        "results/demo/panx_dataset.tar",
    log:
        "results/logs/demo_data.log",
    localrule: True
    conda:
        "../../envs/data.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        languages=LANGUAGES,
    shell:
        "python -m xner demo-data --out {output} --languages {params.languages} > {log} 2>&1"


rule fetch_panx_archive:
    output:
        "results/raw/panx_dataset.tar",
    log:
        "results/logs/fetch_panx_archive.log",
    localrule: True
    conda:
        "../../envs/data.yaml"
    resources:
        mem_mb=1000,
        runtime=60,
    params:
        url=config["data"]["path"],
        retries=config["data"]["retries"],
    shell:
        "python -m xner fetch --url {params.url:q} --out {output} --retries {params.retries} > {log} 2>&1"


rule download:
    input:
        download_input,
    output:
        directory("results/raw/{lang}"),
    log:
        "results/logs/download/{lang}.log",
    benchmark:
        "results/benchmarks/download/{lang}.tsv"
    localrule: True
    conda:
        "../../envs/data.yaml"
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        source=config["data"]["source"],
        path_option=download_path_option,
        repo=config["data"]["hf_repo"],
        revision=config["data"]["hf_revision"],
        retries=config["data"]["retries"],
    shell:
        "python -m xner download --source {params.source} --lang {wildcards.lang} {params.path_option}"
        " --hf-repo {params.repo:q} --hf-revision {params.revision:q} --retries {params.retries}"
        " --out {output} > {log} 2>&1"


rule parse:
    input:
        "results/raw/{lang}",
    output:
        train="results/data/{lang}/train.parquet",
        dev="results/data/{lang}/dev.parquet",
        test="results/data/{lang}/test.parquet",
    log:
        "results/logs/parse/{lang}.log",
    benchmark:
        "results/benchmarks/parse/{lang}.tsv"
    localrule: True
    conda:
        "../../envs/data.yaml"
    resources:
        slurm_account=slurm_account,
        mem_mb=4000,
        runtime=30,
    shell:
        "python -m xner parse --raw {input} --train-out {output.train} --dev-out {output.dev}"
        " --test-out {output.test} > {log} 2>&1"
