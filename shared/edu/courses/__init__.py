"""Courses: authoring (drafts, syllabus, publishing) and the public catalog and search."""
