-- Backstage's public schema: global people, LLM configuration, lookups, the newer event log,
-- uploads of tenants that had no file_uploads table of their own, web sessions, a leftover groups table.
create sequence public.topic_paths_numeric_id_seq;

create table public.participants (
    id bigserial primary key,
    name text not null,
    email text not null unique,
    password text not null,
    created_at timestamptz default now()
);

create table public.llm_types (
    id serial primary key,
    name text not null unique,
    description text,
    api_handler text
);

create table public.llms (
    id serial primary key,
    name text not null,
    provider text not null,
    model text not null,
    api_key text not null,
    temperature numeric(3, 2) default 0.7,
    max_tokens integer default 1000,
    type_id integer references public.llm_types (id),
    additional_config jsonb,
    subdomain text,
    created_at timestamptz default now(),
    updated_at timestamptz default now()
);

create table public.message_types (id serial primary key, name text not null unique);
create table public.turn_kinds (id serial primary key, name text not null unique);
create table public.participant_roles (role_id serial primary key, role_name text not null unique, description text);
create table public.group_types (id serial primary key, name text not null unique);
create table public.grp_con_types (id serial primary key, name text not null unique);
create table public.preference_types (id serial primary key, name text not null unique);
create table public.participant_event_categories (
    id serial primary key,
    name text not null unique,
    active boolean default true
);
-- ids are chosen by hand in Backstage: no default
create table public.participant_event_types (
    id integer primary key,
    name text not null,
    description text,
    participant_event_categories_id integer references public.participant_event_categories (id)
);
create table public.file_types (id serial primary key, name text not null unique, mime_type text, extension text);
create table public.avatar_event_types (id serial primary key, name text not null unique);
create table public.turn_relationship_types (id serial primary key, name text not null unique);

create table public.schemas (
    id serial primary key,
    name text not null unique,
    display_name text,
    owner_participant_id integer,
    active boolean default true,
    metadata jsonb
);

create table public.participant_event_logs (
    id serial primary key,
    schema_id integer references public.schemas (id),
    participant_id integer,
    event_type_id integer references public.participant_event_types (id),
    description text,
    details jsonb,
    ip_address varchar(45),
    user_agent text,
    created_at timestamptz default now()
);

create table public.file_uploads (
    id serial primary key,
    filename text not null,
    mime_type text,
    file_path text not null,
    file_size bigint,
    public_url text,
    bucket_name text,
    uploaded_at timestamptz default now(),
    description text,
    tags text[]
);

create table public.file_upload_vectors (
    id serial primary key,
    file_upload_id integer references public.file_uploads (id) on delete cascade,
    chunk_index integer not null,
    content_text text not null,
    content_vector vector(1536),
    created_at timestamptz default now(),
    unique (file_upload_id, chunk_index)
);

-- connect-pg-simple's session store
create table public.session (
    sid varchar not null primary key,
    sess json not null,
    expire timestamp(6) not null
);
create index "IDX_session_expire" on public.session (expire);

create table public.groups (
    id serial primary key,
    name text,
    created_at timestamptz default now()
);
