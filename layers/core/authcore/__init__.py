"""Shared code of every function: account, session and MFA rules over DynamoDB.

Each function imports only the submodules it needs. Importing the package turns Python's cyclic
garbage collector off until the function's handler is built (`init_done`, called by
observability.logged, which wraps every handler): init creates hundreds of thousands of objects
(botocore's service models, Powertools, pydantic) and almost none of them is garbage, so the
collections it would trigger are wasted CPU on every cold start. gc.freeze() then keeps those objects
out of every later collection as well.
"""

import gc

gc.disable()


def init_done() -> None:
    """The first handler of the process is built: freeze what init made and collect as usual again.
    Later calls (a test process builds many handlers) find the collector on and do nothing."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
