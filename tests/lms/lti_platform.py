"""A small LTI 1.3 platform (what an LMS does for a tool) on loopback, for the tests.

No maintained Python LMS-platform library fits (``lti1p3platform`` is a 0.1 library without an HTTP
server, AGS storage or token endpoint): this one is written for the tests with PyJWT and
cryptography, and does what Canvas and Moodle do on the wire:

- ``GET /jwks``: the platform's public keys (RSA, kid ``platform-1``);
- ``GET|POST /auth``: the OIDC authorization endpoint: checks client_id, redirect_uri and the
  login_hint of a launch prepared by ``launch()``, and answers with the auto-submitting form that
  posts a signed id_token (LtiResourceLinkRequest with roles, context, AGS claim) and the state
  back to the tool (``response_mode=form_post``); a launch may be spoiled (tampered, expired, wrong
  audience) to test the tool's checks;
- ``POST /token``: the OAuth2 token endpoint: a client_credentials grant whose client assertion
  must be signed by a key of the TOOL's JWKS (kid, RS256, iss = sub = client_id, aud = this URL);
- ``/contexts/<id>/lineitems[/<n>[/scores]]``: AGS line items (GET with ``resource_id``, POST, PUT)
  and scores (POST; a user who is not a member of the context gets HTTP 422, as on Canvas). The
  latest score per (line item, user) is kept, with every score received in ``received``.
- ``fail(kind, times, status)``: the next ``times`` requests of a kind answer ``status`` (500).
"""

import html
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"


class Platform:
    """The platform's state and its HTTP server (``start()``, ``stop()``); see the module doc."""

    def __init__(self, client_id, deployment_id, context_id, tool_jwks, members):
        self.client_id, self.deployment_id, self.context_id = client_id, deployment_id, context_id
        self.tool_jwks = tool_jwks  # the tool's public keys, as registered at the platform
        self.members = members  # {sub: [LTI role URIs]} of the context
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.redirect_uris = set()  # the tool's registered launch (callback) URLs
        self.launches = {}  # lti_message_hint -> {user, spoil}
        self.tokens = {}  # access token -> scopes
        self.line_items = {}  # id (URL) -> line item
        self.scores = {}  # line item id -> {userId: latest score}
        self.received = []  # (line item id, score) of every score accepted
        self.failures = {}  # kind -> [times, status]
        self.requests = []  # (method, kind, status) of every request
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.issuer = self.url

    # -- running --------------------------------------------------------------------------------

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    @property
    def lineitems_url(self):
        return f"{self.url}/contexts/{self.context_id}/lineitems"

    def fail(self, kind, times=1, status=500):
        """The next ``times`` requests of ``kind`` ('token', 'lineitems', 'scores') answer ``status``."""
        self.failures[kind] = [times, status]

    # -- launches ---------------------------------------------------------------------------------

    def launch(self, user, target_link_uri, spoil=None):
        """The login initiation parameters the LMS sends the tool for ``user`` (a browser posts them)."""
        hint = secrets.token_urlsafe(8)
        self.launches[hint] = {"user": user, "spoil": spoil}
        return {
            "iss": self.issuer,
            "login_hint": user,
            "target_link_uri": target_link_uri,
            "lti_message_hint": hint,
            "client_id": self.client_id,
            "lti_deployment_id": self.deployment_id,
        }

    def id_token(self, user, nonce, spoil=None):
        """The signed launch for ``user``; ``spoil``: 'tampered', 'expired' or 'wrong_audience'."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": "another-tool" if spoil == "wrong_audience" else self.client_id,
            "sub": user,
            "iat": now - 700 if spoil == "expired" else now,
            "exp": now - 100 if spoil == "expired" else now + 300,
            "nonce": nonce,
            "name": f"User {user}",
            "email": f"{user}@lms.example.org",
            LTI + "message_type": "LtiResourceLinkRequest",
            LTI + "version": "1.3.0",
            LTI + "deployment_id": self.deployment_id,
            LTI + "target_link_uri": "",
            LTI + "resource_link": {"id": "hub-link-1", "title": "Course JupyterHub"},
            LTI + "roles": self.members[user],
            LTI + "context": {"id": self.context_id, "label": "DL", "title": "Deep learning"},
            AGS: {"scope": [LINEITEM_SCOPE, SCORE_SCOPE], "lineitems": self.lineitems_url},
        }
        token = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "platform-1"})
        if spoil == "tampered":  # a student making themselves instructor: payload changed, signature kept
            head, _, signature = token.split(".")
            forged = claims | {LTI + "roles": [INSTRUCTOR]}
            body = jwt.utils.base64url_encode(json.dumps(forged).encode()).decode()
            token = f"{head}.{body}.{signature}"
        return token

    def jwks(self):
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [jwk | {"kid": "platform-1", "alg": "RS256", "use": "sig"}]}

    def authorize(self, query):
        """(status, HTML) of the authorization endpoint (module doc)."""
        launch = self.launches.pop(query.get("lti_message_hint", ""), None)
        if query.get("client_id") != self.client_id or query.get("redirect_uri") not in self.redirect_uris:
            return 400, "unknown client or redirect_uri"
        if launch is None or launch["user"] != query.get("login_hint") or query.get("response_mode") != "form_post":
            return 400, "no such launch"
        fields = {"id_token": self.id_token(launch["user"], query["nonce"], launch["spoil"]), "state": query["state"]}
        inputs = "".join(f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in fields.items())
        action = html.escape(query["redirect_uri"])
        return 200, f'<form method="post" action="{action}">{inputs}</form><script>document.forms[0].submit()</script>'

    # -- services ---------------------------------------------------------------------------------

    def token(self, form, token_url):
        """(status, JSON) of the token endpoint: the tool's signed client assertion, checked."""
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}
        assertion = form.get("client_assertion", "")
        try:
            kid = jwt.get_unverified_header(assertion).get("kid")
            jwk = next(k for k in self.tool_jwks["keys"] if k["kid"] == kid)
            claims = jwt.decode(
                assertion, jwt.PyJWK(jwk).key, algorithms=["RS256"], audience=token_url, issuer=self.client_id
            )
        except (StopIteration, jwt.PyJWTError) as exc:
            return 401, {"error": "invalid_client", "error_description": str(exc)}
        if claims.get("sub") != self.client_id:
            return 401, {"error": "invalid_client", "error_description": "sub is not the client id"}
        scopes = set(form.get("scope", "").split()) & {SCORE_SCOPE, LINEITEM_SCOPE}
        access = secrets.token_urlsafe(16)
        self.tokens[access] = scopes
        return 200, {"access_token": access, "token_type": "Bearer", "expires_in": 3600, "scope": " ".join(scopes)}

    def lineitems(self, method, url, query, body):
        """(status, JSON) of the line-item container: list (by resource_id) or create."""
        if method == "GET":
            found = [i for i in self.line_items.values() if query.get("resource_id") in (None, i.get("resourceId"))]
            return 200, found
        item = body | {"id": f"{url}/{len(self.line_items) + 1}"}
        self.line_items[item["id"]] = item
        self.scores[item["id"]] = {}
        return 201, item

    def score(self, item_id, score):
        """(status, JSON) of a score POST: a member's latest score is replaced, a stranger refused."""
        if item_id not in self.line_items:
            return 404, {"error": "no such line item"}
        if score.get("userId") not in self.members:
            return 422, {"error": "User not found in course or is not a student"}
        previous = self.scores[item_id].get(score["userId"])
        if previous and previous["timestamp"] >= score["timestamp"]:
            return 409, {"error": "a score with a later timestamp exists"}
        self.scores[item_id][score["userId"]] = score
        self.received.append((item_id, score))
        return 200, {}


def _handler(platform):
    """The BaseHTTPRequestHandler class serving ``platform``."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.route("GET")

        def do_POST(self):
            self.route("POST")

        def do_PUT(self):
            self.route("PUT")

        def route(self, method):
            parsed = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            parts = parsed.path.strip("/").split("/")
            kind = "scores" if parts[-1] == "scores" else "lineitems" if "lineitems" in parts else parts[0]
            with platform.lock:
                status, body = self.answer(method, kind, parsed.path, query, raw)
                platform.requests.append((method, kind, status))
            self.reply(status, body)

        def answer(self, method, kind, path, query, raw):
            failing = platform.failures.get(kind)
            if failing and failing[0] > 0:
                failing[0] -= 1
                return failing[1], {"error": "injected failure"}
            if kind == "jwks":
                return 200, platform.jwks()
            if kind == "auth":
                form = query | ({k: v[0] for k, v in parse_qs(raw).items()} if method == "POST" else {})
                return platform.authorize(form)
            if kind == "token":
                return platform.token({k: v[0] for k, v in parse_qs(raw).items()}, platform.url + path)
            scopes = platform.tokens.get(self.headers.get("Authorization", "").removeprefix("Bearer "))
            if scopes is None:
                return 401, {"error": "invalid or missing access token"}
            url = platform.url + path
            if kind == "scores":
                if (
                    SCORE_SCOPE not in scopes
                    or self.headers.get("Content-Type") != "application/vnd.ims.lis.v1.score+json"
                ):
                    return 403, {"error": "score scope and score media type required"}
                return platform.score(url.removesuffix("/scores"), json.loads(raw))
            if LINEITEM_SCOPE not in scopes:
                return 403, {"error": "lineitem scope required"}
            if path.endswith("/lineitems"):
                return platform.lineitems(method, url, query, json.loads(raw) if raw else {})
            if url not in platform.line_items:
                return 404, {"error": "no such line item"}
            if method == "PUT":
                platform.line_items[url] = json.loads(raw) | {"id": url}
            return 200, platform.line_items[url]

        def reply(self, status, body):
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html" if isinstance(body, str) else "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
