# results/runs/*/evaluations/, summary.json and history.csv -> results/tables/, results/figures/, report.html
# These jobs read only evaluations, summaries and histories: they run without the checkpoints.
# Code: xner/reporting/ (tables, significance, figures, results_page); commands in xner/cli/reporting.py.


rule scores:
    input:
        run_evaluations=RUN_EVALUATIONS,
        summaries=SUMMARIES,
        code=TABLES_CODE,
    output:
        scores=report(
            "results/tables/scores.csv",
            caption="../report/scores.rst",
            category="All runs",
        ),
        scores_md="results/tables/scores.md",
        runs=report(
            "results/tables/runs.csv",
            caption="../report/runs.rst",
            category="All runs",
        ),
        runs_md="results/tables/runs.md",
        transfer=report(
            "results/tables/transfer_matrix.csv",
            caption="../report/transfer_matrix.rst",
            category="All runs",
        ),
        transfer_md="results/tables/transfer_matrix.md",
        cost=report(
            "results/tables/cost.csv",
            caption="../report/cost.rst",
            category="All runs",
        ),
        cost_md="results/tables/cost.md",
    log:
        "results/logs/scores.log",
    benchmark:
        "results/benchmarks/scores.tsv"
    localrule: True
    conda:
        "../../envs/report.yaml"
    resources:
        slurm_account=slurm_account,
        mem_mb=2000,
        runtime=10,
    params:
        test_langs=TEST_LANGS,
    shell:
        "python -m xner scores --run-evaluations {input.run_evaluations} --summaries {input.summaries}"
        " --test-langs {params.test_langs} --scores-out {output.scores} --runs-out {output.runs}"
        " --transfer-out {output.transfer} --cost-out {output.cost} > {log} 2>&1"


rule significance:
    input:
        run_evaluations=experiment_evaluations,
        summaries=experiment_summaries,
        code=SIGNIFICANCE_CODE,
    output:
        csv=report(
            "results/tables/significance/{experiment}.csv",
            caption="../report/significance.rst",
            category="{experiment}",
        ),
        md="results/tables/significance/{experiment}.md",
    log:
        "results/logs/significance/{experiment}.log",
    benchmark:
        "results/benchmarks/significance/{experiment}.tsv"
    localrule: True
    conda:
        "../../envs/report.yaml"
    resources:
        slurm_account=slurm_account,
        mem_mb=4000,
        runtime=30,
    params:
        test_langs=experiment_test_langs,
        compare=experiment_compare,
        bootstrap=BOOTSTRAP_OPTIONS,
    shell:
        "python -m xner significance --run-evaluations {input.run_evaluations}"
        " --test-langs {params.test_langs} --summaries {input.summaries}"
        " --compare {params.compare} {params.bootstrap}"
        " --csv {output.csv} --md {output.md} > {log} 2>&1"


rule experiment_table:
    input:
        scores="results/tables/scores.csv",
        runs="results/tables/runs.csv",
        significance="results/tables/significance/{experiment}.csv",
        code=TABLES_CODE,
    output:
        csv=report(
            "results/tables/experiments/{experiment}.csv",
            caption="../report/experiment_table.rst",
            category="{experiment}",
        ),
        md="results/tables/experiments/{experiment}.md",
    log:
        "results/logs/experiment_table/{experiment}.log",
    benchmark:
        "results/benchmarks/experiment_table/{experiment}.tsv"
    localrule: True
    conda:
        "../../envs/report.yaml"
    resources:
        slurm_account=slurm_account,
        mem_mb=2000,
        runtime=10,
    params:
        runs=experiment_runs,
        test_langs=experiment_test_langs,
        layout=lambda wildcards: config["experiments"][wildcards.experiment]["table"],
    shell:
        "python -m xner experiment-table --scores {input.scores} --runs-table {input.runs}"
        " --runs {params.runs} --test-langs {params.test_langs} --layout {params.layout}"
        " --significance {input.significance} --csv {output.csv} --md {output.md} > {log} 2>&1"


rule experiment_figures:
    input:
        scores="results/tables/scores.csv",
        code=[TABLES_CODE, PLOTS_CODE],
    output:
        heatmap=report(
            "results/figures/{experiment}/transfer.png",
            caption="../report/transfer.rst",
            category="{experiment}",
        ),
        bars=report(
            "results/figures/{experiment}/f1_by_type.png",
            caption="../report/f1_by_type.rst",
            category="{experiment}",
        ),
    log:
        "results/logs/experiment_figures/{experiment}.log",
    benchmark:
        "results/benchmarks/experiment_figures/{experiment}.tsv"
    localrule: True
    conda:
        "../../envs/report.yaml"
    resources:
        slurm_account=slurm_account,
        mem_mb=2000,
        runtime=10,
    params:
        runs=experiment_runs,
        test_langs=experiment_test_langs,
    shell:
        "python -m xner plot-experiment --scores {input.scores} --runs {params.runs}"
        " --test-langs {params.test_langs} --title {wildcards.experiment:q}"
        " --heatmap {output.heatmap} --bars {output.bars} > {log} 2>&1"


rule experiment_errors:
    input:
        run_evaluations=experiment_evaluations,
        code=[TABLES_CODE, PLOTS_CODE],
    output:
        report(
            "results/figures/{experiment}/errors.png",
            caption="../report/errors.rst",
            category="{experiment}",
        ),
    log:
        "results/logs/experiment_errors/{experiment}.log",
    benchmark:
        "results/benchmarks/experiment_errors/{experiment}.tsv"
    localrule: True
    conda:
        "../../envs/report.yaml"
    resources:
        slurm_account=slurm_account,
        mem_mb=2000,
        runtime=10,
    params:
        test_langs=experiment_test_langs,
    shell:
        "python -m xner plot-errors --run-evaluations {input.run_evaluations}"
        " --test-langs {params.test_langs} --title {wildcards.experiment:q} --out {output} > {log} 2>&1"


# Every run's training curves in one job: one process, not one per run.
rule training_curves:
    input:
        histories=[f"{run_dir}/history.csv" for run_dir in RUN_DIRS],
        summaries=[f"{run_dir}/summary.json" for run_dir in RUN_DIRS],
        code=PLOTS_CODE,
    output:
        CURVES,
    log:
        "results/logs/training_curves.log",
    benchmark:
        "results/benchmarks/training_curves.tsv"
    localrule: True
    conda:
        "../../envs/report.yaml"
    resources:
        slurm_account=slurm_account,
        mem_mb=2000,
        runtime=30,
    params:
        run_dirs=RUN_DIRS,
    shell:
        "python -m xner plot-curves --run-dirs {params.run_dirs} --out {output} > {log} 2>&1"


# The study's results as one Markdown page with its figures beside it (config section report).
rule results_page:
    input:
        scores="results/tables/scores.csv",
        runs="results/tables/runs.csv",
        cost="results/tables/cost.csv",
        data_stats="results/tables/data_stats.csv",
        significance=SIGNIFICANCE_TABLES,
        figures=EXPERIMENT_FIGURES,
        code=[
            TABLES_CODE,
            f"{XNER_SRC}/xner/reporting/results_page.py",
            f"{XNER_SRC}/xner/reporting/languages.py",
        ],
    output:
        page="results/report/{page}.md",
        figures=directory("results/report/{page}"),
    log:
        "results/logs/results_page/{page}.log",
    benchmark:
        "results/benchmarks/results_page/{page}.tsv"
    wildcard_constraints:
        page=r"[A-Za-z0-9_-]+",
    localrule: True
    conda:
        "../../envs/report.yaml"
    resources:
        slurm_account=slurm_account,
        mem_mb=2000,
        runtime=10,
    params:
        title=config["report"]["title"],
        experiments=list(config["experiments"]),
        descriptions=experiment_descriptions,
        test_langs=TEST_LANGS,
        bootstrap=BOOTSTRAP_OPTIONS,
    shell:
        "python -m xner results-page --title {params.title:q} --scores {input.scores}"
        " --runs-table {input.runs} --cost {input.cost} --data-stats {input.data_stats}"
        " --experiments {params.experiments} --describe {params.descriptions}"
        " --significance {input.significance}"
        " --figures {input.figures} --test-langs {params.test_langs} {params.bootstrap}"
        " --out {output.page} > {log} 2>&1"
