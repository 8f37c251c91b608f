"""Sections other apps add to the account home.

accounts knows nothing of catalog or money (ARCHITECTURE.md), yet the home shows owned products,
recommendations, alerts and connected apps. Each app registers a panel here from its AppConfig.ready:
a template and a function that builds its context for one membership (None hides the panel). The home
renders them in `order`; a panel's own selector keeps its queries bounded.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from accounts.models import Membership

PanelContext = Callable[[HttpRequest, Membership, frozenset[str]], dict[str, Any] | None]


@dataclass(frozen=True)
class HomePanel:
    name: str
    template: str
    context: PanelContext
    order: int = 100


@dataclass(frozen=True)
class RenderedPanel:
    name: str
    template: str
    context: dict[str, Any]


_PANELS: dict[str, HomePanel] = {}


def home_panel_register(*, name: str, template: str, context: PanelContext, order: int = 100) -> None:
    """Register (or replace, on a reload) the panel called `name`."""
    _PANELS[name] = HomePanel(name=name, template=template, context=context, order=order)


def home_panels_for(
    request: HttpRequest, membership: Membership, perms: frozenset[str]
) -> list[RenderedPanel]:
    rendered = []
    for panel in sorted(_PANELS.values(), key=lambda p: (p.order, p.name)):
        context = panel.context(request, membership, perms)
        if context is not None:
            rendered.append(RenderedPanel(name=panel.name, template=panel.template, context=context))
    return rendered
