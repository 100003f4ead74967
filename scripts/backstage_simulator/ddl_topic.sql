-- Topic layout (dev, first_congregational, template). the topic reference column is `topic_id bigint` or,
-- in the older variant, `topicpathid text` (= topic_paths.index).
create schema {schema};

create table {schema}.topic_paths (
    id bigint primary key default nextval('public.topic_paths_numeric_id_seq'),
    path ltree not null unique,
    index text not null unique,
    created_by integer references public.participants (id),
    created_on timestamptz default now()
);
create index on {schema}.topic_paths using gist (path);

-- no foreign keys at all: topics and speakers may be missing
create table {schema}.grp_topic_avatar_turns (
    id serial primary key,
    {topic_reference},
    avatar_id integer not null,
    participant_id integer,
    llm_id integer,
    turn_index numeric not null,
    content_text text not null,
    content_vector vector(1536),
    turn_kind_id integer not null default 1,
    message_type_id integer,
    template_topic_id integer,
    created_at timestamptz default now(),
    updated_at timestamptz default now()
);

create table {schema}.groups (
    id bigserial primary key,
    name text not null,
    description text,
    created_at timestamptz default now(),
    group_type_id integer references public.group_types (id)
);

create table {schema}.participant_groups (
    participant_id integer not null references public.participants (id),
    group_id bigint not null references {schema}.groups (id),
    participant_role_id integer references public.participant_roles (role_id),
    created_at timestamptz default now(),
    primary key (participant_id, group_id)
);

-- links topics by their old text key
create table {schema}.grp_topic_avatars (
    topic_path_id text not null,
    avatar_id bigint not null,
    created_at timestamptz default now(),
    primary key (topic_path_id, avatar_id)
);

-- unlike public.file_uploads: mime_type not null, another column order
create table {schema}.file_uploads (
    id serial primary key,
    filename text not null,
    file_path text not null,
    mime_type text not null,
    file_size bigint,
    bucket_name text,
    public_url text,
    description text,
    tags text[],
    uploaded_at timestamptz default now()
);

create table {schema}.file_upload_vectors (
    id serial primary key,
    file_upload_id integer references {schema}.file_uploads (id) on delete cascade,
    chunk_index integer not null,
    content_text text not null,
    content_vector vector(1536),
    created_at timestamptz default now(),
    unique (file_upload_id, chunk_index)
);
create index on {schema}.file_upload_vectors
    using ivfflat (content_vector vector_cosine_ops) with (lists = 100);
