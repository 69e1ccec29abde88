"""Secrets never reach a prompt: secret files are refused, secret values are redacted."""

from __future__ import annotations

import pytest

from ghostwright.errors import RequestError
from ghostwright.server.context.secrets import (
    PLACEHOLDER,
    ensure_not_secret,
    is_secret_file,
    redact,
)


@pytest.mark.parametrize(
    "path",
    [".env", "app/.env.local", "certs/server.pem", "tls.key", "id_rsa", "/home/u/.ssh/id_ed25519",
     "keystore.p12", "credentials", "credentials.json", ".netrc", "/home/u/.aws/config",
     "prod.tfvars", "service-account-prod.json", ".npmrc", ".pypirc", "C:\\Users\\u\\.env",
     "secrets.yaml", "config/credentials.toml", "web/.env.local.ts", "kubeconfig", "putty.ppk", ".s3cfg"],
)
def test_secret_files(path: str) -> None:
    assert is_secret_file(path)


@pytest.mark.parametrize(
    "path", ["main.py", "id_rsa.pub", ".ssh/id_ed25519.pub", "environment.py", "keys.py",
             "src/env/config.ts", "README.md", "token.go", "secrets.py", "auth/credentials.py"],
)
def test_ordinary_files(path: str) -> None:
    assert not is_secret_file(path)


def test_ensure_not_secret() -> None:
    ensure_not_secret("/w/main.py")
    ensure_not_secret(None)
    with pytest.raises(RequestError, match=r"\.env may hold secrets"):
        ensure_not_secret("/w/.env")


GITHUB = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ('AWS_KEY = "AKIAIOSFODNN7EXAMPLE"', "AKIAIOSFODNN7EXAMPLE"),
        ("key=AKIAIOSFODNN7EXAMPLE;", "AKIAIOSFODNN7EXAMPLE"),
        (f"gh auth login --with-token {GITHUB}", GITHUB),
        ("t = 'github_pat_11ABCDEFG0123456789_abcdefghijklmnop'", "github_pat_11ABCDEFG"),
        ("SLACK=xoxb-123456789012-abcdefghijkl", "xoxb-123456789012"),
        ("client = OpenAI(api_key='sk-proj-abcdefghijklmnopqrstuvwx')", "sk-proj-abcdefgh"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
         "MIIEowIBAAKCAQEA"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----",
         "b3BlbnNzaC1rZXk"),
        ('password = "hunter2"', "hunter2"),
        ('"client_secret": "s3cr3t-value",', "s3cr3t-value"),
        ("db_password: 'correct horse'", "correct horse"),
        ("API_KEY=abc123def456ghi", "abc123def456ghi"),
        ("export GITHUB_TOKEN=deadbeef1234", "deadbeef1234"),
        ("auth = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N'",
         "eyJhbGciOiJIUzI1NiJ9"),
        ("url = 'postgres://admin:pa55word@db.internal/app'", "pa55word"),
        ("const stripe = 'sk_live_abcdefghijklmnop1234'", "sk_live_abcdefghijklmnop1234"),
        # formats the first filter missed (issue 16)
        ('headers = {"Authorization": "Bearer ' + "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA" + '"}',
         "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA"),
        ("curl -H 'Authorization: Bearer abcdef0123456789abcdef'", "abcdef0123456789abcdef"),
        ("HF = 'hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz012345" + "'", "hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345"),
        ("//registry.npmjs.org/:_authToken=npm_" + "a" * 36, "npm_" + "a" * 36),
        ("SENDGRID = 'SG.abcdefghijklmnopqrstuv.ABCDEFGHIJKLMNOPQRSTUVWXYZ012345678'", "SG.abcdefghijklmnop"),
        ("DefaultEndpointsProtocol=https;AccountName=x;AccountKey=" + "A1b2" * 22 + "==;", "A1b2A1b2A1b2"),
        ("DB_PASS=Tr0ub4dor-and-3", "Tr0ub4dor-and-3"),
        ('SECRET_KEY = b"django-insecure-0123456789"', "django-insecure-0123456789"),
        ('admin_password = """correct\nhorse battery"""', "horse battery"),
        # a private key cut by the prompt window, at its end or at its start
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nb3BlbnNzaC1rZXk", "b3BlbnNzaC1rZXk"),
        ("MIIEowIBAAKCAQEAxyz\nb3BlbnNzaC1rZXk\n-----END RSA PRIVATE KEY-----\ndef f(): pass", "MIIEowIBAAKCAQEAxyz"),
        # found by detect-secrets, not by our patterns
        ('client = Client("AC1208512320acab6ef8701e2506ca68be", sid)', "AC1208512320acab6ef8701e2506ca68be"),
        ('conf = {"x": "q8Lw0Pa7Rb2Tc5Ud8Ve1Wf4Xg6Yh3ZkNj9Mm"}', "q8Lw0Pa7Rb2Tc5Ud8Ve1Wf4Xg6Yh3ZkNj9Mm"),  # entropy
    ],
)
def test_redact_removes_secrets(text: str, secret: str) -> None:
    redacted = redact(text)
    assert secret not in redacted
    assert PLACEHOLDER in redacted


@pytest.mark.parametrize(
    "text",
    [
        "token = get_token()",
        'tokenizer = "gpt2"',
        "password = os.environ['DB_PASSWORD']",
        "if token == expected:",
        "def check_password(password: str) -> bool:",
        "secret_santa_names = load()",
        "x = 'hello world'",
        'password = ""',
        "API_KEY=${API_KEY}",
        "bypass = compute()",
        "passes = 3",
        "Authorization: Bearer {token}",
    ],
)
def test_redact_keeps_ordinary_code(text: str) -> None:
    assert redact(text) == text


def test_redact_keeps_the_name_and_quotes() -> None:
    assert redact('api_key = "abc"') == f'api_key = "{PLACEHOLDER}"'
    assert redact(redact('api_key = "abc"')) == redact('api_key = "abc"')
