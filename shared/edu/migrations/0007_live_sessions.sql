-- Live sessions a course's teacher schedules (the live classroom's rooms).

CREATE TABLE live_sessions (
    id          uuid PRIMARY KEY,
    course_id   uuid        NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    teacher_id  text        NOT NULL,
    title       text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    starts_at   timestamptz NOT NULL,
    status      text        NOT NULL DEFAULT 'scheduled'
                            CHECK (status IN ('scheduled', 'live', 'ended', 'cancelled')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX live_sessions_course_idx ON live_sessions (course_id, starts_at);
