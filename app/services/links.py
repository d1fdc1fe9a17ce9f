"""The links services put in emails. The web layer implements this with url_for."""
from __future__ import annotations

from typing import Protocol


class Links(Protocol):
    def password_reset(self, token: str) -> str: ...

    def staff_invite(self, token: str) -> str: ...

    def login(self) -> str: ...

    def forgot_password(self) -> str: ...
