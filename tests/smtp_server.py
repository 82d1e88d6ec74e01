"""A real local SMTP server for the notification tests (aiosmtpd): what it receives, and a free port."""

from __future__ import annotations

import socket
from email import message_from_bytes


class Inbox:
    """An aiosmtpd handler keeping what it was given; `refuse` makes it refuse every recipient."""

    def __init__(self) -> None:
        self.mails: list = []
        self.refuse = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return "550 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.mails.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
