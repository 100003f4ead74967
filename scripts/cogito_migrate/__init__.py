"""cogito-migrate: the operator's tool around the dbt migration from Backstage to Cogito.

One module per job: ``database`` (the embedded server and connections), ``dbt`` (dbt in this process),
``vocabulary`` (dbt_project.yml's vars: entities, quarantine reasons, column specs), ``discovery`` (tenant
inventory, the generated sources), ``ids`` (deterministic uuids), ``passwords`` (hash carrying), ``runner``
(the whole run), ``verify`` (the reconciliation), ``reports`` (counts and tables), ``audit`` (the record of each
run), ``benchmark`` (timings; needs the simulator), ``build_phases`` (a dbt build's time by phase) and ``cli``
(the command line). The simulator of Backstage is a development tool apart: the package ``backstage_simulator``.
"""

__version__ = "0.1.0"
