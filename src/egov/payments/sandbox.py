"""A sandbox payment gateway and bank (cổng thanh toán và ngân hàng thử nghiệm), run as its own process on loopback
by ``egov sandbox-pay``. NEVER for production: it takes no money and "pays" whenever someone clicks.

It behaves like a real provider where the platform can tell the difference:

* ``POST /api/payments`` (signed by the platform): create a payment, answer its pay page ``/pay/<id>``, where the
  payer clicks "Pay" or "Fail" and is sent back to the platform's return address.
* ``POST /api/bank/credit`` or the form at ``/bank``: a bank transfer to the collection account (VietQR); its content
  carries the dossier code.
* ``POST /api/refunds`` (signed): refund a transaction.
* ``GET /api/transactions?date=YYYY-MM-DD`` (signed): the day's transactions, for the platform's reconciliation.
* Every transaction is announced to the platform by a callback, HMAC-SHA256-signed (``payments.rules.sign``) with the
  gateway's or the bank's secret, retried with exponential back-off until the platform answers 2xx. Callbacks wait
  in a SQLite outbox (``--state``): a sandbox restarted after a crash still delivers them.

Standard library only (WSGI server, sqlite3, urllib), so it needs no database server and no Django.
"""
from __future__ import annotations

import datetime as dt
import html
import json
import secrets
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from socketserver import ThreadingMixIn
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from egov.payments import rules

VN = dt.timezone(dt.timedelta(hours=7))
SCHEMA = """
CREATE TABLE IF NOT EXISTS payments (id TEXT PRIMARY KEY, reference TEXT, amount INTEGER, description TEXT,
    return_url TEXT, status TEXT, created_at TEXT);
CREATE TABLE IF NOT EXISTS transactions (transaction_id TEXT PRIMARY KEY, provider TEXT, kind TEXT, amount INTEGER,
    reference TEXT, content TEXT, occurred_at TEXT, day TEXT, body TEXT);
CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, provider TEXT, body TEXT, attempts INTEGER
    DEFAULT 0, next_at REAL, delivered_at REAL, last_error TEXT);
"""


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class Sandbox:
    def __init__(self, *, state: str, callback_url: str, secrets_by_provider: dict[str, str],
                 base_backoff: float = 0.5, max_backoff: float = 30.0):
        self.state = state
        self.callback_url = callback_url.rstrip("/")
        self.secrets = secrets_by_provider
        self.base_backoff, self.max_backoff = base_backoff, max_backoff
        self.base_url = ""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        with self._db() as db:
            db.executescript(SCHEMA)

    def _db(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.state, timeout=30, isolation_level=None)
        connection.row_factory = sqlite3.Row
        return connection

    # --- transactions and callbacks ---------------------------------------------------------------------------------

    def _record(self, *, provider: str, kind: str, amount: int, reference: str = "", content: str = "",
                extra: dict | None = None) -> dict:
        now = dt.datetime.now(dt.UTC)
        transaction_id = f"{'GW' if provider == 'gateway' else 'BK'}{now:%y%m%d}{secrets.token_hex(6).upper()}"
        body = {"transaction_id": transaction_id, "kind": kind, "amount": amount, "currency": "VND",
                "occurred_at": now.isoformat().replace("+00:00", "Z"), **(extra or {})}
        if provider == "gateway":
            body["reference"] = reference
        else:
            body["content"] = content
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        with self._lock, self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO transactions VALUES (?,?,?,?,?,?,?,?,?)",
                       (transaction_id, provider, kind, amount, reference, content, body["occurred_at"],
                        now.astimezone(VN).date().isoformat(), text))
            db.execute("INSERT INTO outbox (provider, body, next_at) VALUES (?,?,?)", (provider, text, time.time()))
            db.execute("COMMIT")
        return body

    def deliver_due(self) -> int:
        """Send every callback that is due; a failure is retried later, each time waiting twice as long."""
        with self._db() as db:
            due = db.execute("SELECT id, provider, body, attempts FROM outbox WHERE delivered_at IS NULL AND next_at <= ?"
                             " ORDER BY id LIMIT 100", (time.time(),)).fetchall()
        delivered = 0
        for row in due:
            body = row["body"].encode()
            timestamp = str(int(time.time()))
            request = urllib.request.Request(
                f"{self.callback_url}/{row['provider']}", data=body, method="POST",
                headers={"Content-Type": "application/json", rules.TIMESTAMP_HEADER: timestamp,
                         rules.SIGNATURE_HEADER: rules.sign(self.secrets[row["provider"]], timestamp, body)})
            error = ""
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    ok = 200 <= response.status < 300
            except urllib.error.HTTPError as exc:
                ok, error = False, f"HTTP {exc.code}"
            except OSError as exc:
                ok, error = False, exc.__class__.__name__
            with self._db() as db:
                if ok:
                    db.execute("UPDATE outbox SET delivered_at = ?, attempts = attempts + 1 WHERE id = ?",
                               (time.time(), row["id"]))
                    delivered += 1
                else:
                    wait = min(self.max_backoff, self.base_backoff * 2 ** row["attempts"])
                    db.execute("UPDATE outbox SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE id = ?",
                               (time.time() + wait, error, row["id"]))
        return delivered

    def run_delivery(self, interval: float = 0.2) -> None:
        while not self._stop.is_set():
            try:
                self.deliver_due()
            except sqlite3.Error:
                pass  # the state file is busy: next round
            self._stop.wait(interval)

    def stop(self) -> None:
        self._stop.set()

    # --- HTTP -------------------------------------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        query = parse_qs(environ.get("QUERY_STRING", ""))
        try:
            status, headers, content = self.route(method, path, body, query, environ)
        except (ValueError, KeyError) as exc:
            status, headers, content = "400 Bad Request", [("Content-Type", "application/json")], \
                json.dumps({"error": f"bad request: {exc}"}).encode()
        start_response(status, headers)
        return [content]

    def _signed(self, environ, body: bytes) -> bool:
        problem = rules.signature_problem(self.secrets["gateway"], environ.get("HTTP_X_EGOV_TIMESTAMP"),
                                          environ.get("HTTP_X_EGOV_SIGNATURE"), body, now=time.time(),
                                          window_seconds=300)
        return problem is None

    def route(self, method, path, body, query, environ):
        json_type = [("Content-Type", "application/json")]
        if path.startswith("/api/") and path != "/api/bank/credit" and not self._signed(environ, body):
            return "401 Unauthorized", json_type, b'{"error":"bad signature"}'
        if method == "POST" and path == "/api/payments":
            data = json.loads(body)
            payment_id = "P" + secrets.token_hex(8)
            with self._db() as db:
                db.execute("INSERT INTO payments VALUES (?,?,?,?,?,?,?)",
                           (payment_id, str(data["reference"]), int(data["amount"]), str(data.get("description", "")),
                            str(data["return_url"]), "created", dt.datetime.now(dt.UTC).isoformat()))
            return "201 Created", json_type, json.dumps({"payment_id": payment_id,
                                                         "pay_url": f"{self.base_url}/pay/{payment_id}"}).encode()
        if method == "POST" and path == "/api/refunds":
            data = json.loads(body)
            with self._db() as db:
                original = db.execute("SELECT * FROM transactions WHERE transaction_id = ?",
                                      (str(data["transaction_id"]),)).fetchone()
                done = db.execute("SELECT transaction_id FROM transactions WHERE kind = 'refunded' AND "
                                  "json_extract(body, '$.refund_reference') = ?", (str(data["reference"]),)).fetchone()
            if original is None:
                return "404 Not Found", json_type, b'{"error":"no such transaction"}'
            if done is not None:  # idempotent on the platform's refund reference: asked twice, refunded once
                return "200 OK", json_type, json.dumps({"refund_id": done["transaction_id"]}).encode()
            refund = self._record(provider=original["provider"], kind=rules.KIND_REFUNDED, amount=int(data["amount"]),
                                  reference=original["reference"], content=original["content"],
                                  extra={"refund_reference": str(data["reference"]),
                                         "original_transaction_id": original["transaction_id"]})
            return "201 Created", json_type, json.dumps({"refund_id": refund["transaction_id"]}).encode()
        if method == "GET" and path == "/api/transactions":
            day = query.get("date", [dt.datetime.now(VN).date().isoformat()])[0]
            dt.date.fromisoformat(day)
            with self._db() as db:
                rows = db.execute("SELECT * FROM transactions WHERE day = ? ORDER BY occurred_at", (day,)).fetchall()
            items = [{"provider": r["provider"], "transaction_id": r["transaction_id"], "kind": r["kind"],
                      "amount": r["amount"], "reference": r["reference"], "content": r["content"],
                      "occurred_at": r["occurred_at"], "body": r["body"]} for r in rows]
            return "200 OK", json_type, json.dumps({"transactions": items}, ensure_ascii=False).encode()
        if method == "POST" and path == "/api/bank/credit":
            data = json.loads(body)
            credit = self._record(provider="bank", kind=rules.KIND_PAID, amount=int(data["amount"]),
                                  content=str(data.get("content", ""))[:200],
                                  extra={"account": str(data.get("account", ""))})
            return "201 Created", json_type, json.dumps({"transaction_id": credit["transaction_id"]}).encode()
        if path == "/bank":
            return self._bank_page(method, body)
        if path.startswith("/pay/"):
            return self._pay_page(method, path.removeprefix("/pay/"), body)
        return "404 Not Found", json_type, b'{"error":"not found"}'

    def _page(self, title: str, inner: str) -> bytes:
        return (f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
                '<meta name="viewport" content="width=device-width, initial-scale=1"></head><body><main>'
                f'<p><strong>SANDBOX</strong>: không có tiền thật / no real money.</p>{inner}</main></body></html>'
                ).encode()

    def _pay_page(self, method, payment_id, body):
        html_type = [("Content-Type", "text/html; charset=utf-8")]
        with self._db() as db:
            payment = db.execute("SELECT * FROM payments WHERE id = ?", (payment_id,)).fetchone()
        if payment is None:
            return "404 Not Found", html_type, self._page("Not found", "<h1>Không tìm thấy giao dịch</h1>")
        if method == "POST":
            choice = parse_qs(body.decode()).get("action", [""])[0]
            if payment["status"] == "created" and choice in ("pay", "fail"):
                kind = rules.KIND_PAID if choice == "pay" else rules.KIND_FAILED
                with self._db() as db:
                    claimed = db.execute("UPDATE payments SET status = ? WHERE id = ? AND status = 'created'",
                                         (kind, payment_id)).rowcount
                if claimed:  # a double click pays once
                    self._record(provider="gateway", kind=kind, amount=payment["amount"],
                                 reference=payment["reference"], extra={"payment_id": payment_id})
            separator = "&" if "?" in payment["return_url"] else "?"
            return "303 See Other", [("Location", f"{payment['return_url']}{separator}payment={payment_id}")], b""
        inner = (f"<h1>Cổng thanh toán thử nghiệm / Sandbox payment gateway</h1>"
                 f"<p>{html.escape(payment['description'])}</p>"
                 f"<p>Số tiền / Amount: <strong>{payment['amount']:,} VND</strong></p>"
                 f"<p>Mã thanh toán / Reference: {html.escape(payment['reference'])}</p>"
                 f'<form method="post"><button type="submit" name="action" value="pay">Pay</button> '
                 f'<button type="submit" name="action" value="fail">Fail</button></form>')
        return "200 OK", html_type, self._page("Sandbox payment", inner)

    def _bank_page(self, method, body):
        html_type = [("Content-Type", "text/html; charset=utf-8")]
        note = ""
        if method == "POST":
            form = parse_qs(body.decode())
            try:
                amount = int(form.get("amount", ["0"])[0])
            except ValueError:
                amount = 0
            if amount > 0:
                credit = self._record(provider="bank", kind=rules.KIND_PAID, amount=amount,
                                      content=form.get("content", [""])[0][:200])
                note = f"<p>Đã chuyển / Transferred: {html.escape(credit['transaction_id'])}</p>"
            else:
                note = "<p>Số tiền không hợp lệ / Enter an amount.</p>"
        inner = (f"<h1>Ngân hàng thử nghiệm / Sandbox bank</h1>{note}"
                 '<form method="post"><p><label>Số tiền / Amount (VND) <input name="amount" inputmode="numeric">'
                 '</label></p><p><label>Nội dung / Content <input name="content" size="50"></label></p>'
                 '<p><button type="submit">Chuyển khoản / Transfer</button></p></form>')
        return "200 OK", html_type, self._page("Sandbox bank", inner)


def serve(host: str, port: int, *, state: str, callback_url: str, secrets_by_provider: dict[str, str],
          max_backoff: float = 30.0, quiet: bool = True) -> tuple[Sandbox, WSGIServer]:
    sandbox = Sandbox(state=state, callback_url=callback_url, secrets_by_provider=secrets_by_provider,
                      max_backoff=max_backoff)
    server = make_server(host, port, sandbox, server_class=_ThreadingServer,
                         handler_class=_QuietHandler if quiet else WSGIRequestHandler)
    sandbox.base_url = f"http://{host}:{server.server_address[1]}"
    threading.Thread(target=sandbox.run_delivery, name="sandbox-callbacks", daemon=True).start()
    return sandbox, server


def main(bind: str, callback_url: str, state: str, max_backoff: float) -> None:
    import os

    from egov import config

    secrets_by_provider = {
        "gateway": os.environ.get("EGOV_PAYMENT_GATEWAY_SECRET", config.DEMO_PAYMENT_GATEWAY_SECRET),
        "bank": os.environ.get("EGOV_PAYMENT_BANK_SECRET", config.DEMO_PAYMENT_BANK_SECRET),
    }
    host, _, port = bind.rpartition(":")
    sandbox, server = serve(host or "127.0.0.1", int(port), state=state, callback_url=callback_url,
                            secrets_by_provider=secrets_by_provider, max_backoff=max_backoff, quiet=False)
    print(f"egov sandbox-pay: gateway and bank on {sandbox.base_url} (bank form: {sandbox.base_url}/bank), "
          f"callbacks to {callback_url}/<provider>; NOT a real payment provider. Stop with Ctrl+C.", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
        server.server_close()
