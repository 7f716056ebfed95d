"""``python -m services.gateway``: settings → logging → app → uvicorn."""

from __future__ import annotations

import uvicorn

from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from services.runtime.logging import configure_logging
from services.runtime.settings import load_settings


def main() -> None:
    settings = load_settings(GatewaySettings)
    configure_logging("gateway", settings.log_level, settings.log_json)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,  # keep the runtime's JSON handler on the root logger
        access_log=False,  # the middleware writes one access line per request
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
