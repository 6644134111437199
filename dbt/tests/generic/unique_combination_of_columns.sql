{#- Fails with one row per combination of `combination_of_columns` that occurs more than once (NULLs compare
    equal here, so a NULL in a key column does not hide a duplicate; pair with not_null on each column). -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

select
    {{ combination_of_columns | join(', ') }},
    count(*) as n_rows
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1

{% endtest %}
