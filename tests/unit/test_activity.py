"""The activity log's client fields (parsed from the stored User-Agent when the log is read) and its cold path."""

import subprocess
import sys
from pathlib import Path

from authcore.models.caller import Caller
from authcore.services import activity

ROOT = Path(__file__).resolve().parents[2]
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
FIREFOX_ON_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


def test_a_phone_browser():
    fields = activity.client_fields(IPHONE)
    assert (fields["osCode"], fields["osName"], fields["osVersion"]) == ("IOS", "iOS", "17.5")
    assert (fields["clientCode"], fields["clientName"], fields["clientEngine"]) == ("MF", "Mobile Safari", "WebKit")
    assert (fields["deviceBrand"], fields["deviceModel"]) == ("Apple", "iPhone")


def test_a_desktop_browser():
    fields = activity.client_fields(FIREFOX_ON_WINDOWS)
    assert (fields["osCode"], fields["osName"]) == ("WIN", "Windows")
    assert (fields["clientType"], fields["clientCode"], fields["clientName"]) == ("browser", "FF", "Firefox")
    assert (fields["clientVersion"], fields["clientEngine"]) == ("133.0", "Gecko")


def test_unknown_or_missing_user_agents_give_empty_fields():
    for user_agent in ("", "AppwritePythonSDK/27.0.0"):
        fields = activity.client_fields(user_agent)
        assert set(fields) == set(activity.client_fields(IPHONE))
        assert set(fields.values()) == {""}


def test_a_client_that_is_no_browser_is_a_library():
    fields = activity.client_fields("curl/8.5.0")
    assert (fields["clientType"], fields["clientName"], fields["clientVersion"]) == ("library", "curl", "8.5.0")
    assert (fields["clientCode"], fields["clientEngine"], fields["osName"]) == ("", "", "")


def test_an_entry_keeps_the_raw_user_agent_at_most_512_chars():
    caller = Caller(ip="203.0.113.9", user_agent="x" * 600, credential=None)
    item = activity.entry({"userId": "u1", "email": "a@example.com"}, activity.SESSION_CREATED, caller)
    assert (item["userAgent"], item["ip"], item["userName"], item["mode"]) == ("x" * 512, "203.0.113.9", "", "user")
    assert item["ttl"] - item["time"] // 1000 == activity.RETENTION_SECONDS


def test_sign_in_never_imports_the_user_agent_parser():
    """The parser loads only when a log is read: the sign-in functions' modules stay off it (cold start)."""
    program = (
        "import sys, authcore.services.sessions, authcore.services.otp, authcore.services.challenges;"
        "assert 'ua_parser' not in sys.modules, 'ua_parser imported'"
    )
    subprocess.run([sys.executable, "-c", program], cwd=ROOT / "layers" / "core", check=True)
