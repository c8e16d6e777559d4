"""Topic and keyword rules: messages that a person should handle, with a category and priority.

Rules live in a YAML file (HELPDESK_KEYWORD_RULES_PATH), so support teams change them
without code. Patterns are case-insensitive regular expressions, in any language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from escalation.errors import KeywordRulesError
from escalation.models import Priority


@dataclass(frozen=True)
class KeywordRule:
    name: str
    category: str
    priority: Priority
    patterns: tuple[re.Pattern[str], ...]

    def matches(self, text: str) -> bool:
        return any(pattern.search(text) for pattern in self.patterns)


def load_keyword_rules(path: Path) -> tuple[KeywordRule, ...]:
    """The rules in ``path``, in file order (the first match wins); none if it is absent."""
    if not path.exists():
        return ()
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return tuple(_rule(raw, path) for raw in document.get("rules") or [])


def first_match(rules: tuple[KeywordRule, ...], text: str) -> KeywordRule | None:
    return next((rule for rule in rules if rule.matches(text)), None)


def _rule(raw: object, path: Path) -> KeywordRule:
    if not isinstance(raw, dict) or not raw.get("name"):
        raise KeywordRulesError(f"{path}: every rule needs a name, got {raw!r}")
    name = str(raw["name"])
    try:
        patterns = tuple(re.compile(str(p), re.IGNORECASE) for p in raw.get("patterns") or [])
        priority = Priority(raw.get("priority", Priority.NORMAL))
    except (re.error, ValueError) as error:
        raise KeywordRulesError(f"{path}: rule {name!r}: {error}") from error
    if not patterns:
        raise KeywordRulesError(f"{path}: rule {name!r} has no patterns")
    return KeywordRule(name, str(raw.get("category") or name), priority, patterns)
