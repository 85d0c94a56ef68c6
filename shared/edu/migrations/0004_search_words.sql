-- Typo tolerance by correcting the query, not by fuzzy-matching every course: the words of
-- published courses are kept in a small table with a trigram index; a misspelt query word is
-- replaced by its closest known word and the corrected query runs as full text. Its cost
-- depends on the vocabulary (thousands of words), not on how many courses match.
CREATE TABLE search_words (word text PRIMARY KEY);
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX search_words_trgm_idx ON search_words USING gin (word gin_trgm_ops);
    END IF;
END $$;

-- Numbers are not misspelt words; keeping them out keeps the vocabulary small.
INSERT INTO search_words (word)
SELECT DISTINCT w FROM courses, unnest(tsvector_to_array(search_doc)) AS w
WHERE status = 'published' AND w !~ '^[0-9]+$'
ON CONFLICT DO NOTHING;

-- Statement-level, so a bulk insert (the seeder) adds its words in one pass.
CREATE FUNCTION edu_collect_search_words() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_words (word)
    SELECT DISTINCT w FROM changed, unnest(tsvector_to_array(search_doc)) AS w
    WHERE status = 'published' AND w !~ '^[0-9]+$'
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE TRIGGER courses_words_insert AFTER INSERT ON courses
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION edu_collect_search_words();
CREATE TRIGGER courses_words_update AFTER UPDATE ON courses
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION edu_collect_search_words();
