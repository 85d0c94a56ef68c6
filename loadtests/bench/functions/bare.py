"""The smallest HTTP handler: what the runtime itself costs."""


def handler(event, context):
    return {"statusCode": 200, "headers": {"content-type": "text/plain"}, "body": "ok"}
