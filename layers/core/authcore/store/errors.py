"""What the store reports when a conditional write loses."""


class ConflictError(Exception):
    """A uniqueness condition failed: `what` names the item that was taken ("user", "email", "phone")."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


class StaleError(Exception):
    """The user item changed since it was read (optimistic lock); read again and retry."""


class SpentError(Exception):
    """A token or code is gone, expired, used, or of another kind: it cannot authorise anything."""


class LimitError(Exception):
    """A rate limit or cooldown is exhausted; `charge` (a ratelimit.Charge) names which, and
    `reset` (epoch s) says when it opens again, where the store knows better than the charge."""

    def __init__(self, charge, reset: int | None = None):
        super().__init__(charge.bucket)
        self.charge = charge
        self.reset = reset
