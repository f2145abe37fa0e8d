from django.urls import path

from realtime import sse, views

urlpatterns = [
    path("health", views.health, name="health"),
    path("ws/jobs", views.websocket_over_http, name="ws-jobs-http"),
    path("sse/jobs", sse.stream_events, name="sse-jobs"),
]
