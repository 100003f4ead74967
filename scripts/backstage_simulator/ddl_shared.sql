-- Tables both tenant layouts share: personas, memberships, preferences, the older event log, templates.
create table {schema}.avatar_scopes (
    id serial primary key,
    name text not null
);

create table {schema}.avatars (
    id bigserial primary key,
    name text not null unique,
    instruction_set text,
    avatar_scope_id integer references {schema}.avatar_scopes (id),
    llm_config jsonb,
    created_at timestamptz default now()
);

create table {schema}.participant_avatars (
    participant_id integer not null references public.participants (id),
    avatar_id bigint not null references {schema}.avatars (id),
    created_at timestamptz default now(),
    primary key (participant_id, avatar_id)
);

create table {schema}.participant_llms (
    participant_id integer not null references public.participants (id),
    llm_id integer not null references public.llms (id),
    created_at timestamptz default now(),
    primary key (participant_id, llm_id)
);

-- a history of choices: no unique key on (participant, preference type)
create table {schema}.participant_preferences (
    id serial primary key,
    participant_id integer not null,
    preference_type_id integer references public.preference_types (id),
    value bigint,
    created_at timestamptz default now()
);

create table {schema}.group_preferences (
    id serial primary key,
    group_id bigint references {schema}.groups (id),
    preference_type_id integer references public.preference_types (id),
    value bigint,
    created_at timestamptz default now()
);

create table {schema}.site_preferences (
    id serial primary key,
    preference_type_id integer references public.preference_types (id),
    value bigint,
    created_at timestamptz default now()
);

create table {schema}.participant_events (
    id bigserial primary key,
    participant_id bigint not null,
    event_type_id integer references public.participant_event_types (id),
    details jsonb,
    created_at timestamptz default now()
);

create table {schema}.grp_templates (
    id serial primary key,
    group_id bigint references {schema}.groups (id),
    name text not null,
    created_by_participant_id integer references public.participants (id),
    created_at timestamptz default now()
);

create table {schema}.grp_template_topics (
    id serial primary key,
    template_id integer not null references {schema}.grp_templates (id),
    title text not null,
    content text,
    topic_index numeric(10, 2),
    created_at timestamptz default now()
);
