"""Every test process runs with the template's function environment and fake AWS credentials.

Settings are read once per process, so they are set here, before any authcore import.
"""

import os

from local import aws, template

TEMPLATE = template.load()
FUNCTIONS = {f.name: f for f in template.functions(TEMPLATE)}

aws.fake_environment(template.REGION)
os.environ.update(next(iter(FUNCTIONS.values())).environment)
os.environ.update(POWERTOOLS_LOG_LEVEL="WARNING", LOG_LEVEL="WARNING")
