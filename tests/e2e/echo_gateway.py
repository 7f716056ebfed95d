"""A gateway whose pipeline asks the real model to repeat the message (tests only).

The offline model never writes toxic text on its own, so output moderation cutting a streamed
answer off can only be shown by making it repeat a toxic text. This pipeline replaces every
stage before generation with an echo prompt; everything after (the real generation service,
the output guard, the stored conversation, both APIs) is the production code. SmolLM2-135M
repeats short texts faithfully at temperature 0.

Run as ``python -m tests.e2e.echo_gateway`` with the gateway's usual environment.
"""

from __future__ import annotations

import uvicorn

from services.gateway.app import create_app
from services.gateway.chat.pipeline import ChatPipeline
from services.gateway.chat.prepared import PreparedChat
from services.gateway.settings import GatewaySettings
from services.runtime.logging import configure_logging
from services.runtime.settings import load_settings

ECHO_PROMPT = "You are an echo. You reply with exactly the text the user sent."


class EchoPipeline(ChatPipeline):
    async def run_stages(self, chat: PreparedChat) -> PreparedChat:
        chat.messages = [("system", ECHO_PROMPT), ("user", "Repeat after me: " + chat.question)]
        return chat


def main() -> None:
    settings = load_settings(GatewaySettings)
    configure_logging("gateway", settings.log_level, settings.log_json)
    app = create_app(settings, pipeline_class=EchoPipeline)
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
