"""AWS clients, made from one botocore session per container.

botocore's own session rather than boto3's: the clients are the same (boto3 adds behaviour to its
resources only), and `import boto3` also imports s3transfer and multiprocessing, about 7 ms of CPU
at every cold start (docs/performance-cuts.md). Each module keeps the clients it creates.
"""

from typing import Any

from botocore.config import Config
from botocore.session import Session

_session: Session | None = None


def create(service: str, config: Config) -> Any:
    """A new client of `service`, with the region and credentials of the environment (as boto3.client)."""
    global _session
    if _session is None:
        _session = Session()
    return _session.create_client(service, config=config)
