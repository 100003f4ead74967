-- The hnsw index on the turns' vectors (cosine distance, what the application's similarity search uses), in a node
-- of its own: as a post-hook of the turns it held back everything that reads them (about 24 s at scale 10, one
-- core busy); here the lenses and the tests run while it builds. After block_turns, whose first build adds a foreign
-- key to the turns (a lock the index build would make it wait for).
{{ config(materialized='index') }}
-- depends_on: {{ ref('block_turns') }}
{{ mart_vector_index('content_vector', relation=ref('turns')) }}
