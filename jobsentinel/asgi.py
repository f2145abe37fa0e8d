"""ASGI entry point served by daphne: HTTP goes to Django, WebSockets to the consumer."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jobsentinel.settings")
# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from realtime import daphne_compat  # noqa: E402
from realtime.routing import websocket_urlpatterns  # noqa: E402
from realtime.security import OriginValidator, SessionsWhenKeysRequired  # noqa: E402

daphne_compat.install()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": OriginValidator(SessionsWhenKeysRequired(URLRouter(websocket_urlpatterns))),
    }
)
