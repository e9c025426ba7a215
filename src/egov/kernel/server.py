"""Serving the WSGI application with gunicorn, configured in code so `egov serve` needs no config file."""
import os

from django.conf import settings
from django.contrib.staticfiles.management.commands import collectstatic  # noqa: F401  (ensures app loaded)


def run_gunicorn(*, bind: str, workers: int) -> None:
    from django.core.management import call_command
    from gunicorn.app.base import BaseApplication

    call_command("collectstatic", interactive=False, verbosity=0)

    class EgovServer(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", bind)
            self.cfg.set("workers", workers)
            self.cfg.set("threads", int(os.environ.get("EGOV_WEB_THREADS", "4")))
            self.cfg.set("accesslog", "-" if settings.DEBUG else None)
            self.cfg.set("timeout", 60)

        def load(self):
            from egov.wsgi import application

            return application

    EgovServer().run()
