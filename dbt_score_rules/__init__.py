"""The project's own dbt-score rules (dbt-score loads the `dbt_score_rules` namespace from the project root)."""
