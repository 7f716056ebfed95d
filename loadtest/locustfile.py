"""Load test of the gateway's chat API, headless and driven by the environment.

    DOCENT_URL=http://127.0.0.1:8080 locust -f loadtest/locustfile.py --headless -u 4 -r 1 -t 2m

Weighted tasks: streamed questions (most traffic), non-streamed questions, readiness probes.
Latency SLOs and the failure gate on breach arrive with the load-testing work.
"""

from __future__ import annotations

import os
import random

from locust import HttpUser, between, task

QUESTIONS = [
    "How do I roll back a Deployment to a previous revision?",
    "What is a Pod?",
    "How does a Service select its Pods?",
    "How do I scale a Deployment?",
]


class ChatUser(HttpUser):
    host = os.environ.get("DOCENT_URL", "http://127.0.0.1:8080")
    wait_time = between(1, 3)

    @task(6)
    def streamed(self) -> None:
        body = {"message": random.choice(QUESTIONS), "stream": True}
        with self.client.post("/v1/chat", json=body, stream=True, catch_response=True) as reply:
            text = reply.text
            if reply.status_code != 200 or "event: done" not in text:
                reply.failure(f"status {reply.status_code}")

    @task(3)
    def whole(self) -> None:
        self.client.post("/v1/chat", json={"message": random.choice(QUESTIONS), "stream": False})

    @task(1)
    def ready(self) -> None:
        self.client.get("/readyz")
