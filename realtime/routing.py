from django.urls import path

from realtime.consumers import JobsConsumer

websocket_urlpatterns = [
    path("api/v1/ws/jobs", JobsConsumer.as_asgi()),
]
