"""Custom::JwtKeys: the JWT key secret gets its first signing key when the stack is created,
so sign-in works right after the first deploy; an existing key set is left as it is."""

from edu.adapters.custom_resource import CustomResourceRequest, custom_resource
from edu.services import ensure_signing_key


@custom_resource
def handler(request: CustomResourceRequest) -> str:
    secret_id = str(request.properties["SecretId"])
    if request.request_type != "Delete":  # the keys outlive the resource (rotation keeps them)
        ensure_signing_key(secret_id)
    return secret_id
