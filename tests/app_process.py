"""The App in a process of its own, for the tests that kill it or run several: `python -m tests.app_process MODE`.

Settings come from the environment as in production. `serve`: `create_app()` on 127.0.0.1 at an
ephemeral port, announced as a `PORT <n>` line. `work`: the same app's workers without a web
server. Tests get short polls and leases (TEST_LEASE_SECONDS), no waits between GitHub calls and
no redelivery sweep and no purge.
"""

import os
import sys
import threading

from werkzeug.serving import make_server

from bot.app.server import create_app
from tests.fake_github import NO_WAITS


def main(mode: str) -> None:
    app = create_app({"GITHUB_PACING": NO_WAITS, "POLL_SECONDS": 0.02, "RETRY_SECONDS": 0.0,
                      "LEASE_SECONDS": float(os.environ.get("TEST_LEASE_SECONDS", "600")), "SWEEP_SECONDS": 0,
                      "EXPIRED_CHECK_SECONDS": 0, "PURGE_SECONDS": 0})
    if mode == "work":
        print("WORKING", flush=True)
        threading.Event().wait()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(f"PORT {server.server_port}", flush=True)
    server.serve_forever(0.05)


if __name__ == "__main__":
    main(sys.argv[1])
