# results/splits/ -> results/tables/data_stats.{csv,md}
# Code: xner/data/statistics.py; command in xner/cli/data.py.


rule data_stats:
    input:
        expand(
            "results/splits/{lang}/{split}.parquet", lang=LANGUAGES, split=STUDY_SPLITS
        ),
        BUDGETED_TABLES,
    output:
        csv="results/tables/data_stats.csv",
        md="results/tables/data_stats.md",
    log:
        "results/logs/data_stats.log",
    benchmark:
        "results/benchmarks/data_stats.tsv"
    localrule: True
    conda:
        "../../envs/data.yaml"
    resources:
        slurm_account=slurm_account,
        mem_mb=4000,
        runtime=30,
    params:
        mixtures=MIXTURES,
    shell:
        "python -m xner stats --inputs {input}"
        " --mixtures {params.mixtures} --csv {output.csv} --md {output.md} > {log} 2>&1"
