"""A test peer: an SFTP server (asyncssh) serving one folder to one client key. Not part of the product.

python -m tests.peers.sftp_peer --root DIR --host-key FILE --client-key FILE.pub
# prints "PORT <n>" once listening on 127.0.0.1
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

import asyncssh


async def serve(root: Path, host_key: Path, client_key: Path) -> None:
    def sftp_factory(channel: Any) -> asyncssh.SFTPServer:
        return asyncssh.SFTPServer(channel, chroot=str(root))

    server = await asyncssh.listen(
        "127.0.0.1",
        0,
        server_host_keys=[str(host_key)],
        authorized_client_keys=str(client_key),
        sftp_factory=sftp_factory,
        allow_scp=False,
    )
    port = server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)
    await server.wait_closed()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--host-key", type=Path, required=True)
    parser.add_argument("--client-key", type=Path, required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.root, args.host_key, args.client_key))


if __name__ == "__main__":
    main()
