"""How a binding's keys are written on screen: one spelling for the help screen and the key bar.

Textual names keys as the terminal reports them: ``y`` and ``Y`` are two keys (the second is
Shift-Y), ``ctrl+@`` is what many terminals send for Ctrl-Space. A letter keeps its case as a
letter and says Shift when upper-case; two names for one key are written once.

>>> keys_label("ctrl+@,ctrl+space")
'Ctrl-Space'
>>> keys_label("y"), keys_label("Y"), keys_label("home,g,ctrl+home")
('y', 'Shift-Y', 'Home / g / Ctrl-Home')
>>> keys_label("ctrl+j,f5,ctrl+enter")
'Ctrl-J / F5 / Ctrl-Enter'
>>> key_label("ctrl+shift+pageup"), key_label("alt+w"), key_label("slash")
('Ctrl-Shift-PgUp', 'Alt-W', '/')
>>> short_label("ctrl+q"), short_label("alt+w"), short_label("escape"), short_label("f10")
('^Q', 'M-W', 'Esc', 'F10')
"""

from __future__ import annotations

_NAMES = {
    "ctrl": "Ctrl", "alt": "Alt", "shift": "Shift", "super": "Super", "escape": "Esc", "enter": "Enter",
    "pageup": "PgUp", "pagedown": "PgDn", "underscore": "_", "slash": "/", "space": "Space", "@": "Space",
    "backspace": "Backspace", "delete": "Del", "insert": "Ins", "tab": "Tab", "home": "Home", "end": "End",
    "up": "Up", "down": "Down", "left": "Left", "right": "Right", "circumflex_accent": "^",
    "left_square_bracket": "[", "right_square_bracket": "]",
}


def key_label(key: str) -> str:
    """One key as a person reads it: ``ctrl+j`` -> ``Ctrl-J``, ``G`` -> ``Shift-G``."""
    parts = [p for p in key.strip().split("+") if p] or [key]
    *modifiers, name = parts
    words = [_NAMES.get(m, m.capitalize()) for m in modifiers]
    if len(name) == 1 and name.isalpha():
        if name.isupper() and "shift" not in modifiers:
            words.append("Shift")
        words.append(name.upper() if modifiers or name.isupper() else name)
    else:
        words.append(_NAMES.get(name, name.upper() if len(name) <= 3 else name.capitalize()))
    return "-".join(words)


def keys_label(keys: str) -> str:
    """A binding's keys (``ctrl+j,f5``) as ``Ctrl-J / F5``, each spelling once."""
    return " / ".join(dict.fromkeys(key_label(k) for k in keys.split(",") if k.strip()))


def short_label(key: str) -> str:
    """One key as the key bar writes it, in few cells: ``^Q``, ``M-W``, ``F5``, ``Esc``."""
    label = key_label(key)
    return label.replace("Ctrl-", "^").replace("Alt-", "M-")


__all__ = ["key_label", "keys_label", "short_label"]
