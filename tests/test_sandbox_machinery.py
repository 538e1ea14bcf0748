"""The shared sandbox machinery: auth, request log, fault injection (in-process and served), state."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connector.clock import Clock, ManualClock, SystemClock
from connector.sandbox.app import SandboxApp
from connector.sandbox.faults import FaultPlan
from connector.sandbox.memory import MemoryShop
from connector.sandbox.records import Product, ShopCart, ShopCustomer, ShopLine, ShopOrder, ShopRefund
from connector.sandbox.serve import ServedSandbox, bind_loopback
from connector.sandbox.state import load_state

TOKEN = "s3cret"
BODY = {"items": [{"id": i, "name": f"item {i}"} for i in range(20)]}


async def _items(request: Request) -> Response:
    request.state.cost = 3
    return JSONResponse(BODY)


async def _other(request: Request) -> Response:
    return JSONResponse({"ok": True})


def _auth(request: Request) -> Response | None:
    if request.url.path.startswith("/public/"):
        return None
    if request.headers.get("authorization") != f"Bearer {TOKEN}":
        return JSONResponse({"message": "bad credentials"}, status_code=401)
    return None


def make_app(faults: FaultPlan | None = None, clock: Clock | None = None, **kwargs: object) -> SandboxApp:
    routes = [Route("/api/items", _items), Route("/api/other", _other, methods=["GET", "POST"]),
              Route("/public/file", _other)]
    return SandboxApp("toy", routes, authenticate=_auth, faults=faults, clock=clock or ManualClock(),
                      fault_exempt=("/public/",), **kwargs)  # type: ignore[arg-type]


def client(app: SandboxApp) -> httpx.AsyncClient:
    return app.client(headers={"Authorization": f"Bearer {TOKEN}"})


async def test_auth_refusal_is_the_platforms_own_401() -> None:
    app = make_app()
    async with app.client() as anonymous:
        response = await anonymous.get("/api/items")
        assert response.status_code == 401
        assert response.json() == {"message": "bad credentials"}
        assert (await anonymous.get("/public/file")).status_code == 200
    assert [e.status for e in app.log.entries] == [401, 200]


async def test_request_log_counts_and_records_cost_and_time() -> None:
    clock = ManualClock()
    app = make_app(clock=clock)
    async with client(app) as c:
        await c.get("/api/items")
        clock.advance(5)
        await c.post("/api/other")
        await c.get("/api/missing")
    assert app.log.count() == 3
    assert app.log.count(method="get") == 2
    assert app.log.count(path_prefix="/api/items") == 1
    assert app.log.count(status=404) == 1
    first, second, _ = app.log.entries
    assert (first.cost, second.cost) == (3.0, None)
    assert second.at - first.at == 5
    assert app.log.total_cost() == 3.0
    assert all(e.latency_ms >= 0 and e.fault is None for e in app.log.entries)
    app.log.clear()
    assert len(app.log) == 0


def test_fault_plan_validates_rates() -> None:
    with pytest.raises(ValueError):
        FaultPlan(rate_429=0.6, rate_5xx=0.6)
    with pytest.raises(ValueError):
        FaultPlan(rate_drop=-0.1)


def test_same_seed_same_faults_and_exempt_paths_draw_nothing() -> None:
    def sequence(plan: FaultPlan, paths: list[str]) -> list[str | None]:
        return [f.kind.value if (f := plan.decide(p, ("/public/",))) else None for p in paths]

    rates = {"rate_429": 0.2, "rate_5xx": 0.2, "rate_timeout": 0.1, "rate_drop": 0.1, "rate_malformed": 0.1}
    api = ["/api/items"] * 50
    mixed = [p for pair in zip(api, ["/public/file"] * 50, strict=True) for p in pair]
    first, again = sequence(FaultPlan(seed=7, **rates), api), sequence(FaultPlan(seed=7, **rates), api)
    assert first == again
    assert first != sequence(FaultPlan(seed=8, **rates), api)
    assert [k for k in sequence(FaultPlan(seed=7, **rates), mixed)[::2]] == first
    assert set(first) == {None, "429", "5xx", "timeout", "drop", "malformed"}
    plan = FaultPlan(seed=7, **rates)
    plan.decide("/api/items")
    plan.reset()
    assert sequence(plan, api) == first
    assert FaultPlan(rate_429=1.0, exempt_paths=()).decide("/public/file", ("/public/",)) is not None


@pytest.mark.parametrize("kind", ["429", "5xx", "timeout", "drop", "malformed"])
async def test_each_fault_in_process(kind: str) -> None:
    rate = {"429": "rate_429", "5xx": "rate_5xx", "timeout": "rate_timeout", "drop": "rate_drop",
            "malformed": "rate_malformed"}[kind]
    app = make_app(FaultPlan(seed=1, retry_after=3, **{rate: 1.0}))  # type: ignore[arg-type]
    async with client(app) as c:
        if kind == "timeout":
            with pytest.raises(httpx.ReadTimeout):
                await c.get("/api/items")
        elif kind == "drop":
            with pytest.raises(httpx.RemoteProtocolError):
                await c.get("/api/items")
        else:
            response = await c.get("/api/items")
            if kind == "429":
                assert (response.status_code, response.headers["retry-after"]) == (429, "3")
            elif kind == "5xx":
                assert response.status_code in (500, 502, 503)
            else:
                assert response.status_code == 200
                with pytest.raises(json.JSONDecodeError):
                    response.json()
        assert (await c.get("/public/file")).status_code == 200  # exempt
    assert [e.fault for e in app.log.entries] == [kind, None]
    statuses = {"429": 429, "5xx": app.log.entries[0].status or 0, "timeout": None, "drop": None, "malformed": 200}
    assert app.log.entries[0].status == statuses[kind] and (kind != "5xx" or statuses[kind] >= 500)


@pytest.fixture
def served_toy() -> Iterator[tuple[SandboxApp, str]]:
    app = make_app(FaultPlan(), clock=SystemClock())
    with ServedSandbox(app) as base_url:
        yield app, base_url


@pytest.mark.parametrize("kind", ["429", "5xx", "timeout", "drop", "malformed"])
async def test_each_fault_served(kind: str) -> None:
    rate = {"429": "rate_429", "5xx": "rate_5xx", "timeout": "rate_timeout", "drop": "rate_drop",
            "malformed": "rate_malformed"}[kind]
    plan = FaultPlan(seed=1, timeout_seconds=1.0, **{rate: 1.0})  # type: ignore[arg-type]
    app = make_app(plan, clock=SystemClock())
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with ServedSandbox(app) as base_url:
        async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=httpx.Timeout(0.3)) as c:
            if kind == "timeout":
                with pytest.raises(httpx.ReadTimeout):
                    await c.get("/api/items")
            elif kind == "drop":
                with pytest.raises(httpx.RemoteProtocolError):
                    await c.get("/api/items")
            else:
                response = await c.get("/api/items")
                expected = {"429": (429,), "5xx": (500, 502, 503), "malformed": (200,)}[kind]
                assert response.status_code in expected
                if kind == "malformed":
                    assert 0 < len(response.content) < len(json.dumps(BODY))
                    with pytest.raises(json.JSONDecodeError):
                        response.json()
            assert (await c.get("/public/file")).json() == {"ok": True}
    assert app.log.count(path_prefix="/api/") == 1


async def test_served_sandbox_answers_like_in_process(served_toy: tuple[SandboxApp, str]) -> None:
    app, base_url = served_toy
    async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        assert (await c.get("/api/items")).json() == BODY
    assert base_url.startswith("http://127.0.0.1:")
    assert app.log.count(status=200) == 1


def test_only_loopback_is_served() -> None:
    for host in ("0.0.0.0", "192.168.1.10", "example.com"):  # noqa: S104 - asserting it is refused
        with pytest.raises(ValueError, match="loopback"):
            bind_loopback(host, 0)
    bind_loopback("127.0.0.1", 0).close()


def _memory_shop() -> MemoryShop:
    at = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
    product = Product(1, 101, "TEE-1", "Tee", "T-shirt", "Apparel", "Acme", Decimal("19.90"))
    customer = ShopCustomer(1, "Ann@Example.com ", "Ann", None, "+33 6 12 34 56 78", "FR", "IDF", "Paris", "75001",
                            "1 rue de Rivoli", None, "fr-FR", ("vip",), "subscribed", at, None, "gold", at, at)
    line = ShopLine(product, 2, Decimal("19.90"), Decimal("1.00"))
    order = ShopOrder(1, 1001, 1, "ann@example.com", "EUR", "completed", "partially_refunded", at, at, at, None,
                      False, "web", ("WELCOME",), (line,), Decimal("4.90"), Decimal("3.00"),
                      (ShopRefund(at, Decimal("19.90"), ((0, 1),)),), "FR", "Paris", "75001", {"k": "v"})
    cart = ShopCart(1, None, "guest@example.com", "USD", "tok123", (line,), at, at)
    return MemoryShop("acme", "USD", catalog=[product], customers=[customer], orders=[order], carts=[cart])


def test_state_saves_atomically_and_loads_back(tmp_path: Path) -> None:
    shop = _memory_shop()
    state_file = tmp_path / "nested" / "state.json"
    app = make_app(dump_state=lambda: {"shop": shop.dump(), "extra": [1, 2]}, state_file=state_file)
    assert load_state(state_file) is None
    assert app.save() == state_file
    saved = load_state(state_file)
    assert saved is not None and saved["platform"] == "toy" and saved["extra"] == [1, 2]
    assert [p.name for p in state_file.parent.iterdir()] == ["state.json"]  # no temporary file left
    loaded = MemoryShop.load(saved["shop"])
    for kind in ("customers", "orders", "carts"):
        assert loaded.scan(kind) == shop.scan(kind)
    assert loaded.catalog == shop.catalog
    shop.update("customers", 1, datetime(2025, 4, 1, tzinfo=UTC), email="new@example.com")
    app.save()
    reloaded = MemoryShop.load(load_state(state_file)["shop"])  # type: ignore[index]
    assert reloaded.get("customers", 1).email == "new@example.com"
    state_file.write_text("[1, 2]")
    with pytest.raises(ValueError):
        load_state(state_file)


def test_memory_shop_follows_the_scan_contract() -> None:
    at = datetime(2025, 1, 1, tzinfo=UTC)
    shop = _memory_shop()
    for n in range(2, 6):
        shop.add("customers", at.replace(day=n), email=f"c{n}@x.io", first_name=None, last_name=None, phone=None,
                 country=None, region=None, city=None, postal_code=None, address1=None, company=None, locale=None,
                 tags=(), consent="not_subscribed", consent_updated_at=None, birthday=None, loyalty_tier=None)
    by_time = shop.scan("customers", order_by="updated_at", limit=10)
    assert [c.key for c in by_time] == [2, 3, 4, 5, 1]
    after = (by_time[1].updated_at, by_time[1].key)
    assert [c.key for c in shop.scan("customers", order_by="updated_at", after=after)] == [4, 5, 1]
    assert [c.key for c in shop.scan("customers", order_by="updated_at", after=after, reverse=True)] == [2]
    assert [c.key for c in shop.scan("customers", updated_after=at.replace(day=3), limit=2)] == [1, 4]
    assert shop.count("customers", updated_before=at.replace(day=4)) == 2
    with pytest.raises(KeyError):
        shop.update("customers", 99, at)
