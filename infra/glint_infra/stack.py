"""The whole deployment of one stage: storage, queues, tables, bus, functions, alarms."""
from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from constructs import Construct

from glint_infra import (engine, events, functions, gateway, monitoring, permissions, queues,
                         storage, tables)
from glint_infra.stage import Deployment


class GlintStack(cdk.Stack):
    """Environment-agnostic: synthesizes offline, deploys to whichever account/region."""

    def __init__(self, scope: Construct, deployment: Deployment, source_dir: Path,
                 allowed_origins: str, with_dependencies: bool = True,
                 worker_concurrency: int = functions.WORKER_MAX_CONCURRENCY,
                 protect_tables: bool = False) -> None:
        # The construct id is the Chalice stage: chalice.cdk packages the stage named after it.
        super().__init__(scope, deployment.stage, stack_name=deployment.stack_name,
                         description=f"Glint (OpenStack Images API v2), stage {deployment.stage}")
        settings = deployment.settings
        bucket = storage.image_bucket(self, settings.bucket, allowed_origins.split(","))
        import_queue, dlq = queues.import_queues(self, settings)
        storage.notify_imports(bucket, settings.bucket, import_queue)
        table_by_field = tables.tables(self, settings, protect_tables)
        bus = events.event_bus(self, settings)
        events.example_consumer(self, bus, settings)
        roles = functions.function_roles(self)
        app = functions.chalice_app(self, deployment, source_dir, roles, {
            functions.WORKER_FUNCTION: import_queue, functions.DEAD_LETTERS_FUNCTION: dlq,
        }, with_dependencies, worker_concurrency)
        resources = permissions.Resources(
            bucket=bucket, tables=table_by_field, bus=bus, import_queue=import_queue, dlq=dlq,
            secrets=deployment.secrets(),
            certificate_prefix=settings.certificate_secret_prefix,
            store_buckets=tuple(store.bucket for store in settings.stores
                                if not (store.default or store.read_only)))
        permissions.grant(roles, resources)
        engine.big_image_engine(self, deployment, source_dir, app, roles, resources)
        functions.after_policies(app, roles)
        gateway.gateway_responses(self, app, deployment)
        monitoring.monitor(self, app, deployment.stack_name, dlq)
