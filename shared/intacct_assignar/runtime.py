"""How the Lambda functions get their services: environment settings, secrets from Secrets Manager, one client
each per warm container.

Handlers use `Runtime.current()`, built on the first invocation and kept: sessions, tokens and caches then
live as long as the container does. Secrets are read through Powertools' Secrets Manager provider (cached for
five minutes) and never placed in environment variables.
"""

from __future__ import annotations

import logging
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from . import observability

# Each service's modules are imported where it is built, not here: every handler imports this module, and a cold
# start pays for each import it makes. The webhook receiver then never loads the Intacct or the Assignar client or a
# state store, the approval watcher never the Intacct client, and no function SQLite (tests/unit/test_cold_imports.py).
# Imported above is only what every function uses.
if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from boto3.session import Session

    from .assignar import AssignarClient
    from .aws.invoke import LambdaInvoker
    from .aws.sqs import SqsParking, SqsPublisher
    from .config import TenantConfig
    from .inbound.consume import SyncConsumer
    from .inbound.events import SmartEventReceiver
    from .inbound.pull import PullService
    from .inbound.targeted import EventConsumer
    from .intacct import IntacctClient
    from .metrics import MetricsRunLog
    from .outbound.consume import PushConsumer
    from .outbound.push import PushService
    from .outbound.receiver import WebhookReceiver
    from .outbound.sweep import SweepService
    from .runs import RunLog
    from .settings import AssignarSettings
    from .state import StateStore

logger = logging.getLogger(__name__)

SECRET_MAX_AGE_S = 300


class FunctionSettings(BaseSettings):
    """The environment every function reads (names as the SAM template sets them); only ARNs, never secrets."""

    model_config = SettingsConfigDict(extra="ignore")

    tenant_id: str = Field(alias="TENANT_ID", min_length=1)
    intacct_secret_arn: str | None = Field(default=None, alias="INTACCT_SECRET_ARN")
    # The Smart Event receiver's only secret: the token's own (template.yaml's IntacctEventsTokenSecret).
    events_token_secret_arn: str | None = Field(default=None, alias="INTACCT_EVENTS_TOKEN_SECRET_ARN")
    assignar_secret_arn: str | None = Field(default=None, alias="ASSIGNAR_SECRET_ARN")
    state_table: str = Field(alias="STATE_TABLE", min_length=1)
    upsert_queue_url: str | None = Field(default=None, alias="UPSERT_QUEUE_URL")
    parked_queue_url: str | None = Field(default=None, alias="PARKED_QUEUE_URL")
    push_queue_url: str | None = Field(default=None, alias="PUSH_QUEUE_URL")
    # Where the Smart Event receiver queues the records Intacct's notices name, for the targeted puller.
    event_queue_url: str | None = Field(default=None, alias="EVENT_QUEUE_URL")
    # The tenant document as JSON (the stack owns it); "{}" means every default.
    tenant_config: str = Field(default="{}", alias="TENANT_CONFIG")
    # The consumers' queue's maxReceiveCount: on that delivery, work that still cannot be done is parked with
    # the reason instead of reaching the dead-letter queue without one.
    max_receives: int = Field(default=5, alias="MAX_RECEIVES", ge=1)
    # The sync consumer's Powertools idempotency records.
    idempotency_table: str = Field(default="idempotency", alias="IDEMPOTENCY_TABLE", min_length=1)
    # How many containers of this function may run at once (a consumer's MaximumConcurrency; 1 where the function
    # reserves one execution): they share the tenant's Assignar pace (`Runtime.assignar_pace`).
    max_concurrency: int = Field(default=1, alias="MAX_CONCURRENCY", ge=1)


def aws_session() -> Session:
    """boto3's default session, the one `boto3.client(...)` uses, for what would otherwise make a session of its own.

    Clients on one session share what botocore loads for the first (endpoints, partitions, retry rules); a client on
    a new session loads it all again: 0.05 s of a cold start for each on this machine, against 0.006 s on the shared
    one (BENCHMARKS.md). Powertools' Secrets Manager provider and idempotency store make their own unless handed it.
    """
    import boto3

    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None  # set just above
    return boto3.DEFAULT_SESSION


class Runtime:
    """Builds each service on first use, so a function only touches the secrets and resources it needs."""

    _current: Runtime | None = None

    def __init__(self, settings: FunctionSettings) -> None:
        self.settings = settings

    @classmethod
    def from_environment(cls) -> Runtime:
        return cls(FunctionSettings())

    @classmethod
    def current(cls) -> Runtime:
        """This container's runtime: built on the first invocation, kept while the container is warm."""
        if cls._current is None:
            # A new container: hold the libraries' loggers at WARNING again (a handler or a level set since the
            # handler module's import) before any secret is read.
            observability.pin_library_loggers()
            cls._current = cls.from_environment()
        return cls._current

    @classmethod
    def reset(cls) -> None:
        """Forget the container's runtime (tests; a new environment)."""
        cls._current = None

    @cached_property
    def secrets(self) -> SecretsProvider:
        # Powertools' parameters (boto3 and every provider) are imported with the first secret read.
        from aws_lambda_powertools.utilities.parameters import SecretsProvider

        return SecretsProvider(boto3_session=aws_session())

    def secret(self, arn: str | None, what: str) -> dict[str, Any]:
        """A secret's settings as JSON, kept `SECRET_MAX_AGE_S` by the provider."""
        if not arn:
            raise RuntimeError(f"{what} secret ARN is not set for this function")
        value = self.secrets.get(arn, transform="json", max_age=SECRET_MAX_AGE_S)
        if not isinstance(value, dict):
            raise RuntimeError(f"the {what} secret must be a JSON object of its settings")
        return value

    @cached_property
    def config(self) -> TenantConfig:
        from .config import parse_config_json

        # The same validation and words as the CLI's `--config tenant.json`, naming the parameter the admin edits.
        return parse_config_json(self.settings.tenant_config, "the stack's TenantConfig parameter (TENANT_CONFIG)")

    @cached_property
    def state(self) -> StateStore:
        from .state import open_state

        return open_state(f"dynamodb://{self.settings.state_table}")

    @cached_property
    def run_log(self) -> RunLog:
        from .runs import RunLogs
        from .state import StateRunLog

        # Where each finished run goes: the history `status` reads, and the function's metrics.
        return RunLogs(StateRunLog(self.state), self.metrics_log)

    @cached_property
    def intacct(self) -> IntacctClient:
        from .intacct import IntacctClient
        from .settings import IntacctSettings

        settings = IntacctSettings.model_validate(self.secret(self.settings.intacct_secret_arn, "Intacct"))
        return IntacctClient(settings, timezone=self.config.zone)

    @cached_property
    def assignar_settings(self) -> AssignarSettings:
        from .settings import AssignarSettings

        return AssignarSettings.model_validate(self.secret(self.settings.assignar_secret_arn, "Assignar"))

    @property
    def assignar_pace(self) -> float | None:
        """Assignar requests a second for this container, None for no pacing.

        ASSIGNAR_REQUESTS_PER_SECOND is the tenant's pace: the containers of a function that may run at once
        divide it, so that together they keep to it (two upsert consumers at 4/s each, not two at 8/s).
        """
        return self.assignar_settings.requests_per_second / self.settings.max_concurrency or None

    @cached_property
    def assignar(self) -> AssignarClient:
        from .assignar import AssignarClient

        return AssignarClient(self.assignar_settings, requests_per_second=self.assignar_pace)

    @cached_property
    def pull_service(self) -> PullService:
        from .aws.sqs import SqsParking, SqsPublisher
        from .inbound.pull import PullService

        if not self.settings.upsert_queue_url:
            raise RuntimeError("UPSERT_QUEUE_URL is not set for the puller")
        parked = self.settings.parked_queue_url
        return PullService(
            self.intacct,
            self.state,
            SqsPublisher(self.settings.upsert_queue_url),
            self.config,
            parking=SqsParking(parked) if parked else None,
        )

    @cached_property
    def invoker(self) -> LambdaInvoker:
        from .aws.invoke import LambdaInvoker

        return LambdaInvoker()

    @cached_property
    def sync_consumer(self) -> SyncConsumer:
        from .aws.sqs import SqsParking
        from .inbound.consume import SyncConsumer
        from .inbound.upsert import UpsertService

        if not self.settings.parked_queue_url:
            raise RuntimeError("PARKED_QUEUE_URL is not set for the consumer")
        upsert = UpsertService(self.assignar, self.state, self.config)
        return SyncConsumer(upsert, SqsParking(self.settings.parked_queue_url))

    @cached_property
    def push_queue(self) -> SqsPublisher:
        from .aws.sqs import SqsPublisher

        if not self.settings.push_queue_url:
            raise RuntimeError("PUSH_QUEUE_URL is not set for this function")
        return SqsPublisher(self.settings.push_queue_url)

    @cached_property
    def webhook_receiver(self) -> WebhookReceiver:
        from .outbound.receiver import WebhookReceiver

        # Only the webhook secret is used here: the receiver never calls Assignar.
        secret = self.assignar_settings.webhook_secret
        if secret is None or not secret.get_secret_value():
            raise RuntimeError("ASSIGNAR_WEBHOOK_SECRET is missing from the Assignar secret")
        return WebhookReceiver(secret, self.config.webhook, self.push_queue)

    @cached_property
    def smart_event_receiver(self) -> SmartEventReceiver:
        from pydantic import SecretStr

        from .aws.sqs import SqsPublisher
        from .inbound.events import SmartEventReceiver
        from .smart_events import TOKEN_SETTING, checked_token

        # The token's own secret, kept as the others are (SECRET_MAX_AGE_S): a rotated token is taken within that.
        value = self.secret(self.settings.events_token_secret_arn, "Smart Event token").get(TOKEN_SETTING)
        token = checked_token(
            value if isinstance(value, str) else None,
            f"{TOKEN_SETTING} in the stack's IntacctEventsTokenSecret",
            "put a new one as DEPLOY.md says (Smart Events, rotating the token)",
        )
        if not self.settings.event_queue_url:
            raise RuntimeError("EVENT_QUEUE_URL is not set for the Smart Event receiver")
        return SmartEventReceiver(SecretStr(token), self.config, SqsPublisher(self.settings.event_queue_url))

    @cached_property
    def event_consumer(self) -> EventConsumer:
        from .aws.sqs import SqsPublisher
        from .inbound.targeted import EventConsumer, TargetedPull

        if not self.settings.upsert_queue_url:
            raise RuntimeError("UPSERT_QUEUE_URL is not set for the targeted puller")
        targeted = TargetedPull(
            self.intacct, self.state, SqsPublisher(self.settings.upsert_queue_url), self.config, parking=self.parking
        )
        return EventConsumer(targeted, self.parking)

    @cached_property
    def parking(self) -> SqsParking:
        from .aws.sqs import SqsParking

        if not self.settings.parked_queue_url:
            raise RuntimeError("PARKED_QUEUE_URL is not set for this function")
        return SqsParking(self.settings.parked_queue_url)

    @cached_property
    def push_service(self) -> PushService:
        from .outbound.push import PushService

        return PushService(self.assignar, self.intacct, self.state, self.config, parking=self.parking)

    @cached_property
    def push_consumer(self) -> PushConsumer:
        from .outbound.consume import PushConsumer

        return PushConsumer(self.push_service, self.parking)

    @cached_property
    def metrics_log(self) -> MetricsRunLog:
        """Run entries and posted timesheets as the function's metrics (published by `@metrics.log_metrics`)."""
        from .metrics import MetricsRunLog

        return MetricsRunLog(observability.metrics)

    @cached_property
    def sweep_service(self) -> SweepService:
        from .outbound.plan import content_hash
        from .outbound.sweep import SweepService
        from .settings import IntacctSettings

        # The sweep hashes timesheets as the push does (with the entity's location), and never calls Intacct.
        settings = IntacctSettings.model_validate(self.secret(self.settings.intacct_secret_arn, "Intacct"))
        fingerprint = partial(content_hash, settings=self.config.timesheets, entity_id=settings.entity_id)
        timesheets = self.config.timesheets
        return SweepService(
            self.assignar,
            self.state,
            self.push_queue,
            fingerprint=fingerprint,
            overlap=timesheets.sweep_overlap,
            full_pass_every=timesheets.full_sweep_every,
            run_log=self.run_log,
        )
