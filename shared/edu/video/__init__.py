"""Lesson videos: presigned uploads, transcoding to an HLS ladder, and signed playback."""
