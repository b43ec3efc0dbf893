"""All settings, read once from environment variables, with defaults."""
from __future__ import annotations

import functools
import os
import tempfile
from dataclasses import dataclass, field

from chalicelib.domain.stores import Store, parse_stores
from chalicelib.domain import policy_rules, property_protections
from chalicelib.domain.policy_rules import Policy
from chalicelib.domain.property_protections import PropertyProtections
from chalicelib.domain.uploads import MIB


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """How callers are authenticated in keystone and jwt modes (see docs/auth.md)."""

    cache_seconds: int
    timeout_seconds: float
    keystone_url: str
    # Service credentials: from a Secrets Manager secret when one is named, else these fields.
    keystone_secret_id: str
    keystone_username: str
    keystone_password: str = field(repr=False)
    keystone_project: str
    keystone_user_domain: str
    keystone_project_domain: str
    jwt_issuer: str
    jwt_audience: str
    jwt_jwks_url: str
    jwt_header: str
    jwt_project_claim: str
    jwt_roles_claim: str
    jwt_algorithms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WebDownloadSettings:
    """Glance's `import_filtering_opts` for web-download, plus size and time caps."""

    allowed_schemes: tuple[str, ...]
    allowed_ports: tuple[int, ...]
    allowed_hosts: tuple[str, ...]
    denied_hosts: tuple[str, ...]
    trusted_networks: tuple[str, ...]
    max_bytes: int
    timeout_seconds: int


@dataclass(frozen=True, slots=True)
class Settings:
    """Deployment settings; every field comes from one `GLINT_*` variable."""

    stage: str
    # Running in AWS Lambda (the runtime sets AWS_LAMBDA_FUNCTION_NAME), whatever the stage.
    in_lambda: bool
    region: str
    aws_endpoint_url: str | None
    bucket: str
    images_table: str
    members_table: str
    metadefs_table: str
    tasks_table: str
    usage_table: str
    import_queue: str
    event_bus: str
    event_source: str
    auth_mode: str
    auth: AuthSettings
    presign_expires_seconds: int
    single_upload_max_bytes: int
    multipart_part_size: int
    import_lease_seconds: int
    reap_after_seconds: int
    staging_keep_seconds: int
    delayed_delete: bool
    scrub_delay_seconds: int
    direct_put_max_bytes: int
    deleted_image_ttl_seconds: int
    task_ttl_seconds: int
    tracing_enabled: bool
    log_format: str
    log_level: str
    import_methods: tuple[str, ...]
    web_download: WebDownloadSettings
    image_member_quota: int
    image_tag_quota: int
    image_property_quota: int
    max_request_body_bytes: int
    quota_image_size_total_mib: int
    quota_image_stage_total_mib: int
    quota_image_count_total: int
    quota_image_count_uploading: int
    max_virtual_size_bytes: int
    convert_to: tuple[str, ...]
    convert_timeout_seconds: int
    convert_max_output_bytes: int
    work_dir: str
    # Where image data may be kept (docs/stores.md); exactly one is the default.
    stores: tuple[Store, ...]
    # Loaded with the settings, so a bad file stops the function from starting (docs/policy.md).
    policy: Policy
    property_protections: PropertyProtections | None
    validate_member_projects: bool
    # Secrets Manager names of signing certificates: this prefix + the certificate's uuid.
    certificate_secret_prefix: str

    @property
    def default_store(self) -> Store:
        """The store uploads land in (its bucket is `bucket`)."""
        return next(s for s in self.stores if s.default)


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if raw in (None, "") else int(raw)


def _names(name: str, default: str) -> tuple[str, ...]:
    raw = os.environ.get(name)
    return tuple(n.strip() for n in (default if raw is None else raw).split(",") if n.strip())


def _auth_settings() -> AuthSettings:
    env = os.environ.get
    return AuthSettings(
        # keystonemiddleware's token_cache_time; also the API Gateway authorizer's result TTL.
        cache_seconds=_int("GLINT_AUTH_CACHE_SECONDS", 300),
        timeout_seconds=float(env("GLINT_AUTH_TIMEOUT_SECONDS") or 5),
        keystone_url=env("GLINT_KEYSTONE_URL", ""),
        keystone_secret_id=env("GLINT_KEYSTONE_SECRET_ID", ""),
        keystone_username=env("GLINT_KEYSTONE_USERNAME", ""),
        keystone_password=env("GLINT_KEYSTONE_PASSWORD", ""),
        keystone_project=env("GLINT_KEYSTONE_PROJECT", "service"),
        keystone_user_domain=env("GLINT_KEYSTONE_USER_DOMAIN", "Default"),
        keystone_project_domain=env("GLINT_KEYSTONE_PROJECT_DOMAIN", "Default"),
        jwt_issuer=env("GLINT_JWT_ISSUER", ""),
        jwt_audience=env("GLINT_JWT_AUDIENCE", ""),
        jwt_jwks_url=env("GLINT_JWT_JWKS_URL", ""),
        jwt_header=env("GLINT_JWT_HEADER", "Authorization"),
        jwt_project_claim=env("GLINT_JWT_PROJECT_CLAIM", "project_id"),
        jwt_roles_claim=env("GLINT_JWT_ROLES_CLAIM", "roles"),
        jwt_algorithms=_names("GLINT_JWT_ALGORITHMS", "RS256"),
    )


def _web_download_settings() -> WebDownloadSettings:
    return WebDownloadSettings(
        allowed_schemes=_names("GLINT_WEB_DOWNLOAD_ALLOWED_SCHEMES", "http,https"),
        allowed_ports=tuple(int(p) for p in _names("GLINT_WEB_DOWNLOAD_ALLOWED_PORTS", "80,443")),
        # Empty: any host whose addresses are all public. Names match exactly.
        allowed_hosts=_names("GLINT_WEB_DOWNLOAD_ALLOWED_HOSTS", ""),
        denied_hosts=_names("GLINT_WEB_DOWNLOAD_DENIED_HOSTS", ""),
        # CIDRs that may be fetched from although not public (an internal mirror); none by default.
        trusted_networks=_names("GLINT_WEB_DOWNLOAD_TRUSTED_NETWORKS", ""),
        max_bytes=_int("GLINT_WEB_DOWNLOAD_MAX_BYTES", 50 * 1024 ** 3),
        # Keep below the worker's Lambda timeout (900 s at most).
        timeout_seconds=_int("GLINT_WEB_DOWNLOAD_TIMEOUT_SECONDS", 600),
    )


def _property_protections() -> PropertyProtections | None:
    path = os.environ.get("GLINT_PROPERTY_PROTECTION_FILE")
    return property_protections.load(path) if path else None


@functools.cache
def get_settings() -> Settings:
    """Return the settings for this process (read from the environment once)."""
    stage = os.environ.get("GLINT_STAGE", "local")
    prefix = os.environ.get("GLINT_RESOURCE_PREFIX", f"glint-{stage}")
    bucket = os.environ.get("GLINT_BUCKET", f"{prefix}-images")
    return Settings(
        stage=stage,
        in_lambda=bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")),
        region=os.environ.get("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1")),
        aws_endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
        bucket=bucket,
        images_table=os.environ.get("GLINT_IMAGES_TABLE", f"{prefix}-images"),
        members_table=os.environ.get("GLINT_MEMBERS_TABLE", f"{prefix}-members"),
        metadefs_table=os.environ.get("GLINT_METADEFS_TABLE", f"{prefix}-metadefs"),
        tasks_table=os.environ.get("GLINT_TASKS_TABLE", f"{prefix}-tasks"),
        usage_table=os.environ.get("GLINT_USAGE_TABLE", f"{prefix}-usage"),
        import_queue=os.environ.get("GLINT_IMPORT_QUEUE", f"{prefix}-imports"),
        event_bus=os.environ.get("GLINT_EVENT_BUS", f"{prefix}-events"),
        event_source=os.environ.get("GLINT_EVENT_SOURCE", "glint.images"),
        auth_mode=os.environ.get("GLINT_AUTH", "noauth" if stage == "local" else "keystone"),
        auth=_auth_settings(),
        presign_expires_seconds=_int("GLINT_PRESIGN_EXPIRES_SECONDS", 900),
        single_upload_max_bytes=_int("GLINT_SINGLE_UPLOAD_MAX_BYTES", 512 * MIB),
        multipart_part_size=_int("GLINT_MULTIPART_PART_SIZE", 64 * MIB),
        import_lease_seconds=_int("GLINT_IMPORT_LEASE_SECONDS", 300),
        # How long past its lease (or its URLs' expiry) an import may sit before it is reaped.
        reap_after_seconds=_int("GLINT_REAP_AFTER_SECONDS", 900),
        # How long staged data (PUT .../stage) waits for its glance-direct import.
        staging_keep_seconds=_int("GLINT_STAGING_KEEP_SECONDS", 7 * 24 * 3600),
        # Glance's delayed_delete / scrub_time: deleted data stays restorable for a while.
        delayed_delete=os.environ.get("GLINT_DELAYED_DELETE", "false").lower() == "true",
        scrub_delay_seconds=_int("GLINT_SCRUB_DELAY_SECONDS", 24 * 3600),
        # PUT .../file and .../stage carry the bytes through the API: Lambda takes 6 MB
        # per request, base64-encoded, so deployed stages stop at 4 MiB (local sets more).
        direct_put_max_bytes=_int("GLINT_DIRECT_PUT_MAX_BYTES", 4 * MIB),
        deleted_image_ttl_seconds=_int("GLINT_DELETED_IMAGE_TTL_SECONDS", 7 * 24 * 3600),
        # Glance's task_time_to_live: finished tasks are kept this long (48 h).
        task_ttl_seconds=_int("GLINT_TASK_TTL_SECONDS", 48 * 3600),
        tracing_enabled=os.environ.get("AWS_XRAY_SDK_ENABLED", "true").lower() != "false",
        # JSON lines for CloudWatch Logs; people reading the local runtime get text.
        log_format=os.environ.get("GLINT_LOG_FORMAT") or ("text" if stage == "local" else "json"),
        log_level=os.environ.get("GLINT_LOG_LEVEL", "INFO").upper(),
        # Only the methods that work end to end are offered (see /v2/info/import).
        import_methods=_names("GLINT_IMPORT_METHODS", "glance-direct,web-download,copy-image"),
        web_download=_web_download_settings(),
        # Glance's image_member_quota / image_tag_quota / image_property_quota; -1: unlimited.
        image_member_quota=_int("GLINT_IMAGE_MEMBER_QUOTA", 128),
        image_tag_quota=_int("GLINT_IMAGE_TAG_QUOTA", 128),
        image_property_quota=_int("GLINT_IMAGE_PROPERTY_QUOTA", 128),
        # JSON request bodies; oslo.middleware's sizelimit default, as OpenStack APIs use.
        max_request_body_bytes=_int("GLINT_MAX_REQUEST_BODY_BYTES", 112 * 1024),
        # Glance's unified-limits names (sizes in MiB); -1 means unlimited.
        quota_image_size_total_mib=_int("GLINT_QUOTA_IMAGE_SIZE_TOTAL", -1),
        quota_image_stage_total_mib=_int("GLINT_QUOTA_IMAGE_STAGE_TOTAL", -1),
        quota_image_count_total=_int("GLINT_QUOTA_IMAGE_COUNT_TOTAL", -1),
        quota_image_count_uploading=_int("GLINT_QUOTA_IMAGE_COUNT_UPLOADING", -1),
        # Format inspection and conversion (docs/formats.md); conversion is off by default.
        max_virtual_size_bytes=_int("GLINT_MAX_VIRTUAL_SIZE_BYTES", 2 * 1024 ** 4),
        convert_to=_names("GLINT_CONVERT_TO", ""),
        convert_timeout_seconds=_int("GLINT_CONVERT_TIMEOUT_SECONDS", 600),
        convert_max_output_bytes=_int("GLINT_CONVERT_MAX_OUTPUT_BYTES", 8 * 1024 ** 3),
        work_dir=os.environ.get("GLINT_WORK_DIR") or tempfile.gettempdir(),
        stores=parse_stores(os.environ.get("GLINT_STORES"), bucket),
        # Glance's policy defaults, each overridable from a policy.json-style file.
        policy=policy_rules.load(os.environ.get("GLINT_POLICY_FILE", "")),
        # Glance's property_protection_file (roles format); unset: no protections.
        property_protections=_property_protections(),
        # Check that projects exist (in Keystone, in keystone mode) before sharing with them.
        validate_member_projects=os.environ.get("GLINT_VALIDATE_MEMBER_PROJECTS",
                                                "false").lower() == "true",
        # img_signature_certificate_uuid names a secret holding a PEM certificate (docs/signing.md).
        certificate_secret_prefix=os.environ.get("GLINT_CERTIFICATE_SECRET_PREFIX",
                                                 f"{prefix}/certificates/"),
    )
