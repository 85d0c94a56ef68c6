"""GET /courses/{id}/lessons/{lesson_id}/video (status; playback URLs for those who may
watch) and GET .../video/hls/{upload_id}/{file} (signed playlists for the player)."""

from edu.guards import optional_caller
from edu.http import LambdaResponse, Request, endpoint, json_response, text_response
from edu.services import video_service

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"


@endpoint
def handler(request: Request) -> LambdaResponse:
    course_id, lesson_id = request.path_params["id"], request.path_params["lesson_id"]
    if "file" in request.path_params:
        text = video_service().playlist(
            course_id, lesson_id, request.path_params["upload_id"],
            request.path_params["file"], request.query.get("exp", ""),
            request.query.get("sig", ""))
        return text_response(200, text, PLAYLIST_TYPE, {"cache-control": "private, no-store"})
    video = video_service().video(optional_caller(request), course_id, lesson_id)
    return json_response(200, video, {"cache-control": "private, no-store"})
