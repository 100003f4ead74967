-- Each participant's patterns across the client's migrated conversations, one row per (participant, pattern):
-- activity_rhythm (how much and how regularly, at what hours), conversational_role (opening, answering, asking,
-- typical length), recurring_terms (the distinctive words of the blocks they speak in, weighed by their share of
-- each block), shaped_blocks (the blocks where they have the largest share of the turns). Confidence grows with the
-- evidence: n / (n + k) for n turns (k = 10), active days (k = 5) or blocks (k = 3), so a participant with three
-- turns gets 0.23, not a confident guess. Set-based over the per-(participant, block) rows, each client apart.
{{ config(materialized='table') }}
with

participant_blocks as (
    select * from {{ ref('int_lens_participant_blocks') }}
),

terms as (
    select * from {{ ref('int_lens_block_terms') }}
),

blocks as (
    select * from {{ ref('blocks') }}
),

totals as (
    select
        client_id,
        participant_id,
        sum(turn_count)::integer as turn_count,
        count(*)::integer as block_count,
        sum(question_count)::integer as question_count,
        (count(*) filter (where opened_block))::integer as opened_count,
        sum(answering_count)::integer as answering_count,
        min(first_turn_at) as first_turn_at,
        max(last_turn_at) as last_turn_at
    from participant_blocks
    group by client_id, participant_id
),

lengths as (
    select
        participant_blocks.client_id,
        participant_blocks.participant_id,
        percentile_cont(0.5) within group (order by said.content_length) as median_length,
        percentile_cont(0.9) within group (order by said.content_length) as p90_length
    from participant_blocks
    cross join lateral unnest(participant_blocks.turn_lengths) as said (content_length)
    group by participant_blocks.client_id, participant_blocks.participant_id
),

days as (
    select
        participant_blocks.client_id,
        participant_blocks.participant_id,
        count(distinct active.day)::integer as active_day_count,
        count(distinct date_trunc('week', active.day))::integer as active_week_count
    from participant_blocks
    cross join lateral unnest(participant_blocks.active_days) as active (day)
    group by participant_blocks.client_id, participant_blocks.participant_id
),

hours as (
    select
        participant_blocks.client_id,
        participant_blocks.participant_id,
        said.hour_of_day,
        count(*)::integer as turns
    from participant_blocks
    cross join lateral unnest(participant_blocks.turn_hours) as said (hour_of_day)
    group by participant_blocks.client_id, participant_blocks.participant_id, said.hour_of_day
),

peak_hours as (
    select
        client_id,
        participant_id,
        jsonb_agg(jsonb_build_object('hour_utc', hour_of_day, 'turns', turns) order by turns desc, hour_of_day asc)
            as peak_list
    from (
        select
            *,
            row_number() over (partition by client_id, participant_id order by turns desc, hour_of_day asc) as hour_rank
        from hours
    ) as ranked
    where hour_rank <= 3
    group by client_id, participant_id
),

shaped as (
    select
        client_id,
        participant_id,
        jsonb_agg(
            jsonb_build_object('block_id', block_id, 'name', block_name, 'turns', turn_count, 'share', turn_share)
            order by share_rank
        ) as shaped_list
    from (
        select
            participant_blocks.client_id,
            participant_blocks.participant_id,
            participant_blocks.block_id,
            blocks.name as block_name,
            participant_blocks.turn_count,
            round(participant_blocks.turn_count::numeric / participant_blocks.block_turn_count, 3) as turn_share,
            row_number() over (
                partition by participant_blocks.client_id, participant_blocks.participant_id
                order by
                    participant_blocks.turn_count::numeric / participant_blocks.block_turn_count desc,
                    participant_blocks.turn_count desc,
                    participant_blocks.block_id asc
            ) as share_rank
        from participant_blocks
        inner join blocks on participant_blocks.block_id = blocks.block_id
    ) as ranked
    where share_rank <= 3
    group by client_id, participant_id
),

-- the words of the blocks they speak in, each weighed by the participant's share of that block's turns
weighed_terms as (
    select
        participant_blocks.client_id,
        participant_blocks.participant_id,
        terms.term,
        count(*)::integer as block_count,
        round(sum(terms.tf_idf * participant_blocks.turn_count / participant_blocks.block_turn_count), 6) as weight
    from participant_blocks
    inner join terms on participant_blocks.block_id = terms.block_id
    group by participant_blocks.client_id, participant_blocks.participant_id, terms.term
),

recurring as (
    select
        client_id,
        participant_id,
        jsonb_agg(
            jsonb_build_object('term', term, 'blocks', block_count, 'weight', weight) order by term_rank
        ) as term_list
    from (
        select
            *,
            row_number() over (partition by client_id, participant_id order by weight desc, term asc) as term_rank
        from weighed_terms
    ) as ranked
    where term_rank <= 5
    group by client_id, participant_id
),

profiles as (
    select
        totals.*,
        days.active_day_count,
        days.active_week_count,
        lengths.median_length,
        lengths.p90_length,
        peak_hours.peak_list,
        shaped.shaped_list,
        recurring.term_list,
        -- weeks from the first to the last turn, both included
        floor(
            extract(epoch from date_trunc('week', totals.last_turn_at) - date_trunc('week', totals.first_turn_at))
            / 604800
        )::integer + 1 as week_span
    from totals
    inner join days on totals.client_id = days.client_id and totals.participant_id = days.participant_id
    inner join lengths on totals.client_id = lengths.client_id and totals.participant_id = lengths.participant_id
    left join peak_hours
        on totals.client_id = peak_hours.client_id and totals.participant_id = peak_hours.participant_id
    left join shaped on totals.client_id = shaped.client_id and totals.participant_id = shaped.participant_id
    left join recurring on totals.client_id = recurring.client_id and totals.participant_id = recurring.participant_id
),

patterns as (
    select
        client_id,
        participant_id,
        'activity_rhythm' as pattern_name,
        {{ lens_evidence_confidence('active_day_count', 5) }} as confidence_score,
        jsonb_build_object(
            'turns', turn_count,
            'blocks', block_count,
            'active_days', active_day_count,
            'active_weeks', active_week_count,
            'weeks_spanned', week_span,
            'regularity', round(active_week_count::numeric / week_span, 3),
            'first_turn_at', first_turn_at,
            'last_turn_at', last_turn_at,
            'peak_hours_utc', coalesce(peak_list, '[]'::jsonb)
        ) as pattern_data,
        format(
            '%s turns on %s days in %s of the %s weeks from the first to the last; confidence = days / (days + 5)',
            turn_count, active_day_count, active_week_count, week_span
        ) as reasoning,
        last_turn_at as detected_at
    from profiles
    union all
    select
        client_id,
        participant_id,
        'conversational_role' as pattern_name,
        {{ lens_evidence_confidence('turn_count', 10) }} as confidence_score,
        jsonb_build_object(
            'turns', turn_count,
            'opened_blocks', opened_count,
            'opening_share', round(opened_count::numeric / block_count, 3),
            'answering_share', round(answering_count::numeric / turn_count, 3),
            'question_rate', round(question_count::numeric / turn_count, 3),
            'median_length', round(median_length::numeric, 1),
            'p90_length', round(p90_length::numeric, 1),
            'role', case
                when opened_count::numeric / block_count >= 0.5 then 'initiator'
                when answering_count::numeric / turn_count >= 0.5 then 'responder'
                else 'participant'
            end
        ) as pattern_data,
        format(
            'opened %s of %s blocks, answered another speaker in %s of %s turns, asked in %s; '
            || 'confidence = turns / (turns + 10)',
            opened_count, block_count, answering_count, turn_count, question_count
        ) as reasoning,
        last_turn_at as detected_at
    from profiles
    union all
    select
        client_id,
        participant_id,
        'recurring_terms' as pattern_name,
        {{ lens_evidence_confidence('block_count', 3) }} as confidence_score,
        jsonb_build_object('blocks', block_count, 'terms', coalesce(term_list, '[]'::jsonb)) as pattern_data,
        format(
            'the distinctive terms of the %s blocks they speak in, weighed by their share of each block''s turns; '
            || 'confidence = blocks / (blocks + 3)',
            block_count
        ) as reasoning,
        last_turn_at as detected_at
    from profiles
    union all
    select
        client_id,
        participant_id,
        'shaped_blocks' as pattern_name,
        {{ lens_evidence_confidence('turn_count', 10) }} as confidence_score,
        jsonb_build_object('blocks', block_count, 'shaped', coalesce(shaped_list, '[]'::jsonb)) as pattern_data,
        format(
            'the blocks where their %s turns are the largest share of the turns, of the %s they speak in; '
            || 'confidence = turns / (turns + 10)',
            turn_count, block_count
        ) as reasoning,
        last_turn_at as detected_at
    from profiles
)

select * from patterns
