"""``cloudkit fake-server``: the LlamaCloud emulator as a standalone server.

It stops cleanly (exit 0) on Ctrl-C (SIGINT) and on SIGTERM, also when it was started in the
background by a script, where the shell hands it SIGINT ignored.

Example:
    $ cloudkit fake-server --port 8765
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click

__all__ = ["fake_server"]


@click.command("fake-server", short_help="Run the LlamaCloud emulator on 127.0.0.1 until interrupted.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Port on 127.0.0.1 (0 picks a free one).",
)
@click.option(
    "--api-key", default="llx-fake-emulator-key", show_default=True, help="The key clients must send."
)
@click.option(
    "--connection-close",
    is_flag=True,
    help="Answer 'Connection: close' (hides the SDK's keep-alive event-loop trap).",
)
def fake_server(port: int, api_key: str, connection_close: bool) -> None:
    """Run the LlamaCloud emulator until interrupted (Ctrl-C or SIGTERM), for your own tests
    and demos.

    \b
    Examples:
      cloudkit fake-server --port 8765
      LLAMA_CLOUD_BASE_URL=http://127.0.0.1:8765 LLAMA_CLOUD_API_KEY=llx-fake-emulator-key pytest
    """
    from llama_index_cloudkit.testing import FakeLlamaCloud

    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    # Our own handlers: a background job of a script inherits SIGINT ignored, and the default
    # SIGTERM would end the process without stopping the server.
    in_main_thread = threading.current_thread() is threading.main_thread()
    signals = (signal.SIGINT, signal.SIGTERM) if in_main_thread else ()
    previous = {sig: signal.signal(sig, request_stop) for sig in signals}
    fake = FakeLlamaCloud(api_key=api_key, port=port, connection_close=connection_close)
    try:
        fake.start()
        click.echo(f"LlamaCloud emulator on {fake.base_url}")
        click.echo(f"export LLAMA_CLOUD_BASE_URL={fake.base_url}")
        click.echo(f"export LLAMA_CLOUD_API_KEY={api_key}")
        while not stopping.wait(0.2):
            pass
        click.echo("stopping")
    finally:
        fake.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
