"""Errors a user can cause, each with a message in the user's locale.

Every error a command raises for bad input or a refused action is a CmsError:
the CLI prints its message and exits 2, the web app answers 4xx with it. Anything
else is a bug and is allowed to show a traceback.
"""

from __future__ import annotations

from typing import Any


class CmsError(Exception):
    """Base of user-facing errors. `key` names a message in the locale files."""

    key = "error.generic"
    http_status = 400

    def __init__(self, key: str | None = None, /, **params: Any) -> None:
        if key is not None:
            self.key = key
        self.params = params
        super().__init__(self.key)

    def __str__(self) -> str:
        # formatted on demand: a refused permission check in a loop must stay cheap
        return self.message()

    def message(self, locale: str | None = None) -> str:
        from cms_workflows.core.i18n import t

        return t(self.key, locale=locale, **self.params)


class NotFound(CmsError):
    key = "error.not_found"
    http_status = 404


class ValidationFailed(CmsError):
    """Bad input. `problems` lists (row, field, message) where the edge knows them."""

    key = "error.validation"
    http_status = 422

    def __init__(self, key: str | None = None, /, problems: list[dict[str, Any]] | None = None, **params: Any) -> None:
        self.problems = problems or []
        super().__init__(key, **params)

    def message(self, locale: str | None = None) -> str:
        from cms_workflows.core.i18n import t

        head = t(self.key, locale=locale, **self.params)
        if not self.problems:
            return head
        lines = [head]
        for p in self.problems[:50]:
            key = "error.problem_line" if p.get("row") not in (None, "") else "error.problem_field"
            message = t(p["key"], locale=locale, **p.get("params", {})) if "key" in p else p.get("message", "")
            lines.append(t(key, locale=locale, row=p.get("row", ""), field=p.get("field", ""), message=message))
        if len(self.problems) > 50:
            lines.append(t("error.more_problems", locale=locale, count=len(self.problems) - 50))
        return "\n".join(lines)


def problem(field: str, key: str, *, row: int | str | None = None, **params: Any) -> dict[str, Any]:
    """One problem of a ValidationFailed: the field (and row) it is in, and a message key with its
    parameters, translated when the error is shown, in the reader's language."""
    return {"row": row, "field": field, "key": key, "params": params}


class Conflict(CmsError):
    """The state changed under the caller (e.g. two approvers at once)."""

    key = "error.conflict"
    http_status = 409


class InvalidTransition(CmsError):
    key = "error.invalid_transition"
    http_status = 409


class AccessDenied(CmsError):
    key = "access.denied"
    http_status = 403


class AuthenticationFailed(CmsError):
    """Wrong username or password: one message for both, so that names cannot be probed."""

    key = "identity.bad_credentials"
    http_status = 401


class Throttled(CmsError):
    """Too many attempts (failed sign-ins): refused for a while whatever is tried."""

    key = "identity.throttled"
    http_status = 429


class PolicyError(CmsError):
    """A policy or reference data file is malformed; names the file and line."""

    key = "policy.invalid"
