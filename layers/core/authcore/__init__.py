"""Shared code of every function: account, session and MFA rules over DynamoDB.

Each function imports only the submodules it needs. Importing the package turns Python's cyclic
garbage collector off until the function's first request is answered (`init_done`, called by
observability.logged, which wraps every handler): the import and the first request (the AWS client,
the route's validation models) create hundreds of thousands of objects and almost none of them is
garbage, so the collections they would trigger are wasted CPU on every cold start. gc.freeze() then
keeps those objects out of every later collection as well.

It also keeps botocore on the standard library's TLS: botocore takes its SSLContext from urllib3's
pyOpenSSL shim whenever pyOpenSSL is importable, and the layer carries pyOpenSSL only for py_webauthn's
attestation certificate chains. The shim's class is the standard one either way; importing it would
load pyOpenSSL and cryptography's X.509 module (about 20 ms) at every cold start.
"""

import gc
import sys

gc.disable()
sys.modules.setdefault("urllib3.contrib.pyopenssl", None)  # imports of it raise ImportError


def init_done() -> None:
    """The process's first request is answered: freeze what init made and collect as usual again.
    Later calls find the collector on and do nothing."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
