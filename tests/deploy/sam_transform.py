"""Print what CloudFormation deploys from a SAM template: SAM's transform of it, as JSON.

Run by the SAM CLI's Python (.tools, where samtranslator lives; it clashes with the test venv):
`.tools/bin/python tests/deploy/sam_transform.py < template.json`. Offline, as `sam validate` does
it: local code folders become placeholder S3 URIs (they change no resource count) and no managed
policy is looked up (the template names none). Needs a region: AWS_DEFAULT_REGION.
"""

import json
import sys

from samcli.yamlhelper import yaml_parse
from samtranslator.translator.transform import transform

ARTIFACT_PROPERTIES = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}


class NoManagedPolicies:
    def load(self) -> dict[str, str]:
        return {}


def main() -> None:
    template = yaml_parse(sys.stdin.read())
    for logical_id, resource in template["Resources"].items():
        if prop := ARTIFACT_PROPERTIES.get(resource["Type"]):
            resource["Properties"][prop] = f"s3://artifacts/{logical_id}"
    json.dump(transform(template, {}, NoManagedPolicies()), sys.stdout)


if __name__ == "__main__":
    main()
