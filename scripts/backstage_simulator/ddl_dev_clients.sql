-- Only in dev: the app's own (unused by login) list of clients and their schemas.
create table {schema}.clients (
    id serial primary key,
    name text not null unique,
    created_at timestamptz default now()
);

create table {schema}.client_schemas (
    id serial primary key,
    client_id integer not null references {schema}.clients (id),
    schema_name text not null unique,
    created_at timestamptz default now()
);

create table {schema}.client_schema_preferences (
    id serial primary key,
    client_schema_id integer not null references {schema}.client_schemas (id),
    preference_type_id integer references public.preference_types (id),
    value text,
    created_at timestamptz default now()
);
