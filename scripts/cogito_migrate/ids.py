"""Deterministic ids: the Python twin of the SQL macro `cogito_uuid` (macros/ids/cogito_uuid.sql).

Every Cogito id is an RFC 9562 version-3 uuid (MD5, name-based) of the key
``'<client_id>/<entity>/<schema>/<table>/<source id>'`` under one fixed project namespace, so the
same Backstage row gets the same uuid on every run and every machine. A missing (None) client id
renders as the empty string: ``'/participant/public/participants/7'``.
"""

from __future__ import annotations

import uuid

# The project namespace, fixed forever (it was derived once as uuid5(NAMESPACE_DNS, "backstage-migration.cogito")).
# Changing it changes every id the migration ever wrote. The SQL macro carries the same constant.
NAMESPACE = uuid.UUID("1f5d72a8-4f8c-5292-a73b-2489ddcb5a50")


def cogito_uuid_key(client_id: int | None, entity: str, schema: str, table: str, source_id: int | str) -> str:
    """The key text the uuid is computed from (also what the id map stores)."""
    for name, value in (("entity", entity), ("schema", schema), ("table", table), ("source_id", source_id)):
        # SQL yields a NULL uuid for NULL parts; in Python that is a caller's mistake.
        if value is None:
            raise ValueError(f"cogito_uuid: {name} is required")
    if isinstance(source_id, bool) or not isinstance(source_id, (int, str)):
        # str(1.0) and str(True) differ from PostgreSQL's text casts: accept only what renders the same.
        raise TypeError(f"cogito_uuid: source_id must be an int or a str, not {type(source_id).__name__}")
    client = "" if client_id is None else str(int(client_id))
    return f"{client}/{entity}/{schema}/{table}/{source_id}"


def cogito_uuid(client_id: int | None, entity: str, schema: str, table: str, source_id: int | str) -> uuid.UUID:
    """The same uuid as the SQL `{{ cogito_uuid(client_id, 'entity', schema, 'table', source_id) }}`."""
    return uuid.uuid3(NAMESPACE, cogito_uuid_key(client_id, entity, schema, table, source_id))


def lens_prototype_uuid(name: str) -> uuid.UUID:
    """A lens of the catalogue, shared by every client (SQL `lens_prototype_uuid`)."""
    return cogito_uuid(None, "lens_prototype", "cogito", "lens_prototypes", name)


def block_lens_uuid(client_id: int, block_id: uuid.UUID | str, lens_name: str, version: int) -> uuid.UUID:
    """One version of a lens applied to one block (SQL `block_lens_uuid`)."""
    return cogito_uuid(client_id, "block_lens_version", "conversation", "blocks", f"{block_id}/{lens_name}/v{version}")


def pattern_type_uuid(name: str) -> uuid.UUID:
    """A pattern type of the catalogue, shared by every client (SQL `pattern_type_uuid`)."""
    return cogito_uuid(None, "pattern_type", "cogito", "pattern_types", name)


def detected_pattern_uuid(client_id: int, subject: uuid.UUID | str, pattern_name: str, version: int) -> uuid.UUID:
    """One pattern detected for a subject (a participant's uuid, or `client` for a client's insight)."""
    return cogito_uuid(client_id, "detected_pattern", "conversation", "patterns", f"{subject}/{pattern_name}/v{version}")
