-- Search matches courses with ANY of the query's words (ranking rewards those with more);
-- websearch_to_tsquery alone requires ALL of them, which returns nothing for
-- "kubernetes operators" when no course mentions operators. Quoted phrases stay phrases.
CREATE FUNCTION edu_any_terms(q text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
        SELECT replace(websearch_to_tsquery('simple', q)::text, ' & ', ' | ')::tsquery
    $$;
