# results/data/{lang}/{train,dev,test}.parquet -> results/splits/{lang}/{train,val,test}.parquet
# Code: xner/data/splits.py; commands in xner/cli/data.py.


rule split:
    input:
        train="results/data/{lang}/train.parquet",
        test=f"results/data/{{lang}}/{config['data']['test_split']}.parquet",
    output:
        train="results/splits/{lang}/train.parquet",
        val="results/splits/{lang}/val.parquet",
        test="results/splits/{lang}/test.parquet",
    log:
        "results/logs/split/{lang}.log",
    localrule: True
    conda:
        "../../envs/data.yaml"
    resources:
        slurm_account=slurm_account,
        mem_mb=4000,
        runtime=30,
    params:
        val_fraction=config["split"]["val_fraction"],
        seed=config["split"]["seed"],
        bins=config["split"]["length_bins"],
    shell:
        "python -m xner split --train {input.train} --test {input.test}"
        " --train-out {output.train} --val-out {output.val} --test-out {output.test}"
        " --val-fraction {params.val_fraction} --seed {params.seed} --length-bins {params.bins}"
        + TEST_BUDGET_OPTION
        + " > {log} 2>&1"


# results/splits/{lang}/{train,val}.parquet -> {train,val}@{budget}.parquet: the first `budget`
# sentences of train's stratified order, and of val's in the same ratio (members en@2000 of mixtures).
rule budget:
    input:
        train="results/splits/{lang}/train.parquet",
        val="results/splits/{lang}/val.parquet",
    output:
        train="results/splits/{lang}/train@{budget}.parquet",
        val="results/splits/{lang}/val@{budget}.parquet",
    log:
        "results/logs/budget/{lang}@{budget}.log",
    localrule: True
    conda:
        "../../envs/data.yaml"
    resources:
        slurm_account=slurm_account,
        mem_mb=4000,
        runtime=30,
    params:
        seed=config["split"]["seed"],
        bins=config["split"]["length_bins"],
    shell:
        "python -m xner budget --train {input.train} --val {input.val} --budget {wildcards.budget}"
        " --train-out {output.train} --val-out {output.val}"
        " --seed {params.seed} --length-bins {params.bins} > {log} 2>&1"
