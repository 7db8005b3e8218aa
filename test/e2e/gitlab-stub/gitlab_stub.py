#!/usr/bin/env python3
"""A stand-in for GitLab's side of the registry contract, for the gitlab end-to-end test.

It reads the environment the stack gives the GitLab container (GITLAB_OMNIBUS_CONFIG,
RK_REGISTRY_TOKEN_KEY, RK_REGISTRY_NOTIFICATION_SECRET) and answers on port 80 as GitLab's nginx:
  GET  /jwt/auth                                 registry tokens, signed as GitLab signs them
  POST /api/v4/container_registry_event/events   notifications (events.v1+json only), checked against the secret
  GET  /-/metrics                                one sample, for Prometheus's gitlab-rails job
  GET  /echo                                     the request headers, to check the proxy's vhost
The test user's name picks the token: developer (push/pull on group/project and below), expired,
wrong-issuer, other-key, other-repo. Every notification is appended to /tmp/events.jsonl.
"""
import base64
import hashlib
import json
import os
import re
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

CONFIG = os.environ["GITLAB_OMNIBUS_CONFIG"]
ISSUER = re.search(r"^gitlab_rails\['registry_issuer'\] = '([^']*)'$", CONFIG, re.M).group(1)
KEY = serialization.load_pem_private_key(os.environ["RK_REGISTRY_TOKEN_KEY"].encode(), password=None)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
SECRET = os.environ["RK_REGISTRY_NOTIFICATION_SECRET"]
PASSWORD = os.environ["STUB_PASSWORD"]
PROJECT = "group/project"
EVENTS_V1 = "application/vnd.docker.distribution.events.v1+json"


def libtrust_kid(key):
    """SHA-256 of the DER public key, first 240 bits, base32, in groups of four (GitLab's kid)."""
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    encoded = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


def b64(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def sign(claims, key):
    header = {"typ": "JWT", "alg": "RS256", "kid": libtrust_kid(key)}
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + b64(signature)


def granted(user, scopes):
    """The access entries GitLab would grant: the requested actions on the user's projects only."""
    access = []
    for scope in scopes:
        parts = scope.split(":")
        if len(parts) != 3 or parts[0] != "repository":
            continue
        name, actions = parts[1], [a for a in parts[2].split(",") if a in ("pull", "push", "delete")]
        allowed = name == PROJECT or name.startswith(PROJECT + "/")
        access.append({"type": "repository", "name": name, "actions": actions if allowed else []})
    if user == "other-repo":
        access = [{"type": "repository", "name": "group/other", "actions": ["pull", "push"]}]
    return access


def token_for(user, service, scopes):
    now = int(time.time())
    claims = {
        "jti": str(uuid.uuid4()),
        "aud": service,
        "sub": user,
        "iss": ISSUER,
        "iat": now,
        "nbf": now - 5,
        "exp": now + 300,
        "auth_type": "gitlab_or_ldap",
        "access": granted(user, scopes),
    }
    if user == "expired":
        claims.update(iat=now - 900, nbf=now - 905, exp=now - 600)
    if user == "wrong-issuer":
        claims["iss"] = "someone-else"
    return sign(claims, OTHER_KEY if user == "other-key" else KEY)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/jwt/auth":
            auth = self.headers.get("Authorization", "")
            try:
                user, password = base64.b64decode(auth.split(" ", 1)[1]).decode().split(":", 1)
            except Exception:
                return self.reply(401, {"message": "HTTP Basic: Access denied"})
            if password != PASSWORD:
                return self.reply(401, {"message": "HTTP Basic: Access denied"})
            query = parse_qs(url.query)
            service = query.get("service", [""])[0]
            if service != "container_registry":
                return self.reply(403, {"message": "unknown service"})
            return self.reply(200, {"token": token_for(user, service, query.get("scope", []))})
        if url.path == "/-/metrics":
            return self.reply(200, b"gitlab_stub_up 1\n", "text/plain; version=0.0.4")
        if url.path == "/echo":
            return self.reply(200, {k.lower(): v for k, v in self.headers.items()})
        if url.path == "/kid":
            return self.reply(200, {"kid": libtrust_kid(KEY), "issuer": ISSUER})
        return self.reply(404, {"message": "404 Not Found"})

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
        if urlparse(self.path).path != "/api/v4/container_registry_event/events":
            return self.reply(404, {"message": "404 Not Found"})
        # As GitLab's endpoint: only Distribution 2's media type is parsed (registry 3 sends events.v2+json).
        if self.headers.get("Content-Type", "").split(";")[0].strip() != EVENTS_V1:
            return self.reply(415, {"error": "The provided content-type is not supported."})
        authorization = self.headers.get("Authorization")
        accepted = authorization == SECRET
        with open("/tmp/events.jsonl", "a") as log:
            log.write(json.dumps({"accepted": accepted, "authorization": authorization, "body": body.decode()}) + "\n")
        self.reply(200 if accepted else 401, {} if accepted else {"message": "401 Unauthorized"})

    def log_message(self, fmt, *args):
        print("gitlab-stub: " + fmt % args, flush=True)


ThreadingHTTPServer(("0.0.0.0", 80), Handler).serve_forever()
