{#- Helpers of the partner-program outcome models. -#}

{#- A boolean attribute of a participant as 'yes' / 'no' / 'unknown' (not reported), the values program_outcomes
    breaks down by. -#}
{% macro program_yes_no(field) -%}
    case when {{ field }} then 'yes' when not {{ field }} then 'no' else 'unknown' end
{%- endmacro %}
