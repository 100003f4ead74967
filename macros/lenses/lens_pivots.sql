{#- Each block's sign pattern: its centroid binary-quantized (bit(1536), 1 where positive); blocks without a
    centroid have none. What the neighbour candidates and their pivot index compare. -#}
{% macro lens_sign_patterns() -%}
    select
        client_id,
        block_id,
        binary_quantize(centroid)::bit(1536) as sign_pattern
    from {{ ref('int_lens_block_centroids') }}
    where centroid is not null
{%- endmacro %}


{#- The pivots of the neighbour search among `patterns` (a relation with client_id, block_id, sign_pattern): the
    first `lens_pivot_count()` blocks of each client in an order that scatters them (md5 of the id). -#}
{% macro lens_pivots(patterns) -%}
    select
        client_id,
        block_id as pivot_id,
        sign_pattern as pivot_pattern
    from (
        select
            *,
            row_number() over (partition by client_id order by md5(block_id::text), block_id) as pivot_rank
        from {{ patterns }}
    ) as ranked
    where pivot_rank <= {{ lens_pivot_count() }}
{%- endmacro %}


{#- The pivots as the pivot index `relation` lists them: each pivot's own row, at distance 0 from itself, holds the
    pattern its rows were computed with. -#}
{% macro lens_indexed_pivots(relation) -%}
    select
        client_id,
        pivot_id,
        sign_pattern as pivot_pattern
    from {{ relation }}
    where distance = 0 and block_id = pivot_id
{%- endmacro %}


{#- How many pivots a client has (or all its blocks, when fewer). -#}
{% macro lens_pivot_count() -%}
    32
{%- endmacro %}


{#- Post-hook of int_lens_block_pivot_distances: forgets the rows of blocks that lost their centroid or are gone, and
    of blocks that are no longer pivots. -#}
{% macro forget_stale_pivot_distances() -%}
    delete from {{ this }} as known
    where
        not exists (
            select
            from {{ ref('int_lens_block_centroids') }} as current_block
            where
                current_block.block_id = known.block_id
                and current_block.client_id = known.client_id
                and current_block.centroid is not null
        )
        or known.pivot_id not in (
            select current_pivots.pivot_id
            from ({{ lens_pivots('(' ~ lens_sign_patterns() ~ ')') }}) as current_pivots
        )
{%- endmacro %}
