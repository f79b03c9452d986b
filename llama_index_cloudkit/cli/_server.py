"""``cloudkit fake-server``: the LlamaCloud emulator as a standalone server.

Example:
    $ cloudkit fake-server --port 8765
"""

from __future__ import annotations

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
    """Run the LlamaCloud emulator until interrupted, for your own tests and demos.

    \b
    Examples:
      cloudkit fake-server --port 8765
      LLAMA_CLOUD_BASE_URL=http://127.0.0.1:8765 LLAMA_CLOUD_API_KEY=llx-fake-emulator-key pytest
    """
    import time

    from llama_index_cloudkit.testing import FakeLlamaCloud

    fake = FakeLlamaCloud(api_key=api_key, port=port, connection_close=connection_close)
    fake.start()
    click.echo(f"LlamaCloud emulator on {fake.base_url}")
    click.echo(f"export LLAMA_CLOUD_BASE_URL={fake.base_url}")
    click.echo(f"export LLAMA_CLOUD_API_KEY={api_key}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        click.echo("stopping")
    finally:
        fake.stop()
