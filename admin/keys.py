"""`python -m admin.keys`: create, list and revoke server API keys in a deployed stack's table.

Run by the deployer with AWS credentials for the stack's account; never reachable through the API.
The key string is printed once, by `create`; the table keeps only a hash of its secret.

    python -m admin.keys create --table T --name ssr-app --scopes sessions.write [--expires 2027-01-31T00:00:00Z]
    python -m admin.keys list --table T
    python -m admin.keys revoke --table T KEYID
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from admin import use_table


def _expiry_ms(value: str | None) -> int:
    """ISO 8601 (a time without an offset is UTC) as epoch ms; 0 (never) when not given."""
    if not value:
        return 0
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m admin.keys", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("create", "list", "revoke"):
        command = commands.add_parser(name)
        command.add_argument("--table", required=True, help="the stack's TableName output")
        if name == "create":
            command.add_argument("--name", required=True, help="who uses the key (shown in logs and audit records)")
            command.add_argument("--scopes", required=True, help="comma-separated: users.read,users.write,...")
            command.add_argument("--expires", help="ISO 8601 date-time; default: never")
        if name == "revoke":
            command.add_argument("key_id", metavar="KEYID")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    use_table(args.table)
    from authcore.clock import iso
    from authcore.services import apikeys
    from authcore.store import apikeys as apikeys_store

    if args.command == "create":
        try:
            item, key = apikeys.create_key(args.name, args.scopes.split(","), _expiry_ms(args.expires))
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        print(f"Created key {item['keyId']} ({item['name']}: {', '.join(item['scopes'])}).")
        print("The key (shown only now; send it as X-Appwrite-Key):")
        print(key)
    elif args.command == "list":
        for item in sorted(apikeys_store.list_keys(), key=lambda k: k["createdAt"]):
            expires = iso(item["expire"]) or "never"
            print(
                f"{item['keyId']}  {item['name']}  {','.join(item['scopes'])}  created {iso(item['createdAt'])}"
                f"  expires {expires}"
            )
    elif not apikeys_store.delete_key(args.key_id):
        print(f"error: no key {args.key_id}", file=sys.stderr)
        return 1
    else:
        print(f"Revoked key {args.key_id}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
