"""The Backstage simulator: `cogito-migrate simulate --scale N --seed S [--database NAME]`.

Builds a database laid out exactly like Backstage (see /work/shared/spec/backstage-source.md): `public`,
`dev` and `first_congregational` (topic layout; first_congregational with the older `topicpathid text`
turn reference), `bsa`, `conflict_club`, `timethatremains` (legacy layout; conflict_club's groups without
group_type_id and its grp_cons parent key pointing into bsa), and `template` (structure only). The data
carries every quirk the spec lists. The same seed gives byte-identical data; scale 1 is about 20,000 turns.
The database gets the comment 'backstage simulator'; an existing database is only dropped when it carries
that mark (or holds no table at all, like the freshly created default `cogito`).

API: `simulate(database, scale=1.0, seed=42) -> manifest`, `create_tenant_schema(conn, schema, layout)`
(one empty tenant schema, name safely quoted; needs the public tables), `add_arguments`/`command` (CLI).

Manifest (JSON on stdout from the CLI, a dict from `simulate`). Stable keys:
- `seed`, `scale`, `database`.
- `schemas`: {schema: {"layout": "global"|"topic"|"legacy"|"template", "tables": {table: rows written}}}.
- `passwords`: one entry per participant: {"participant_id", "email", "shape", "plaintext"}; shape is one of
  `bcrypt_2b` (node-bcrypt, the normal case), `bcrypt_2a` (bcryptjs), `double_bcrypt` (bcrypt of a bcrypt
  hash; plaintext = the innermost password), `plaintext`, `plaintext_hashedpass` (the literal `hashedpass`),
  `empty` (''). For bcrypt shapes `bcrypt.checkpw(plaintext, stored)` holds.
- `secrets`: every secret string value written anywhere: public.llms.api_key, secrets nested in
  llms.additional_config, avatars.llm_config (keys api_key, token, secret, key, password), passwords typed
  into participant_event_logs.details, session ids, non-empty plaintext passwords.
- `memberships`: {tenant schema: [participant ids with a footprint there]} (the spec's "Membership").
- `quirks`: planted instances, by name (turn ids are ids in that schema's turn table):
  `missing_topic_turns` {schema: [turn id]}, `missing_topics` {schema: [topic id, or index for
  first_congregational, or grp_con id]}, `missing_speaker_turns` {schema: [id]} (topic layout, participant_id
  of a deleted account 50..99), `unowned_avatar_turns` {schema: [id]} (legacy user turns whose avatar has no
  owner), `comment_turns` {schema: count}, `comments_with_avatar_id` {schema: [id]},
  `repeated_turn_index` {schema: [assistant turn id sharing its index with the prompt]},
  `llm_id_holds_participant` {schema: [id]}, `zero_vector_turns` {schema: [id]}, `upload_notice_turns`
  {schema: [id]}, `non_ascii_turns` / `sql_like_turns` {schema: [id]} (text in `content_markers`),
  `legacy_assistant_llm_avatar_turns` {schema: count}, `odd_topic_indexes` {schema: [index]},
  `missing_parent_topics` {schema: [topic id whose parent path has no row]}, `case_variant_paths`
  {schema: [[path, lower-case twin]]}, `cross_tenant_parents` {"conflict_club": [grp_con id whose parent id
  exists only in bsa]}, `large_turns` [{"schema", "table", "id", "bytes"}], `two_row_uploads`
  {"<schema>.tenant"|"public": [[temp row id, storage row id]]}, `public_uploads_by_bucket_schema`
  {schema: [public.file_uploads id]}, `unattributable_public_uploads` [id], `people_in_no_client` [id],
  `multi_client_people` [id], `case_duplicate_emails` / `case_variant_emails_across_clients`
  [{"schemas", "participant_ids" (older first), "emails"}], `footprint_only` {kind: {"participant_id",
  "schema"}} (kinds: participant_groups, participant_avatars, participant_llms, participant_preferences,
  participant_events, turn, topic_created_by, template_created_by, event_log), `event_logs`
  {"schema_null": [log id], "schema_public": [log id], "unknown_emails": [email]}.
- `content_markers`: the planted non-ASCII and SQL-looking strings.

Many tenants: `simulate(..., extra_tenants=N)` (CLI: `--extra-tenants N`, with `--client-map PATH` to write the
client map for them) adds N small tenants `tenant_0001`, ... (`extra_tenants`: odd ones topic layout, even ones
legacy, cloned from dev and timethatremains: a few topics or conversations each, their turns and speakers, client ids
1001, ...). The manifest then has `extra_tenants` [schema], and each one's `schemas` entry also `client_id` and
`cloned_from`. The quirks above are those of the simulated tenants; an extra tenant repeats some of its original's.

The upload notice turn names the storage row: `File uploaded: <name> (ID: <storage row id>)`.

How it is built (modules by job): `plan` (counts from the scale), `ddl` + `ddl_*.sql` (structure),
`content` (themes, vocabulary, templates), `credentials` (the bcrypt pool), `data` (session helpers: md5-based
randomness keyed by seed, tag and row number; vector pools), `people`, `public_data`, `tenants`,
`conversations` (plan tables sim_unit -> sim_ex -> sim_turn, then INSERT ... SELECT per schema), `manifest`,
`build` (simulate). Every row's randomness depends only on its own key, and ids are given explicitly from the
plan.

Growing: `grow(database, seed=42, amount=0.05) -> manifest` (CLI: `simulate --grow [--seed S] [--amount F]
[--database NAME]`) adds to an existing simulated database (refused without the mark) about `amount` of its
volume: new people with passwords of the known shapes and memberships in one or more tenants (and a few
existing people joining one more tenant), new topics and legacy conversations, new exchanges in existing ones
(turn_index continues at trunc(MAX) + 1, a comment at the fractional midpoint), uploads (tenant, legacy
grp_con, public with the tenant's bucket name) with chunks, and events in both logs. `growth_plan` reads the
database (ids continue after the larger of the maximum and the sequence, deleted topics' ids included) and
fills the same sim_* plan tables with new rows only; the writers of `conversations` then run unchanged, and
every serial is advanced (never moved back). Randomness is keyed by (seed, generation); generations are
counted in `backstage_simulator.generations` (a schema without marker tables: discovery ignores it). One
transaction per growth. The growth manifest (keys in `grow`'s docstring) lists the rows added per schema and
table, new passwords with plaintexts, new secrets, added memberships and the new and continued units.
"""

from backstage_simulator.build import MARK, SimulatorError, simulate
from backstage_simulator.cli import add_arguments, command
from backstage_simulator.ddl import create_tenant_schema
from backstage_simulator.grow import grow

__all__ = ["MARK", "SimulatorError", "add_arguments", "command", "create_tenant_schema", "grow", "simulate"]
