"""Settings from the environment (CMS_*). Built on demand, never at import time."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CMS_", extra="ignore")

    data_dir: Path = Field(default=Path("cms-data"), description="database file, document store, keys")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite file in data_dir")
    locale: str = "zh-CN"
    token: str | None = Field(default=None, description="sign-in token for scripts (instead of cms login)")
    config_dir: Path | None = Field(default=None, description="where cms login keeps its token; default "
                                    "$XDG_CONFIG_HOME/cms_workflows or ~/.config/cms_workflows")
    company_name: str = Field(default="", description="company name in the header of controlled documents")
    timezone: str = Field(default="Asia/Shanghai", description="local time zone of dates in documents")
    audit_key: str | None = Field(default=None, description="secret for audit MACs; default: data_dir/audit.key")
    signing_key: Path | None = Field(default=None, description="Ed25519 private key (PEM) that signs checkpoints and "
                                     "evidence manifests; kept outside data_dir (cms init --signing-key PATH)")
    owner_database_url: str | None = Field(default=None, description="PostgreSQL: the owner role's URL, used by "
                                           "cms init for migrations and grants (docs/security.md)")

    web_threads: int = Field(default=8, ge=1, le=64, description="threads of the web app for database work "
                             "(cms serve, one worker)")
    smtp_url: str | None = Field(default=None, description="mail server for task notifications: smtp://, "
                                 "smtp+starttls:// or smtps://user:password@host:port?from=address; unset: "
                                 "notifications wait in the web inbox")

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'cms.db').resolve()}"

    @property
    def file_store_dir(self) -> Path:
        return self.data_dir / "files"


def get_settings(**overrides) -> Settings:
    return Settings(**overrides)
