"""Python wrappers around the dbt migration from Backstage to Cogito.

One module per job: ``database`` (the embedded server and connections), ``simulator``
(a faithful Backstage), ``ids`` (deterministic uuids), ``passwords`` (hash carrying),
``discovery`` (tenant inventory), ``runner`` (drives dbt) and ``cli`` (the command line).
"""

__version__ = "0.1.0"
