"""The GitHub App: webhook server, durable queue, workers, dashboard and monthly issue."""


def __getattr__(name):
    """`bot.app:create_app` for gunicorn, without loading Flask whenever another `bot.app` module is used."""
    if name == "create_app":
        from bot.app.server import create_app  # Flask: loaded only by what serves
        return create_app
    raise AttributeError(f"module 'bot.app' has no attribute {name!r}")
