"""Redaction of secrets and customer emails."""

from __future__ import annotations

from connector.redact import MASK, Redactor, mask_email


def test_known_secrets_are_removed_from_text() -> None:
    r = Redactor(["shpat_abcdef123456", "cs_secret_xyz"])
    text = "token shpat_abcdef123456 and cs_secret_xyz and shpat_abcdef123456 again"
    assert r.text(text) == f"token {MASK} and {MASK} and {MASK} again"


def test_a_secret_containing_another_is_removed_whole() -> None:
    r = Redactor(["abcd", "abcdefgh"])
    assert r.text("x abcdefgh y") == f"x {MASK} y"


def test_very_short_secrets_are_ignored_so_words_survive() -> None:
    assert Redactor(["ab"]).text("about a cab") == "about a cab"


def test_secret_named_pairs_in_bodies_and_auth_schemes() -> None:
    r = Redactor()
    body = '{"api_key": "k-123", "name": "x"} consumer_secret=cs_1&page=2 Authorization: Bearer eyJabc.def'
    out = r.text(body)
    assert "k-123" not in out and "cs_1" not in out and "eyJabc.def" not in out
    assert '"name": "x"' in out and "page=2" in out


def test_urls_lose_userinfo_and_secret_query_parameters() -> None:
    r = Redactor()
    url = "https://ck_1:cs_2@shop.example.com/wp-json/wc/v3/orders?consumer_key=ck_1&consumer_secret=cs_2&page=3"
    out = r.url(url)
    assert "ck_1" not in out and "cs_2" not in out
    assert out.startswith(f"https://{MASK}@shop.example.com/wp-json/wc/v3/orders?")
    assert "page=3" in out


def test_headers() -> None:
    r = Redactor(["tok_secret_1"])
    out = r.headers({"Api-Token": "whatever", "X-Custom": "has tok_secret_1", "Accept": "application/json"})
    assert out == {"Api-Token": MASK, "X-Custom": f"has {MASK}", "Accept": "application/json"}


def test_emails_are_masked_but_recognisable() -> None:
    assert mask_email("jane.doe@example.com") == f"j{MASK}@example.com"
    assert Redactor().text("contact jane.doe@example.com failed") == f"contact j{MASK}@example.com failed"
    assert Redactor(mask_emails=False).text("jane@example.com") == "jane@example.com"


def test_excerpt_is_short_single_line_and_redacted() -> None:
    r = Redactor(["SECRET_TOKEN_1"])
    body = ("line one SECRET_TOKEN_1\n" + "x" * 500).encode()
    out = r.excerpt(body, limit=50)
    assert len(out) == 50 and "\n" not in out and "SECRET_TOKEN_1" not in out and out.endswith("…")


def test_repr_does_not_list_secrets() -> None:
    assert "hunter2hunter2" not in repr(Redactor(["hunter2hunter2"]))


def test_url_encoded_secret_is_removed_too() -> None:
    r = Redactor(["ab+c/d==secret"])
    out = r.url("https://api.example.com/x?state=ab%2Bc%2Fd%3D%3Dsecret&page=1")
    assert "ab%2Bc%2Fd%3D%3Dsecret" not in out and "ab+c/d==secret" not in out
    assert "page=1" in out
