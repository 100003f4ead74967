-- Legacy layout (bsa, conflict_club, timethatremains). the group type column is left out where the schema's
-- groups table lacks group_type_id; the parent schema is the one whose grp_cons the parent key points into
-- (conflict_club points into bsa: a cross-tenant bug kept as it is).
create schema {schema};

create table {schema}.groups (
    id bigserial primary key,
    name text not null,
    description text,
    created_at timestamptz default now(){group_type_column}
);

create table {schema}.participant_groups (
    participant_id integer not null references public.participants (id),
    group_id bigint not null references {schema}.groups (id),
    role text,
    created_at timestamptz default now(),
    primary key (participant_id, group_id)
);

create table {schema}.grp_cons (
    id bigserial primary key,
    group_id bigint,
    name text not null,
    description text,
    type_id integer,
    parent_grp_con_id bigint references {parent_schema}.grp_cons (id),
    template_id integer,
    created_at timestamptz default now()
);

-- no participant column: user turns carry the user's avatar, assistant turns an LLM id
create table {schema}.grp_con_avatar_turns (
    id bigserial primary key,
    grp_con_id bigint not null,
    avatar_id bigint not null,
    turn_index numeric(10, 2) not null,
    content_text text not null,
    content_vector vector(1536),
    turn_kind_id integer not null,
    message_type_id integer,
    template_topic_id bigint,
    created_at timestamptz default now()
);

create table {schema}.grp_con_avatar_turn_relationships (
    id bigserial primary key,
    turn_id bigint not null,
    target_turn_id bigint not null,
    turn_relationship_type_id integer,
    created_at timestamptz default now()
);

create table {schema}.grp_con_avatars (
    grp_con_id bigint not null,
    avatar_id bigint not null,
    created_at timestamptz default now(),
    primary key (grp_con_id, avatar_id)
);

create table {schema}.grp_con_uploads (
    id bigserial primary key,
    grp_con_id bigint,
    turn_id bigint,
    filename text,
    mime_type text,
    file_path text,
    public_url text,
    bucket_name text,
    uploaded_at timestamptz default now()
);

create table {schema}.grp_con_upload_vectors (
    id bigserial primary key,
    upload_id bigint,
    chunk_index integer,
    content_text text,
    content_vector vector(1536)
);
