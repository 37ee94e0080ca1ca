"""`python -m admin.jwt_keys`: list, publish and retire the keys that sign JWTs (docs/operations.md).

Run by the deployer with AWS credentials for the stack's account; never reachable through the API.
Rotation: publish the new key, wait for caches, deploy with JwtSigningKeyArn set to it, retire the old one.

    python -m admin.jwt_keys list --table T
    python -m admin.jwt_keys publish --table T --key arn:aws:kms:REGION:ACCOUNT:key/ID
    python -m admin.jwt_keys retire --table T KID [--now]
"""

from __future__ import annotations

import argparse
import sys

from admin import use_table


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m admin.jwt_keys", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("list", "publish", "retire"):
        command = commands.add_parser(name)
        command.add_argument("--table", required=True, help="the stack's TableName output")
        if name == "publish":
            command.add_argument("--key", required=True, help="the new KMS key (RSA_2048, SIGN_VERIFY): id or ARN")
        if name == "retire":
            command.add_argument("kid", metavar="KID")
            command.add_argument(
                "--now", action="store_true", help="a compromised key: drop it at once, refusing its live tokens"
            )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    use_table(args.table)
    from botocore.exceptions import ClientError

    from authcore.clock import iso
    from authcore.services import jwts
    from authcore.store import signing_keys

    if args.command == "list":
        published = {key["kid"] for key in jwts.published(signing_keys.get_keys())}
        for entry in sorted(signing_keys.get_keys(), key=lambda k: k["publishedAt"]):
            state = "published" if entry["kid"] in published else "withdrawn"
            retired = f"  retired {iso(entry['retiredAt'])}" if entry.get("retiredAt") else ""
            print(f"{entry['kid']}  {entry['kms']}  {state}  since {iso(entry['publishedAt'])}{retired}")
    elif args.command == "publish":
        entry = jwts.publish_key(args.key)
        print(f"Published {entry['kid']} ({entry['kms']}). Deploy with JwtSigningKeyArn={entry['kms']} in 1 hour.")
    else:
        try:
            jwts.retire_key(args.kid, at_once=args.now)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            print(f"error: no key {args.kid}", file=sys.stderr)
            return 1
        print(f"Retired {args.kid}" + (": withdrawn now." if args.now else ": withdrawn when its tokens expire."))
    return 0


if __name__ == "__main__":
    sys.exit(main())
