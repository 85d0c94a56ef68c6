"""POST /courses/{id}/lessons/{lesson_id}/video: a presigned form to upload the video."""

from edu.guards import limited_writer
from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.services import video_service
from edu.video.models import UploadIn


@endpoint
def handler(request: Request) -> LambdaResponse:
    ticket = video_service().request_upload(
        limited_writer(request), request.path_params["id"], request.path_params["lesson_id"],
        request.json_body(UploadIn))
    return json_response(201, ticket)
