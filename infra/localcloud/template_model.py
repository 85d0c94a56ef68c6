"""The typed model of a SAM template that the local runtime runs: functions, their event
sources and layers, the other resources, and what `edu up` adds for the template."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class EventSource:
    name: str
    type: str
    properties: dict[str, Any]


@dataclass
class Function:
    logical_id: str
    handler: str
    code_uri: Path
    runtime: str
    memory_mb: int
    timeout_s: int
    environment: dict[str, str]
    layer_ids: list[str]
    reserved_concurrency: int | None
    snapstart: bool
    events: list[EventSource]
    arn: str = ""
    provisioned_concurrency: int = 0  # ProvisionedConcurrencyConfig: workers kept started

    @property
    def name(self) -> str:
        return self.logical_id


@dataclass
class Layer:
    """A layer the template declares: where its content is and how `sam build` builds it
    (Metadata.BuildMethod: "python3.12" installs its requirements.txt; "makefile" runs its
    Makefile's build-<LogicalId> target; none ships the folder as it is)."""

    logical_id: str
    content_uri: Path
    build_method: str | None = None


@dataclass
class Resource:
    logical_id: str
    type: str
    properties: dict[str, Any]
    physical_name: str
    retain: bool = False  # DeletionPolicy: Retain (kept when the template drops it)


LOCAL_SERVICES = ("postgres", "redis", "stripe")  # what a template may ask `edu up` to run


@dataclass(frozen=True)
class LocalExtras:
    """What `edu up` runs and sets up for a template beyond its AWS resources, declared in
    the template's `Metadata: edu:` (`services` from LOCAL_SERVICES; `setup`, a named setup
    run after the resources are created; `parameters`, template parameters set locally,
    where `{postgres}`, `{redis}`, `{stripe}`, `{api}` and `{api_port}` stand for the local
    services' URLs). A template that declares nothing gets the AWS endpoint alone."""

    services: tuple[str, ...] = ()
    setup: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)


@dataclass
class Template:
    path: Path
    root: Path
    stack_name: str
    region: str
    parameters: dict[str, str]
    functions: dict[str, Function]
    resources: dict[str, Resource]
    layers: dict[str, Layer]
    apis: dict[str, Resource]
    outputs: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    extras: LocalExtras = field(default_factory=LocalExtras)

    def function_layers(self, fn: Function) -> list[Layer]:
        """The function's layers in the order AWS extracts them into /opt."""
        return [self.layers[lid] for lid in fn.layer_ids if lid in self.layers]

    def layer_paths(self, fn: Function) -> list[Path]:
        """The source folders of the function's layers (what a code change touches)."""
        return [layer.content_uri for layer in self.function_layers(fn)]

    def of_type(self, *types: str) -> list[Resource]:
        return [r for r in self.resources.values() if r.type in types]
