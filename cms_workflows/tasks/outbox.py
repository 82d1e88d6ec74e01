"""The notification outbox and its sender (X-3): written with the task change, delivered by mail.

`enqueue` adds one row per recipient in the transaction of the task change it tells of (an
assignment, a reminder, an escalation), so a rolled-back change notifies nobody. A row keeps a
message key and its parameters; it is rendered when it is sent, in the recipient's language.

`send_pending` delivers pending rows by SMTP when `CMS_SMTP_URL` is set (smtp://, smtp+starttls://
or smtps://user:password@host:port?from=address); otherwise it leaves them for the web inbox.
Each message moves through three transactions of its own, each an audited command: `dispatch`
(pending → sending, one attempt counted) commits before the mail leaves, `deliver` (sending → sent)
after the server accepted it. A failure that certainly sent nothing (no connection, recipient or
data refused) puts it back to pending with its next attempt later (`fail_attempt`, backoff stored),
or makes it failed after the last attempt. A sender stopped between the server's acceptance and
`deliver` leaves it `sending`: it is never tried again by itself (`queries.stuck_messages`), so no
message is sent twice. The Message-ID is derived from the row, so a receiver can see a duplicate.
"""

from __future__ import annotations

import json
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from sqlmodel import or_, select

from cms_workflows.access import Resource, position_labels
from cms_workflows.audit.commands import Command, command
from cms_workflows.core.errors import InvalidTransition, NotFound, ValidationFailed, problem
from cms_workflows.core.i18n import normalize, pick, t
from cms_workflows.org.models import User
from cms_workflows.tasks.models import OutboxMessage, RecipientPreference
from cms_workflows.tasks.states import MESSAGE, MessageStatus

BACKOFF_SECONDS = (60, 300, 1800, 7200, 21600)  # after attempt 1, 2, …; the last repeats
MAX_ATTEMPTS = 6
SMTP_TIMEOUT = 30


def enqueue(uow, task, kind: str, recipients, **params) -> list[OutboxMessage]:
    """One message per recipient about `task` (kind: assigned, reminder, escalation)."""
    body = {"task_id": task.id, "task_key": task.key, "title_key": task.title_key,
            "title_params": json.loads(task.title_params or "{}"), "due": task.due.isoformat(),
            "clause": task.clause, "site": task.site, "position": task.position or "", **params}
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, default=str)
    rows = [OutboxMessage(recipient=r, task_id=task.id, message_key=f"tasks.mail.{kind}", params=text)
            for r in dict.fromkeys(recipients)]
    uow.add_all(rows)
    return rows


def recipient_locale(uow, username: str) -> str:
    pref = uow.get(RecipientPreference, username)
    return normalize(pref.locale if pref else uow.settings.locale)


def render(uow, message: OutboxMessage, locale: str | None = None) -> tuple[str, str]:
    """(subject, body) in the recipient's language (or `locale`)."""
    locale = locale or recipient_locale(uow, message.recipient)
    params = json.loads(message.params)
    title = t(params.pop("title_key"), locale=locale, **params.pop("title_params", {}))
    code = params.get("position") or params.get("target") or ""
    labels = position_labels().get(code)
    params["position_name"] = pick(*labels, locale=locale) if labels else code
    for key in ("position", "target"):  # both name a position: shown by its name in the reader's language
        if params.get(key) in position_labels():
            params[key] = pick(*position_labels()[params[key]], locale=locale)
    return (t(f"{message.message_key}.subject", locale=locale, title=title, **params),
            t(f"{message.message_key}.body", locale=locale, title=title, **params))


# ---------------------------------------------------------------- the sender's commands (each audited)

def _message(uow, message_id: int, *_args, **_kwargs) -> Resource:
    q = select(OutboxMessage).where(OutboxMessage.id == message_id).with_for_update()
    msg = uow.exec(q.execution_options(populate_existing=True)).first()
    if msg is None:
        raise NotFound("tasks.unknown_message", id=message_id)
    return Resource("notification", id=msg.id, subject=msg)


def _move(cmd: Command, command_name: str) -> OutboxMessage:
    msg: OutboxMessage = cmd.subject
    if not MESSAGE.allows(msg.status, command_name):
        raise InvalidTransition("tasks.message_wrong_state", id=msg.id, action=MESSAGE.command_label(command_name),
                                state=MESSAGE.label(msg.status))
    msg.status = MESSAGE.target(msg.status, command_name)
    cmd.uow.add(msg)
    cmd.payload = {"message_id": msg.id, "recipient": msg.recipient, "message_key": msg.message_key,
                   "task_id": msg.task_id, "attempt": msg.attempts}
    return msg


@command("tasks.message.dispatch", action="send", resource=_message, audit_object="task_outbox")
def dispatch(cmd: Command, message_id: int) -> OutboxMessage:
    """The sender takes a pending message (committed before the mail leaves)."""
    cmd.subject.attempts += 1
    return _move(cmd, "dispatch_message")


@command("tasks.message.deliver", action="send", resource=_message, audit_object="task_outbox")
def deliver(cmd: Command, message_id: int) -> OutboxMessage:
    """The mail server accepted the message."""
    msg = _move(cmd, "deliver_message")
    msg.sent_at = cmd.uow.clock.now()
    msg.next_attempt_at = None
    return msg


@command("tasks.message.fail", action="send", resource=_message, audit_object="task_outbox")
def fail_attempt(cmd: Command, message_id: int, error: str) -> OutboxMessage:
    """An attempt that certainly sent nothing: retried later, or failed after the last attempt."""
    error = (error or "").strip()
    if not error:
        raise ValidationFailed("tasks.invalid_failure", problems=[problem("error", "tasks.problem.required")])
    msg: OutboxMessage = cmd.subject
    give_up = msg.attempts >= MAX_ATTEMPTS
    msg = _move(cmd, "fail_message" if give_up else "retry_message")
    msg.last_error = error[:500]
    wait = BACKOFF_SECONDS[min(msg.attempts, len(BACKOFF_SECONDS)) - 1] if msg.attempts else BACKOFF_SECONDS[0]
    msg.next_attempt_at = None if give_up else cmd.uow.clock.now() + timedelta(seconds=wait)
    cmd.payload.update(gave_up=give_up, next_attempt_at=msg.next_attempt_at)
    return msg


# ---------------------------------------------------------------- delivery by SMTP

@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    mode: str = "plain"  # plain | starttls | ssl


def parse_smtp_url(url: str) -> SmtpTarget:
    parts = urlsplit(url)
    modes = {"smtp": "plain", "smtp+starttls": "starttls", "smtps": "ssl"}
    if parts.scheme not in modes or not parts.hostname:
        raise ValidationFailed("tasks.bad_smtp_url", problems=[problem("CMS_SMTP_URL", "tasks.problem.smtp_url")])
    try:
        port = parts.port or {"plain": 25, "starttls": 587, "ssl": 465}[modes[parts.scheme]]
    except ValueError:
        raise ValidationFailed("tasks.bad_smtp_url", problems=[problem("CMS_SMTP_URL", "tasks.problem.smtp_url")]) from None
    sender = parse_qs(parts.query).get("from", [f"cms@{parts.hostname}"])[0]
    return SmtpTarget(parts.hostname, port, sender, unquote(parts.username) if parts.username else None,
                      unquote(parts.password) if parts.password else None, modes[parts.scheme])


SENT, NOT_SENT, UNKNOWN = "sent", "not_sent", "unknown"


@dataclass
class Mailer:
    """One SMTP connection for a sender run. `send` answers (outcome, error): SENT, NOT_SENT (the server
    certainly did not take it: safe to try again) or UNKNOWN (the connection broke while the server
    was taking it: perhaps delivered)."""

    target: SmtpTarget
    _smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        if self._smtp is None:
            target = self.target
            if target.mode == "ssl":
                smtp = smtplib.SMTP_SSL(target.host, target.port, timeout=SMTP_TIMEOUT,
                                        context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(target.host, target.port, timeout=SMTP_TIMEOUT)
                if target.mode == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
            if target.username:
                smtp.login(target.username, target.password or "")
            self._smtp = smtp
        return self._smtp

    def send(self, mail: EmailMessage) -> tuple[str, str]:
        try:
            smtp = self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            self._smtp = None
            return NOT_SENT, f"{type(exc).__name__}: {exc}"
        try:
            smtp.send_message(mail)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            return NOT_SENT, f"{type(exc).__name__}: {exc}"
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            return UNKNOWN, f"{type(exc).__name__}: {exc}"
        return SENT, ""

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._smtp = None


@dataclass
class SendReport:
    sent: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    unknown: list[int] = field(default_factory=list)  # left `sending`: perhaps delivered
    left_for_inbox: int = 0  # no SMTP configured, or no mail address: the web inbox shows them


def compose(uow, msg: OutboxMessage, sender: str) -> EmailMessage | None:
    email = uow.exec(select(User.email).where(User.username == msg.recipient)).first()
    if not email:
        return None
    subject, body = render(uow, msg)
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, email, subject
    mail["Message-ID"] = f"<cms-outbox-{msg.id}-{msg.created_at:%Y%m%d%H%M%S%f}@{sender.rpartition('@')[2] or 'cms'}>"
    mail.set_content(body)
    return mail


def _due_ids(db, limit: int | None) -> list[int]:
    with db.read() as uow:
        now = uow.clock.now()
        q = (select(OutboxMessage.id).join(User, User.username == OutboxMessage.recipient)
             .where(OutboxMessage.status == MessageStatus.PENDING, User.email != None)  # noqa: E711
             .where(or_(OutboxMessage.next_attempt_at == None, OutboxMessage.next_attempt_at <= now))  # noqa: E711
             .order_by(OutboxMessage.id))
        return list(uow.exec(q.limit(limit) if limit else q))


def send_pending(db, actor: str, *, smtp_url: str | None = None, limit: int | None = None) -> SendReport:
    """Deliver the pending messages by SMTP when a server is configured (see the module's docstring)."""
    report = SendReport()
    url = smtp_url or db.settings.smtp_url
    if not url:
        with db.read() as uow:
            report.left_for_inbox = len(list(uow.exec(select(OutboxMessage.id).where(
                OutboxMessage.status == MessageStatus.PENDING))))
        return report
    target = parse_smtp_url(url)
    mailer = Mailer(target)
    try:
        for message_id in _due_ids(db, limit):
            _send_one(db, actor, mailer, message_id, report)
    finally:
        mailer.close()
    return report


def _send_one(db, actor: str, mailer: Mailer, message_id: int, report: SendReport) -> None:
    with db.unit_of_work() as uow:
        msg = uow.get(OutboxMessage, message_id)
        if msg is None or msg.status != MessageStatus.PENDING:
            return  # another sender took it
        mail = compose(uow, msg, mailer.target.sender)
        if mail is None:
            return
        dispatch(uow, actor, message_id)
    outcome, error = mailer.send(mail)
    if outcome == NOT_SENT:
        with db.unit_of_work() as uow:
            msg = fail_attempt(uow, actor, message_id, error)
        (report.failed if msg.status == MessageStatus.FAILED else report.retried).append(message_id)
        return
    if outcome == UNKNOWN:
        report.unknown.append(message_id)
        return
    with db.unit_of_work() as uow:
        deliver(uow, actor, message_id)
    report.sent.append(message_id)
