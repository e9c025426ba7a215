"""Serving the WSGI application with gunicorn, configured in code so `egov serve` needs no config file."""
import os
import shutil

from django.conf import settings

from egov import config

# Request headers with an underscore in their name that reach the application (docs/adr/0006-underscore-headers.md).
# In WSGI ``api_key`` and ``api-key`` both become HTTP_API_KEY, so gunicorn drops every underscore name by default:
# otherwise ``Information_Mediator_Client`` could pass a proxy that strips ``Information-Mediator-Client`` and arrive
# as that trusted header. Only these names are kept: each is an API key, whose dash twin means the same thing (two
# different values fail authentication). Never add a header whose trust depends on who sent it.
UNDERSCORE_HEADERS = frozenset({"API_KEY"})


def keep_underscore_headers(names: frozenset[str] = UNDERSCORE_HEADERS) -> None:
    """Make gunicorn map the underscore header names in ``names`` and drop every other one, as its default does.

    gunicorn offers all (``header_map = "dangerous"``) or none (``"drop"``); its per-header policy is one method,
    wrapped here so that "dangerous" only lets ``names`` through. Checked against the method's signature: if a gunicorn
    upgrade changes it, the server refuses to start rather than map every underscore header."""
    import inspect

    from gunicorn.http.message import HeaderPolicy

    policy = HeaderPolicy._apply_header_policy
    if getattr(policy, "egov_allowed", None) is not None:
        policy = policy.__wrapped__
    parameters = list(inspect.signature(policy).parameters)
    if parameters[:7] != ["self", "name", "value", "scheme_state", "seen", "secure_scheme_headers",
                          "forwarder_headers"]:
        raise RuntimeError("gunicorn's header policy changed: review egov.kernel.server.keep_underscore_headers")

    def apply_header_policy(self, name, value, scheme_state, seen, secure_scheme_headers, forwarder_headers,
                            *args, **kwargs):
        if "_" in name and name not in names and not (name in forwarder_headers or "*" in forwarder_headers):
            return None  # dropped, exactly as header_map = "drop" does
        return policy(self, name, value, scheme_state, seen, secure_scheme_headers, forwarder_headers, *args, **kwargs)

    apply_header_policy.__wrapped__ = policy
    apply_header_policy.egov_allowed = names
    HeaderPolicy._apply_header_policy = apply_header_policy


def run_gunicorn(*, bind: str, workers: int) -> None:
    from django.core.management import call_command
    from gunicorn.app.base import BaseApplication

    call_command("collectstatic", interactive=False, verbosity=0)
    metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if metrics_dir:  # counts of a previous run's workers must not leak into this one
        shutil.rmtree(metrics_dir, ignore_errors=True)
        os.makedirs(metrics_dir, exist_ok=True)

    class EgovServer(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", bind)
            self.cfg.set("workers", workers)
            # One thread per process by default: requests here are CPU-bound Python, and threads of one process take
            # turns on the GIL (a thread holding SQLite's writer queue can wait 5 ms for it). With one thread gunicorn
            # runs its sync worker: one request per process at a time, the connection closed after each answer, so
            # production puts a buffering reverse proxy in front (nginx keeps the clients' keep-alive and absorbs slow
            # uploads). Measured with bench/bench_population.py, 2 processes, 16 clients: GovStack reads had a p95
            # of 79 ms with 4 threads (gthread), 75 ms with gthread and 1 thread, 47 ms with sync; verifications went
            # from 0.46 to 0.53-0.55 of the reference. EGOV_WEB_THREADS > 1 switches to gthread.
            self.cfg.set("threads", config.env_int("EGOV_WEB_THREADS", 1))
            self.cfg.set("accesslog", "-" if settings.DEBUG else None)
            self.cfg.set("timeout", 60)
            # Underscore header names: only UNDERSCORE_HEADERS pass (keep_underscore_headers, below).
            self.cfg.set("header_map", "dangerous")
            if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
                from prometheus_client import multiprocess

                self.cfg.set("child_exit", lambda server, worker: multiprocess.mark_process_dead(worker.pid))

        def load(self):
            from egov.wsgi import application

            return application

    # Connections opened here (the reachability check, collectstatic) must not be inherited by the forked workers:
    # two processes sharing one PostgreSQL session interleave their messages ("prepared statement _pg3_0 already
    # exists" under load, seen with 2 workers). Each worker opens its own on its first request.
    from django.db import connections

    connections.close_all()
    keep_underscore_headers()
    EgovServer().run()
