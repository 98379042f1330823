"""Connection settings for Intacct and Assignar, read from the environment (or a .env file) by their contract names.

Secrets are `SecretStr`, so they never show in reprs, logs or validation errors. In AWS the same keys come
from Secrets Manager as JSON and are validated by the same models (`model_validate`).
"""

from __future__ import annotations

from pydantic import AnyHttpUrl, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_INTACCT_ENDPOINT = "https://api.intacct.com/ia/xml/xmlgw.phtml"
DEFAULT_ASSIGNAR_API_URL = "https://api.assignar.com/v2"
DEFAULT_ASSIGNAR_TOKEN_URL = "https://login.assignar.com/oauth2/token"  # noqa: S105 - a URL, not a secret


class IntacctSettings(BaseSettings):
    """Web Services sender and API user credentials; the names Intacct's own SDKs use."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    sender_id: str = Field(alias="INTACCT_SENDER_ID", min_length=1)
    sender_password: SecretStr = Field(alias="INTACCT_SENDER_PASSWORD")
    company_id: str = Field(alias="INTACCT_COMPANY_ID", min_length=1)
    entity_id: str | None = Field(default=None, alias="INTACCT_ENTITY_ID")
    user_id: str = Field(alias="INTACCT_USER_ID", min_length=1)
    user_password: SecretStr = Field(alias="INTACCT_USER_PASSWORD")
    endpoint_url: AnyHttpUrl = Field(default=AnyHttpUrl(DEFAULT_INTACCT_ENDPOINT), alias="INTACCT_ENDPOINT_URL")
    # Not here: the Smart Event token (INTACCT_EVENTS_TOKEN), kept in a secret of its own that the stack generates,
    # so that the receiver, which answers the internet, can read it without these passwords.


class AssignarSettings(BaseSettings):
    """OAuth client credentials, regional API URL and the webhook secret shared with Assignar."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    client_id: str = Field(alias="ASSIGNAR_CLIENT_ID", min_length=1)
    client_secret: SecretStr = Field(alias="ASSIGNAR_CLIENT_SECRET")
    api_url: AnyHttpUrl = Field(default=AnyHttpUrl(DEFAULT_ASSIGNAR_API_URL), alias="ASSIGNAR_API_URL")
    token_url: AnyHttpUrl = Field(default=AnyHttpUrl(DEFAULT_ASSIGNAR_TOKEN_URL), alias="ASSIGNAR_TOKEN_URL")
    webhook_secret: SecretStr | None = Field(default=None, alias="ASSIGNAR_WEBHOOK_SECRET")
    # Client-side pacing (Assignar publishes no limit; 8/s stays clear of what tenants see); 0 lifts it.
    requests_per_second: float = Field(default=8.0, ge=0, alias="ASSIGNAR_REQUESTS_PER_SECOND")
