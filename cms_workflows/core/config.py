"""Settings from the environment (CMS_*). Built on demand, never at import time.

A plain pydantic model filled from the environment here, not a pydantic-settings BaseSettings: every
`cms` command reads its settings, and importing pydantic-settings cost about 0.1 s of each simple
command's start (issue 15). It read them the same way: CMS_ + the field's name, in any letter case,
validated and converted by the model; unknown CMS_* variables are ignored."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

PREFIX = "cms_"


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore")

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
    web_read_threads: int = Field(default=2, ge=1, le=64, description="threads of the web app's hot reads (the "
                                  "document register, my tasks): short reads, which more threads only slow")
    web_read_cache_mb: int = Field(default=32, ge=0, le=4096, description="memory for the hot reads' answers "
                                   "kept until the installation changes (web/read_cache.py); 0: none kept")
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


def environment() -> dict[str, str]:
    """The CMS_* variables by field name (CMS_DATA_DIR -> data_dir), whatever their letter case."""
    return {name.lower()[len(PREFIX):]: value for name, value in os.environ.items()
            if name.lower().startswith(PREFIX)}


def get_settings(**overrides) -> Settings:
    """The settings now: `overrides`, else the environment, else the defaults."""
    return Settings(**{**environment(), **overrides})
