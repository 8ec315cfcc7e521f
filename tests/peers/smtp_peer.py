"""A real SMTP server (aiosmtpd) for the notification tests: `python -m tests.peers.smtp_peer MAILBOX
[REFUSED_ADDRESS]` stores each accepted message as a file in MAILBOX and refuses mail to
REFUSED_ADDRESS with a 550, as a server does for an unknown mailbox."""

from __future__ import annotations

import socket
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class Mailbox:
    def __init__(self, folder: Path, refused: str | None) -> None:
        self.folder = folder
        self.refused = refused

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address == self.refused:
            return "550 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        name = f"{uuid.uuid4().hex}.eml"
        (self.folder / f".{name}").write_bytes(envelope.content)
        (self.folder / f".{name}").rename(self.folder / name)  # whole files only
        return "250 Message accepted for delivery"


def main() -> None:
    folder = Path(sys.argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    refused = sys.argv[2] if len(sys.argv) > 2 else None
    with socket.socket() as probe:  # the Controller checks it is up by connecting to its port
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(Mailbox(folder, refused), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"PORT {port}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
