"""authcore/services/useragents.py finds what ua-parser finds, compiling only the rules that can match."""

import subprocess
import sys
from itertools import chain
from pathlib import Path

import pytest
from ua_parser import BasicResolver, Domain, load_builtins, load_lazy_builtins

from authcore.services import useragents
from local import ua_literals

ROOT = Path(__file__).resolve().parents[2]
# Real User-Agents: browsers on desktops, phones and tablets, SDKs, HTTP libraries, bots, in-app browsers,
# and a few odd ones (upper case for the case-insensitive rules, non-ASCII, empty parts).
USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
    "Safari/537.36 Edg/131.0.2903.86",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
    "Safari/537.36 OPR/115.0.0.0",
    "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 "
    "Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (X11; Fedora; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 "
    "Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 "
    "Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile "
    "Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8 Pro) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 "
    "Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 12; M2101K6G) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile "
    "Safari/537.36",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
    "Mozilla/5.0 (Linux; Android 11; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/131.2.1 like Chrome/131.0.0.0 "
    "Safari/537.36",
    "Mozilla/5.0 (Linux; Android 9; SM-T510) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; U; Android 4.0.3; ko-kr; LG-L160L Build/IML74K) AppleWebkit/534.30 (KHTML, like Gecko) "
    "Version/4.0 Mobile Safari/534.30",
    "Mozilla/5.0 (Linux; Android 13; 2201116SG Build/TKQ1.221114.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Version/4.0 Chrome/131.0.6778.81 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/489.0.0.58.107;]",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
    "Instagram 356.0.0.41.101 (iPhone14,5; iOS 17_4; en_US; en; scale=3.00; 1170x2532; 657427164)",
    "Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.14977",
    "Mozilla/5.0 (BlackBerry; U; BlackBerry 9900; en) AppleWebKit/534.11+ (KHTML, like Gecko) Version/7.1.0.346 "
    "Mobile Safari/534.11+",
    "Opera/9.80 (J2ME/MIDP; Opera Mini/9.80 (S60; SymbOS; Opera Mobi/23.348; U; en) Presto/2.5.25 Version/10.54",
    "Nokia6230i/2.0 (03.80) Profile/MIDP-2.0 Configuration/CLDC-1.1",
    "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko)",
    "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 "
    "Chrome/76.0.3809.146 TV Safari/537.36",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "AppwritePythonSDK/27.0.0 (Linux; x86_64; 3.11)",
    "AppwriteNodeJSSDK/14.0.0 (linux; x64; v20)",
    "AppwriteWebSDK/16.0.0",
    "NuvixJSSDK/1.0.0",
    "curl/8.5.0",
    "Wget/1.21.4",
    "python-requests/2.32.3",
    "python-httpx/0.28.1",
    "Python-urllib/3.13",
    "okhttp/4.12.0",
    "Dart/3.5 (dart:io)",
    "axios/1.7.9",
    "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
    "PostmanRuntime/7.43.0",
    "Go-http-client/2.0",
    "Apache-HttpClient/4.5.14 (Java/17.0.9)",
    "MyApp/1.2.3 CFNetwork/1496.0.7 Darwin/23.5.0",
    "MOZILLA/5.0 (IPHONE; CPU IPHONE OS 17_5 LIKE MAC OS X) APPLEWEBKIT/605.1.15 (KHTML, LIKE GECKO) MOBILE/15E148",
    "Mozilla/5.0 (Linux; Android 14; GALAXY S24) WAP-Browser/1.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/131.0.0.0 Mobile Safari/537.36 Ünïcödé/1.0",
    "Mozilla/5.0 (Linux; Android 14; \u017famsung SM-S918B) Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; \u212aindle) AppleWebKit/537.36",
    "Mozilla/5.0",
    "Mozilla/5.0 ()",
    "x",
    "-",
]
DOMAINS = (Domain.USER_AGENT, Domain.OS, Domain.DEVICE)


@pytest.mark.parametrize("user_agent", USER_AGENTS)
def test_finds_what_ua_parser_finds(user_agent):
    expected = BasicResolver(load_builtins())(user_agent, Domain.ALL)
    assert useragents.parse(user_agent) == (expected.user_agent, expected.os, expected.device)


def test_every_rule_that_matches_a_user_agent_has_its_required_text_in_it():
    """Each rule on its own, not only the first that matches: a requirement never skips a rule that matches."""
    matchers, requirements = useragents._rules()
    assert requirements is ua_literals_module().REQUIREMENTS
    checked = 0
    for user_agent in filter(str.isascii, USER_AGENTS):
        for matcher, need in zip(chain.from_iterable(matchers), chain.from_iterable(requirements), strict=True):
            if need is not None and matcher(user_agent):
                fold, required = need
                text = user_agent.lower() if fold else user_agent
                for alternatives in required:
                    assert any(alternative in text for alternative in alternatives), (matcher, need, user_agent)
                checked += 1
    assert checked > 3 * len(USER_AGENTS) // 2


def test_the_table_is_made_from_the_installed_rules():
    """Fails after a ua-parser-builtins upgrade until `python -m local.ua_literals --write` is run."""
    assert ua_literals.TARGET.read_text() == ua_literals.source(load_lazy_builtins())


def test_rules_other_than_the_tables_are_all_tried(monkeypatch):
    useragents._rules.cache_clear()
    monkeypatch.setattr(useragents, "DIGEST", "another version of the rules")
    try:
        _, requirements = useragents._rules()
        assert {need for domain in requirements for need in domain} == {None}
        assert useragents.parse(USER_AGENTS[0])[0].family == "Chrome"
    finally:
        useragents._rules.cache_clear()


def test_a_desktop_browser_compiles_few_rules():
    """The point of the table: ua-parser itself compiles all ~1,300 rules before parsing the first User-Agent."""
    program = (
        "from itertools import chain; from authcore.services import useragents;"
        f"useragents.parse({USER_AGENTS[0]!r});"
        "print(sum('pattern' in vars(m) for m in chain.from_iterable(useragents._rules()[0])))"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT / "layers" / "core", check=True, capture_output=True, text=True
    )
    assert int(done.stdout) < 40


def ua_literals_module():
    from authcore.services import ua_literals as table

    return table
