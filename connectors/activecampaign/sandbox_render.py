"""The ActiveCampaign sandbox's JSON: objects rendered as API v3 renders them.

Key order and value types follow the docs examples in ``shared/fixtures/activecampaign/`` (ids
and most numbers as strings, a few integers, ``null`` where the examples have it). ActiveCampaign
renders an object differently depending on the endpoint (a contact inside a list page has no
``created_utc_timestamp``; one returned by ``POST /fieldValues`` has ``null`` dates), so each
renderer names the endpoint it mirrors.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, tzinfo
from typing import Any

from connectors.activecampaign.sandbox_store import (
    AcContact,
    AcContactList,
    AcContactTag,
    AcField,
    AcFieldOption,
    AcFieldRel,
    AcFieldValue,
    AcList,
    AcTag,
)

__all__ = ["Renderer"]

_CONTACT_LINKS = ("bounceLogs", "contactAutomations", "contactData", "contactGoals", "contactLists", "contactLogs",
                  "contactTags", "contactDeals", "deals", "fieldValues", "geoIps", "notes", "organization",
                  "plusAppend", "trackingLogs", "scoreValues")
_ZERO_DATE, _ZERO_STAMP = "0000-00-00", "0000-00-00 00:00:00"


class Renderer:
    """Renders account objects for the account at ``root`` (``https://<account>/api/3``) in time zone ``tz``."""

    def __init__(self, root: str, tz: tzinfo) -> None:
        self.root = root.rstrip("/")
        self.tz = tz

    def iso(self, when: datetime) -> str:
        """``2018-09-12T16:53:50-05:00``: the account's local time with its offset."""
        return when.astimezone(self.tz).replace(microsecond=0).isoformat()

    def stamp(self, when: datetime) -> str:
        """``2018-10-01 08:40:10`` (the ``*_utc_timestamp`` properties)."""
        return when.astimezone(self.tz).strftime("%Y-%m-%d %H:%M:%S")

    def _links(self, kind: str, key: int, names: tuple[str, ...]) -> dict[str, str]:
        return {name: f"{self.root}/{kind}/{key}/{name}" for name in names}

    # ------------------------------------------------------------------ contacts
    def _contact_head(self, c: AcContact) -> dict[str, Any]:
        return {"cdate": self.iso(c.cdate), "email": c.email, "phone": c.phone, "firstName": c.first_name,
                "lastName": c.last_name, "orgid": "0", "segmentio_id": "", "bounced_hard": "0", "bounced_soft": "0"}

    def contact_in_list(self, c: AcContact) -> dict[str, Any]:
        """A contact on a ``GET /contacts`` page (``contacts_list`` example, first contact)."""
        return {
            **self._contact_head(c), "bounced_date": _ZERO_DATE, "ip": "0", "ua": "", "hash": _hash(c),
            "socialdata_lastcheck": _ZERO_STAMP, "email_local": "", "email_domain": "", "sentcnt": "0",
            "rating_tstamp": _ZERO_DATE, "gravatar": "0", "deleted": "0", "anonymized": "0",
            "udate": self.iso(c.udate), "deleted_at": _ZERO_STAMP, "scoreValues": [],
            "links": self._links("contacts", c.id, _CONTACT_LINKS), "id": str(c.id), "organization": None,
        }

    def contact_full(self, c: AcContact) -> dict[str, Any]:
        """A contact as ``POST /contactLists`` and ``PUT /contacts/{id}`` return it."""
        return {
            **self._contact_head(c), "bounced_date": _ZERO_DATE, "ip": "0", "ua": "", "hash": _hash(c),
            "socialdata_lastcheck": _ZERO_STAMP, "email_local": "", "email_domain": "", "sentcnt": "0",
            "rating_tstamp": _ZERO_DATE, "gravatar": "0", "deleted": "0", "anonymized": "0",
            "adate": self.iso(c.udate), "udate": self.iso(c.udate), "deleted_at": _ZERO_STAMP,
            "created_utc_timestamp": self.stamp(c.cdate), "updated_utc_timestamp": self.stamp(c.udate),
            "links": self._links("contacts", c.id, _CONTACT_LINKS), "id": str(c.id), "organization": None,
        }

    def contact_sparse(self, c: AcContact) -> dict[str, Any]:
        """A contact as ``POST /fieldValues`` returns it (null dates, as in ``fieldValues_create``)."""
        return {
            **self._contact_head(c), "bounced_date": None, "ip": "0", "ua": None, "hash": _hash(c),
            "socialdata_lastcheck": None, "email_local": "", "email_domain": "", "sentcnt": "0",
            "rating_tstamp": None, "gravatar": "0", "deleted": "0", "anonymized": "0", "adate": None,
            "udate": self.iso(c.udate), "edate": None, "deleted_at": None,
            "created_utc_timestamp": self.stamp(c.cdate), "updated_utc_timestamp": self.stamp(c.udate),
            "links": self._links("contacts", c.id, _CONTACT_LINKS), "id": str(c.id), "organization": None,
        }

    def contact_synced(self, c: AcContact, value_ids: list[int]) -> dict[str, Any]:
        """The ``contact`` of a ``POST /contact/sync`` answer."""
        return {
            "email": c.email, "phone": c.phone, "firstName": c.first_name, "lastName": c.last_name,
            "email_empty": False, "cdate": self.iso(c.cdate), "udate": self.iso(c.udate), "orgid": "",
            "orgname": "", "links": self._links("contacts", c.id, _CONTACT_LINKS), "hash": _hash(c),
            "fieldValues": [str(v) for v in value_ids], "id": str(c.id), "organization": "",
        }

    def contact_single(self, c: AcContact) -> dict[str, Any]:
        """The ``contact`` of ``GET /contacts/{id}``."""
        return {
            **self._contact_head(c), "bounced_date": None, "ip": "0", "ua": None, "hash": _hash(c),
            "socialdata_lastcheck": None, "email_local": "", "email_domain": "", "sentcnt": "0",
            "rating_tstamp": None, "gravatar": "0", "deleted": "0", "adate": None, "udate": self.iso(c.udate),
            "edate": None, "contactAutomations": [], "contactLists": [], "fieldValues": [], "geoIps": [],
            "deals": [], "accountContacts": [], "links": self._links("contacts", c.id, _CONTACT_LINKS),
            "id": str(c.id), "organization": None,
        }

    # ------------------------------------------------------------------ lists and memberships
    def list_row(self, item: AcList) -> dict[str, Any]:
        return {
            "stringid": item.stringid, "userid": "1", "name": item.name, "cdate": self.iso(item.cdate),
            "p_use_tracking": "1", "p_use_analytics_read": "0", "p_use_analytics_link": "0", "p_use_twitter": "0",
            "p_use_facebook": "0", "p_embed_image": "1", "p_use_captcha": "1", "send_last_broadcast": "0",
            "private": "0", "analytics_domains": None, "analytics_source": "", "analytics_ua": "",
            "twitter_token": "", "twitter_token_secret": "", "facebook_session": None, "carboncopy": None,
            "subscription_notify": None, "unsubscription_notify": None, "require_name": "0",
            "get_unsubscribe_reason": "0", "to_name": "Subscriber", "optinoptout": "1", "sender_name": "",
            "sender_addr1": "", "sender_addr2": "", "sender_city": "", "sender_state": "", "sender_zip": "",
            "sender_country": "", "sender_phone": "", "sender_url": item.sender_url,
            "sender_reminder": item.sender_reminder, "fulladdress": "", "optinmessageid": "0", "optoutconf": "0",
            "deletestamp": None, "udate": None,
            "links": self._links("lists", item.id, ("contactGoalLists", "user", "addressLists")),
            "id": str(item.id), "user": "1",
        }

    def list_created(self, item: AcList) -> dict[str, Any]:
        return {"name": item.name, "stringid": item.stringid, "cdate": self.iso(item.cdate),
                "udate": self.iso(item.cdate),
                "links": self._links("lists", item.id, ("contactGoalLists", "user", "addressLists")),
                "id": str(item.id)}

    def membership(self, m: AcContactList, c: AcContact) -> dict[str, Any]:
        """A ``contactList`` as ``POST /contactLists`` returns it (status an integer)."""
        return {
            "contact": str(m.contact), "list": str(m.list), "form": None, "seriesid": "0", "sdate": self.iso(m.sdate),
            "status": m.status, "responder": "1", "sync": "0", "unsubreason": "", "campaign": None, "message": None,
            "first_name": c.first_name, "last_name": c.last_name, "ip4Sub": "0", "sourceid": "4", "autosyncLog": None,
            "ip4_last": "0", "ip4Unsub": "0", "unsubscribeAutomation": None,
            "links": self._links("contactLists", m.id, ("automation", "list", "contact", "form", "autosyncLog",
                                                        "campaign", "unsubscribeAutomation", "message")),
            "id": str(m.id), "automation": None,
        }

    def membership_of_contact(self, m: AcContactList, c: AcContact) -> dict[str, Any]:
        """A ``contactList`` in ``GET /contacts/{id}/contactLists`` (status a string there)."""
        row = self.membership(m, c)
        row.update(status=str(m.status), udate=self.iso(m.udate), unsubreason=None,
                   created_timestamp=self.stamp(m.sdate), updated_timestamp=self.stamp(m.udate),
                   created_by=None, updated_by=None)
        return row

    # ------------------------------------------------------------------ tags
    def tag_row(self, t: AcTag) -> dict[str, Any]:
        return {"tagType": t.tag_type, "tag": t.tag, "description": t.description, "cdate": self.iso(t.cdate),
                "links": self._links("tags", t.id, ("contactGoalTags",)), "id": str(t.id)}

    def tag_created(self, t: AcTag) -> dict[str, Any]:
        return {"tag": t.tag, "description": t.description, "tagType": t.tag_type, "cdate": self.iso(t.cdate),
                "links": self._links("tags", t.id, ("contactGoalTags",)), "id": str(t.id)}

    def contact_tag(self, link: AcContactTag) -> dict[str, Any]:
        """``contactTags_create`` example: relative links, as ActiveCampaign sends them."""
        return {"cdate": self.iso(link.cdate), "contact": str(link.contact), "id": str(link.id),
                "links": {"contact": f"/{link.id}/contact", "tag": f"/{link.id}/tag"}, "tag": str(link.tag)}

    def contact_tag_of_contact(self, link: AcContactTag) -> dict[str, Any]:
        """A ``contactTag`` in ``GET /contacts/{id}/contactTags``."""
        return {"contact": str(link.contact), "tag": str(link.tag), "cdate": self.iso(link.cdate),
                "created_timestamp": self.stamp(link.cdate), "updated_timestamp": self.stamp(link.cdate),
                "created_by": None, "updated_by": None,
                "links": self._links("contactTags", link.id, ("contact", "tag")), "id": str(link.id)}

    # ------------------------------------------------------------------ fields
    def field_row(self, f: AcField, options: list[AcFieldOption], rels: list[AcFieldRel]) -> dict[str, Any]:
        """A field as ``GET /fields`` lists it (``fields_create`` example)."""
        return {
            "title": f.title, "descript": f.descript or None, "type": f.type, "isrequired": "0",
            "perstag": f.perstag, "defval": None, "show_in_list": "0", "rows": "0", "cols": "0", "visible": "1",
            "service": "", "ordernum": str(f.ordernum), "cdate": self.iso(f.cdate), "udate": self.iso(f.cdate),
            "options": [str(o.id) for o in options], "relations": [str(r.id) for r in rels],
            "links": self._links("fields", f.id, ("options", "relations")), "id": str(f.id),
        }

    def field_option(self, o: AcFieldOption) -> dict[str, Any]:
        return {"orderid": o.orderid, "value": o.value, "label": o.label, "isdefault": 0, "field": str(o.field),
                "cdate": self.iso(o.cdate), "udate": self.iso(o.cdate),
                "links": self._links("fieldOptions", o.id, ("field",)), "id": str(o.id)}

    def field_rel(self, r: AcFieldRel) -> dict[str, Any]:
        return {"relid": r.relid, "field": r.field, "cdate": self.iso(r.cdate), "links": [], "id": str(r.id)}

    def field_value(self, v: AcFieldValue) -> dict[str, Any]:
        """A value in ``GET /contacts/{id}/fieldValues`` and ``contact/sync`` answers."""
        return {"contact": str(v.contact), "field": str(v.field), "value": v.value, "cdate": self.iso(v.cdate),
                "udate": self.iso(v.udate), "created_by": "0", "updated_by": "0",
                "links": self._links("fieldValues", v.id, ("owner", "field")), "id": str(v.id),
                "owner": str(v.contact)}

    def field_value_created(self, v: AcFieldValue) -> dict[str, Any]:
        """The ``fieldValue`` of a ``POST /fieldValues`` answer (integers there)."""
        return {"contact": v.contact, "field": v.field, "value": v.value, "cdate": self.iso(v.cdate),
                "udate": self.iso(v.udate), "links": self._links("fieldValues", v.id, ("owner", "field")),
                "owner": v.contact, "id": str(v.id)}


def _hash(c: AcContact) -> str:
    # Not for security: ActiveCampaign's contact hash is an opaque identifier; md5 gives its look.
    return hashlib.md5(f"{c.id}:{c.email}".encode(), usedforsecurity=False).hexdigest()
