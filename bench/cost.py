"""The cost and scale model (docs/cost.md), computed from the bench's measurements and AWS list prices.

Prices are us-east-1 list prices as published in 2025 (written down from AWS's pricing pages; the
bench has no internet, so check them before relying on the totals). Free tiers are ignored on our
side (Lambda's and DynamoDB's are small and some expire); Cognito's 10,000-MAU free tier is shown
both ways because it never expires.
"""

from __future__ import annotations

import math
from typing import Any

from local import lambda_platform, template

PRICES = {
    "lambda_gb_s_arm64": 0.0000133334,  # $ per GB-second, first 7.5 billion GB-s a month
    "lambda_gb_s_x86_64": 0.0000166667,  # $ per GB-second, first 6 billion GB-s a month
    "lambda_request": 0.20 / 1e6,
    "apigw_rest_request": 3.50 / 1e6,  # REST API, first 333 million a month
    "dynamodb_write_unit": 0.625 / 1e6,  # on-demand, per write request unit (price of Nov 2024)
    "dynamodb_read_unit": 0.125 / 1e6,
    "dynamodb_gb_month": 0.25,
    "kms_key_month": 1.00,
    "kms_request": 0.03 / 10_000,
    "secret_month": 0.40,  # Secrets Manager: the code key
    "ses_email": 0.10 / 1000,
    "sns_sms_us": 0.00581,  # SNS transactional SMS to a US number, before carrier fees
    "logs_gb": 0.50,  # CloudWatch Logs ingestion
    # What the template deploys by default for operations (WafEnabled=true, the alarms, the dashboard).
    "waf_web_acl_month": 5.00,
    "waf_rule_month": 1.00,
    "waf_request": 0.60 / 1e6,
    "dashboard_month": 3.00,
    "alarm_month": 0.10,  # standard-resolution alarm (a Metrics Insights alarm is billed per metric it reads)
    "custom_metric_month": 0.30,  # first 10,000 metrics
}
WAF_RULES = 2  # the per-IP rate rule and the IP reputation list
ALARMS = (
    7  # template.yaml: 5xx, function errors, Lambda throttles, DynamoDB throttles, MFA failures, lockouts, SMS spend
)
# EMF metrics (one per name and dimension set, observability.count): SignIn* x 2 methods x 2 outcomes,
# Challenge* x 4 factors x 3 outcomes, CodeLockout, RecoveryCodeUsed, Email/Sms Sent/Failed, FunctionErrors.
CUSTOM_METRICS = 4 + 12 + 2 + 4 + 1
COGNITO = {  # $ per MAU and month, by tier (upper bound of the band, price); Nov 2024 tiers
    "lite": [(10_000, 0.0), (100_000, 0.0055), (1_000_000, 0.0046), (10_000_000, 0.00325), (math.inf, 0.0025)],
    "essentials": [(10_000, 0.0), (math.inf, 0.015)],
}
COGNITO_AUTH_RPS = 120  # default quota, UserAuthentication category (InitiateAuth, RespondToAuthChallenge)

MAU_TIERS = (10_000, 100_000, 1_000_000)
SIGN_INS_PER_MAU = 30
MFA_SHARE = 0.5
# A month's requests per MAU: every sign-in reads the account once; half the sign-ins add a TOTP challenge.
MIX = {
    "create_email_password_session": SIGN_INS_PER_MAU,
    "get_account": SIGN_INS_PER_MAU,
    "create_mfa_challenge": SIGN_INS_PER_MAU * MFA_SHARE,
    "update_mfa_challenge": SIGN_INS_PER_MAU * MFA_SHARE,
}
_TEMPLATE = template.load()
# MemorySize of each function, as template.yaml deploys it (Globals, or the function's own).
MEMORY_MB = {
    f.name: f.memory_mb for f in template.functions(_TEMPLATE, template.Resolver(_TEMPLATE, template.DEV_PARAMETERS))
}
# The plans the Memory section compares: what was deployed before, what is now, one whole vCPU everywhere.
PLANS = {
    "512 MB everywhere (the template before)": dict.fromkeys(MEMORY_MB, 512),
    "as deployed (template.yaml)": MEMORY_MB,
    "1,769 MB everywhere": dict.fromkeys(MEMORY_MB, 1769),
}
LAMBDA_GB_S = f"lambda_gb_s_{lambda_platform.load().architecture}"  # priced for the template's architecture
FULL_VCPU_MB = 1769  # Lambda gives one vCPU at 1,769 MB and a proportional share below it
AWS_CALL_MS = {"dynamodb": 5.0, "kms": 10.0, "ses": 50.0, "sns": 50.0, "secretsmanager": 20.0}  # assumed, in-region
LOG_BYTES_PER_REQUEST = 1200  # our request line + metrics line + Lambda's START/END/REPORT
COLD_SHARE = 0.01  # share of requests that start a container (INIT is billed since August 2025)
STORAGE_KB_PER_USER = 4
LAMBDA_CONCURRENCY = 1000  # default regional quota (raisable)
APIGW_RPS = 10_000  # default account-level REST throttle per region
DYNAMODB_NEW_TABLE_WRITES = 4_000  # write units/s a new on-demand table takes at once (doubles with traffic)
DYNAMODB_TABLE_MAX_WRITES = 40_000  # default per-table quota


def cognito(mau: int, tier: str, free_tier: bool) -> float:
    cost, below = 0.0, 0
    for upper, price in COGNITO[tier]:
        band = min(mau, upper) - below
        if band <= 0:
            break
        cost += band * (price if price or free_tier else COGNITO[tier][1][1])
        below = upper
    return cost


def cpu_share(memory_mb: int) -> float:
    """The share of a vCPU Lambda gives `memory_mb`; one single-threaded process uses one vCPU at most."""
    return min(memory_mb, FULL_VCPU_MB) / FULL_VCPU_MB


def _endpoint_model(results: dict[str, Any], name: str, memory_mb: int) -> dict[str, float]:
    """Deployed latency, billed duration, units and other calls of one request, from the measured figures."""
    from tests.integration.test_round_trips import MFA_STEPS

    warm = results["warm"]["endpoints"][name]
    share = cpu_share(memory_mb)
    calls = [call for call in warm["aws_calls"] if not call.startswith("secretsmanager:")]  # cached when warm
    if name in ("create_mfa_challenge", "update_mfa_challenge"):  # the model's factor is TOTP
        step = "totp challenge" if name == "create_mfa_challenge" else "totp completed"
        external = MFA_STEPS[step][2]
        calls = [call for call in calls if call.startswith("dynamodb:")] + external
    waiting = sum(AWS_CALL_MS[call.split(":", 1)[0]] for call in calls)
    cold = results["coldstart"]["functions"][name]["cpu_ms"] / share
    latency = warm["median_ms"] / share + waiting
    return {
        "memory_mb": memory_mb,
        "latency_ms": latency,
        "cold_start_ms": cold,
        "duration_ms": latency + COLD_SHARE * cold,
        "read_units": warm["read_units"],
        "write_units": warm["write_units"],
        "kms": sum(call.startswith("kms:") for call in calls),
    }


def model(results: dict[str, Any]) -> dict[str, Any]:
    """The cost at the template's memory, with the other memory plans priced alongside."""
    plans = {}
    for plan, memory in PLANS.items():
        priced = _model(results, memory)
        plans[plan] = {
            "sign_in_ms": priced["per_request"]["create_email_password_session"]["latency_ms"],
            "sign_in_cold_ms": priced["per_request"]["create_email_password_session"]["cold_start_ms"],
            "get_account_ms": priced["per_request"]["get_account"]["latency_ms"],
            "get_account_cold_ms": priced["per_request"]["get_account"]["cold_start_ms"],
            "lambda_10k": priced["tiers"][0]["parts"]["lambda"],
            "total_10k": priced["tiers"][0]["total"],
            "total_1m": priced["tiers"][-1]["total"],
        }
    return {**_model(results, MEMORY_MB), "plans": plans}


def _model(results: dict[str, Any], memory: dict[str, int]) -> dict[str, Any]:
    per_request = {name: _endpoint_model(results, name, memory[name]) for name in MIX}
    requests = sum(MIX.values())
    gb_s = sum(n * per_request[name]["duration_ms"] / 1000 * memory[name] / 1024 for name, n in MIX.items())
    reads = sum(n * per_request[name]["read_units"] for name, n in MIX.items())
    writes = sum(n * per_request[name]["write_units"] for name, n in MIX.items())
    kms = sum(n * per_request[name]["kms"] for name, n in MIX.items())
    per_mau = {
        "lambda": gb_s * PRICES[LAMBDA_GB_S] + requests * PRICES["lambda_request"],
        "api_gateway": requests * PRICES["apigw_rest_request"],
        "dynamodb": reads * PRICES["dynamodb_read_unit"] + writes * PRICES["dynamodb_write_unit"],
        "kms": kms * PRICES["kms_request"],
        "logs": requests * LOG_BYTES_PER_REQUEST / 1e9 * PRICES["logs_gb"],
        "operations": requests * PRICES["waf_request"],
    }
    fixed = PRICES["kms_key_month"] + PRICES["secret_month"]
    operations_fixed = (
        PRICES["waf_web_acl_month"]
        + WAF_RULES * PRICES["waf_rule_month"]
        + PRICES["dashboard_month"]
        + ALARMS * PRICES["alarm_month"]
        + PRICES["kms_key_month"]  # the alarm topic's key (CloudWatch cannot use the AWS managed one)
        + CUSTOM_METRICS * PRICES["custom_metric_month"]
    )
    challenges = SIGN_INS_PER_MAU * MFA_SHARE
    tiers = []
    for mau in MAU_TIERS:
        parts = {key: value * mau for key, value in per_mau.items()}
        parts["operations"] += operations_fixed
        parts["storage_and_fixed"] = fixed + mau * STORAGE_KB_PER_USER / 1e6 * PRICES["dynamodb_gb_month"]
        total = sum(parts.values())
        tiers.append(
            {
                "mau": mau,
                "parts": parts,
                "total": total,
                "if_email_challenges": total + mau * challenges * PRICES["ses_email"],
                "sms_if_sms_challenges": mau * challenges * PRICES["sns_sms_us"],
                "cognito_lite": cognito(mau, "lite", free_tier=True),
                "cognito_lite_list": cognito(mau, "lite", free_tier=False),
                "cognito_essentials": cognito(mau, "essentials", free_tier=True),
                "cognito_essentials_list": cognito(mau, "essentials", free_tier=False),
            }
        )
    sign_in = per_request["create_email_password_session"]
    flow_ms = sum(per_request[name]["duration_ms"] for name in MIX)
    return {
        "per_request": per_request,
        "requests_per_mau": requests,
        "per_mau": per_mau,
        "tiers": tiers,
        "throughput": {
            "sign_ins_per_s_lambda": LAMBDA_CONCURRENCY / (sign_in["duration_ms"] / 1000),
            "mfa_flows_per_s_lambda": LAMBDA_CONCURRENCY / (flow_ms / 1000),
            "sign_ins_per_s_new_table": DYNAMODB_NEW_TABLE_WRITES / sign_in["write_units"],
            "sign_ins_per_s_table_quota": DYNAMODB_TABLE_MAX_WRITES / sign_in["write_units"],
            "api_gateway_rps": APIGW_RPS,
            "cognito_rps": COGNITO_AUTH_RPS,
        },
    }


def _usd(value: float) -> str:
    return f"${value:,.2f}" if value < 1000 else f"${value:,.0f}"


def document(results: dict[str, Any]) -> str:
    from bench.report import table

    c, t = results["cost"], results["cost"]["throughput"]
    per_request = table(
        ["endpoint", "per MAU and month", "MemorySize", "latency ms", "cold start ms", "billed ms (average)",
         "read units", "write units", "KMS calls"],
        [
            [f"`{name}`", f"{n:g}", f"{r['memory_mb']:,} MB", f"{r['latency_ms']:.0f}", f"{r['cold_start_ms']:.0f}",
             f"{r['duration_ms']:.0f}", f"{r['read_units']:g}", f"{r['write_units']:g}", r["kms"]]
            for name, n in MIX.items()
            for r in [c["per_request"][name]]
        ],
    )  # fmt: skip
    parts = ["lambda", "api_gateway", "dynamodb", "kms", "logs", "operations", "storage_and_fixed"]
    monthly = table(
        ["MAU", "Lambda", "API Gateway", "DynamoDB", "KMS", "Logs", "WAF, alarms, dashboard, metrics",
         "storage + fixed", "**total (TOTP)**",
         "total if email challenges", "Cognito Lite: free tier (none)", "Cognito Essentials: free tier (none)",
         "SMS if SMS challenges (+ carrier fees)"],
        [
            [f"{tier['mau']:,}", *(_usd(tier["parts"][p]) for p in parts), f"**{_usd(tier['total'])}**",
             _usd(tier["if_email_challenges"]), f"{_usd(tier['cognito_lite'])} ({_usd(tier['cognito_lite_list'])})",
             f"{_usd(tier['cognito_essentials'])} ({_usd(tier['cognito_essentials_list'])})",
             _usd(tier["sms_if_sms_challenges"])]
            for tier in c["tiers"]
        ],
    )  # fmt: skip
    throughput = table(
        ["limit", "sign-ins per second"],
        [
            ["Cognito, default quota for sign-in operations (UserAuthentication)",
             f"{t['cognito_rps']} requests/s (a TOTP sign-in is 2 requests)"],
            ["Lambda, 1,000 concurrent executions (default), password sign-in at the duration above",
             f"{t['sign_ins_per_s_lambda']:,.0f}"],
            ["Lambda, whole MFA flow (sign-in + challenge + complete + GET account)",
             f"{t['mfa_flows_per_s_lambda']:,.0f} flows/s"],
            ["DynamoDB on-demand, new table (4,000 write units/s at once)", f"{t['sign_ins_per_s_new_table']:,.0f}"],
            ["DynamoDB on-demand, default table quota (40,000 write units/s)",
             f"{t['sign_ins_per_s_table_quota']:,.0f}"],
            ["API Gateway REST, default account throttle", f"{t['api_gateway_rps']:,} requests/s"],
        ],
    )  # fmt: skip
    prices = table(
        ["price", "$"], [[f"`{key}`", f"{value:.10f}".rstrip("0").rstrip(".")] for key, value in PRICES.items()]
    )
    latencies = ", ".join(f"{service} {ms:g} ms" for service, ms in AWS_CALL_MS.items())
    memory_plans = table(
        ["memory", "sign-in ms", "sign-in cold start ms", "GET /account ms", "GET /account cold start ms",
         "Lambda, 10k MAU", "total, 10k MAU", "total, 1M MAU"],
        [[plan, f"{p['sign_in_ms']:.0f}", f"{p['sign_in_cold_ms']:,.0f}", f"{p['get_account_ms']:.0f}",
          f"{p['get_account_cold_ms']:,.0f}", _usd(p["lambda_10k"]), _usd(p["total_10k"]), _usd(p["total_1m"])]
         for plan, p in c["plans"].items()],
    )  # fmt: skip
    before, now, full = c["plans"].values()
    return _DOCUMENT.format(
        sign_in_before=f"{before['sign_in_ms']:.0f}",
        sign_in_now=f"{now['sign_in_ms']:.0f}",
        sign_in_cold_before=f"{before['sign_in_cold_ms']:,.0f}",
        sign_in_cold_now=f"{now['sign_in_cold_ms']:,.0f}",
        cold_before=f"{before['get_account_cold_ms']:,.0f}",
        cold_now=f"{now['get_account_cold_ms']:,.0f}",
        cold_full=f"{full['get_account_cold_ms']:,.0f}",
        lambda_before=_usd(before["lambda_10k"]),
        lambda_now=_usd(now["lambda_10k"]),
        lambda_full=_usd(full["lambda_10k"]),
        memory_plans=memory_plans,
        memory_per_function=_memory_table(results),
        date=results["date"],
        sign_ins=SIGN_INS_PER_MAU,
        mfa_share=f"{MFA_SHARE:.0%}",
        requests=f"{c['requests_per_mau']:g}",
        full_vcpu=f"{FULL_VCPU_MB:,}",
        default_memory=f"{_TEMPLATE['Globals']['Function']['MemorySize']:,}",
        default_share=f"{cpu_share(_TEMPLATE['Globals']['Function']['MemorySize']):.2f}",
        latencies=latencies,
        cold_share=f"{COLD_SHARE:.0%}",
        storage=STORAGE_KB_PER_USER,
        log_bytes=LOG_BYTES_PER_REQUEST,
        per_request=per_request,
        monthly=monthly,
        throughput=throughput,
        prices=prices,
    )


def _memory_table(results: dict[str, Any]) -> str:
    """Every function: its MemorySize, what it measured (cold start as deployed, warm, peak RSS), and
    what that memory makes of the cold start."""
    from bench.report import table

    cold, warm = results["coldstart"]["functions"], results["warm"]["endpoints"]
    rows = []
    for name in sorted(MEMORY_MB, key=lambda n: (-MEMORY_MB[n], n)):
        memory = MEMORY_MB[name]
        if name not in cold or name not in warm:  # the social sign-in functions: the walks need a provider
            rows.append([f"`{name}`", f"{memory:,}", f"{cpu_share(memory):.2f}", "—", "—", "—", "—", ""])
            continue
        rows.append(
            [f"`{name}`", f"{memory:,}", f"{cpu_share(memory):.2f}", f"{cold[name]['peak_rss_mib']:.0f}",
             f"{cold[name]['cpu_ms']:.0f}", f"{cold[name]['cpu_ms'] / cpu_share(memory):,.0f}",
             f"{warm[name]['median_ms']:.1f}", "yes" if warm[name]["hashes_password"] else ""]
        )  # fmt: skip
    return table(
        ["function", "MemorySize MB", "vCPU", "peak RSS MiB (cold start)", "cold start CPU ms (bench)",
         "cold start ms at this memory", "warm CPU ms (bench)", "Argon2id"],
        rows,
    )  # fmt: skip


_DOCUMENT = """# Cost and scale

Generated by `make bench` (`bench/cost.py`) from the measurements of the run of {date}
(docs/performance.md) and AWS list prices; rerun it and this file follows the new figures.

## Assumptions

- **Usage**: each monthly active user (MAU) signs in {sign_ins} times a month with email and password;
  every sign-in reads the account once (`GET /account`); {mfa_share} of the sign-ins add an MFA
  challenge with an authenticator app (TOTP: create + complete). That is {requests} API requests per
  MAU a month. Email and SMS challenges are shown as alternatives.
- **Prices**: us-east-1 list prices as published in 2025, written from AWS's pricing pages without
  internet access at generation time: check them before quoting. AWS free tiers are ignored on our
  side; Cognito is shown with its 10,000-MAU free tier and, in brackets, without it.
- **Lambda duration**: the measured warm CPU time of each endpoint (performance.md, *total*, which
  includes the SDK) scaled to the CPU share of its MemorySize (Lambda gives one vCPU at {full_vcpu} MB
  and a proportional share below; the same speed per core as the bench machine is assumed), plus
  assumed in-region latencies per AWS call ({latencies}), plus {cold_share} of requests paying the
  measured cold start as deployed (scaled the same way; INIT is billed). The sign-in is dominated by Argon2id (19 MiB,
  t=2), which is the point of it. The challenge endpoints were measured with an email code (the
  walk's first call); a TOTP challenge does less, so their durations and write units are upper bounds.
- **DynamoDB**: the units the measured calls consume if every item read is <= 4 KB and every item
  written <= 1 KB (transactions count twice); if profiles grow past 1 KB, writes cost proportionally
  more. Storage {storage} KB per user.
- **Fixed**: one KMS key and one Secrets Manager secret (the code key, read once per container).
  **Logs**: {log_bytes} bytes of CloudWatch Logs per request.
- **Operations** (template defaults): the WAF web ACL with its two rules and $0.60 per million requests,
  the dashboard, the seven alarms, their topic's KMS key ($1) and the EMF custom metrics ($0.30 each).
  `WafEnabled=false` saves the WAF part; about $19 a month is fixed whatever the traffic.
- **Not included**: data transfer out, the custom domain (Route 53), X-Ray traces beyond the free tier.

## Per request (measured, then scaled to a deployment)

{per_request}

## Memory

Lambda sizes a function's CPU with its memory: one vCPU at {full_vcpu} MB, a proportional share
below. Every function here is single-threaded Python (Argon2id runs with parallelism 1), so more
than {full_vcpu} MB buys nothing, and RAM is never the constraint: a cold start peaks at 60-80 MiB
(the table below; Argon2id adds its 19 MiB). So the memory is chosen for the CPU it brings:

- **Argon2id functions: 1,769 MB**, one whole vCPU. The hash is pure CPU: its billed GB-seconds are
  the same at any memory up to one vCPU (half the CPU, twice the time), so a whole vCPU makes the
  sign-in {sign_in_before} ms -> {sign_in_now} ms warm and {sign_in_cold_before} -> {sign_in_cold_now} ms
  cold (against 512 MB) at the same cost for the hash; only the sign-in's DynamoDB waits bill more.
  These are the functions whose walk hashes or verifies a password (`tests/integration/test_memory.py`
  checks the template against it).
- **Every other function: {default_memory} MB** (Globals, {default_share} vCPU). Their warm requests
  are mostly waiting for DynamoDB, which costs in proportion to memory and goes no faster with more
  CPU, while their cold start is pure CPU: `GET /account` starts in {cold_before} ms at 512 MB,
  {cold_now} ms at {default_memory} MB, {cold_full} ms at 1,769 MB. Lambda's share of the bill is small
  either way (the table: {lambda_before}, {lambda_now} and {lambda_full} a month at 10k MAU), so the
  choice is the cold-start tail against a few percent of the Lambda line; {default_memory} MB takes
  most of the gain. Globals' `MemorySize` is the one line to change for the other trade.

{memory_plans}

Per function, from this run (cold start as deployed: the layer's bytecode, no cache, up to the end
of the first request; warm: our code and the SDK per request, performance.md):

{memory_per_function}

## Monthly cost

{monthly}

SMS is priced separately because it dominates everything else when used: it is the same SNS price
under Cognito, whose SMS MFA also goes through SNS. Cognito Lite includes TOTP and SMS MFA;
email MFA needs Essentials.

## Throughput

{throughput}

All of these are default quotas that can be raised; Lambda's concurrency is shared with every other
function in the account and region (new accounts may start lower than 1,000). The local stack's
single-container throughput is in performance.md (*Load*).

## Prices used

{prices}
"""
