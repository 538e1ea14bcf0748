"""Identity: one person per human across all the shops of a pipeline, resolved in set-based SQL.

A person is a row of ``persons`` with a stable random key (``person_id``, ``prs_`` + 20 hex
digits: the key the plan and the sinks use) and the current normalised email, unique in the
pipeline. Customers link to it through ``person_customers``; guest checkouts (orders without a
customer, Shopify's guest orders) through ``person_guests``, keyed by email. Rules, in the order
:func:`resolve_identities` applies them:

1. **Scope.** The customers of the pipeline's shops, without staff accounts when
   ``exclude_staff``; guest orders of those shops, without test orders when
   ``exclude_test_orders``. A link that fell out of scope is removed.
2. **A linked customer keeps its person.** When its email changed at the shop (it differs from
   the one recorded on its link), the person takes the new email and keeps the old one in
   ``previous_email``, so the sink renames that contact instead of creating a second one. With
   several changed customers, the most recently updated one decides.
3. **Merge.** When that new email is already another person's (or two persons move to the same
   email), they are the same human: the older person (smaller id) is kept, the links move to it
   and the others are deleted with their profile rows. Each merge is reported, so the plan can
   retire the dropped ``person_id``.
4. **An unlinked customer** joins the person with its email, else a new person is created (one
   for all the new customers sharing an email).
5. **A guest email** joins the person of a customer with that email, else the person with that
   email, else a new person. Guest emails of excluded staff accounts are ignored.
6. A person with nothing linked any more is deleted and reported in ``removed``.

Incremental: with ``changed_customer_ids`` (namespaced source ids of customers whose record,
orders or carts changed) and/or ``changed_guest_emails``, only those are resolved, and the report
lists the persons they touch, for :func:`connector.segments.metrics.compute_metrics`.

SQL below is assembled only from this module's constant fragments; every value is a bound
parameter (hence the ``noqa: S608``).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection

from connector.segments.staging import Staging
from connector.store.profiles import SET_NAMES

__all__ = ["IdentityReport", "PersonMerge", "resolve_identities"]

TS = "TIMESTAMP WITH TIME ZONE"  # the temporary tables' timestamp type (SQLite accepts any name)
PROFILE_TABLES = ("profile_metrics", "profile_money", "profile_values", "profile_attributes")
SET_NAMES_SQL = ", ".join(f"'{name}'" for name in SET_NAMES)


class PersonMerge(BaseModel):
    """Two persons found to be one human: ``dropped`` no longer exists, its links moved to ``kept``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kept: str
    dropped: str


class IdentityReport(BaseModel):
    """What one identity resolution changed.

    ``touched`` lists the persons to recompute after an incremental run (``None`` after a full
    run: recompute everyone).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    persons_created: int
    customers_linked: int
    guest_emails_linked: int
    email_changes: int
    merges: tuple[PersonMerge, ...]
    removed: tuple[str, ...]
    touched: tuple[str, ...] | None


def resolve_identities(
    conn: Connection,
    pipeline: str,
    shops: Collection[str],
    *,
    now: datetime,
    exclude_staff: bool = False,
    exclude_test_orders: bool = False,
    changed_customer_ids: Collection[str] | None = None,
    changed_guest_emails: Collection[str] | None = None,
) -> IdentityReport:
    """Link the pipeline's customers and guest emails to persons (see the module docstring).

    Args:
        conn: a connection inside a write transaction.
        pipeline: the pipeline's name; persons never cross pipelines.
        shops: the shop names (``customers.shop``) the pipeline reads.
        now: the time recorded on created and updated persons.
        exclude_staff: leave staff accounts (and guest orders under their emails) out.
        exclude_test_orders: leave test orders out when looking for guest emails.
        changed_customer_ids: incremental run: the customers (namespaced ids) to resolve.
        changed_guest_emails: incremental run: the guest emails (normalised) to resolve.
    """
    incremental = changed_customer_ids is not None or changed_guest_emails is not None
    params = {"p": pipeline, "shops": sorted(set(shops)) or [""], "now": now}
    with Staging(conn) as s:
        _scope(s, params, incremental, set(changed_customer_ids or ()), exclude_staff)
        email_changes, merges = _email_changes(s, params)
        created, linked = _link_free_customers(s, params)
        guests_created, guests_linked = _link_guests(s, params, incremental, set(changed_guest_emails or ()),
                                                     exclude_staff, exclude_test_orders)
        removed = _remove_empty(s, params, incremental)
        touched = _touched(s, params) if incremental else None
    return IdentityReport(
        persons_created=created + guests_created, customers_linked=linked, guest_emails_linked=guests_linked,
        email_changes=email_changes, merges=merges, removed=removed, touched=touched,
    )


def _scope(s: Staging, params: dict, incremental: bool, changed: set[str], exclude_staff: bool) -> None:
    """Stage the customers in scope (``_id_in``) and unlink those that left it (persons in ``_id_gone``)."""
    staff = "AND NOT c.is_staff" if exclude_staff else ""
    s.temp("_id_in", f"customer_id INTEGER PRIMARY KEY, email TEXT NOT NULL, updated_at {TS}")
    s.temp("_id_gone", "person INTEGER PRIMARY KEY")
    if not incremental:
        s.run(f"INSERT INTO _id_in SELECT c.id, c.email, c.updated_at FROM customers c "  # noqa: S608
              f"WHERE c.shop IN :shops {staff}", params)
        s.analyze("_id_in")
        leaving = ("SELECT pc.customer_id FROM person_customers pc WHERE pc.pipeline = :p "
                   "AND NOT EXISTS (SELECT 1 FROM _id_in i WHERE i.customer_id = pc.customer_id)")
    else:
        s.temp("_id_changed", "source_id TEXT PRIMARY KEY")
        s.fill("_id_changed", ["source_id"], ((source_id,) for source_id in sorted(changed)))
        s.run(f"INSERT INTO _id_in SELECT c.id, c.email, c.updated_at FROM _id_changed x CROSS JOIN customers c "  # noqa: S608
              f"WHERE c.source_id = x.source_id AND c.shop IN :shops {staff}", params)
        s.analyze("_id_changed", "_id_in")
        leaving = ("SELECT c.id FROM _id_changed x CROSS JOIN customers c WHERE c.source_id = x.source_id "
                   "AND NOT EXISTS (SELECT 1 FROM _id_in i WHERE i.customer_id = c.id)")
    s.run(f"INSERT INTO _id_gone SELECT DISTINCT pc.person FROM person_customers pc "  # noqa: S608
          f"WHERE pc.pipeline = :p AND pc.customer_id IN ({leaving})", params)
    s.run(f"DELETE FROM person_customers WHERE pipeline = :p AND customer_id IN ({leaving})", params)  # noqa: S608


def _email_changes(s: Staging, params: dict) -> tuple[int, tuple[PersonMerge, ...]]:
    """Apply rules 2 and 3: new emails of linked customers, and the merges they cause."""
    s.temp("_id_moved", f"customer_id INTEGER PRIMARY KEY, person INTEGER NOT NULL, email TEXT NOT NULL, "
                        f"updated_at {TS}")
    s.temp("_id_new", "person INTEGER PRIMARY KEY, email TEXT NOT NULL")
    s.temp("_id_merge", "dropped INTEGER PRIMARY KEY, kept INTEGER NOT NULL")
    s.run("INSERT INTO _id_moved SELECT i.customer_id, pc.person, i.email, i.updated_at "
          "FROM _id_in i CROSS JOIN person_customers pc "
          "WHERE pc.pipeline = :p AND pc.customer_id = i.customer_id AND pc.email <> i.email", params)
    if not s.count("SELECT COUNT(*) FROM _id_moved"):
        return 0, ()
    s.run("UPDATE person_customers SET email = (SELECT m.email FROM _id_moved m "
          "WHERE m.customer_id = person_customers.customer_id) "
          "WHERE pipeline = :p AND customer_id IN (SELECT customer_id FROM _id_moved)", params)
    # The new email of each person: the most recently updated changed customer's. Ranked into its
    # own table first: joining persons onto the window's result re-ran the window per row.
    s.temp("_id_latest", "person INTEGER PRIMARY KEY, email TEXT NOT NULL")
    s.run("INSERT INTO _id_latest SELECT person, email FROM (SELECT m.person, m.email, ROW_NUMBER() OVER "
          "(PARTITION BY m.person ORDER BY m.updated_at DESC, m.customer_id DESC) AS rn FROM _id_moved m) x "
          "WHERE x.rn = 1")
    s.run("INSERT INTO _id_new SELECT x.person, x.email FROM _id_latest x CROSS JOIN persons p "
          "WHERE p.id = x.person AND p.email <> x.email")
    # Persons that end up with the same email are one human; the smallest id (the oldest) stays.
    s.run("WITH cand AS (SELECT person, email FROM _id_new UNION ALL SELECT p.id, p.email FROM persons p "
          "  WHERE p.pipeline = :p AND p.email IN (SELECT email FROM _id_new) "
          "  AND NOT EXISTS (SELECT 1 FROM _id_new n WHERE n.person = p.id)), "
          "grp AS (SELECT email, MIN(person) AS kept FROM cand GROUP BY email HAVING COUNT(*) > 1) "
          "INSERT INTO _id_merge SELECT c.person, g.kept FROM cand c JOIN grp g ON g.email = c.email "
          "WHERE c.person <> g.kept", params)
    merges = tuple(
        PersonMerge(kept=kept, dropped=dropped)
        for kept, dropped in s.run("SELECT k.person_id, d.person_id FROM _id_merge m JOIN persons k ON k.id = m.kept "
                                   "JOIN persons d ON d.id = m.dropped ORDER BY k.id, d.id")
    )
    if merges:
        for table in ("person_customers", "person_guests"):
            s.run(f"UPDATE {table} SET person = (SELECT m.kept FROM _id_merge m WHERE m.dropped = {table}.person) "  # noqa: S608
                  f"WHERE person IN (SELECT dropped FROM _id_merge)")
        _delete_persons(s, "SELECT dropped FROM _id_merge")
        s.run("DELETE FROM _id_new WHERE person IN (SELECT dropped FROM _id_merge)")
    # Two steps, so that persons swapping emails never meet the unique (pipeline, email) key.
    s.run("UPDATE persons SET previous_email = email, email = '#' || CAST(id AS TEXT), updated_at = :now "
          "WHERE id IN (SELECT person FROM _id_new)", params)
    s.run("UPDATE persons SET email = (SELECT n.email FROM _id_new n WHERE n.person = persons.id) "
          "WHERE id IN (SELECT person FROM _id_new)")
    return s.count("SELECT COUNT(*) FROM _id_new"), merges


def _new_persons(s: Staging, params: dict, emails: str) -> int:
    """Create a person for each email of the query ``emails`` that no person of the pipeline has.

    ``emails`` yields ``email`` and ``rank``; persons are created (and numbered) in rank order.
    """
    return s.run(f"INSERT INTO persons (pipeline, person_id, email, created_at, updated_at) "  # noqa: S608
                 f"SELECT :p, {s.new_person_id()}, e.email, :now, :now FROM ({emails}) e "
                 f"WHERE NOT EXISTS (SELECT 1 FROM persons p WHERE p.pipeline = :p AND p.email = e.email) "
                 f"ORDER BY e.rank, e.email", params).rowcount


def _link_free_customers(s: Staging, params: dict) -> tuple[int, int]:
    """Rule 4: link each customer in scope without a link to the person with its email (created if need be)."""
    s.temp("_id_free", "customer_id INTEGER PRIMARY KEY, email TEXT NOT NULL")
    s.run("INSERT INTO _id_free SELECT i.customer_id, i.email FROM _id_in i WHERE NOT EXISTS "
          "(SELECT 1 FROM person_customers pc WHERE pc.pipeline = :p AND pc.customer_id = i.customer_id)", params)
    s.analyze("_id_free")
    # In the order of each email's first customer, so persons' ids follow their customers'.
    created = _new_persons(s, params, "SELECT email, MIN(customer_id) AS rank FROM _id_free GROUP BY email")
    linked = s.run("INSERT INTO person_customers (pipeline, customer_id, person, email) "
                   "SELECT :p, f.customer_id, p.id, f.email FROM _id_free f CROSS JOIN persons p "
                   "WHERE p.pipeline = :p AND p.email = f.email", params).rowcount
    return created, linked


def _link_guests(s: Staging, params: dict, incremental: bool, changed: set[str], exclude_staff: bool,
                 exclude_test_orders: bool) -> tuple[int, int]:
    """Rule 5: link guest-checkout emails; unlink those with no guest order left in scope."""
    test = "AND NOT o.test" if exclude_test_orders else ""
    staff = ""
    if exclude_staff:  # the few staff emails first: looking each guest order's email up in customers is random I/O
        s.temp("_id_staff", "email TEXT PRIMARY KEY")
        s.run("INSERT INTO _id_staff SELECT DISTINCT email FROM customers WHERE is_staff AND shop IN :shops", params)
        staff = "AND NOT EXISTS (SELECT 1 FROM _id_staff f WHERE f.email = o.email)"
    s.temp("_id_gx", "email TEXT PRIMARY KEY")
    s.temp("_id_guest", "email TEXT PRIMARY KEY")
    if incremental:
        s.fill("_id_gx", ["email"], ((email,) for email in sorted(changed)))
        source = f"_id_gx x CROSS JOIN orders o WHERE o.email = x.email AND {s.unindexed('o.customer_id')}"
    else:
        # One pass in storage order rather than ~5% of the orders at random through the customer index.
        source = f"orders o WHERE {s.unindexed('o.email')} IS NOT NULL AND {s.unindexed('o.customer_id')}"
    s.run(f"INSERT INTO _id_guest SELECT DISTINCT o.email FROM {source} IS NULL "  # noqa: S608
          f"AND o.shop IN :shops {test} {staff}", params)
    gone = ("SELECT g.email FROM _id_gx g WHERE NOT EXISTS (SELECT 1 FROM _id_guest k WHERE k.email = g.email)"
            if incremental else
            "SELECT g.email FROM person_guests g WHERE g.pipeline = :p "
            "AND NOT EXISTS (SELECT 1 FROM _id_guest k WHERE k.email = g.email)")
    s.run(f"INSERT INTO _id_gone SELECT DISTINCT person FROM person_guests WHERE pipeline = :p "  # noqa: S608
          f"AND email IN ({gone}) AND person NOT IN (SELECT person FROM _id_gone)", params)
    s.run(f"DELETE FROM person_guests WHERE pipeline = :p AND email IN ({gone})", params)  # noqa: S608
    s.temp("_id_gfree", "email TEXT PRIMARY KEY, person INTEGER")
    s.run("INSERT INTO _id_gfree SELECT g.email, (SELECT MIN(pc.person) FROM customers c CROSS JOIN person_customers "
          "pc WHERE c.email = g.email AND pc.pipeline = :p AND pc.customer_id = c.id) FROM _id_guest g "
          "WHERE NOT EXISTS (SELECT 1 FROM person_guests pg WHERE pg.pipeline = :p AND pg.email = g.email)", params)
    created = _new_persons(s, params, "SELECT email, 0 AS rank FROM _id_gfree WHERE person IS NULL")
    s.run("UPDATE _id_gfree SET person = (SELECT p.id FROM persons p WHERE p.pipeline = :p "
          "AND p.email = _id_gfree.email) WHERE person IS NULL", params)
    linked = s.run("INSERT INTO person_guests (pipeline, email, person) SELECT :p, email, person FROM _id_gfree",
                   params).rowcount
    return created, linked


def _delete_persons(s: Staging, ids: str) -> None:
    """Delete the persons whose ids the query ``ids`` gives, with their derived profile rows."""
    for table in PROFILE_TABLES:
        named = f"name IN ({SET_NAMES_SQL}) AND " if table == "profile_values" else ""  # its key starts with name
        s.run(f"DELETE FROM {table} WHERE {named}person IN ({ids})")  # noqa: S608
    s.run(f"DELETE FROM persons WHERE id IN ({ids})")  # noqa: S608


def _remove_empty(s: Staging, params: dict, incremental: bool) -> tuple[str, ...]:
    """Rule 6: delete the persons nothing links to any more; returns their keys."""
    # Person ids are unique across pipelines: filtering an incremental run by the pipeline too would
    # make SQLite read every person of the pipeline through the (pipeline, ...) unique index.
    among = "p.id IN (SELECT person FROM _id_gone)" if incremental else "p.pipeline = :p"
    s.temp("_id_empty", "person INTEGER PRIMARY KEY, person_id TEXT NOT NULL")
    s.run(f"INSERT INTO _id_empty SELECT p.id, p.person_id FROM persons p WHERE {among} "  # noqa: S608
          f"AND NOT EXISTS (SELECT 1 FROM person_customers pc WHERE pc.person = p.id) "
          f"AND NOT EXISTS (SELECT 1 FROM person_guests g WHERE g.person = p.id)", params)
    removed = tuple(s.run("SELECT person_id FROM _id_empty ORDER BY person_id").scalars())
    if removed:
        _delete_persons(s, "SELECT person FROM _id_empty")
    return removed


def _touched(s: Staging, params: dict) -> tuple[str, ...]:
    """The persons an incremental run resolved or changed: their metrics need recomputing."""
    return tuple(s.run(
        "SELECT p.person_id FROM persons p WHERE p.id IN ("
        "SELECT person FROM person_customers WHERE pipeline = :p AND customer_id IN (SELECT customer_id FROM _id_in) "
        "UNION SELECT person FROM person_guests WHERE pipeline = :p AND email IN (SELECT email FROM _id_gx) "
        "UNION SELECT person FROM _id_gone UNION SELECT kept FROM _id_merge) ORDER BY p.person_id", params).scalars())
