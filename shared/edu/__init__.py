"""EduPlatform's shared package: config, errors, problem responses, domain services, adapters.

Built as a Lambda layer (template.yaml: SharedLayer). Handler code lives in functions/.
"""
