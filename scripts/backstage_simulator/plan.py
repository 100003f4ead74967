"""How many of everything a scale asks for. Scale 1 is about 20,000 turns; every count grows linearly.

Planted quirks sit at fixed ordinals (the first few topics and conversations of each schema, the first
people), so they exist at every scale; the `MIN_UNITS` floor keeps those ordinals inside the data.
"""

from __future__ import annotations

from dataclasses import dataclass

from backstage_simulator import content
from backstage_simulator.ddl import TENANTS

# turns per schema at scale 1 (sum: 20,000)
TURNS_AT_SCALE_1 = {"dev": 8000, "first_congregational": 3000, "bsa": 4000, "conflict_club": 3000,
                    "timethatremains": 2000}
TURNS_PER_UNIT = 21  # mean exchanges per topic (3..17) * ~2.1 turns per exchange
MIN_UNITS = 8
PEOPLE_AT_SCALE_1 = 150
MIN_PEOPLE = 40
UNATTRIBUTABLE_UPLOADS_AT_SCALE_1 = 4
SESSIONS_AT_SCALE_1 = 20
# share of generated (not planted) people by membership: none, several clients, one client
NO_CLIENT_PERCENT = 4
MULTI_CLIENT_PERCENT = 10
# single-client people: cumulative percent per schema, in TENANTS order
SINGLE_CLIENT_CUMULATIVE = (35, 50, 70, 85, 100)


@dataclass(frozen=True)
class SchemaPlan:
    schema: str
    ordinal: int  # 1-based, TENANTS order
    layout: str
    theme_ids: tuple[int, ...]  # 1-based positions in content.THEMES
    units: int  # topics (topic layout) or conversations (legacy layout)


@dataclass(frozen=True)
class Plan:
    scale: float
    seed: int
    people: int  # generated people, planted ones come on top
    schemas: tuple[SchemaPlan, ...]
    unattributable_uploads: int
    sessions: int


def _scaled(base: int, scale: float, floor: int) -> int:
    return max(floor, round(base * scale))


def make_plan(scale: float, seed: int) -> Plan:
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    theme_ids = {theme.name: i + 1 for i, theme in enumerate(content.THEMES)}
    units = {name: max(MIN_UNITS, round(turns * scale / TURNS_PER_UNIT)) for name, turns in TURNS_AT_SCALE_1.items()}
    # conflict_club's parent key points into bsa.grp_cons: bsa needs more conversations than conflict_club
    units["bsa"] = max(units["bsa"], units["conflict_club"] + 3)
    schemas = tuple(
        SchemaPlan(
            schema=name,
            ordinal=i + 1,
            layout=shape.layout,
            theme_ids=tuple(theme_ids[t] for t in content.SCHEMA_THEMES[name]),
            units=units[name],
        )
        for i, (name, shape) in enumerate(TENANTS.items())
    )
    return Plan(
        scale=scale,
        seed=seed,
        people=_scaled(PEOPLE_AT_SCALE_1, scale, MIN_PEOPLE),
        schemas=schemas,
        unattributable_uploads=_scaled(UNATTRIBUTABLE_UPLOADS_AT_SCALE_1, scale, 2),
        sessions=_scaled(SESSIONS_AT_SCALE_1, scale, 3),
    )
