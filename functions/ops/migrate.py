"""Custom::DatabaseMigrations: applies the schema's pending migrations on every deploy, from
inside the stack's network (the database is not reachable from anywhere else)."""

from edu.adapters.custom_resource import CustomResourceRequest, custom_resource
from edu.observability import get_logger
from edu.services import apply_migrations


@custom_resource
def handler(request: CustomResourceRequest) -> str:
    if request.request_type != "Delete":  # the schema outlives the stack's resources
        applied = apply_migrations()
        get_logger().info("migrations applied", extra={"applied": applied})
    return "database-migrations"
