-- Courses, their syllabus, and what catalog browsing and search need.

-- pg_trgm powers typo-tolerant search; a server without contrib (the pgserver wheel) still
-- runs everything else, and search then works without typo correction.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN undefined_file OR feature_not_supported OR insufficient_privilege THEN
    RAISE NOTICE 'pg_trgm is not available: search runs without typo tolerance';
END $$;

-- array_to_string is only STABLE; generated columns need IMMUTABLE (tags are plain text).
CREATE FUNCTION edu_tags_text(tags text[]) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT array_to_string(tags, ' ') $$;

CREATE TABLE courses (
    id              uuid PRIMARY KEY,
    teacher_id      text        NOT NULL,
    title           text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    subtitle        text        NOT NULL DEFAULT '',
    description     text        NOT NULL DEFAULT '',
    category        text        NOT NULL,
    level           text        NOT NULL CHECK (level IN ('beginner', 'intermediate', 'advanced')),
    language        text        NOT NULL,
    price_amount    integer     NOT NULL CHECK (price_amount >= 0),
    price_currency  char(3)     NOT NULL,
    tags            text[]      NOT NULL DEFAULT '{}',
    status          text        NOT NULL DEFAULT 'draft'
                                CHECK (status IN ('draft', 'published', 'archived')),
    version         integer     NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    published_at    timestamptz,
    -- Ranking weights: title A, subtitle and tags B, description C. 'simple' config: no
    -- stemming surprises across the many languages courses are written in.
    search_doc      tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', title), 'A') ||
        setweight(to_tsvector('simple', subtitle), 'B') ||
        setweight(to_tsvector('simple', edu_tags_text(tags)), 'B') ||
        setweight(to_tsvector('simple', description), 'C')) STORED
);

CREATE INDEX courses_teacher_idx ON courses (teacher_id, created_at DESC);
CREATE INDEX courses_created_idx ON courses (created_at DESC);
-- Catalog keyset orders, published rows only.
CREATE INDEX courses_newest_idx ON courses (published_at DESC, id DESC)
    WHERE status = 'published';
CREATE INDEX courses_title_idx ON courses (lower(title), id) WHERE status = 'published';
CREATE INDEX courses_price_idx ON courses (price_amount, id) WHERE status = 'published';
CREATE INDEX courses_category_newest_idx ON courses (category, published_at DESC, id DESC)
    WHERE status = 'published';
-- Search: full text.
CREATE INDEX courses_search_idx ON courses USING gin (search_doc);

CREATE TABLE sections (
    id          uuid PRIMARY KEY,
    course_id   uuid    NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    title       text    NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    position    integer NOT NULL CHECK (position >= 0),
    CONSTRAINT sections_position_uniq UNIQUE (course_id, position) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE lessons (
    id            uuid PRIMARY KEY,
    course_id     uuid    NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    section_id    uuid    NOT NULL REFERENCES sections (id) ON DELETE CASCADE,
    title         text    NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    kind          text    NOT NULL CHECK (kind IN ('video', 'text')),
    body          text    NOT NULL DEFAULT '',
    free_preview  boolean NOT NULL DEFAULT false,
    position      integer NOT NULL CHECK (position >= 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT lessons_position_uniq UNIQUE (section_id, position) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX lessons_course_idx ON lessons (course_id);
