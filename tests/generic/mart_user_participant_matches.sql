{#-
    A human participant linked to a user is that user's person in that client: same client, same original
    participant id. Only humans link to users.
-#}
{% test mart_user_participant_matches(model, users_model) %}
    select participant.id
    from {{ model }} as participant
    inner join {{ users_model }} as login on participant.user_id = login.id
    where
        participant.type <> 'human'
        or participant.client_id <> login.client_id
        or participant.metadata->>'original_participant_id' is distinct from login.metadata->>'original_participant_id'
{% endtest %}
