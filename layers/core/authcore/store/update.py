"""A builder for one item's update expression, so several concerns can share one write."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from authcore.store.table import marshal, table_name


@dataclass
class ProfileUpdate:
    """SET / ADD / REMOVE clauses and AND-ed conditions with generated placeholders.

    Attribute names may be any string (a session digest, say); a map entry is a tuple path.
    """

    _sets: list[str] = field(default_factory=list)
    _adds: list[str] = field(default_factory=list)
    _removes: list[str] = field(default_factory=list)
    _conditions: list[str] = field(default_factory=list)
    _names: dict[str, str] = field(default_factory=dict)
    _values: dict[str, Any] = field(default_factory=dict)

    def name(self, *path: str) -> str:
        parts = []
        for part in path:
            placeholder = next((k for k, v in self._names.items() if v == part), None)
            if placeholder is None:
                placeholder = f"#n{len(self._names)}"
                self._names[placeholder] = part
            parts.append(placeholder)
        return ".".join(parts)

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self._values)}"
        self._values[placeholder] = value
        return placeholder

    def set(self, attribute: str | tuple[str, ...], value: Any) -> ProfileUpdate:
        path = (attribute,) if isinstance(attribute, str) else attribute
        self._sets.append(f"{self.name(*path)} = {self.value(value)}")
        return self

    def add(self, attribute: str, amount: int) -> ProfileUpdate:
        self._adds.append(f"{self.name(attribute)} {self.value(amount)}")
        return self

    def remove(self, attribute: str | tuple[str, ...]) -> ProfileUpdate:
        path = (attribute,) if isinstance(attribute, str) else attribute
        self._removes.append(self.name(*path))
        return self

    def condition(self, expression: str) -> ProfileUpdate:
        """An AND-ed condition written with placeholders from name() and value()."""
        self._conditions.append(f"({expression})")
        return self

    def condition_equals(self, attribute: str, value: Any) -> ProfileUpdate:
        """`attribute` holds `value`; an empty string also matches a missing attribute."""
        check = f"{self.name(attribute)} = {self.value(value)}"
        if value == "":
            check = f"attribute_not_exists({self.name(attribute)}) OR {check}"
        return self.condition(check)

    def as_update(self, key: dict[str, str], must_exist: bool = True) -> dict[str, Any]:
        """The Update (for update_item or a transaction item)."""
        clauses = []
        if self._sets:
            clauses.append("SET " + ", ".join(self._sets))
        if self._adds:
            clauses.append("ADD " + ", ".join(self._adds))
        if self._removes:
            clauses.append("REMOVE " + ", ".join(self._removes))
        conditions = (["attribute_exists(pk)"] if must_exist else []) + self._conditions
        update: dict[str, Any] = {
            "TableName": table_name(),
            "Key": marshal(key),
            "UpdateExpression": " ".join(clauses),
            "ExpressionAttributeNames": dict(self._names),
        }
        if conditions:
            update["ConditionExpression"] = " AND ".join(conditions)
        if self._values:
            update["ExpressionAttributeValues"] = marshal(self._values)
        return update
