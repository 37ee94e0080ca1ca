"""The activity log (API.md §8): every security event of a user, in Appwrite's Log model, kept 90 days.

Recording an event is one line in the flow that makes it:

    activity.record(user, activity.PASSWORD_UPDATED, caller)        # one PutItem of its own

or, in a flow that already writes a transaction, no extra round trip:

    log = activity.entry(user, activity.SESSION_CREATED, caller)    # passed as `log=` to the store write,
                                                                    # which adds store/logs.py put(log) to it

An event in a transaction is written if and only if the change is (an audit trail cannot lose it). An event
written on its own comes after the change: a failed write cannot undo the change, so it never changes the
answer; it logs an error line carrying the whole event (what operators query anyway) and counts
ActivityLogWriteFailed. Either way the request's log line names the event (`activity`).

The raw User-Agent is stored; it is parsed only when the log is read, so no sign-in pays for the parser.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from authcore import observability
from authcore.clock import iso, now_ms
from authcore.ids import unique_id
from authcore.models.caller import Caller
from authcore.models.responses import Log, LogList
from authcore.observability import logger
from authcore.services import paging
from authcore.store import logs as logs_store

RETENTION_SECONDS = 90 * 24 * 3600

# Event names: Appwrite's audit names where one exists for the action (session.create, session.delete),
# else Appwrite's event suffixes (users.*.update.password → user.update.password) and ours for what Appwrite
# does not log (failures, factors, recovery codes). docs/security.md lists them.
SESSION_CREATED = "session.create"
SESSION_DELETED = "session.delete"
SIGN_IN_FAILED = "session.create.failed"
CHALLENGE_COMPLETED = "challenge.update"
CHALLENGE_FAILED = "challenge.update.failed"
MFA_UPDATED = "user.update.mfa"
AUTHENTICATOR_ADDED = "authenticator.create"
AUTHENTICATOR_REMOVED = "authenticator.delete"
RECOVERY_CODES_CREATED = "recoverycodes.create"
RECOVERY_CODES_REGENERATED = "recoverycodes.update"
RECOVERY_CODE_USED = "recoverycodes.use"
PASSWORD_UPDATED = "user.update.password"  # noqa: S105 - an event name  # nosec B105
PASSWORD_RECOVERED = "recovery.update"  # noqa: S105 - an event name (a password set by recovery)  # nosec B105
EMAIL_UPDATED = "user.update.email"
PHONE_UPDATED = "user.update.phone"
STATUS_UPDATED = "user.update.status"

USER = "user"  # the user's own request (Appwrite's mode)
ADMIN = "admin"  # a server API key acting on the user (the Users API)


def entry(user: dict[str, Any], event: str, caller: Caller | None, mode: str = USER) -> dict[str, Any]:
    """The log item of `event` for `user` now, with what is known of the client (nothing for None)."""
    now = now_ms()
    logger.append_keys(activity=event)
    return {
        "logId": unique_id(),
        "userId": user["userId"],
        "event": event,
        "mode": mode,
        "userEmail": user.get("email", ""),
        "userName": user.get("name", ""),
        "ip": caller.ip if caller else "",
        "userAgent": caller.user_agent[:512] if caller else "",
        "time": now,
        "ttl": now // 1000 + RETENTION_SECONDS,
    }


def record(user: dict[str, Any], event: str, caller: Caller | None, mode: str = USER) -> None:
    """Write `event` on its own, after the change it records: one PutItem, never an error for the caller."""
    item = entry(user, event, caller, mode)
    try:
        logs_store.write(item)
    except Exception:  # whatever failed, the change is made: keep the event in the log line
        public = {k: item[k] for k in ("logId", "userId", "event", "mode", "ip", "time")}
        logger.exception("activity log write failed", extra={"activityItem": public})
        observability.count("ActivityLogWriteFailed")


def list_logs(user_id: str, queries: list[str]) -> LogList:
    """The user's events newest first, with limit and offset; `total` counts at most 5,000 (as Appwrite's)."""
    limit, offset = paging.limit_offset(queries, paging.MAX_LIMIT)
    items = logs_store.newest(user_id, paging.MAX_LIMIT)
    models = [log_model(item) for item in items[offset : offset + limit]]
    return LogList(total=len(items), logs=models, data=models)


def log_model(item: dict[str, Any]) -> Log:
    return Log(
        event=item["event"],
        userId=item["userId"],
        userEmail=item.get("userEmail", ""),
        userName=item.get("userName", ""),
        mode=item.get("mode", USER),
        ip=item.get("ip", ""),
        time=iso(item["time"]),
        countryCode="",  # no geolocation database is deployed
        countryName="",
        **client_fields(item.get("userAgent", "")),
    )


MATOMO_OS_CODES = {"Windows": "WIN", "Mac OS X": "MAC", "iOS": "IOS", "Android": "AND", "Linux": "LIN",
                   "Ubuntu": "UBT", "Chrome OS": "COS", "Fedora": "FED"}  # fmt: skip
MATOMO_CLIENT_CODES = {"Chrome": "CH", "Chrome Mobile": "CM", "Firefox": "FF", "Safari": "SF",
                       "Mobile Safari": "MF", "Edge": "PS", "Opera": "OP", "Samsung Internet": "SB"}  # fmt: skip
ENGINES = {"Chrome": "Blink", "Chrome Mobile": "Blink", "Edge": "Blink", "Opera": "Blink",
           "Samsung Internet": "Blink", "Firefox": "Gecko", "Safari": "WebKit", "Mobile Safari": "WebKit"}  # fmt: skip


def _version(part: Any) -> str:
    return ".".join(v for v in (part.major, part.minor, part.patch) if v) if part else ""


@lru_cache(maxsize=256)
def client_fields(user_agent: str) -> dict[str, str]:
    """The Session/Log client fields of a User-Agent, by ua-parser (Browserscope's rules): os, client and
    device as far as it tells; the codes, engine and type ("browser") are Appwrite's (Matomo's) for the common
    browsers, any other client it names is a "library" (curl, an HTTP package), the rest ""."""
    from authcore.services import useragents  # only here: reading the log pays for the parser, no sign-in does

    agent, os_, device = useragents.parse(user_agent) if user_agent else (None, None, None)
    return {
        "osCode": MATOMO_OS_CODES.get(os_.family, "") if os_ else "",
        "osName": os_.family if os_ else "",
        "osVersion": _version(os_),
        "clientType": ("browser" if agent.family in ENGINES else "library") if agent else "",
        "clientCode": MATOMO_CLIENT_CODES.get(agent.family, "") if agent else "",
        "clientName": agent.family if agent else "",
        "clientVersion": _version(agent),
        "clientEngine": ENGINES.get(agent.family, "") if agent else "",
        "clientEngineVersion": "",
        "deviceName": "",
        "deviceBrand": (device.brand or "") if device else "",
        "deviceModel": (device.model or "") if device else "",
    }
