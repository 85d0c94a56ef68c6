-- Teacher analytics read models, fed by the analytics projector from domain events.
-- Each event is applied once: its id goes into analytics_applied_events in the same
-- transaction as its effects, so a redelivered event changes nothing.

CREATE TABLE analytics_applied_events (
    event_id    text PRIMARY KEY,
    event_type  text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);

-- Daily rollups per course (days in UTC): what the time series and totals read.
CREATE TABLE analytics_course_daily (
    course_id    uuid    NOT NULL,
    day          date    NOT NULL,
    teacher_id   text    NOT NULL,
    enrollments  integer NOT NULL DEFAULT 0,
    completions  integer NOT NULL DEFAULT 0,
    refunds      integer NOT NULL DEFAULT 0,
    PRIMARY KEY (course_id, day)
);
CREATE INDEX analytics_course_daily_teacher_idx ON analytics_course_daily (teacher_id, course_id);

-- Revenue per course, day and currency (minor units): gross payments and refunds.
CREATE TABLE analytics_revenue_daily (
    course_id   uuid    NOT NULL,
    day         date    NOT NULL,
    currency    char(3) NOT NULL,
    teacher_id  text    NOT NULL,
    gross       bigint  NOT NULL DEFAULT 0,
    refunded    bigint  NOT NULL DEFAULT 0,
    PRIMARY KEY (course_id, day, currency)
);
CREATE INDEX analytics_revenue_daily_teacher_idx ON analytics_revenue_daily (teacher_id);

-- One row per student and course: distinct and active students, completion.
-- enrolled_at is null while only activity has arrived (events may come out of order).
CREATE TABLE analytics_students (
    course_id       uuid        NOT NULL,
    user_id         text        NOT NULL,
    teacher_id      text        NOT NULL,
    enrolled_at     timestamptz,
    revoked_at      timestamptz,
    completed_at    timestamptz,
    last_active_at  timestamptz NOT NULL,
    PRIMARY KEY (course_id, user_id)
);
CREATE INDEX analytics_students_teacher_idx
    ON analytics_students (teacher_id, last_active_at DESC, user_id);

-- Which students completed which lesson (per-lesson drop-off).
CREATE TABLE analytics_lesson_completions (
    course_id     uuid        NOT NULL,
    lesson_id     uuid        NOT NULL,
    user_id       text        NOT NULL,
    completed_at  timestamptz NOT NULL,
    PRIMARY KEY (course_id, lesson_id, user_id)
);
