"""Rows of the public schema other than people and uploads: lookups with their seed rows, the LLMs
(with live-looking api keys), the schema registry, the newer event log, web sessions, the leftover groups."""

from __future__ import annotations

import hashlib
import json

from backstage_simulator.data import BASE_TIME, Writer
from backstage_simulator.ddl import TENANTS

LOOKUPS: dict[str, tuple[list[str], list[tuple]]] = {
    "llm_types": (["id", "name", "description", "api_handler"], [
        (1, "chat", "Conversational completion", "chatCompletion"),
        (2, "embedding", "Text embeddings", "createEmbedding"),
    ]),
    "message_types": (["id", "name"], [(1, "user"), (2, "assistant"), (3, "system")]),
    # the seed names id 2 `comment` although the code wrote 2 for assistant turns and 3 for comments
    "turn_kinds": (["id", "name"], [(1, "message"), (2, "comment"), (3, "annotation")]),
    "participant_roles": (["role_id", "role_name", "description"], [
        (1, "owner", "Created the group"), (2, "admin", "Manages members"),
        (3, "member", "Takes part"), (4, "guest", "Reads only"),
    ]),
    "group_types": (["id", "name"], [(1, "study_group"), (2, "committee"), (3, "class"), (4, "troop")]),
    "grp_con_types": (["id", "name"], [(1, "discussion"), (2, "meeting"), (3, "workshop")]),
    "preference_types": (["id", "name"], [
        (1, "default_avatar"), (2, "default_llm"), (3, "theme"), (4, "notifications"), (5, "default_topic"),
    ]),
    "participant_event_categories": (["id", "name", "active"], [
        (1, "authentication", True), (2, "navigation", True), (3, "content", True), (4, "administration", False),
    ]),
    "participant_event_types": (["id", "name", "description", "participant_event_categories_id"], [
        (101, "login", "Signed in", 1), (102, "logout", "Signed out", 1), (103, "login_failed", "Sign-in refused", 1),
        (201, "topic_selected", "Opened a topic", 2), (301, "file_uploaded", "Uploaded a file", 3),
        (302, "turn_created", "Wrote a turn", 3), (401, "role_changed", "Changed a member's role", 4),
    ]),
    "file_types": (["id", "name", "mime_type", "extension"], [
        (1, "PDF", "application/pdf", "pdf"), (2, "Word", "application/vnd.openxmlformats-officedocument."
                                                "wordprocessingml.document", "docx"),
        (3, "Text", "text/plain", "txt"), (4, "Markdown", "text/markdown", "md"), (5, "CSV", "text/csv", "csv"),
    ]),
    "avatar_event_types": (["id", "name"], [(1, "created"), (2, "updated"), (3, "deleted")]),
    "turn_relationship_types": (["id", "name"], [(1, "reply_to"), (2, "comment_on"), (3, "quotes")]),
}

# id, name, provider, model, key prefix, type, subdomain; id 5 is the embedding model
LLMS = (
    (1, "GPT-4o", "openai", "gpt-4o", "sk-proj-", 1, None),
    (2, "Claude 3.5 Sonnet", "anthropic", "claude-3-5-sonnet-20241022", "sk-ant-api03-", 1, None),
    (3, "Llama 3 70B", "groq", "llama3-70b-8192", "gsk_", 1, None),
    (4, "Gemini 1.5 Pro", "google", "gemini-1.5-pro", "AIzaSy", 1, None),
    (5, "Embeddings", "openai", "text-embedding-3-small", "sk-proj-", 2, None),
    (6, "BSA GPT", "openai", "gpt-4o-mini", "sk-svcacct-", 1, "bsa"),
)
CHAT_LLMS = 4  # ids 1..4 answer in conversations

# public.schemas: the event log's registry (id, name)
SCHEMA_REGISTRY = (("public", "Global"),) + tuple((name, name.replace("_", " ").title()) for name in TENANTS)


def secret(seed: int, label: str, prefix: str, length: int = 32) -> str:
    digest = hashlib.sha256(f"{seed}:secret:{label}".encode()).hexdigest()
    return prefix + digest[:length]


def seed_reference(writer: Writer, secrets: list[str]) -> None:
    """Lookups, LLMs and the schema registry: the rows every other table refers to."""
    seed = writer.plan.seed
    for table, (columns, rows) in LOOKUPS.items():
        writer.insert_rows("public", table, columns, rows)
    llm_rows = []
    for llm_id, name, provider, model, prefix, type_id, subdomain in LLMS:
        api_key = secret(seed, f"llm:{llm_id}", prefix, 40)
        secrets.append(api_key)
        config: dict = {"top_p": 0.9} if llm_id % 2 else {"organization": f"org-{llm_id:04d}"}
        if llm_id == 2:  # a nested secret in additional_config
            nested = secret(seed, "llm:2:proxy", "proxy-token-")
            secrets.append(nested)
            config["proxy"] = {"url": "https://proxy.example.net", "token": nested}
        llm_rows.append((llm_id, name, provider, model, api_key, 0.7 if type_id == 1 else 0, 1000 + 500 * llm_id,
                         type_id, json.dumps(config), subdomain, BASE_TIME, BASE_TIME))
    writer.insert_rows("public", "llms", ["id", "name", "provider", "model", "api_key", "temperature", "max_tokens",
                                          "type_id", "additional_config", "subdomain", "created_at", "updated_at"],
                       llm_rows)
    writer.insert_rows(
        "public", "schemas", ["id", "name", "display_name", "owner_participant_id", "active", "metadata"],
        [(i + 1, name, display, 101, True, json.dumps({"created_by": "setup-script"}))
         for i, (name, display) in enumerate(SCHEMA_REGISTRY)],
    )


def schema_registry_id(schema: str) -> int:
    return [name for name, _ in SCHEMA_REGISTRY].index(schema) + 1


def write_event_logs(writer: Writer, secrets: list[str]) -> None:
    """public.participant_event_logs: members' events name their schema; others name none or 'public';
    failed logins of unknown people keep the typed email (and twice the typed password) in details."""
    seed = writer.plan.seed
    writer.run("create temp table sim_event_log (id int primary key, pid bigint, schema text, kind text,"
               " email text, created_at timestamptz)")
    # members (regular, or the one whose only footprint is this log) in their schema; everyone also unscoped
    writer.run(
        """
        insert into sim_event_log
        select row_number() over (order by src.pid, src.schema nulls first, src.j), src.pid, src.schema, src.kind,
               null, src.created_at
        from (
            select m.pid, m.schema, j, 'member' as kind,
                   timestamptz {base} + mod(pg_temp.r(h.m, 1), 24000000) * interval '1 second' as created_at
            from sim_member as m
            cross join generate_series(1, 2) as j
            cross join lateral (select pg_temp.hh('log:' || m.schema || ':' || j, m.pid) as m) as h
            where m.kind = 'event_log' and j = 1
               or m.kind = 'regular' and mod(pg_temp.r(h.m, 0), 3) < 2 - (j - 1)
            union all
            select p.pid, case when mod(pg_temp.r(h.m, 0), 2) = 0 then null else 'public' end, 1,
                   'unscoped', timestamptz {base} + mod(pg_temp.r(h.m, 1), 24000000) * interval '1 second'
            from sim_people as p
            cross join lateral (select pg_temp.hh('log-unscoped', p.pid) as m) as h
            where mod(pg_temp.r(h.m, 2), 4) = 0 or p.role = 'no_client'
        ) as src
        """,
        base=BASE_TIME,
    )
    writer.run(
        """
        insert into sim_event_log
        select (select max(id) from sim_event_log) + n, null, case when n = 1 then 'public' end, 'unknown_email',
               'stranger' || n || '@unknown.example', timestamptz {base} + n * interval '11 days'
        from generate_series(1, {count}) as n
        """,
        base=BASE_TIME, count=max(3, round(6 * writer.plan.scale)),
    )
    typed = [secret(seed, f"typed-password:{i}", "typed-pw-", 12) for i in (1, 2)]
    secrets.extend(typed)
    writer.insert(
        "public", "participant_event_logs",
        """
        insert into {target} (id, schema_id, participant_id, event_type_id, description, details, ip_address,
                              user_agent, created_at)
        select l.id, s.id, l.pid,
               case l.kind when 'unknown_email' then 103 else (array[101, 201, 301, 102])[1 + mod(l.id, 4)] end,
               case l.kind when 'unknown_email' then 'Login failed: no such user' else 'Activity' end,
               case
                   when l.kind = 'unknown_email' and l.id = (select max(id) from sim_event_log)
                       then jsonb_build_object('email', l.email, 'password', {typed1})
                   when l.kind = 'unknown_email' and l.id = (select max(id) - 1 from sim_event_log)
                       then jsonb_build_object('attempt', jsonb_build_object('email', l.email, 'password', {typed2}))
                   when l.kind = 'unknown_email' then jsonb_build_object('email', l.email, 'reason', 'unknown_user')
                   when mod(l.id, 5) = 0 then jsonb_build_object('email', p.email, 'remember_me', true)
                   else jsonb_build_object('path', '/topics/' || mod(l.id, 97), 'ok', true)
               end,
               case when mod(l.id, 7) = 0 then '2001:db8:85a3::8a2e:370:' || to_hex(l.id)
                    else '203.0.113.' || mod(l.id, 250) end,
               (array['Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15',
                      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/125.0',
                      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148'])[1 + mod(l.id, 3)],
               l.created_at
        from sim_event_log as l
        left join public.schemas as s on s.name = l.schema
        left join sim_people as p on p.pid = l.pid
        order by l.id
        """,
        typed1=typed[0], typed2=typed[1],
    )


def write_sessions_and_groups(writer: Writer, secrets: list[str]) -> None:
    rows = []
    for n in range(1, writer.plan.sessions + 1):
        sid = secret(writer.plan.seed, f"session:{n}", "", 32)
        secrets.append(sid)
        sess = {"cookie": {"originalMaxAge": 2592000000, "httpOnly": True, "path": "/"},
                "passport": {"user": 100 + n}, "schema": list(TENANTS)[n % len(TENANTS)]}
        rows.append((sid, json.dumps(sess), f"2025-07-{1 + n % 28:02d} 12:00:00"))
    writer.insert_rows("public", "session", ["sid", "sess", "expire"], rows)
    writer.insert_rows("public", "groups", ["id", "name", "created_at"],
                       [(1, "Everyone", BASE_TIME), (2, "Beta testers", BASE_TIME), (3, "Staff", BASE_TIME)])
