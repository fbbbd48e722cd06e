"""LTI Assignment and Grade Services (AGS) client of the course tool, and its settings.

The tool proves who it is with a JWT signed by its own RSA key (``client_credentials`` grant with a
``private_key_jwt`` client assertion, LTI Security Framework 1.0 section 4.1), gets an OAuth2 access
token and uses it on the context's line items and their scores::

    settings = load_lms_settings(course_root)          # c.CourseLMS.* of nbgrader_config.py
    client = AGSClient(settings)
    item = client.line_item("ps1", max_score=30)       # found by resourceId, or created
    client.post_score(item, {"userId": "...", "scoreGiven": 27, ...})

Requests are retried (connection errors, timeouts, HTTP 429 and 5xx) ``attempts`` times with a
growing pause; an expired token (401) is renewed once. ``AGSError.status`` carries the HTTP status of
a final refusal (e.g. 422 or 400: the LMS does not know the user).
"""

import json
import time
import uuid
from dataclasses import dataclass, fields
from pathlib import Path

from ..grading.settings import CONFIG_FILE, setting

SECTION = "CourseLMS"  # c.CourseLMS.<setting> in nbgrader_config.py
SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
)
LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEMS = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE = "application/vnd.ims.lis.v1.score+json"
RETRYABLE = {408, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class LMSSettings:
    issuer: str = setting("", "the platform's issuer (iss), e.g. https://canvas.instructure.com")
    client_id: str = setting("", "the tool's client id at the platform (Canvas: the developer key's id)")
    deployment_id: str = setting("", "the tool's deployment id at the platform (sent with every launch)")
    token_url: str = setting("", "the platform's OAuth2 token endpoint (Moodle: <site>/mod/lti/token.php)")
    token_audience: str = setting("", "audience of the client assertion (default: token_url)")
    lineitems_url: str = setting(
        "", "the course context's AGS line-items URL (logged by the hub at an instructor's launch)"
    )
    private_key: str = setting("lti-tool-key.pem", "the tool's RSA private key (PEM), relative to the course folder")
    key_id: str = setting("course-tool-1", "key id (kid) of the tool's key in its JWKS")
    user_map: str = setting(
        "",
        "CSV with columns student,lti_user_id when hub user names are not the LTI 'sub' (default: student id = sub)",
    )
    record: str = setting(
        "lms-scores.csv", "the record of every score sent to the LMS (appended), in the course folder"
    )
    attempts: int = setting(4, "tries of one request on connection errors, timeouts, HTTP 429 and 5xx")
    backoff: float = setting(0.5, "seconds before the second try; doubled after each failure")
    timeout: float = setting(15.0, "seconds to wait for one response")


def documented_lms():
    """(name, default, help) of every LMS setting, in declaration order."""
    return [(f.name, f.default, f.metadata["help"]) for f in fields(LMSSettings)]


def load_lms_settings(root, **overrides):
    """LMSSettings of the course in ``root``: defaults, c.CourseLMS of nbgrader_config.py, ``overrides``."""
    values = {}
    path = Path(root) / CONFIG_FILE
    if path.exists():
        from traitlets.config.loader import PyFileConfigLoader

        config = PyFileConfigLoader(CONFIG_FILE, path=str(path.parent)).load_config()
        values = dict(config[SECTION]) if SECTION in config else {}
    values |= {k: v for k, v in overrides.items() if v is not None}
    unknown = set(values) - {f.name for f in fields(LMSSettings)}
    if unknown:
        raise ValueError(
            f"unknown c.{SECTION} settings {sorted(unknown)}; known: {[f.name for f in fields(LMSSettings)]}"
        )
    return LMSSettings(**values)


def missing_settings(settings):
    """Names of the settings publishing needs that are empty."""
    needed = ("client_id", "token_url", "lineitems_url", "private_key")
    return [name for name in needed if not getattr(settings, name)]


class AGSError(RuntimeError):
    """A request the platform refused for good (``status``: its HTTP status, None: never answered)."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


# -- the tool's key --------------------------------------------------------------------------------


def make_tool_key(path, key_id):
    """A new 2048-bit RSA key written to ``path`` (PEM, mode 0600); returns the public JWKS (dict)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path = Path(path)
    path.touch(mode=0o600, exist_ok=False)
    path.write_bytes(pem)
    return public_jwks(path, key_id)


def public_pem(path):
    """The PEM public key of the private key at ``path`` (Moodle's "RSA key" field)."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def public_jwks(path, key_id):
    """{"keys": [public JWK]} of the PEM private key at ``path`` (what the platform is given)."""
    import jwt
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.pop("key_ops", None)  # Canvas and Moodle expect kty, e, n, kid, alg, use
    return {"keys": [jwk | {"kid": key_id, "alg": "RS256", "use": "sig"}]}


# -- the client ------------------------------------------------------------------------------------


class AGSClient:
    """Line items and scores of one LMS context (see the module doc); ``log``: one line per step."""

    def __init__(self, settings, root=".", log=print, session=None):
        import requests

        self.settings = settings
        self.key_path = Path(root) / settings.private_key
        self.log = log
        self.http = session or requests.Session()
        self._token = None  # (access token, monotonic expiry)

    def client_assertion(self):
        """The JWT that authenticates the tool at the token endpoint (signed with its private key)."""
        import jwt

        now = int(time.time())
        claims = {
            "iss": self.settings.client_id,
            "sub": self.settings.client_id,
            "aud": self.settings.token_audience or self.settings.token_url,
            "iat": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
        }
        key = self.key_path.read_bytes()
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": self.settings.key_id})

    def token(self, renew=False):
        """An access token for the AGS scopes (cached until a minute before it expires)."""
        if self._token and not renew and time.monotonic() < self._token[1]:
            return self._token[0]
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": self.client_assertion(),
            "scope": " ".join(SCOPES),
        }
        answer = self._send("POST", self.settings.token_url, data=form, auth=False).json()
        self._token = (answer["access_token"], time.monotonic() + max(0, int(answer.get("expires_in", 3600)) - 60))
        self.log(f"  access token from {self.settings.token_url} (scopes: {answer.get('scope', '?')})")
        return self._token[0]

    def line_items(self, resource_id=None):
        """Every line item of the context (following rel="next" pages), or those of ``resource_id``."""
        url, params, items = self.settings.lineitems_url, {"resource_id": resource_id} if resource_id else {}, []
        while url:
            response = self._send("GET", url, params=params, headers={"Accept": LINEITEMS})
            items += response.json()
            url, params = response.links.get("next", {}).get("url"), {}
        return [item for item in items if resource_id is None or item.get("resourceId") == resource_id]

    def line_item(self, assignment, max_score, tag="nbgrader"):
        """The line item with resourceId ``assignment`` (created if none; scoreMaximum brought up to date)."""
        found = self.line_items(assignment)
        if len(found) > 1:
            self.log(f"  {len(found)} line items have resourceId {assignment!r}; using the first ({found[0]['id']})")
        if found:
            item = found[0]
            if float(item.get("scoreMaximum", 0)) != float(max_score):
                item = self._send_json("PUT", item["id"], item | {"scoreMaximum": max_score}, LINEITEM)
                self.log(f"  line item {item['id']}: scoreMaximum set to {max_score:g}")
            return item
        body = {"label": assignment, "resourceId": assignment, "tag": tag, "scoreMaximum": max_score}
        item = self._send_json("POST", self.settings.lineitems_url, body, LINEITEM)
        self.log(f"  line item {item['id']} created for {assignment} ({max_score:g} points)")
        return item

    def post_score(self, item, score):
        """POST one score to ``item``'s scores endpoint (AGSError on a final refusal)."""
        base, _, query = item["id"].partition("?")
        url = base.rstrip("/") + "/scores" + (f"?{query}" if query else "")
        self._send("POST", url, data=json.dumps(score), headers={"Content-Type": SCORE})

    # -- plumbing ----------------------------------------------------------------------------------

    def _send_json(self, method, url, body, media_type):
        headers = {"Content-Type": media_type, "Accept": media_type}
        return self._send(method, url, data=json.dumps(body), headers=headers).json()

    def _send(self, method, url, auth=True, headers=None, **kwargs):
        """One request with retries (module doc); the response, or AGSError."""
        import requests

        pause, renewed = self.settings.backoff, False
        for attempt in range(1, self.settings.attempts + 1):
            sent = dict(headers or {})
            if auth:
                sent["Authorization"] = f"Bearer {self.token()}"
            try:
                response = self.http.request(method, url, headers=sent, timeout=self.settings.timeout, **kwargs)
            except requests.RequestException as exc:
                problem, status = f"{type(exc).__name__}: {exc}", None
            else:
                if response.ok:
                    return response
                problem, status = f"HTTP {response.status_code}: {response.text[:300]}", response.status_code
                if status == 401 and auth and not renewed:
                    self.token(renew=True)
                    renewed = True
                    continue
                if status not in RETRYABLE:
                    raise AGSError(f"{method} {url}: {problem}", status)
            if attempt < self.settings.attempts:
                self.log(f"  {method} {url}: {problem}; try {attempt + 1} of {self.settings.attempts} in {pause:g} s")
                time.sleep(pause)
                pause *= 2
        raise AGSError(f"{method} {url}: {problem} (after {self.settings.attempts} tries)", status)
