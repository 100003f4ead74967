{#-
    The column spec of every Backstage table the staging layer reads: column name -> type, in output order.
    Every tenant (and public) contributes exactly these columns, cast to these types; a column a schema lacks
    becomes a typed NULL, a column the spec does not name is ignored. Types are written the way PostgreSQL's
    format_type() prints them, so `cogito-migrate discover` compares them with the catalogue as plain strings
    (it reads the YAML between the `set` and `endset` lines below: keep that block pure YAML).
-#}
{% macro backstage_column_specs() %}
{% set specs_yaml %}
# ---- tenant schemas, topic layout
topic_paths:
  id: bigint
  path: text
  index: text
  created_by: bigint
  created_on: timestamp with time zone
grp_topic_avatar_turns:
  id: bigint
  topic_id: bigint
  topicpathid: text
  avatar_id: bigint
  participant_id: bigint
  llm_id: bigint
  turn_index: numeric
  content_text: text
  content_vector: vector(1536)
  turn_kind_id: integer
  message_type_id: integer
  template_topic_id: bigint
  created_at: timestamp with time zone
  updated_at: timestamp with time zone
# ---- tenant schemas, legacy layout
grp_cons:
  id: bigint
  group_id: bigint
  name: text
  description: text
  type_id: integer
  parent_grp_con_id: bigint
  template_id: bigint
  created_at: timestamp with time zone
grp_con_avatar_turns:
  id: bigint
  grp_con_id: bigint
  avatar_id: bigint
  turn_index: numeric
  content_text: text
  content_vector: vector(1536)
  turn_kind_id: integer
  message_type_id: integer
  template_topic_id: bigint
  created_at: timestamp with time zone
grp_con_uploads:
  id: bigint
  grp_con_id: bigint
  turn_id: bigint
  filename: text
  mime_type: text
  file_path: text
  public_url: text
  bucket_name: text
  uploaded_at: timestamp with time zone
grp_con_upload_vectors:
  id: bigint
  upload_id: bigint
  chunk_index: integer
  content_text: text
  content_vector: vector(1536)
# ---- tenant schemas, both layouts
avatars:
  id: bigint
  name: text
  instruction_set: text
  avatar_scope_id: bigint
  llm_config: jsonb
  created_at: timestamp with time zone
avatar_scopes:
  id: bigint
  name: text
groups:
  id: bigint
  name: text
  description: text
  group_type_id: integer
  created_at: timestamp with time zone
participant_groups:
  participant_id: bigint
  group_id: bigint
  participant_role_id: integer
  role: text
  created_at: timestamp with time zone
participant_avatars:
  participant_id: bigint
  avatar_id: bigint
  created_at: timestamp with time zone
participant_llms:
  participant_id: bigint
  llm_id: bigint
  created_at: timestamp with time zone
participant_preferences:
  id: bigint
  participant_id: bigint
  preference_type_id: integer
  value: bigint
  created_at: timestamp with time zone
participant_events:
  id: bigint
  participant_id: bigint
  event_type_id: integer
  details: jsonb
  created_at: timestamp with time zone
grp_templates:
  id: bigint
  group_id: bigint
  created_by_participant_id: bigint
  name: text
  created_at: timestamp with time zone
# ---- tenant schemas and public
file_uploads:
  id: bigint
  filename: text
  mime_type: text
  file_path: text
  file_size: bigint
  public_url: text
  bucket_name: text
  uploaded_at: timestamp with time zone
  description: text
  tags: text[]
file_upload_vectors:
  id: bigint
  file_upload_id: bigint
  chunk_index: integer
  content_text: text
  content_vector: vector(1536)
  created_at: timestamp with time zone
# ---- public
participants:
  id: bigint
  name: text
  email: text
  created_at: timestamp with time zone
llms:
  id: integer
  name: text
  provider: text
  model: text
  temperature: numeric
  max_tokens: integer
  type_id: integer
  additional_config: jsonb
  subdomain: text
  created_at: timestamp with time zone
  updated_at: timestamp with time zone
schemas:
  id: integer
  name: text
  display_name: text
  owner_participant_id: bigint
  active: boolean
  metadata: jsonb
participant_event_logs:
  id: bigint
  schema_id: integer
  participant_id: bigint
  event_type_id: integer
  description: text
  details: jsonb
  ip_address: text
  user_agent: text
  created_at: timestamp with time zone
llm_types:
  id: integer
  name: text
  description: text
  api_handler: text
message_types:
  id: integer
  name: text
turn_kinds:
  id: integer
  name: text
participant_roles:
  role_id: integer
  role_name: text
  description: text
group_types:
  id: integer
  name: text
grp_con_types:
  id: integer
  name: text
preference_types:
  id: integer
  name: text
participant_event_categories:
  id: integer
  name: text
  active: boolean
participant_event_types:
  id: integer
  name: text
  description: text
  participant_event_categories_id: integer
file_types:
  id: integer
  name: text
avatar_event_types:
  id: integer
  name: text
turn_relationship_types:
  id: integer
  name: text
{% endset %}
{{ return(fromyaml(specs_yaml)) }}
{% endmacro %}
